"""The Telegram bot (python-telegram-bot 22, asyncio): handlers, the application, run_bot.

    python -m bot run        # polling, or a webhook when WEBHOOK_URL is set

Private chats: every text is a question. Groups: `/ask سؤال`, a mention of the bot
or a reply to one of its messages; nothing else is read. Channels: posts starting
with /ask or mentioning the bot. Inline mode: `@BotName سؤال`. Admins (ADMIN_IDS):
/reindex, /stats and document uploads (PDF, Word, web pages, text) in a private chat.

Handlers stay thin: they ask the service (in a worker thread, so the event loop is
never blocked) and send what `bot.render` makes of the answer.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import signal
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from telegram import (
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
    LinkPreviewOptions,
    Message,
    Update,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import InvalidToken, NetworkError, TelegramError, TimedOut
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
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
from bot.stats import QuestionStats
from bot.uploads import (
    UploadError,
    check_content,
    check_name,
    check_size,
    save_upload,
    wants_replace,
)
from retrieval.search import Answer, Result
from storage.indexer import IndexReport
from storage.store import StoreError

log = logging.getLogger(__name__)

#: Seconds between two edits of the /reindex progress message.
PROGRESS_EDIT_SECONDS = 1.5
#: Answers whose buttons still work (older ones get a polite "press expired").
BUTTON_MEMORY = 2000
INLINE_RESULTS = 10
SEND_FILE_LIMIT = 50 * 1024 * 1024  # the most a bot may upload to Telegram
FLOOD_RETRIES = 3
ALLOWED_UPDATES = [Update.MESSAGE, Update.CHANNEL_POST, Update.INLINE_QUERY, Update.CALLBACK_QUERY]

_ASK = re.compile(r"^/ask(?:@(\w+))?(?=\s|$)", re.IGNORECASE)


# --- state kept in application.bot_data ------------------------------------------------


@dataclass(frozen=True)
class ButtonState:
    """What the buttons under one answer need: the question, the next offset, the results."""

    question: str
    next_offset: int
    results: tuple[Result, ...]
    has_more: bool


class ButtonMemory:
    """A bounded LRU of answers, keyed by short random keys (callback_data ≤ 64 bytes)."""

    def __init__(self, size: int = BUTTON_MEMORY):
        self.size = size
        self._items: OrderedDict[str, ButtonState] = OrderedDict()

    def put(self, state: ButtonState) -> str:
        key = secrets.token_urlsafe(6)
        self._items[key] = state
        while len(self._items) > self.size:
            self._items.popitem(last=False)
        return key

    def get(self, key: str) -> ButtonState | None:
        state = self._items.get(key)
        if state is not None:
            self._items.move_to_end(key)
        return state


@dataclass
class BotState:
    """Everything the handlers share (stored as application.bot_data["state"])."""

    settings: Settings
    service: QAService
    limiter: QuestionLimiter
    stats: QuestionStats
    buttons: ButtonMemory
    reindexing: bool = False
    search_pool: SearchPool | None = None  # None: search in a thread of this process


def _state(context: ContextTypes.DEFAULT_TYPE) -> BotState:
    return context.bot_data["state"]


def _is_admin(update: Update, state: BotState) -> bool:
    user = update.effective_user
    return user is not None and user.id in state.settings.admin_ids


# --- who is asking what -----------------------------------------------------------------


def addressed_question(message: Message, username: str, bot_id: int) -> str | None:
    """The question in a group or channel message addressed to the bot, else None.

    Addressed: `/ask …` or `/ask@username …`, a mention of `@username`, or a reply
    to one of the bot's own messages. An empty string means "addressed, no question".
    """
    text = message.text or ""
    match = _ASK.match(text)
    if match:
        if match.group(1) and match.group(1).lower() != username.lower():
            return None
        return text[match.end() :].strip()
    if username:
        mention = re.compile(rf"(?<!\w)@{re.escape(username)}(?!\w)", re.IGNORECASE)
        if mention.search(text):
            return mention.sub(" ", text).strip()
    reply = message.reply_to_message
    if reply is not None and reply.from_user is not None and reply.from_user.id == bot_id:
        return text.strip()
    return None


def _allowed(update: Update, settings: Settings) -> bool:
    """False when ALLOWED_CHAT_IDS is set and the update comes from elsewhere."""
    if not settings.allowed_chat_ids:
        return True
    chat, user = update.effective_chat, update.effective_user
    if (
        user is not None
        and user.id in settings.admin_ids
        and (chat is None or chat.type == ChatType.PRIVATE)
    ):
        return True
    if chat is not None:
        return chat.id in settings.allowed_chat_ids
    return user is not None and user.id in settings.allowed_chat_ids


# --- handlers -----------------------------------------------------------------------------


async def gate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Drop edited messages; outside ALLOWED_CHAT_IDS say the bot is private and stop."""
    if update.edited_message or update.edited_channel_post:
        raise ApplicationHandlerStop
    state = _state(context)
    if _allowed(update, state.settings):
        return
    log.info(
        "update from a chat that is not allowed: %s",
        update.effective_chat and update.effective_chat.id,
    )
    if update.callback_query:
        await update.callback_query.answer(render.PRIVATE_BOT_TEXT, show_alert=True)
    elif update.inline_query:
        await update.inline_query.answer(
            [],
            cache_time=300,
            button=InlineQueryResultsButton(render.PRIVATE_BOT_TEXT, start_parameter="private"),
        )
    elif update.effective_message and update.effective_chat:
        message, chat = update.effective_message, update.effective_chat
        command = re.match(r"^/\w+(?:@(\w+))?", message.text or "")
        addressed = (
            chat.type == ChatType.PRIVATE
            or (
                command is not None
                and (command.group(1) or context.bot.username).lower()
                == context.bot.username.lower()
            )
            or addressed_question(message, context.bot.username, context.bot.id) is not None
        )
        if addressed and state.limiter.check(("private", chat.id)) == "ok":
            await message.reply_html(
                render.PRIVATE_BOT_HTML, do_quote=chat.type != ChatType.PRIVATE
            )
    raise ApplicationHandlerStop


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start and /help: what the bot does and how to ask."""
    admin = _is_admin(update, _state(context)) and update.effective_chat.type == ChatType.PRIVATE
    await update.effective_message.reply_html(render.help_html(context.bot.username, admin=admin))


async def sources(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/sources: the indexed files."""
    found = await asyncio.to_thread(_state(context).service.sources)
    await update.effective_message.reply_html(render.sources_to_html(found))


