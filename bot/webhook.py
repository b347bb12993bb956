"""Webhook mode: one tornado server for Telegram's updates and for `/healthz`.

    asyncio.run(serve(app, settings, service, allowed_updates))    # until SIGTERM or SIGINT

python-telegram-bot's `run_webhook` serves only the webhook path, so, as in its
custom-webhook example, the server is ours: POST `<path of WEBHOOK_URL>` takes updates
(with the `X-Telegram-Bot-Api-Secret-Token` header when WEBHOOK_SECRET is set) and
puts them on the application's update queue; GET `/healthz` answers 200 "ok: …" or
503 "unhealthy: …" with the checks of `python -m bot health`. One port, so the
reverse proxy forwards both paths to the same place.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import signal
from http import HTTPStatus
from urllib.parse import urlparse

import tornado.web
from telegram import Update
from telegram.ext import Application
from tornado.httpserver import HTTPServer

from bot import health
from bot.service import QAService
from bot.settings import Settings

log = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class UpdateHandler(tornado.web.RequestHandler):
    """POST: one update from Telegram, queued for the application."""

    def initialize(self, app: Application, secret: str) -> None:
        self.app, self.secret = app, secret

    async def post(self) -> None:
        """Check the secret, parse the update, queue it; 200 as soon as it is queued."""
        sent = self.request.headers.get(SECRET_HEADER, "")
        if self.secret and not hmac.compare_digest(sent.encode(), self.secret.encode()):
            log.warning("webhook request without the right secret from %s", self.request.remote_ip)
            raise tornado.web.HTTPError(HTTPStatus.FORBIDDEN)
        try:
            update = Update.de_json(json.loads(self.request.body), self.app.bot)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            log.warning("webhook request that is not an update: %s", exc)
            raise tornado.web.HTTPError(HTTPStatus.BAD_REQUEST) from exc
        await self.app.update_queue.put(update)


class HealthHandler(tornado.web.RequestHandler):
    """GET /healthz: 200 "ok: …" or 503 "unhealthy: …" (plain text)."""

    def initialize(self, service: QAService, settings: Settings) -> None:
        self.service, self.bot_settings = service, settings

    async def get(self) -> None:
        """Run the health checks in a thread and answer with their result."""
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        try:
            self.write(await asyncio.to_thread(health.check, self.service, self.bot_settings) + "\n")
        except health.Unhealthy as exc:
            self.set_status(HTTPStatus.SERVICE_UNAVAILABLE)
            self.write(f"unhealthy: {exc}\n")


class _Quiet(tornado.web.Application):
    """Tornado's per-request access log stays off (our logs are one line per question)."""

    def log_request(self, handler: tornado.web.RequestHandler) -> None:
        """Log nothing per request."""


def web_app(app: Application, settings: Settings, service: QAService) -> tornado.web.Application:
    """The tornado application: the webhook path and /healthz."""
    path = "/" + urlparse(settings.webhook_url).path.strip("/")
    return _Quiet(
        [
            (HEALTH_PATH, HealthHandler, {"service": service, "settings": settings}),
            (rf"{path}/?", UpdateHandler, {"app": app, "secret": settings.webhook_secret}),
        ]
    )


async def serve(
    app: Application, settings: Settings, service: QAService, allowed_updates: list[str]
) -> None:
    """Listen, register the webhook, serve until SIGTERM/SIGINT, then finish in-flight updates."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    async with app:  # initialize … shutdown
        if app.post_init is not None:
            await app.post_init(app)
        server = HTTPServer(web_app(app, settings, service))
        server.listen(settings.webhook_port, address=settings.webhook_listen)
        await app.start()
        await app.bot.set_webhook(  # only now: Telegram may post at once
            settings.webhook_url,
            allowed_updates=allowed_updates,
            secret_token=settings.webhook_secret or None,
        )
        await stopping.wait()
        log.info("stopping: no new updates, finishing those in flight")
        server.stop()
        await app.stop()
        await server.close_all_connections()
