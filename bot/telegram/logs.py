"""Logs and failures: the bot token kept out of every log line, quiet HTTP loggers,
and the error handler that tells the admins (and a private asker) something broke."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatType
from telegram.error import NetworkError, TelegramError, TimedOut
from telegram.ext import ContextTypes

from bot import render
from bot.telegram.state import ALLOWED_UPDATES, bot_state

log = logging.getLogger(__name__)


def redact(text: str, token: str) -> str:
    """`text` with the bot token (and its secret half) replaced by <token>."""
    if not token:
        return text
    text = text.replace(token, "<token>")
    secret = token.partition(":")[2]
    return text.replace(secret, "<token>") if len(secret) >= 8 else text


class RedactToken(logging.Filter):
    """A log filter that removes the token from messages and tracebacks."""

    def __init__(self, token: str):
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.token and self.token.partition(":")[2] in message:
            record.msg, record.args = redact(message, self.token), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.token)
        return True


def configure_logging(token: str) -> None:
    """Quiet httpx (it logs URLs, which hold the token) and redact the token everywhere."""
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    root = logging.getLogger()
    for handler in root.handlers:
        if not any(isinstance(f, RedactToken) for f in handler.filters):
            handler.addFilter(RedactToken(token))


def _describe(update: object) -> str:
    """A short name for the update in log lines and admin notes, e.g. "message 7 (private)"."""
    if isinstance(update, Update):
        chat = update.effective_chat
        kind = next(
            (k for k in ALLOWED_UPDATES + [Update.EDITED_MESSAGE] if getattr(update, k, None)),
            "update",
        )
        return f"{kind} {update.update_id}" + (f" ({chat.type})" if chat else "")
    return "polling" if update is None else type(update).__name__


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the failure, tell the admins briefly, and tell a private asker something went wrong."""
    state = bot_state(context)
    token = state.settings.telegram_bot_token
    where = _describe(update)
    error = context.error
    if update is None and isinstance(error, NetworkError):
        log.warning("network problem while polling: %s", redact(str(error), token))
        return
    if isinstance(error, TimedOut):  # it may have arrived: neither send again nor apologise
        log.warning("Telegram did not answer in time while handling %s", where)
        return
    log.error("failure while handling %s", where, exc_info=error)
    note = render.admin_error_html(where, redact(f"{type(error).__name__}: {error}", token))
    for admin in state.settings.admin_ids:
        try:
            await context.bot.send_message(admin, note)
        except TelegramError as exc:
            log.warning("could not tell admin %s: %s", admin, redact(str(exc), token))
    if (
        isinstance(update, Update)
        and update.effective_message
        and update.effective_chat
        and update.effective_chat.type == ChatType.PRIVATE
        and update.effective_chat.id not in state.settings.admin_ids
    ):
        try:
            await update.effective_message.reply_html(render.UNEXPECTED_ERROR_HTML)
        except TelegramError:
            pass