async def ask_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/ask سؤال (any chat but channels, which the channel handler serves)."""
    message = update.effective_message
    parts = (message.text or "").split(maxsplit=1)
    await _answer(update, context, parts[1] if len(parts) > 1 else "")


async def private_question(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A text in a private chat is a question."""
    await _answer(update, context, update.effective_message.text)


async def group_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A group text: answer it only when it is addressed to the bot."""
    question = addressed_question(update.effective_message, context.bot.username, context.bot.id)
    if question is not None:
        await _answer(update, context, question)


async def channel_post(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A channel post starting with /ask or mentioning the bot is answered as a reply."""
    question = addressed_question(update.channel_post, context.bot.username, context.bot.id)
    if question is not None:
        await _answer(update, context, question)


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A command the bot does not know, in a private chat."""
    await update.effective_message.reply_html(render.UNKNOWN_COMMAND_HTML)


async def not_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A photo, sticker, voice… in a private chat: ask for text."""
    await update.effective_message.reply_html(render.NOT_TEXT_HTML)


async def _answer(update: Update, context: ContextTypes.DEFAULT_TYPE, question: str) -> None:
    """Answer `question` as a reply to the message that asked it (rate-limited per sender)."""
    state = _state(context)
    message, chat = update.effective_message, update.effective_chat
    quote = chat.type != ChatType.PRIVATE
    if not question.strip():
        await message.reply_html(render.ASK_HINT_HTML, do_quote=quote)
        return
    if not await _within_limit(update, state):
        return
    answer, seconds = await _search(state, question, state.settings.top_k, 0)
    state.stats.record(seconds, answered=bool(answer.results))
    log.info(
        "question chat=%s latency=%.3fs results=%d%s",
        chat.type,
        seconds,
        len(answer.results),
        f" text={question!r}" if state.settings.log_questions else "",
    )
    await message.reply_html(
        render.answer_to_html(answer),
        reply_markup=_keyboard(state, question, answer, 0),
        do_quote=quote,
    )


