"""The keyboard under an answer and its buttons: «المزيد» (more results), «النص الكامل»
(the whole paragraph), with SEND_FILES=1 «الملف» (the source file), and with FEEDBACK=1
👍 / 👎 (handled in bot/telegram/feedback.py)."""

from __future__ import annotations

import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from bot import render
from bot.telegram import admin, feedback
from bot.telegram.state import BotState, ButtonState, bot_state, search, within_limit
from retrieval.search import Answer, Result

log = logging.getLogger(__name__)

SEND_FILE_LIMIT = 50 * 1024 * 1024  # the most a bot may upload to Telegram


def keyboard(
    state: BotState, question: str, answer: Answer, offset: int, answer_id: str | None = None
) -> InlineKeyboardMarkup | None:
    """«النص الكامل» per result, «المزيد» when there are more, and 👍 / 👎 when `answer_id`
    (a row of the stats file) is given; data holds a short key."""
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
    if answer_id is not None:
        rows.append(feedback.vote_row(answer_id))
    return InlineKeyboardMarkup(rows)


def votable(state: BotState, question: str, answer: Answer, chat_type: str) -> str | None:
    """Keep the answer in the stats file; its id when it gets 👍 / 👎 (FEEDBACK=1, results).

    With FEEDBACK=0 only questions without an answer are kept (for /unanswered)."""
    if not answer.results:
        state.stats.record_answer(question, answer, chat_type)
        return None
    if not state.settings.feedback:
        return None
    return state.stats.record_answer(question, answer, chat_type)


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """«المزيد», «النص الكامل», «الملف» (and /remove's); an unknown or expired key gets a
    polite answer."""
    query = update.callback_query
    state = bot_state(context)
    kind, _, rest = (query.data or "").partition(":")
    if kind == "rm":  # under a /remove question: the admin's own handler
        await admin.remove_button(update, context)
        return
    if kind == "v":  # 👍 / 👎
        await feedback.vote_button(update, context)
        return
    if kind == "un":  # «المزيد» under /unanswered
        await feedback.unanswered_more(update, context)
        return
    key, _, index = rest.partition(":")
    saved = state.buttons.get(key) if kind in ("m", "f", "d") else None
    if saved is None or query.message is None:
        await query.answer(render.STALE_BUTTON_TEXT, show_alert=True)
    elif kind == "f":
        await _full_text(update, context, saved, key, index)
    elif kind == "d":
        await _send_source_file(update, context, saved, index)
    else:
        await _more(update, context, saved)


def _result_at(saved: ButtonState, index: str) -> Result | None:
    """The result a button's index names, or None when the index is not one of them."""
    if not index.isdigit() or int(index) >= len(saved.results):
        return None
    return saved.results[int(index)]


async def _full_text(
    update: Update, context: ContextTypes.DEFAULT_TYPE, saved: ButtonState, key: str, index: str
) -> None:
    """«النص الكامل»: the whole paragraph of one result, with «الملف» when SEND_FILES=1."""
    query = update.callback_query
    result = _result_at(saved, index)
    if result is None:
        await query.answer(render.STALE_BUTTON_TEXT, show_alert=True)
        return
    await query.answer()
    file_button = (
        InlineKeyboardMarkup(
            [[InlineKeyboardButton(render.SEND_FILE_LABEL, callback_data=f"d:{key}:{index}")]]
        )
        if bot_state(context).settings.send_files
        else None
    )
    await context.bot.send_message(
        query.message.chat.id,
        render.paragraph_to_html(result),
        reply_to_message_id=query.message.message_id,
        reply_markup=file_button,
    )


async def _more(update: Update, context: ContextTypes.DEFAULT_TYPE, saved: ButtonState) -> None:
    """«المزيد»: the next results of the question (counted against the sender's limit)."""
    query, state = update.callback_query, bot_state(context)
    message = query.message
    if not saved.has_more:
        await query.answer(render.NO_MORE_TEXT)
        return
    if not await within_limit(update, state):
        return
    await query.answer()
    answer, seconds = await search(state, saved.question, state.settings.top_k, saved.next_offset)
    log.info(
        "more chat=%s latency=%.3fs results=%d", message.chat.type, seconds, len(answer.results)
    )
    text = (
        render.answer_to_html(answer, offset=saved.next_offset)
        if answer.results
        else render.NO_MORE_TEXT
    )
    answer_id = (
        votable(state, saved.question, answer, message.chat.type) if answer.results else None
    )
    await context.bot.send_message(
        message.chat.id,
        text,
        reply_markup=keyboard(state, saved.question, answer, saved.next_offset, answer_id),
        reply_to_message_id=message.message_id,
    )


async def _send_source_file(
    update: Update, context: ContextTypes.DEFAULT_TYPE, saved: ButtonState, index: str
) -> None:
    """«الملف» (with SEND_FILES=1): the source file of one result, as a document."""
    query = update.callback_query
    state = bot_state(context)
    result = _result_at(saved, index)
    if not state.settings.send_files or result is None:
        await query.answer(render.STALE_BUTTON_TEXT, show_alert=True)
        return
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
