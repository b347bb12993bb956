"""The Bot API emulator, checked with python-telegram-bot itself (independent of our bot).

A tiny echo Application polls the emulator through `base_url`, as the real bot does.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import logging

import aiohttp
import pytest
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from tests.telegram_emulator import TelegramEmulator, auto_entities, parse_html


@pytest.fixture(autouse=True)
def _quiet_httpx():
    """As the bot does (configure_logging): httpx's request lines hold the token, keep them out."""
    httpx = logging.getLogger("httpx")
    level = httpx.level
    httpx.setLevel(logging.WARNING)
    yield
    httpx.setLevel(level)


async def _start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start: greet in HTML."""
    await update.effective_message.reply_html(f"hello <b>{update.effective_user.first_name}</b>")


async def _ask(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/ask words: echo the arguments."""
    await update.effective_message.reply_text("ask: " + " ".join(context.args))


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any text: echo it with a button."""
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("المزيد", callback_data="more:1")]])
    await update.effective_message.reply_text(update.effective_message.text, reply_markup=keyboard)


async def _channel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A channel post: answer it."""
    await update.channel_post.reply_text("channel: " + update.channel_post.text)


async def _edited(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An edit: say so."""
    await update.edited_message.reply_text("edited: " + update.edited_message.text)


async def _document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A document: download it and echo its text."""
    file = await update.message.document.get_file()
    data = await file.download_as_bytearray()
    await update.message.reply_text(f"{update.message.document.file_name}: {data.decode('utf-8')}")


async def _button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button press: answer, then edit the message."""
    query = update.callback_query
    await query.answer()
    await query.edit_message_text(f"pressed {query.data} in {query.message.chat.type}")


async def _inline(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An inline query: two articles."""
    query = update.inline_query.query
    await update.inline_query.answer([
        InlineQueryResultArticle(str(i), f"{query} {i}", InputTextMessageContent(f"<b>{i}</b>", parse_mode="HTML"))
        for i in range(2)
    ])


@pytest.fixture
async def echo_app(telegram_emulator: TelegramEmulator):
    """An echo Application polling the emulator."""
    emu = telegram_emulator
    app = (
        Application.builder().token(emu.token).base_url(emu.base_url).base_file_url(emu.base_file_url).build()
    )
    app.add_handler(CommandHandler("start", _start))
    app.add_handler(CommandHandler("ask", _ask))
    app.add_handler(MessageHandler(filters.UpdateType.CHANNEL_POST, _channel))
    app.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE, _edited))
    app.add_handler(MessageHandler(filters.Document.ALL, _document))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, _echo))
    app.add_handler(CallbackQueryHandler(_button))
    app.add_handler(InlineQueryHandler(_inline))
    async with app:
        await app.start()
        await app.updater.start_polling(poll_interval=0.0, timeout=5, allowed_updates=Update.ALL_TYPES)
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()


async def wait(emu: TelegramEmulator, name: str, *args, **kwargs):
    """Run a blocking emulator wait helper without blocking the event loop."""
    return await asyncio.to_thread(getattr(emu, name), *args, **kwargs)


async def test_get_me_and_start_up_calls(echo_app: Application, telegram_emulator: TelegramEmulator):
    emu = telegram_emulator
    me = await echo_app.bot.get_me()
    assert me.is_bot and me.username == emu.bot_username and me.id == emu.bot_id
    assert me.supports_inline_queries and me.can_join_groups
    assert emu.calls("getMe") and emu.calls("deleteWebhook")  # getUpdates is recorded when it ends
    info = await echo_app.bot.get_webhook_info()
    assert info.url == ""


