"""Admin commands (ADMIN_IDS only): /reindex with a progress message, /stats, /remove
(with a confirm button), /lastindex, and document uploads (PDF, Word, web pages, text)
in a private chat. Every admin action is logged with the admin's numeric id."""

from __future__ import annotations

import asyncio
import hashlib
import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot import render
from bot.telegram.logs import redact
from bot.telegram.state import BotState, bot_state, refuse_non_admin
from bot.uploads import (
    UploadError,
    check_content,
    check_name,
    check_size,
    save_upload,
    wants_replace,
)
from storage.indexer import IndexReport
from storage.store import StoreError

log = logging.getLogger(__name__)

#: Seconds between two edits of the /reindex progress message.
PROGRESS_EDIT_SECONDS = 1.5


async def reindex(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/reindex (admins): rebuild from CORPUS_DIR in a thread, editing one progress message."""
    state = bot_state(context)
    if await refuse_non_admin(update, state):
        return
    if state.reindexing:
        await update.effective_message.reply_html(render.REINDEX_BUSY_HTML)
        return
    log.info("admin %s: /reindex", update.effective_user.id)
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
    """/stats (admins): the index, and questions since start and since the first day kept."""
    state = bot_state(context)
    if await refuse_non_admin(update, state):
        return
    counts = await asyncio.to_thread(state.service.counts)
    history = await asyncio.to_thread(state.stats.history)
    text = render.stats_to_html(counts, state.stats.snapshot(), history)
    await update.effective_message.reply_html(text)


async def upload(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A document in a private chat: admins add PDF, Word, web pages or text to the collection."""
    state = bot_state(context)
    if await refuse_non_admin(update, state, render.UPLOAD_ADMINS_ONLY_HTML):
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
        log.info(
            "admin %s: upload saved: %r (replaced=%s)", update.effective_user.id, name, replaced
        )
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


def _remove_key(path: str) -> str:
    """A document's name in callback data (64 bytes at most, and valid after a restart)."""
    return hashlib.sha256(path.encode("utf-8")).hexdigest()[:16]


async def remove(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/remove NAME (admins): ask to confirm taking one document out of the collection."""
    state = bot_state(context)
    if await refuse_non_admin(update, state):
        return
    name = " ".join(context.args or [])
    if not name.strip():
        await update.effective_message.reply_html(render.REMOVE_HINT_HTML)
        return
    source, similar = await asyncio.to_thread(state.service.find_source, name)
    if source is None:
        await update.effective_message.reply_html(render.remove_not_found_html(name, similar))
        return
    key = _remove_key(source.path)
    buttons = InlineKeyboardMarkup([[
        InlineKeyboardButton(render.REMOVE_YES_LABEL, callback_data=f"rm:{key}"),
        InlineKeyboardButton(render.REMOVE_NO_LABEL, callback_data="rm:-"),
    ]])
    log.info("admin %s: /remove %r asked", update.effective_user.id, source.path)
    await update.effective_message.reply_html(
        render.remove_confirm_html(source), reply_markup=buttons
    )


async def remove_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """«نعم، احذفها» / «إلغاء» under a /remove question (admins only, as the command)."""
    query = update.callback_query
    state = bot_state(context)
    if await refuse_non_admin(update, state):
        return
    key = (query.data or "").partition(":")[2]
    await query.answer()
    if key == "-":
        await query.edit_message_text(render.REMOVE_CANCELLED_HTML)
        return
    sources = await asyncio.to_thread(state.service.sources)
    source = next((s.path for s in sources if _remove_key(s.path) == key), None)
    if source is None or state.service.source_file(source) is None:
        await query.edit_message_text(render.REMOVE_GONE_HTML)
        return
    if state.reindexing:
        await query.edit_message_text(render.REINDEX_BUSY_HTML)
        return
    state.reindexing = True
    try:
        moved, report = await asyncio.to_thread(state.service.remove, source)
    except StoreError as exc:
        log.warning("remove failed: %s", exc)
        await query.edit_message_text(render.reindex_failed_html(str(exc)))
        return
    finally:
        state.reindexing = False
    log.info("admin %s: removed %r (moved to %s)", update.effective_user.id, source, moved)
    await query.edit_message_text(render.removed_html(source, report))


async def last_index(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/lastindex (admins): the report of the last index run since the bot started."""
    state = bot_state(context)
    if await refuse_non_admin(update, state):
        return
    report = state.service.last_report
    await update.effective_message.reply_html(
        render.report_to_html(report) if report else render.NO_INDEX_RUN_HTML
    )
