"""Who may ask and what: the gate, questions in private chats, groups, channels and
inline mode, and /start /help /sources /ask."""

from __future__ import annotations

import asyncio
import logging
import re

from telegram import (
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
    Message,
    Update,
)
from telegram.constants import ChatType, ParseMode
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot import render
from bot.settings import Settings
from bot.telegram.buttons import keyboard, votable
from bot.telegram.state import bot_state, is_admin, search, within_limit
from retrieval.small_talk import small_talk

log = logging.getLogger(__name__)

INLINE_RESULTS = 10

_ASK = re.compile(r"^/ask(?:@(\w+))?(?=\s|$)", re.IGNORECASE)


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


def unanswered_small_talk(message: Message, question: str, username: str) -> bool:
    """True for a thanks or goodbye that only replies to one of the bot's messages.

    In a busy group «شكراً» under an answer needs no «العفو» from the bot; a greeting
    gets its reply (it asks how to use the bot), and so does small talk sent with /ask
    or a mention of the bot.
    """
    if small_talk(question) not in ("thanks", "goodbye"):
        return False
    text = message.text or ""
    if _ASK.match(text):
        return False
    mention = re.compile(rf"(?<!\w)@{re.escape(username)}(?!\w)", re.IGNORECASE)
    return not (username and mention.search(text))


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
    state = bot_state(context)
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
    state = bot_state(context)
    admin = is_admin(update, state) and update.effective_chat.type == ChatType.PRIVATE
    await update.effective_message.reply_html(
        render.help_html(context.bot.username, admin=admin, feedback=state.settings.feedback)
    )


async def sources(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/sources: the indexed files."""
    found = await asyncio.to_thread(bot_state(context).service.sources)
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
    message, username = update.effective_message, context.bot.username
    question = addressed_question(message, username, context.bot.id)
    if question is not None and not unanswered_small_talk(message, question, username):
        await _answer(update, context, question)


async def channel_post(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A channel post starting with /ask or mentioning the bot is answered as a reply."""
    post, username = update.channel_post, context.bot.username
    question = addressed_question(post, username, context.bot.id)
    if question is not None and not unanswered_small_talk(post, question, username):
        await _answer(update, context, question)


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A command the bot does not know, in a private chat."""
    await update.effective_message.reply_html(render.UNKNOWN_COMMAND_HTML)


async def not_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A photo, sticker, voice… in a private chat: ask for text."""
    await update.effective_message.reply_html(render.NOT_TEXT_HTML)


async def _answer(update: Update, context: ContextTypes.DEFAULT_TYPE, question: str) -> None:
    """Answer `question` as a reply to the message that asked it (rate-limited per sender)."""
    state = bot_state(context)
    message, chat = update.effective_message, update.effective_chat
    quote = chat.type != ChatType.PRIVATE
    if not question.strip():
        await message.reply_html(render.ASK_HINT_HTML, do_quote=quote)
        return
    if not await within_limit(update, state):
        return
    kind = small_talk(question)
    if kind is not None:  # not a question: no search, not counted in /stats
        log.info("small talk chat=%s kind=%s", chat.type, kind)
        await message.reply_html(render.small_talk_html(kind), do_quote=quote)
        return
    answer, seconds = await search(state, question, state.settings.top_k, 0)
    state.stats.record(seconds, answered=bool(answer.results), chat_type=chat.type)
    log.info(
        "question chat=%s latency=%.3fs results=%d%s",
        chat.type,
        seconds,
        len(answer.results),
        f" text={question!r}" if state.settings.log_questions else "",
    )
    answer_id = votable(state, question, answer, chat.type)
    await message.reply_html(
        render.answer_to_html(answer),
        reply_markup=keyboard(state, question, answer, 0, answer_id),
        do_quote=quote,
    )


async def inline_query(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """`@BotName سؤال`: up to 10 results; choosing one sends the quoted snippet and source."""
    query = update.inline_query
    text = query.query.strip()
    if not text or small_talk(text):
        hint = render.INLINE_SMALL_TALK_TEXT if text else render.INLINE_NO_ANSWER_TEXT
        await query.answer(
            [], cache_time=300, button=InlineQueryResultsButton(hint, start_parameter="help")
        )
        return
    answer, seconds = await search(bot_state(context), text, INLINE_RESULTS, 0)
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
