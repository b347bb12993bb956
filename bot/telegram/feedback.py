"""Readers' 👍 / 👎 under an answer, and /unanswered for admins.

Callback data, all valid after a restart (no state held only in memory):
`v:<answer id>:+` / `v:<answer id>:-` — the answer id names a row of the stats file,
written by the buffered writer (a vote writes the buffer first); `un:<offset>:<until>`
— the next page of /unanswered as it stood at `until` (unix milliseconds).
"""

from __future__ import annotations

import asyncio
import logging
import time

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot import render
from bot.telegram.state import BotState, bot_state, refuse_non_admin
from storage.store import StoreError

log = logging.getLogger(__name__)

_SIGNS = {"+": 1, "-": -1}


def vote_row(answer_id: str, up: int = 0, down: int = 0) -> list[InlineKeyboardButton]:
    """The 👍 / 👎 buttons of one answer, with its counts."""
    return [
        InlineKeyboardButton(render.vote_label(1, up), callback_data=f"v:{answer_id}:+"),
        InlineKeyboardButton(render.vote_label(-1, down), callback_data=f"v:{answer_id}:-"),
    ]


def with_votes(
    markup: InlineKeyboardMarkup | None, answer_id: str, up: int, down: int
) -> InlineKeyboardMarkup:
    """`markup` with its vote row showing the new counts (the other buttons as they were)."""
    rows, replaced = [], False
    for row in markup.inline_keyboard if markup else ():
        if any(str(b.callback_data or "").startswith("v:") for b in row):
            rows.append(vote_row(answer_id, up, down))
            replaced = True
        else:
            rows.append(list(row))
    if not replaced:
        rows.append(vote_row(answer_id, up, down))
    return InlineKeyboardMarkup(rows)


async def vote_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """👍 / 👎: count the reader's vote (change it, or withdraw it when pressed again)."""
    query = update.callback_query
    state = bot_state(context)
    parts = (query.data or "").split(":")
    answer_id, sign = (parts[1], parts[2]) if len(parts) == 3 else ("", "")
    if sign not in _SIGNS or not answer_id or query.from_user is None:
        await query.answer(render.VOTE_EXPIRED_TEXT, show_alert=True)
        return
    try:
        result = await asyncio.to_thread(
            state.stats.vote, answer_id, query.from_user.id, _SIGNS[sign]
        )
    except StoreError as exc:
        log.warning("vote not written: %s", exc)
        await query.answer(render.VOTE_FAILED_TEXT, show_alert=True)
        return
    if result is None:
        await query.answer(render.VOTE_EXPIRED_TEXT, show_alert=True)
        return
    await query.answer(render.vote_answer_text(result))
    chat = update.effective_chat
    log.info("vote chat=%s %s %s", chat.type if chat else "-", result.outcome, sign)
    if not isinstance(query.message, Message):  # too old for Telegram to show it to the bot
        return
    try:
        await query.edit_message_reply_markup(
            with_votes(query.message.reply_markup, answer_id, result.up, result.down)
        )
    except BadRequest as exc:  # e.g. "message is not modified" after two quick presses
        log.info("vote buttons not edited: %s", exc)


async def unanswered(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/unanswered (admins, private chat): the questions that got no answer or a 👎."""
    state = bot_state(context)
    message = update.effective_message
    if await refuse_non_admin(update, state):
        return
    if update.effective_chat.type != ChatType.PRIVATE:
        await message.reply_html(render.UNANSWERED_PRIVATE_ONLY_HTML)
        return
    log.info("admin %s: /unanswered", update.effective_user.id)
    text, markup = await _page(state, 0, int(time.time() * 1000) + 1)
    await message.reply_html(text, reply_markup=markup)


async def unanswered_more(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """«المزيد» under /unanswered: the next page, as the list stood when it was first shown."""
    query = update.callback_query
    state = bot_state(context)
    if await refuse_non_admin(update, state):
        return
    parts = (query.data or "").split(":")
    if (
        len(parts) != 3
        or not (parts[1].isdigit() and parts[2].isdigit())
        or query.message is None
        or query.message.chat.type != ChatType.PRIVATE
    ):
        await query.answer(render.STALE_BUTTON_TEXT, show_alert=True)
        return
    await query.answer()
    text, markup = await _page(state, int(parts[1]), int(parts[2]))
    await context.bot.send_message(
        query.message.chat.id, text, reply_markup=markup,
        reply_to_message_id=query.message.message_id,
    )


async def _page(
    state: BotState, offset: int, until: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    """One page of /unanswered as it stood at `until` (unix ms) and its «المزيد» button."""
    page = render.UNANSWERED_PAGE
    found = await asyncio.to_thread(state.stats.unanswered_groups, offset, page, until / 1000)
    if found is None:
        return render.UNANSWERED_NOT_KEPT_HTML, None
    groups, total = found
    text = render.unanswered_html(
        groups, total, offset, state.settings.feedback_days,
        texts_kept=state.settings.store_questions,
    )
    more = None
    if offset + len(groups) < total:
        more = InlineKeyboardMarkup([[
            InlineKeyboardButton(render.MORE_LABEL, callback_data=f"un:{offset + page}:{until}")
        ]])
    return text, more