async def _within_limit(update: Update, state: BotState) -> bool:
    """Count a question; on the first one over the limit say "slow down" (once)."""
    sender = update.effective_user.id if update.effective_user else update.effective_chat.id
    verdict = state.limiter.check(sender)
    if verdict == "ok":
        return True
    log.info("rate limit: %s from chat type %s", verdict, update.effective_chat.type)
    if verdict == "warn":
        text = render.SLOW_DOWN_HTML.format(limit=state.settings.questions_per_minute)
        if update.callback_query:
            await update.callback_query.answer(re.sub(r"<[^>]+>", "", text)[:200], show_alert=True)
        else:
            await update.effective_message.reply_html(
                text, do_quote=update.effective_chat.type != ChatType.PRIVATE
            )
    elif update.callback_query:
        await update.callback_query.answer()
    return False


async def _search(state: BotState, question: str, top: int, offset: int) -> tuple[Answer, float]:
    """Ask the search processes (or a thread); return the answer and the seconds it took."""
    started = time.perf_counter()
    if state.search_pool is not None:
        answer = await state.search_pool.ask(question, top, offset)
    else:
        answer = await asyncio.to_thread(state.service.ask, question, top, offset)
    return answer, time.perf_counter() - started


def _keyboard(
    state: BotState, question: str, answer: Answer, offset: int
) -> InlineKeyboardMarkup | None:
    """«النص الكامل» per result and «المزيد» when there are more; data holds a short key."""
    if not answer.results:
        return None
    key = state.buttons.put(
        ButtonState(question, offset + len(answer.results), tuple(answer.results), answer.has_more)
    )
    single = len(answer.results) == 1
    full = [
        InlineKeyboardButton(
            render.FULL_TEXT_LABEL if single else f"{render.FULL_TEXT_LABEL} {offset + i + 1}",
            callback_data=f"f:{key}:{i}",
        )
        for i in range(len(answer.results))
    ]
    rows = [full[i : i + 3] for i in range(0, len(full), 3)]
    if answer.has_more:
        rows.append([InlineKeyboardButton(render.MORE_LABEL, callback_data=f"m:{key}")])
    return InlineKeyboardMarkup(rows)


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """«المزيد» and «النص الكامل»; an unknown or expired key gets a polite answer."""
    query = update.callback_query
    state = _state(context)
    kind, _, rest = (query.data or "").partition(":")
    key, _, index = rest.partition(":")
    saved = state.buttons.get(key) if kind in ("m", "f", "d") else None
    message = query.message
    if saved is None or message is None:
        await query.answer(render.STALE_BUTTON_TEXT, show_alert=True)
        return
    chat_id = message.chat.id
    if kind == "f":
        if not index.isdigit() or int(index) >= len(saved.results):
            await query.answer(render.STALE_BUTTON_TEXT, show_alert=True)
            return
        await query.answer()
        file_button = (
            InlineKeyboardMarkup(
                [[InlineKeyboardButton(render.SEND_FILE_LABEL, callback_data=f"d:{key}:{index}")]]
            )
            if state.settings.send_files
            else None
        )
        await context.bot.send_message(
            chat_id,
            render.paragraph_to_html(saved.results[int(index)]),
            reply_to_message_id=message.message_id,
            reply_markup=file_button,
        )
        return
    if kind == "d":
        await _send_source_file(update, context, saved, index)
        return
    if not saved.has_more:
        await query.answer(render.NO_MORE_TEXT)
        return
    if not await _within_limit(update, state):
        return
    await query.answer()
    answer, seconds = await _search(state, saved.question, state.settings.top_k, saved.next_offset)
    log.info(
        "more chat=%s latency=%.3fs results=%d", message.chat.type, seconds, len(answer.results)
    )
    text = (
        render.answer_to_html(answer, offset=saved.next_offset)
        if answer.results
        else render.NO_MORE_TEXT
    )
    await context.bot.send_message(
        chat_id,
        text,
        reply_markup=_keyboard(state, saved.question, answer, saved.next_offset),
        reply_to_message_id=message.message_id,
    )


async def _send_source_file(
    update: Update, context: ContextTypes.DEFAULT_TYPE, saved: ButtonState, index: str
) -> None:
    """«الملف» (with SEND_FILES=1): the source file of one result, as a document."""
    query = update.callback_query
    state = _state(context)
    if not state.settings.send_files or not index.isdigit() or int(index) >= len(saved.results):
        await query.answer(render.STALE_BUTTON_TEXT, show_alert=True)
        return
    result = saved.results[int(index)]
    path = state.service.source_file(result.source)
    if path is None:
        await query.answer(render.FILE_GONE_TEXT, show_alert=True)
        return
    if path.stat().st_size > SEND_FILE_LIMIT:
        await query.answer(render.FILE_TOO_BIG_TEXT, show_alert=True)
        return
    await query.answer()
    log.info("source file sent: %r", result.source)
    with path.open("rb") as data:
        await context.bot.send_document(
            query.message.chat.id,
            data,
            filename=path.name,
            caption=render.file_caption(result),
            reply_to_message_id=query.message.message_id,
        )


