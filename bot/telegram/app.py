"""Start-up: the Application with every handler, the command menus, and run_bot
(polling, or a webhook when WEBHOOK_URL is set) with its stop signals."""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import Callable

from telegram import (
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    LinkPreviewOptions,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    CallbackQueryHandler,
    CommandHandler,
    Defaults,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import BaseRequest

from bot import render, webhook
from bot.ratelimit import QuestionLimiter
from bot.search_pool import SearchPool, default_processes
from bot.service import QAService
from bot.settings import Settings
from bot.stats import LastingStats, QuestionStats, stats_path
from bot.telegram import admin, buttons, feedback, readers
from bot.telegram.logs import configure_logging, on_error, redact
from bot.telegram.state import ALLOWED_UPDATES, BotState, ButtonMemory

log = logging.getLogger(__name__)

#: Times a message refused with 429 (flood control) is sent again.
FLOOD_RETRIES = 3


async def post_init(application: Application) -> None:
    """Register the command menus: user commands for everyone, admin ones per admin chat."""
    settings = application.bot_data["state"].settings
    users = [BotCommand(name, text) for name, text in render.USER_COMMANDS.items()]
    admins = users + [BotCommand(name, text) for name, text in render.ADMIN_COMMANDS.items()]
    await application.bot.set_my_commands(users, scope=BotCommandScopeDefault())
    for admin_id in sorted(settings.admin_ids):
        try:
            await application.bot.set_my_commands(admins, scope=BotCommandScopeChat(admin_id))
        except TelegramError as exc:  # the admin never opened a chat with the bot
            log.warning("admin commands not set for %s: %s", admin_id, exc)
    log.info("bot @%s ready", application.bot.username)


def build_application(
    settings: Settings,
    service: QAService,
    *,
    request: BaseRequest | None = None,
    clock: Callable[[], float] = time.monotonic,
    rate_limiter: bool = True,
    search_pool: SearchPool | None = None,
    stats: QuestionStats | None = None,
) -> Application:
    """The Application with every handler.

    `request` replaces the HTTP layer (tests); `rate_limiter=False` drops the pacing of
    outgoing messages (the load benchmark measures the bot, not Telegram's limits);
    `search_pool` answers questions in worker processes (else in a thread); `stats`
    replaces the question statistics kept in the stats file beside the store (STATS_PATH).
    """
    builder = (
        Application.builder()
        .token(settings.telegram_bot_token)
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
                allow_sending_without_reply=True,  # the question may be deleted meanwhile
            )
        )
        .concurrent_updates(True)
        .post_init(post_init)
    )
    if rate_limiter:
        # Wait out Telegram's 429 retry_after and send again instead of losing the answer.
        builder = builder.rate_limiter(AIORateLimiter(max_retries=FLOOD_RETRIES))
    if settings.telegram_base_url:
        builder = builder.base_url(settings.telegram_base_url)
    if settings.telegram_base_file_url:
        builder = builder.base_file_url(settings.telegram_base_file_url)
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    app = builder.build()
    if stats is None:
        stats = LastingStats(
            stats_path(service.database_path, settings.stats_path),
            feedback_days=settings.feedback_days,
            store_questions=settings.store_questions,
        )
    app.bot_data["state"] = BotState(
        settings=settings,
        service=service,
        limiter=QuestionLimiter(settings.questions_per_minute, clock=clock),
        stats=stats,
        buttons=ButtonMemory(),
        search_pool=search_pool,
    )
    new = filters.UpdateType.MESSAGE
    private = filters.ChatType.PRIVATE & new
    app.add_handler(TypeHandler(Update, readers.gate), group=-1)
    app.add_handlers(
        [
            CommandHandler(["start", "help"], readers.start, filters=new),
            CommandHandler("sources", readers.sources, filters=new),
            CommandHandler("ask", readers.ask_command, filters=new),
            CommandHandler("reindex", admin.reindex, filters=new),
            CommandHandler("stats", admin.stats, filters=new),
            CommandHandler("remove", admin.remove, filters=new),
            CommandHandler("lastindex", admin.last_index, filters=new),
            CommandHandler("unanswered", feedback.unanswered, filters=new),
            MessageHandler(private & filters.Document.ALL, admin.upload),
            MessageHandler(private & filters.TEXT & ~filters.COMMAND, readers.private_question),
            MessageHandler(private & filters.COMMAND, readers.unknown_command),
            MessageHandler(private & ~filters.TEXT & ~filters.StatusUpdate.ALL, readers.not_text),
            MessageHandler(
                filters.ChatType.GROUPS & new & filters.TEXT & ~filters.COMMAND,
                readers.group_message,
            ),
            MessageHandler(filters.UpdateType.CHANNEL_POST & filters.TEXT, readers.channel_post),
            InlineQueryHandler(readers.inline_query),
            CallbackQueryHandler(buttons.button),
        ]
    )
    app.add_error_handler(on_error)
    return app


class _StopSignals:
    """SIGINT / SIGTERM / SIGABRT stop polling as python-telegram-bot's own handlers do
    (SystemExit in the event loop), and remember that they came."""

    def __init__(self) -> None:
        self.received = False
        loop = asyncio.new_event_loop()  # the loop run_polling will use
        asyncio.set_event_loop(loop)
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGABRT):
            loop.add_signal_handler(sig, self._stop)

    def _stop(self) -> None:
        self.received = True
        raise SystemExit


def run_bot(settings: Settings, service: QAService) -> int:
    """Run until stopped (Ctrl+C / SIGTERM): a webhook when WEBHOOK_URL is set, else polling."""
    token = settings.check_token()
    configure_logging(token)
    processes = settings.search_processes or default_processes()
    pool = None
    if processes > 1:
        pool = SearchPool(
            service.database_path,
            service.corpus_dir,
            variants=service.variants,
            processes=processes,
            rerank=service.rerank,
        )
        log.info("searching in %d processes", processes)
    app = build_application(settings, service, search_pool=pool)
    try:
        if settings.webhook_url:
            log.info(
                "webhook mode: %s (listening on %s:%d, health on %s)",
                settings.webhook_url,
                settings.webhook_listen,
                settings.webhook_port,
                webhook.HEALTH_PATH,
            )
            asyncio.run(webhook.serve(app, settings, service, ALLOWED_UPDATES))
        else:
            log.info("polling %s", settings.telegram_base_url or "Telegram")
            stop = _StopSignals()
            try:
                app.run_polling(allowed_updates=ALLOWED_UPDATES, stop_signals=None)
            except NetworkError:
                if not stop.received:
                    raise
                # Stopped while polling was being set up: the request in flight is cut
                # short, python-telegram-bot reports it as a network error.
                log.info("stopped while starting")
    except InvalidToken:
        log.error("Telegram rejected TELEGRAM_BOT_TOKEN (check it with @BotFather)")
        return 1
    except NetworkError as exc:
        log.error("cannot reach the Bot API: %s", redact(str(exc), token))
        return 1
    finally:
        if pool is not None:
            pool.close()
        app.bot_data["state"].stats.close()  # writes the buffered question counts
        service.close()
    log.info("stopped cleanly: answers in flight sent, stats written, store closed")
    return 0
