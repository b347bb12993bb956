"""What every Telegram handler shares.

The bot's state (in application.bot_data), the answers behind buttons, searching
(in worker processes or a thread) and the per-sender question limit.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from bot import render
from bot.ratelimit import QuestionLimiter
from bot.search_pool import SearchPool
from bot.service import QAService
from bot.settings import Settings
from bot.stats import QuestionStats
from retrieval.search import Answer, Result

log = logging.getLogger(__name__)

#: Answers whose buttons still work (older ones get a polite "press expired").
BUTTON_MEMORY = 2000
#: The updates the bot asks Telegram for.
ALLOWED_UPDATES = [Update.MESSAGE, Update.CHANNEL_POST, Update.INLINE_QUERY, Update.CALLBACK_QUERY]


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
        """Remember `state` (forgetting the oldest beyond `size`); return its key."""
        key = secrets.token_urlsafe(6)
        self._items[key] = state
        while len(self._items) > self.size:
            self._items.popitem(last=False)
        return key

    def get(self, key: str) -> ButtonState | None:
        """The state saved under `key`, or None when it is unknown or forgotten."""
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


def bot_state(context: ContextTypes.DEFAULT_TYPE) -> BotState:
    """The BotState of the application handling this update."""
    return context.bot_data["state"]


def is_admin(update: Update, state: BotState) -> bool:
    """True when the update's sender is in ADMIN_IDS."""
    user = update.effective_user
    return user is not None and user.id in state.settings.admin_ids


async def refuse_non_admin(
    update: Update, state: BotState, text: str = render.ADMINS_ONLY_HTML
) -> bool:
    """Refuse politely unless the sender is an admin; True when refused.

    A command gets `text` as a reply; a button press (an admin's button that someone else
    pressed) gets the plain-text alert instead.
    """
    if is_admin(update, state):
        return False
    query = update.callback_query
    log.info(
        "admin %s refused for user %s",
        "button" if query else "command",
        update.effective_user and update.effective_user.id,
    )
    if query is not None:
        await query.answer(render.ADMINS_ONLY_TEXT, show_alert=True)
    else:
        await update.effective_message.reply_html(text)
    return True


async def search(state: BotState, question: str, top: int, offset: int) -> tuple[Answer, float]:
    """Ask the search processes (or a thread); return the answer and the seconds it took."""
    started = time.perf_counter()
    if state.search_pool is not None:
        answer = await state.search_pool.ask(question, top, offset)
    else:
        answer = await asyncio.to_thread(state.service.ask, question, top, offset)
    return answer, time.perf_counter() - started


async def within_limit(update: Update, state: BotState) -> bool:
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