async def inline_query(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """`@BotName سؤال`: up to 10 results; choosing one sends the quoted snippet and source."""
    query = update.inline_query
    text = query.query.strip()
    if not text:
        await query.answer(
            [],
            cache_time=300,
            button=InlineQueryResultsButton(render.INLINE_NO_ANSWER_TEXT, start_parameter="help"),
        )
        return
    answer, seconds = await _search(_state(context), text, INLINE_RESULTS, 0)
    log.info("inline latency=%.3fs results=%d", seconds, len(answer.results))
    results = [
        InlineQueryResultArticle(
            id=str(i),
            title=render.inline_title(r),
            description=render.plain_snippet(r),
            input_message_content=InputTextMessageContent(
                render.result_to_html(r), parse_mode=ParseMode.HTML
            ),
        )
        for i, r in enumerate(answer.results[:INLINE_RESULTS])
    ]
    button_ = (
        None
        if results
        else InlineQueryResultsButton(render.INLINE_NO_ANSWER_TEXT, start_parameter="help")
    )
    await query.answer(results, cache_time=60, button=button_)


# --- admins -------------------------------------------------------------------------------


async def _refuse_non_admin(
    update: Update, state: BotState, text: str = render.ADMINS_ONLY_HTML
) -> bool:
    """Reply with a polite refusal unless the sender is an admin; True when refused."""
    if _is_admin(update, state):
        return False
    log.info(
        "admin command refused for user %s", update.effective_user and update.effective_user.id
    )
    await update.effective_message.reply_html(text)
    return True


async def reindex(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/reindex (admins): rebuild from CORPUS_DIR in a thread, editing one progress message."""
    state = _state(context)
    if await _refuse_non_admin(update, state):
        return
    if state.reindexing:
        await update.effective_message.reply_html(render.REINDEX_BUSY_HTML)
        return
    state.reindexing = True
    try:
        progress = await update.effective_message.reply_html(render.REINDEX_STARTED_HTML)
        try:
            report = await _reindex_with_progress(state, progress)
        except StoreError as exc:
            log.warning("reindex failed: %s", exc)
            await progress.edit_text(render.reindex_failed_html(str(exc)))
            return
        log.info("reindex done:\n%s", report.summary())
        await progress.edit_text(render.report_to_html(report))
    finally:
        state.reindexing = False


async def _reindex_with_progress(state: BotState, progress: Message) -> IndexReport:
    """Run service.reindex in a thread; edit `progress` at most every PROGRESS_EDIT_SECONDS."""
    latest: list[tuple[str, int, int]] = []

    def on_progress(stage: str, done: int, total: int) -> None:  # called in the worker thread
        latest[:] = [(stage, done, total)]

    job = asyncio.ensure_future(asyncio.to_thread(state.service.reindex, on_progress))
    shown = None
    while True:
        finished, _ = await asyncio.wait({job}, timeout=PROGRESS_EDIT_SECONDS)
        if finished:
            return job.result()
        current = latest[0] if latest else None
        if current is not None and current != shown:
            shown = current
            try:
                await progress.edit_text(render.progress_html(*current))
            except TelegramError as exc:  # e.g. "message is not modified": keep going
                log.warning("progress edit failed: %s", exc)


async def stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/stats (admins): documents, passages, questions, share unanswered, latency p50/p95."""
    state = _state(context)
    if await _refuse_non_admin(update, state):
        return
    counts = await asyncio.to_thread(state.service.counts)
    await update.effective_message.reply_html(render.stats_to_html(counts, state.stats.snapshot()))


async def upload(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A document in a private chat: admins add PDF, Word, web pages or text to the collection."""
    state = _state(context)
    if await _refuse_non_admin(update, state, render.UPLOAD_ADMINS_ONLY_HTML):
        return
    message = update.effective_message
    document = message.document
    try:
        name = check_name(document.file_name)
        check_size(document.file_size, state.settings.max_upload_bytes)
    except UploadError as exc:
        log.info("upload refused (%s): %r", exc.code, document.file_name)
        await message.reply_html(render.upload_refused_html(str(exc)))
        return
    status = await message.reply_html(render.UPLOAD_RECEIVED_HTML)
    try:
        try:
            data = bytes(await (await document.get_file()).download_as_bytearray())
        except TelegramError as exc:
            log.warning(
                "upload download failed: %s", redact(str(exc), state.settings.telegram_bot_token)
            )
            raise UploadError("download") from exc
        check_size(len(data), state.settings.max_upload_bytes)
        check_content(name, data)
        path, replaced = await asyncio.to_thread(
            save_upload,
            state.service.corpus_dir,
            name,
            data,
            replace=wants_replace(message.caption),
        )
        log.info("upload saved: %r (replaced=%s)", name, replaced)
        report = await asyncio.to_thread(state.service.reindex)
        skipped = dict(report.skipped).get(name)
        if skipped is not None and not replaced:  # unreadable: not kept in the collection
            path.unlink(missing_ok=True)
            log.info("upload removed, the indexer skipped it: %r (%s)", name, skipped)
            await status.edit_text(render.upload_refused_html(render.skip_reason_ar(skipped)))
            return
    except UploadError as exc:
        log.info("upload refused (%s): %r", exc.code, name)
        await status.edit_text(render.upload_refused_html(str(exc)))
        return
    except StoreError as exc:
        await status.edit_text(render.reindex_failed_html(str(exc)))
        return
    await status.edit_text(render.upload_saved_html(name, replaced, report))


# --- errors, start-up ---------------------------------------------------------------------


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
    state = _state(context)
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


async def post_init(application: Application) -> None:
    """Register the command menus: user commands for everyone, admin ones per admin chat."""
    settings = application.bot_data["state"].settings
    users = [BotCommand(name, text) for name, text in render.USER_COMMANDS.items()]
    admins = users + [BotCommand(name, text) for name, text in render.ADMIN_COMMANDS.items()]
    await application.bot.set_my_commands(users, scope=BotCommandScopeDefault())
    for admin in sorted(settings.admin_ids):
        try:
            await application.bot.set_my_commands(admins, scope=BotCommandScopeChat(admin))
        except TelegramError as exc:  # the admin never opened a chat with the bot
            log.warning("admin commands not set for %s: %s", admin, exc)
    log.info("bot @%s ready", application.bot.username)


def build_application(
    settings: Settings,
    service: QAService,
    *,
    request: BaseRequest | None = None,
    clock: Callable[[], float] = time.monotonic,
    rate_limiter: bool = True,
    search_pool: SearchPool | None = None,
) -> Application:
    """The Application with every handler.

    `request` replaces the HTTP layer (tests); `rate_limiter=False` drops the pacing of
    outgoing messages (the load benchmark measures the bot, not Telegram's limits);
    `search_pool` answers questions in worker processes (else in a thread).
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
    app.bot_data["state"] = BotState(
        settings=settings,
        service=service,
        limiter=QuestionLimiter(settings.questions_per_minute, clock=clock),
        stats=QuestionStats(),
        buttons=ButtonMemory(),
        search_pool=search_pool,
    )
    new = filters.UpdateType.MESSAGE
    private = filters.ChatType.PRIVATE & new
    app.add_handler(TypeHandler(Update, gate), group=-1)
    app.add_handlers(
        [
            CommandHandler(["start", "help"], start, filters=new),
            CommandHandler("sources", sources, filters=new),
            CommandHandler("ask", ask_command, filters=new),
            CommandHandler("reindex", reindex, filters=new),
            CommandHandler("stats", stats, filters=new),
            MessageHandler(private & filters.Document.ALL, upload),
            MessageHandler(private & filters.TEXT & ~filters.COMMAND, private_question),
            MessageHandler(private & filters.COMMAND, unknown_command),
            MessageHandler(private & ~filters.TEXT & ~filters.StatusUpdate.ALL, not_text),
            MessageHandler(
                filters.ChatType.GROUPS & new & filters.TEXT & ~filters.COMMAND, group_message
            ),
            MessageHandler(filters.UpdateType.CHANNEL_POST & filters.TEXT, channel_post),
            InlineQueryHandler(inline_query),
            CallbackQueryHandler(button),
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
        service.close()
    log.info("stopped cleanly: answers in flight sent, store closed")
    return 0