async def test_private_text_is_echoed_as_a_full_message(echo_app, telegram_emulator):
    emu = telegram_emulator
    alice = emu.add_user("Alice", username="alice")
    chat = emu.add_private_chat(alice)
    question = emu.send_message(chat, alice, "مرحبا <يا> & عالم")
    call = await wait(emu, "wait_for_bot_message", chat)
    assert call.text == "مرحبا <يا> & عالم"
    sent = call.result
    assert sent["chat"] == {"id": alice["id"], "type": "private", "first_name": "Alice", "username": "alice"}
    assert sent["from"]["id"] == emu.bot_id and sent["from"]["is_bot"]
    assert abs(sent["date"] - dtm.datetime.now().timestamp()) < 120, "date is in seconds"
    assert "reply_to_message" not in sent, "PTB's reply_text quotes only in groups"
    assert sent["reply_markup"]["inline_keyboard"][0][0]["text"] == "المزيد"
    assert sent["message_id"] > question["message_id"]
    assert emu.messages_from_bot(chat) == [sent]


async def test_start_command_in_html(echo_app, telegram_emulator):
    emu = telegram_emulator
    bob = emu.add_user("Bob & co")
    chat = emu.add_private_chat(bob)
    command = emu.send_message(chat, bob, "/start")
    assert command["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    call = await wait(emu, "wait_for_bot_message", chat)
    assert call.params["parse_mode"] == "HTML"
    assert call.result["text"] == "hello Bob & co"
    assert call.result["entities"] == [{"type": "bold", "offset": 6, "length": 8}]


async def test_group_commands_for_this_bot_only(echo_app, telegram_emulator):
    emu = telegram_emulator
    user = emu.add_user("Carol")
    for group in (emu.add_group("Basic"), emu.add_group("Super", supergroup=True)):
        other = emu.send_message(group, user, "/ask@SomeOtherBot x")
        mine = emu.send_message(group, user, f"/ask@{emu.bot_username} متى؟")
        call = await wait(emu, "wait_for_reply", mine)
        assert call.text == "ask: متى؟"
        assert call.result["chat"]["type"] == group["type"] and call.result["chat"]["title"] == group["title"]
        assert not [c for c in emu.calls("sendMessage") if c.reply_to_message_id == other["message_id"]
                    and c.chat_id == group["id"]]


async def test_channel_post_has_no_sender_and_is_answered(echo_app, telegram_emulator):
    emu = telegram_emulator
    channel = emu.add_channel("News", username="news_channel")
    post = emu.send_channel_post(channel, "/ask خبر")
    assert "from" not in post and post["sender_chat"]["id"] == channel["id"]
    call = await wait(emu, "wait_for_reply", post)
    assert call.text == "channel: /ask خبر"
    assert call.result["chat"]["type"] == "channel" and "from" not in call.result
    assert call.result["sender_chat"]["id"] == channel["id"]
    assert (await echo_app.bot.get_chat("@news_channel")).id == channel["id"]
    member = await echo_app.bot.get_chat_member(channel["id"], emu.bot_id)
    assert member.status == "administrator"


async def test_edited_message_update(echo_app, telegram_emulator):
    emu = telegram_emulator
    user = emu.add_user("Dan")
    chat = emu.add_private_chat(user)
    original = emu.send_message(chat, user, "first")
    await wait(emu, "wait_for_bot_message", chat)
    emu.edit_message(original, "second")
    call = await wait(emu, "wait_for_call", "sendMessage", lambda c: c.text == "edited: second")
    assert call.ok


async def test_button_press_answers_and_edits(echo_app, telegram_emulator):
    emu = telegram_emulator
    user = emu.add_user("Eve")
    chat = emu.add_group("G", supergroup=True)
    asked = emu.send_message(chat, user, "hello")
    reply = (await wait(emu, "wait_for_reply", asked)).result
    query = emu.press_button(reply, user, text="المزيد")
    assert query["chat_instance"] and query["data"] == "more:1"
    answer = await wait(emu, "wait_for_call", "answerCallbackQuery",
                        lambda c: c.params["callback_query_id"] == query["id"])
    assert answer.ok
    edit = await wait(emu, "wait_for_call", "editMessageText")
    assert edit.ok and edit.result["text"] == "pressed more:1 in supergroup"
    assert edit.result["message_id"] == reply["message_id"] and edit.result["edit_date"]
    assert emu.message(chat["id"], reply["message_id"])["text"] == "pressed more:1 in supergroup"
    with pytest.raises(BadRequest, match="(?i)not modified"):
        await echo_app.bot.edit_message_text("pressed more:1 in supergroup", chat["id"], reply["message_id"])
    with pytest.raises(LookupError):
        emu.press_button(reply, user, text="no such button")


async def test_inline_query_is_answered(echo_app, telegram_emulator):
    emu = telegram_emulator
    user = emu.add_user("Fay")
    query = emu.send_inline_query(user, "سؤال")
    call = await wait(emu, "wait_for_call", "answerInlineQuery")
    assert call.ok and call.params["inline_query_id"] == query["id"]
    assert [r["title"] for r in call.params["results"]] == ["سؤال 0", "سؤال 1"]
    assert emu.inline_answers[query["id"]]["results"][0]["input_message_content"]["parse_mode"] == "HTML"


async def test_document_can_be_downloaded(echo_app, telegram_emulator):
    emu = telegram_emulator
    admin = emu.add_user("Ghada")
    chat = emu.add_private_chat(admin)
    content = "نص الوثيقة".encode()
    upload = emu.send_document(chat, admin, content, "doc.txt")
    assert upload["document"]["file_size"] == len(content)
    call = await wait(emu, "wait_for_bot_message", chat)
    assert call.text == "doc.txt: نص الوثيقة"
    assert emu.calls("getFile")[0].result["file_path"].endswith(".txt")


async def test_bot_api_rejects_what_telegram_rejects(echo_app, telegram_emulator):
    emu = telegram_emulator
    user = emu.add_user("Hani")
    chat = emu.add_private_chat(user)
    bot = echo_app.bot
    with pytest.raises(BadRequest, match="(?i)can't parse entities"):
        await bot.send_message(chat["id"], "<b>open", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match="(?i)unsupported start tag"):
        await bot.send_message(chat["id"], "a<br>b", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match="(?i)too long"):
        await bot.send_message(chat["id"], "ا" * 4097)
    sent = await bot.send_message(chat["id"], "<b>" + "ا" * 4096 + "</b>", parse_mode=ParseMode.HTML)
    assert len(sent.text) == 4096
    with pytest.raises(BadRequest, match="(?i)button_data_invalid"):
        long_data = "س" * 33  # 66 bytes
        await bot.send_message(chat["id"], "x", reply_markup=InlineKeyboardMarkup(
            [[InlineKeyboardButton("b", callback_data=long_data)]]))
    with pytest.raises(BadRequest, match="(?i)replied not found"):
        await bot.send_message(chat["id"], "x", reply_to_message_id=9999)
    with pytest.raises(BadRequest, match="(?i)chat not found"):
        await bot.send_message(424242, "x")
    with pytest.raises(BadRequest, match="(?i)query ID is invalid"):
        await bot.answer_callback_query("12345")
    assert len([c for c in emu.errors() if c.method == "sendMessage"]) == 6


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_fault_injection(echo_app, telegram_emulator):
    emu = telegram_emulator
    user = emu.add_user("Iman")
    chat = emu.add_private_chat(user)
    bot = echo_app.bot
    emu.flood_next("sendMessage", retry_after=3)
    with pytest.raises(RetryAfter) as flood:
        await bot.send_message(chat["id"], "x")
    assert flood.value.retry_after in (3, dtm.timedelta(seconds=3))
    emu.fail_next("sendMessage", error_code=500)
    with pytest.raises(NetworkError, match="Internal Server Error"):
        await bot.send_message(chat["id"], "x")
    emu.hang_next("sendChatAction", seconds=5)
    with pytest.raises(TimedOut):
        await bot.send_chat_action(chat["id"], "typing", read_timeout=0.3)
    assert (await bot.send_message(chat["id"], "fine now")).text == "fine now"
    assert not emu.errors() and len(emu.errors(include_injected=True)) == 2


async def test_wrong_token_and_unknown_method(telegram_emulator):
    emu = telegram_emulator
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{emu.base_url}{emu.token}/noSuchMethod", json={}) as response:
            assert response.status == 404
            assert await response.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
        wrong = emu.token[:-1] + ("A" if emu.token[-1] != "A" else "B")
        async with session.post(f"{emu.base_url}{wrong}/getMe") as response:
            assert response.status == 401
    app = Application.builder().token(emu.token[:-1] + "Z").base_url(emu.base_url).build()
    with pytest.raises(InvalidToken):
        await app.initialize()


async def test_long_poll_offset_limit_and_body_formats(telegram_emulator):
    emu = telegram_emulator
    user = emu.add_user("Jad")
    chat = emu.add_private_chat(user)
    api = f"{emu.base_url}{emu.token}"
    async with aiohttp.ClientSession() as session:

        async def get_updates(**params):
            async with session.post(f"{api}/getUpdates", data={k: str(v) for k, v in params.items()}) as r:
                body = await r.json()
                assert body["ok"], body
                return body["result"]

        loop = asyncio.get_running_loop()
        loop.call_later(0.3, emu.send_message, chat, user, "late")
        started = loop.time()
        updates = await get_updates(timeout=20)
        assert loop.time() - started < 15, "a long poll returns as soon as an update arrives"
        assert [u["message"]["text"] for u in updates] == ["late"]
        first = updates[0]["update_id"]
        for i in range(3):
            emu.send_message(chat, user, f"m{i}")
        assert len(await get_updates(offset=first, limit=2)) == 2
        rest = await get_updates(offset=first + 1, timeout=0)
        assert [u["message"]["text"] for u in rest] == ["m0", "m1", "m2"]
        assert await get_updates(offset=rest[-1]["update_id"] + 1, timeout=0) == []
        emu.send_inline_query(user, "q")
        emu.send_message(chat, user, "kept")
        only = await get_updates(allowed_updates=json.dumps(["message"]), timeout=0)
        assert [u["message"]["text"] for u in only] == ["kept"]
        # a JSON body, typed values; the message is a reply to the user's message
        async with session.post(f"{api}/sendMessage", json={
            "chat_id": chat["id"], "text": "<i>hi</i>", "parse_mode": "HTML",
            "reply_parameters": {"message_id": only[0]["message"]["message_id"]},
        }) as r:
            body = await r.json()
        assert body["result"]["entities"] == [{"type": "italic", "offset": 0, "length": 2}]
        assert body["result"]["reply_to_message"]["text"] == "kept"


async def test_pending_long_poll_ends_when_the_emulator_stops():
    emu = TelegramEmulator().start()
    try:
        async with aiohttp.ClientSession() as session:
            request = asyncio.ensure_future(session.post(f"{emu.base_url}{emu.token}/getUpdates",
                                                         json={"timeout": 60}))
            await asyncio.sleep(0.3)
            await asyncio.to_thread(emu.stop)
            response = await asyncio.wait_for(request, 10)
            assert (await response.json()) == {"ok": True, "result": []}
    finally:
        emu.stop()


def test_wait_for_call_times_out_with_the_recent_calls(telegram_emulator):
    with pytest.raises(TimeoutError, match="no sendMessage"):
        telegram_emulator.wait_for_call("sendMessage", timeout=0.2)


def test_html_parser_and_auto_entities():
    assert parse_html('<a href="https://x.y/?a=1&amp;b=2">l</a>') == (
        "l", [{"type": "text_link", "offset": 0, "length": 1, "url": "https://x.y/?a=1&b=2"}]
    )
    assert parse_html('<pre><code class="language-python">x</code></pre>')[1] == [
        {"type": "pre", "offset": 0, "length": 1, "language": "python"}
    ]
    assert parse_html("<blockquote expandable>q</blockquote>")[1][0]["type"] == "expandable_blockquote"
    assert parse_html("&#1587;&#x633; &nbsp;")[0] == "سس &nbsp;"
    assert parse_html("😀<b>x</b>")[1] == [{"type": "bold", "offset": 2, "length": 1}], "UTF-16 offsets"
    assert auto_entities("سؤال @QaTestBot عن /ask") == [
        {"type": "mention", "offset": 5, "length": 10},
        {"type": "bot_command", "offset": 19, "length": 4},
    ]
    assert auto_entities("a@b.com and 1/2") == []
