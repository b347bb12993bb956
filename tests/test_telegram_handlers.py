"""The Telegram handlers, offline: updates go through Application.process_update and an
offline request object records what the bot would have sent (no network, real SQLite)."""

from __future__ import annotations

import asyncio
import html
import itertools
import json
import logging
import random
import threading
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from telegram import Update
from telegram.ext import Application
from telegram.request import BaseRequest, RequestData

from bot import render
from bot.service import QAService
from bot.settings import Settings
from bot.stats import LastingStats, stats_path
from bot.telegram.app import build_application, post_init, run_bot
from bot.telegram.buttons import keyboard
from bot.telegram.logs import RedactToken, configure_logging, redact
from bot.telegram.state import ButtonMemory, ButtonState
from storage.indexer import index_collection
from tests.telegram_emulator import parse_html

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw_"
BOT_USER = {
    "id": 123456789,
    "is_bot": True,
    "first_name": "مجيب",
    "username": "QaBot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": True,
}
ADMIN, USER, OTHER = 1001, 2002, 3003
GROUP, CHANNEL = -1001234, -1009876
QUESTION = "متى تبدأ زيارة لافروف؟"
NOWHERE = "ما هو الطقس على المريخ غدا"

TELEGRAM_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "span",
    "tg-spoiler",
    "a",
    "tg-emoji",
    "code",
    "pre",
    "blockquote",
}


# --- checking what the bot sends ----------------------------------------------------------


class TelegramHTML(HTMLParser):
    """Fails on anything Telegram's HTML parse mode rejects; collects the plain text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        assert tag in TELEGRAM_TAGS, f"tag <{tag}> is not allowed by Telegram"
        self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        raise AssertionError(f"self-closing <{tag}/>")

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack.pop() == tag, f"unbalanced </{tag}>"

    def handle_data(self, data: str) -> None:
        assert not set("<>&") & set(data), f"unescaped text: {data!r}"
        self.text.append(data)

    def handle_entityref(self, name: str) -> None:
        assert name in ("lt", "gt", "amp", "quot"), f"entity &{name};"
        self.text.append(html.unescape(f"&{name};"))

    def handle_charref(self, name: str) -> None:
        self.text.append(html.unescape(f"&#{name};"))

    def handle_comment(self, data: str) -> None:
        raise AssertionError("comment")

    def handle_decl(self, decl: str) -> None:
        raise AssertionError("declaration")

    def unknown_decl(self, data: str) -> None:
        raise AssertionError("declaration")


def check_html(text: str) -> str:
    """Assert `text` is valid Telegram HTML within 4096 characters; return its plain text."""
    assert 0 < len(text.encode("utf-16-le")) // 2 <= 4096
    parser = TelegramHTML()
    parser.feed(text)
    parser.close()
    assert not parser.stack, f"unclosed {parser.stack}"
    return "".join(parser.text)


def callback_data(markup: dict | None) -> list[str]:
    return [b["callback_data"] for row in (markup or {}).get("inline_keyboard", []) for b in row]


# --- the offline Bot API ------------------------------------------------------------------


class OfflineRequest(BaseRequest):
    """Records every Bot API call and answers it as Telegram would (enough for PTB)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.files: dict[str, bytes] = {}  # file_path -> content
        self.chats: dict[int, dict[str, Any]] = {}
        self._ids = itertools.count(5000)

    @property
    def read_timeout(self) -> float:
        return 5.0

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def do_request(
        self, url: str, method: str, request_data: RequestData | None = None, **_: Any
    ) -> tuple[int, bytes]:
        if "/file/bot" in url:
            return 200, self.files[url.rsplit("/", 1)[-1]]
        name = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data else {}
        for field, upload in (request_data.multipart_data or {}).items() if request_data else ():
            params[field] = upload  # (file name, bytes, mime type) of a sent file
        self.calls.append((name, params))
        return 200, json.dumps({"ok": True, "result": self._result(name, params)}).encode()

    def _message(self, params: dict[str, Any], message_id: int) -> dict[str, Any]:
        chat_id = params["chat_id"]
        chat = self.chats.get(chat_id, {"id": chat_id, "type": "private", "first_name": "x"})
        return {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": chat,
            "from": BOT_USER,
            "text": params.get("text", ""),
            **({"reply_markup": params["reply_markup"]} if "reply_markup" in params else {}),
        }

    def _result(self, name: str, params: dict[str, Any]) -> Any:
        if name == "getMe":
            return BOT_USER
        if name in ("sendMessage", "sendDocument"):
            return self._message(params, next(self._ids))
        if name == "editMessageText":
            return self._message(params, params["message_id"])
        if name == "getFile":
            fid = params["file_id"]
            return {
                "file_id": fid,
                "file_unique_id": fid,
                "file_size": len(self.files[fid]),
                "file_path": fid,
            }
        return True

    def sent(self, *methods: str) -> list[dict[str, Any]]:
        methods = methods or ("sendMessage",)
        return [params for name, params in self.calls if name in methods]


class Bot:
    """An application over a store, and Telegram-shaped updates to feed it."""

    def __init__(self, settings: Settings, service: QAService, clock=time.monotonic):
        self.request = OfflineRequest()
        self.request.chats.update(
            {
                GROUP: {"id": GROUP, "type": "supergroup", "title": "مجموعة"},
                CHANNEL: {"id": CHANNEL, "type": "channel", "title": "قناة"},
            }
        )
        self.app = build_application(settings, service, request=self.request, clock=clock)
        self.service = service
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)

    async def send(self, update: dict[str, Any]) -> None:
        await self.app.process_update(Update.de_json(update, self.app.bot))

    def _wrap(self, key: str, payload: dict[str, Any]) -> dict[str, Any]:
        return {"update_id": next(self._update_ids), key: payload}

    def message(
        self, chat: dict, text: str | None, user: int | None = USER, **extra: Any
    ) -> dict[str, Any]:
        message = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": chat,
            **extra,
        }
        if user is not None:
            message["from"] = {"id": user, "is_bot": False, "first_name": "سائل"}
        if text is not None:
            message["text"] = text
            if text.startswith("/"):
                command = text.split()[0]
                message["entities"] = [
                    {
                        "type": "bot_command",
                        "offset": 0,
                        "length": len(command.encode("utf-16-le")) // 2,
                    }
                ]
        return message

    def private(self, text: str | None, user: int = USER, **extra: Any) -> dict[str, Any]:
        chat = {"id": user, "type": "private", "first_name": "سائل"}
        return self._wrap("message", self.message(chat, text, user, **extra))

    def group(self, text: str, user: int = USER, **extra: Any) -> dict[str, Any]:
        return self._wrap("message", self.message(self.request.chats[GROUP], text, user, **extra))

    def channel(self, text: str) -> dict[str, Any]:
        chat = self.request.chats[CHANNEL]
        return self._wrap("channel_post", self.message(chat, text, None, sender_chat=chat))

    def inline(self, query: str, user: int = USER) -> dict[str, Any]:
        return self._wrap(
            "inline_query",
            {
                "id": f"iq{next(self._update_ids)}",
                "query": query,
                "offset": "",
                "from": {"id": user, "is_bot": False, "first_name": "سائل"},
            },
        )

    def press(self, data: str, message: dict[str, Any], user: int = USER) -> dict[str, Any]:
        return self._wrap(
            "callback_query",
            {
                "id": f"cb{next(self._update_ids)}",
                "chat_instance": "1",
                "data": data,
                "message": message,
                "from": {"id": user, "is_bot": False, "first_name": "سائل"},
            },
        )

    def document(
        self,
        name: str,
        content: bytes,
        user: int = ADMIN,
        caption: str | None = None,
        size: int | None = None,
    ) -> dict[str, Any]:
        fid = f"doc{next(self._update_ids)}"
        self.request.files[fid] = content
        doc = {
            "file_id": fid,
            "file_unique_id": fid,
            "file_name": name,
            "file_size": len(content) if size is None else size,
            "mime_type": "text/plain",
        }
        extra = {"document": doc, **({"caption": caption} if caption else {})}
        return self.private(None, user, **extra)

    def last_sent_message(self) -> dict[str, Any]:
        """The last sendMessage, as the Message dict Telegram returned (for button presses)."""
        params = self.request.sent()[-1]
        return self.request._message(params, 4242)

    def replies(self) -> list[dict[str, Any]]:
        return self.request.sent("sendMessage")


@pytest.fixture(autouse=True)
def _restore_logging():
    """configure_logging changes global logging: undo it after each test."""
    root = logging.getLogger()
    saved = {h: list(h.filters) for h in root.handlers}
    levels = {n: logging.getLogger(n).level for n in ("httpx", "httpcore")}
    yield
    for handler in root.handlers:
        handler.filters[:] = saved.get(
            handler, [f for f in handler.filters if not isinstance(f, RedactToken)]
        )
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def make_bot(seed_db: Path, seed_dir: Path):
    """`await make_bot(**settings)` → an initialised Bot over a copy of the seed store."""
    bots: list[Bot] = []
    services: list[QAService] = []

    async def make(service: QAService | None = None, clock=time.monotonic, **overrides: Any) -> Bot:
        if service is None:
            service = QAService(seed_db, seed_dir)
            services.append(service)
        values = {
            "telegram_bot_token": TOKEN,
            "admin_ids": frozenset({ADMIN}),
            "corpus_dir": service.corpus_dir,
            "database_path": service.database_path,
            "max_upload_bytes": 2 * 1024 * 1024,  # small, so size tests stay fast
        }
        values.update(overrides)
        bot = Bot(Settings(**values), service, clock=clock)
        await bot.app.initialize()
        bots.append(bot)
        return bot

    yield make
    for bot in bots:
        await bot.app.shutdown()
        bot.app.bot_data["state"].stats.close()
    for service in services:
        service.close()


@pytest.fixture
async def bot(make_bot) -> Bot:
    return await make_bot()


# --- private chat ---------------------------------------------------------------------------


async def test_private_question_gets_quoted_snippets_with_sources_and_buttons(bot: Bot):
    await bot.send(bot.private(QUESTION))
    (reply,) = bot.replies()
    assert reply["chat_id"] == USER and reply["parse_mode"] == "HTML"
    text = reply["text"]
    plain = check_html(text)
    assert text.count("<blockquote>") == 3
    assert "<b>" in text and "لافروف" in plain
    assert "<code>001_29605565af34d15c.txt</code> — «الفقرة 8»" in text
    data = callback_data(reply["reply_markup"])
    assert any(d.startswith("m:") for d in data) and sum(d.startswith("f:") for d in data) == 3
    assert all(len(d.encode()) <= 64 for d in data)


async def test_no_answer_is_a_short_arabic_message_with_a_hint(bot: Bot):
    await bot.send(bot.private(NOWHERE))
    (reply,) = bot.replies()
    plain = check_html(reply["text"])
    assert plain.startswith("لم أجد في الوثائق") and "مثل:" in plain
    assert "reply_markup" not in reply


async def test_unusable_question_explains_why(bot: Bot):
    await bot.send(bot.private("؟؟؟ ..."))
    (reply,) = bot.replies()
    assert "كلمات" in check_html(reply["text"])


async def test_start_help_and_sources_in_arabic(bot: Bot):
    await bot.send(bot.private("/start"))
    await bot.send(bot.private("/help"))
    await bot.send(bot.private("/sources"))
    start, help_, sources = (check_html(r["text"]) for r in bot.replies())
    assert start == help_
    assert "/ask" in start and "@QaBot" in start and "مثال" in start
    assert "/reindex" not in start  # admin commands only for admins
    assert sources.startswith("الوثائق المفهرسة (5)")
    assert "000_83998fafb468cc7d.txt" in sources and "فقرة" in sources


async def test_help_for_an_admin_lists_admin_commands(bot: Bot):
    await bot.send(bot.private("/help", user=ADMIN))
    assert "/reindex" in bot.replies()[0]["text"] and "/stats" in bot.replies()[0]["text"]


async def test_unknown_command_and_non_text_in_private(bot: Bot):
    await bot.send(bot.private("/nonsense"))
    await bot.send(
        bot.private(
            None,
            sticker={
                "file_id": "s",
                "file_unique_id": "s",
                "type": "regular",
                "width": 1,
                "height": 1,
                "is_animated": False,
                "is_video": False,
            },
        )
    )
    unknown, not_text = (check_html(r["text"]) for r in bot.replies())
    assert "/help" in unknown and "نصاً" in not_text


@pytest.fixture
async def hostile_bot(make_bot, tmp_path: Path, write_corpus) -> Bot:
    """A store whose paragraphs are full of <, >, & and very long, in a file named with & and <."""
    nasty = " ".join(["<script>alert('x')</script> & زيارة لافروف <b>غير</b> &amp; &lt;"] * 400)
    paragraphs = [f"زيارة لافروف رقم {i} " + " ".join(["&<>&"] * 80) for i in range(12)]
    corpus = write_corpus(tmp_path / "hostile", {"a&b<c>.txt": "\n\n".join([nasty, *paragraphs])})
    db = tmp_path / "hostile.sqlite3"
    index_collection(db, corpus)
    service = QAService(db, corpus)
    bot = await make_bot(service=service, top_k=10)
    yield bot
    service.close()


async def test_hostile_corpus_is_escaped_and_within_4096(hostile_bot: Bot):
    bot = hostile_bot
    await bot.send(bot.private("زيارة لافروف"))
    (reply,) = bot.replies()
    plain = check_html(
        reply["text"]
    )  # valid, escaped, ≤ 4096 although ten quotes of "&<>&" are not
    assert "<script>alert('x')</script>" in plain and "&<>&" in plain and "\n10. " in plain
    assert plain.count("a&b<c>.txt") == 10 and "…" in plain
    for data in callback_data(reply["reply_markup"]):
        if data.startswith("f:"):
            await bot.send(bot.press(data, bot.request._message(reply, 77)))
    fulls = [check_html(r["text"]) for r in bot.replies()[1:]]
    assert len(fulls) == 10 and all("زيارة لافروف" in text for text in fulls)
    assert fulls[0].endswith("…")  # the 26,000-character paragraph, cut to fit


# --- groups ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [f"/ask {QUESTION}", f"/ask@QaBot {QUESTION}", f"@QaBot {QUESTION}", f"{QUESTION} @qabot"],
)
async def test_group_answers_ask_and_mentions_as_a_reply(bot: Bot, text: str):
    update = bot.group(text)
    await bot.send(update)
    (reply,) = bot.replies()
    assert reply["chat_id"] == GROUP
    assert reply["reply_parameters"]["message_id"] == update["message"]["message_id"]
    assert check_html(reply["text"]).count("الفقرة") == 3


async def test_group_answers_a_reply_to_the_bots_own_message(bot: Bot):
    own = {
        "message_id": 900,
        "date": int(time.time()),
        "chat": bot.request.chats[GROUP],
        "from": BOT_USER,
        "text": "إجابة سابقة",
    }
    await bot.send(bot.group(QUESTION, reply_to_message=own))
    assert len(bot.replies()) == 1


@pytest.mark.parametrize(
    "text",
    [
        QUESTION,
        f"/ask@OtherBot {QUESTION}",
        "/start@OtherBot",
        f"/asking {QUESTION}",
        f"@QaBotx {QUESTION}",
    ],
)
async def test_group_ignores_everything_else(bot: Bot, text: str):
    await bot.send(bot.group(text))
    human = {
        "message_id": 901,
        "date": int(time.time()),
        "chat": bot.request.chats[GROUP],
        "from": {"id": OTHER, "is_bot": False, "first_name": "آخر"},
        "text": "سؤال",
    }
    await bot.send(bot.group(QUESTION, reply_to_message=human))
    assert bot.request.calls == [("getMe", {})]


async def test_group_ask_without_a_question_gets_a_hint(bot: Bot):
    await bot.send(bot.group("/ask@QaBot"))
    (reply,) = bot.replies()
    assert "/ask" in check_html(reply["text"]) and "reply_parameters" in reply


# --- channels -------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [f"/ask {QUESTION}", f"سؤال للبوت @QaBot {QUESTION}"])
async def test_channel_post_addressed_to_the_bot_is_answered_as_a_reply(bot: Bot, text: str):
    update = bot.channel(text)
    await bot.send(update)
    (reply,) = bot.replies()
    assert reply["chat_id"] == CHANNEL
    assert reply["reply_parameters"]["message_id"] == update["channel_post"]["message_id"]
    assert "<blockquote>" in reply["text"]


async def test_other_channel_posts_are_ignored(bot: Bot):
    await bot.send(bot.channel(QUESTION))
    await bot.send(bot.channel("/start"))
    assert bot.replies() == []


# --- inline mode ----------------------------------------------------------------------------


async def test_inline_query_offers_at_most_ten_articles(bot: Bot):
    await bot.send(bot.inline("كوريا الشمالية"))
    (call,) = bot.request.sent("answerInlineQuery")
    results = call["results"]
    assert 1 <= len(results) <= 10
    for article in results:
        assert article["type"] == "article"
        assert "الفقرة" in article["title"] and article["title"].split(" — ")[0].endswith(".txt")
        assert article["description"]
        content = article["input_message_content"]
        assert content["parse_mode"] == "HTML"
        assert "<blockquote>" in content["message_text"] and "<code>" in content["message_text"]
        check_html(content["message_text"])


async def test_inline_query_without_results_offers_help(bot: Bot):
    await bot.send(bot.inline(NOWHERE))
    await bot.send(bot.inline(""))
    for call in bot.request.sent("answerInlineQuery"):
        assert call["results"] == [] and call["button"]["start_parameter"] == "help"


# --- buttons --------------------------------------------------------------------------------


async def test_more_button_shows_the_next_results(bot: Bot):
    await bot.send(bot.private(QUESTION))
    first = bot.last_sent_message()
    more = next(d for d in callback_data(first["reply_markup"]) if d.startswith("m:"))
    await bot.send(bot.press(more, first))
    assert bot.request.sent("answerCallbackQuery")
    second = bot.replies()[-1]
    text = check_html(second["text"])
    assert text.count("الفقرة") >= 1 and "\n4. " in "\n" + text
    assert second["reply_parameters"]["message_id"] == 4242
    assert all(len(d.encode()) <= 64 for d in callback_data(second.get("reply_markup")))


async def test_full_text_button_shows_the_whole_paragraph(bot: Bot):
    await bot.send(bot.private(QUESTION))
    first = bot.last_sent_message()
    full = [d for d in callback_data(first["reply_markup"]) if d.startswith("f:")][1]
    await bot.send(bot.press(full, first))
    text = check_html(bot.replies()[-1]["text"])
    answer = bot.service.ask(QUESTION, 3)
    assert answer.results[1].text in text
    assert "«الفقرة 2»" in text


async def test_full_text_has_no_file_button_unless_the_admin_allows_it(bot: Bot):
    await bot.send(bot.private(QUESTION))
    first = bot.last_sent_message()
    await bot.send(bot.press(callback_data(first["reply_markup"])[0], first))
    assert "reply_markup" not in bot.replies()[-1]


async def test_a_reader_receives_the_source_file_when_send_files_is_on(make_bot, seed_dir: Path):
    bot = await make_bot(send_files=True)
    await bot.send(bot.private(QUESTION))
    first = bot.last_sent_message()
    await bot.send(bot.press(callback_data(first["reply_markup"])[0], first))
    full = bot.last_sent_message()
    (data,) = callback_data(full["reply_markup"])
    assert data.startswith("d:") and len(data.encode()) <= 64
    await bot.send(bot.press(data, full))
    (sent,) = bot.request.sent("sendDocument")
    source = bot.service.ask(QUESTION, 3).results[0].source
    name, content, _ = sent["document"]
    assert name == source and content == (seed_dir / source).read_bytes()
    assert sent["caption"].startswith(f"{source} — الفقرة ")
    (seed_dir / source).unlink()  # gone from the collection: said, not sent
    await bot.send(bot.press(data, full))
    assert "لم يعد هذا الملف" in bot.request.sent("answerCallbackQuery")[-1]["text"]
    assert len(bot.request.sent("sendDocument")) == 1


@pytest.mark.parametrize("data", ["m:expired1", "f:expired1:0", "garbage", "f:", ""])
async def test_stale_or_unknown_button_gets_a_polite_answer(bot: Bot, data: str):
    message = {
        "message_id": 7,
        "date": int(time.time()),
        "from": BOT_USER,
        "chat": {"id": USER, "type": "private", "first_name": "x"},
        "text": "قديم",
    }
    await bot.send(bot.press(data, message))
    (answer,) = bot.request.sent("answerCallbackQuery")
    assert "انتهت صلاحية" in answer["text"] and answer["show_alert"] is True
    assert bot.replies() == []


async def test_button_memory_is_bounded(bot: Bot):
    memory = ButtonMemory(size=3)
    state = ButtonState("س", 3, (), True)
    keys = [memory.put(state) for _ in range(5)]
    assert memory.get(keys[0]) is None and memory.get(keys[-1]) is state
    assert all(len(f"f:{k}:9".encode()) <= 64 for k in keys)


# --- admins ---------------------------------------------------------------------------------


async def test_reindex_by_admin_edits_one_message_into_the_report(bot: Bot, seed_dir: Path):
    (seed_dir / "bad.txt").write_bytes(b"\xff\xfe not utf-8")
    (seed_dir / "new.md").write_text("زيارة جديدة إلى موسكو\n", encoding="utf-8")
    await bot.send(bot.private("/reindex", user=ADMIN))
    assert len(bot.replies()) == 1  # the progress message
    edits = bot.request.sent("editMessageText")
    assert edits and all(e["message_id"] == edits[-1]["message_id"] for e in edits)
    report = check_html(edits[-1]["text"])
    assert "اكتملت إعادة الفهرسة" in report and "ثانية" in report
    assert "1 مفهرسة" in report and "6 وثائق" in report and "60 مقطعاً" in report
    assert "bad.txt" in report and "ليس بترميز UTF-8" in report
    assert "new.md" in {s.path for s in bot.service.sources()}


@pytest.mark.parametrize("command", ["/reindex", "/stats"])
async def test_admin_commands_are_refused_for_others_and_nothing_runs(
    bot: Bot, seed_dir: Path, command
):
    (seed_dir / "new.md").write_text("زيارة جديدة إلى موسكو\n", encoding="utf-8")
    await bot.send(bot.private(command, user=USER))
    await bot.send(bot.group(f"{command}@QaBot", user=USER))
    for reply in bot.replies():
        assert check_html(reply["text"]) == "هذا الأمر متاح لمشرفي البوت فقط."
    assert len(bot.replies()) == 2 and not bot.request.sent("editMessageText")
    assert "new.md" not in {s.path for s in bot.service.sources()}


class GatedService(QAService):
    """A real service whose reindex reports progress, then waits for the test to let it go on."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.reported = threading.Event()
        self.go_on = threading.Event()

    def reindex(self, progress=None, corpus_dir=None):
        if progress is not None:
            progress("reading", 1, 5)
        self.reported.set()
        assert self.go_on.wait(10)
        return super().reindex(progress, corpus_dir)


async def until(condition, limit: int = 2000) -> None:
    for _ in range(limit):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("condition never became true")


async def test_reindex_runs_in_a_thread_answers_continue_and_progress_is_edited(
    make_bot, seed_db: Path, seed_dir: Path, monkeypatch
):
    monkeypatch.setattr("bot.telegram.admin.PROGRESS_EDIT_SECONDS", 0.01)
    service = GatedService(seed_db, seed_dir)
    bot = await make_bot(service=service)
    job = asyncio.create_task(bot.send(bot.private("/reindex", user=ADMIN)))
    await until(lambda: bot.request.sent("editMessageText"))
    assert "قراءة الملفات (1/5)" in bot.request.sent("editMessageText")[0]["text"]
    await bot.send(bot.private(QUESTION))  # answered from the old index meanwhile
    assert "<blockquote>" in bot.replies()[-1]["text"]
    await bot.send(bot.private("/reindex", user=ADMIN))  # a second one is not started
    assert "جارية الآن" in bot.replies()[-1]["text"]
    service.go_on.set()
    await job
    edits = bot.request.sent("editMessageText")
    assert len({e["message_id"] for e in edits}) == 1
    assert "اكتملت إعادة الفهرسة" in edits[-1]["text"]
    service.close()


async def test_stats_for_admins(bot: Bot):
    await bot.send(bot.private(QUESTION))
    await bot.send(bot.private(NOWHERE))
    await bot.send(bot.private("/stats", user=ADMIN))
    text = check_html(bot.replies()[-1]["text"])
    counts = bot.service.counts()
    assert f"الوثائق: {counts['documents']}" in text and f"المقاطع: {counts['passages']}" in text
    assert "الأسئلة منذ التشغيل: 2" in text and "بلا إجابة: 50% (1)" in text
    assert "الوسيط" in text and "المئين 95" in text and "ملّي ثانية" in text


async def test_stats_shows_since_start_and_since_the_first_day_and_lasts(
    make_bot, seed_db: Path
):
    earlier = LastingStats(stats_path(seed_db), clock=lambda: 1704196800.0)  # 2024-01-02
    for i in range(4):
        earlier.record(0.040, answered=i != 0, chat_type="channel" if i == 3 else "private")
    earlier.close()
    bot = await make_bot()
    await bot.send(bot.private(QUESTION))
    await bot.send(bot.group(f"/ask {NOWHERE}"))
    await bot.send(bot.private("/stats", user=ADMIN))
    text = check_html(bot.replies()[-1]["text"])
    start, lasting = text.split("الأسئلة منذ أول يوم")
    assert "الأسئلة منذ التشغيل: 2" in start and "بلا إجابة: 50% (1)" in start
    assert "حسب نوع المحادثة: خاصة 1، مجموعات 1" in start
    assert lasting.startswith(" (2024-01-02): 6") and "أيام فيها أسئلة: 2" in lasting
    assert "بلا إجابة: 33% (2)" in lasting and "بدقة ±6%" in lasting
    assert "حسب نوع المحادثة: خاصة 4، قنوات 1، مجموعات 1" in lasting
    assert "ضاع" not in text

    bot.app.bot_data["state"].stats.close()  # a restart: the file keeps the days
    again = await make_bot()
    await again.send(again.private("/stats", user=ADMIN))
    text = check_html(again.replies()[-1]["text"])
    assert "الأسئلة منذ التشغيل: 0" in text and "الأسئلة منذ أول يوم (2024-01-02): 6" in text


async def test_stats_says_when_the_history_was_lost(make_bot, seed_db: Path):
    stats_path(seed_db).write_bytes(b"not a database at all" * 500)
    bot = await make_bot()
    await bot.send(bot.private("/stats", user=ADMIN))
    text = check_html(bot.replies()[-1]["text"])
    assert "ضاع ما سُجّل قبل" in text and "bot-stats.sqlite3.broken-" in text
    assert "الأسئلة منذ أول يوم" in text
    assert list(seed_db.parent.glob("bot-stats.sqlite3.broken-*"))


async def test_commands_are_registered_for_users_and_admins(bot: Bot):
    await post_init(bot.app)
    calls = bot.request.sent("setMyCommands")
    by_scope = {
        json.dumps(c["scope"], sort_keys=True): [x["command"] for x in c["commands"]] for c in calls
    }
    assert by_scope[json.dumps({"type": "default"})] == ["start", "help", "sources", "ask"]
    admin_scope = json.dumps({"chat_id": ADMIN, "type": "chat"}, sort_keys=True)
    assert by_scope[admin_scope] == [
        "start", "help", "sources", "ask", "reindex", "stats", "remove", "lastindex",
        "unanswered",
    ]


# --- managing the collection: /remove, /lastindex ------------------------------------------------

REMOVED = "001_29605565af34d15c.txt"


async def test_an_admin_removes_a_document_after_confirming(
    bot: Bot, seed_dir: Path, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.INFO, logger="bot.telegram")
    await bot.send(bot.private(f"/remove {REMOVED}", user=ADMIN))
    question = bot.last_sent_message()
    assert REMOVED in check_html(question["text"]) and (seed_dir / REMOVED).exists()
    yes, no = callback_data(question["reply_markup"])
    assert yes.startswith("rm:") and no == "rm:-" and len(yes.encode()) <= 64
    await bot.send(bot.press(yes, question, user=ADMIN))
    done = bot.request.sent("editMessageText")[-1]
    assert "حذفت" in check_html(done["text"]) and "4 وثائق" in done["text"]
    assert not (seed_dir / REMOVED).exists()
    kept = list((bot.service.database_path.parent / "removed").glob(f"*-{REMOVED}"))
    assert len(kept) == 1  # moved aside, not deleted: an admin's slip can be undone
    assert all(r.source != REMOVED for r in bot.service.ask("متى تبدأ زيارة لافروف؟", 5).results)
    assert f"admin {ADMIN}: removed '{REMOVED}'" in caplog.text
    await bot.send(bot.press(yes, question, user=ADMIN))  # pressed again: already gone
    assert "لم تعد هذه الوثيقة" in bot.request.sent("editMessageText")[-1]["text"]


async def test_remove_is_cancelled_or_refused_and_nothing_changes(bot: Bot, seed_dir: Path):
    await bot.send(bot.private(f"/remove {REMOVED}", user=ADMIN))
    question = bot.last_sent_message()
    yes, no = callback_data(question["reply_markup"])
    await bot.send(bot.press(yes, question, user=USER))  # not an admin: the button refuses
    assert bot.request.sent("answerCallbackQuery")[-1]["show_alert"] is True
    await bot.send(bot.press(no, question, user=ADMIN))
    assert "ألغيت" in bot.request.sent("editMessageText")[-1]["text"]
    await bot.send(bot.private(f"/remove {REMOVED}", user=USER))
    assert "لمشرفي البوت فقط" in bot.replies()[-1]["text"]
    assert (seed_dir / REMOVED).exists() and len(bot.service.sources()) == 5


async def test_remove_with_a_wrong_name_suggests_the_files_it_may_mean(bot: Bot):
    await bot.send(bot.private("/remove", user=ADMIN))
    assert "/remove تقرير 2024.pdf" in check_html(bot.replies()[-1]["text"])
    await bot.send(bot.private("/remove 001_", user=ADMIN))
    text = check_html(bot.replies()[-1]["text"])
    assert "لا توجد في المجموعة وثيقة" in text and REMOVED in text
    assert "reply_markup" not in bot.replies()[-1]


async def test_lastindex_shows_the_last_report(bot: Bot):
    await bot.send(bot.private("/lastindex", user=ADMIN))
    assert "لم تجرِ فهرسة منذ تشغيل البوت" in bot.replies()[-1]["text"]
    await bot.send(bot.private("/reindex", user=ADMIN))
    await bot.send(bot.private("/lastindex", user=ADMIN))
    assert "اكتملت إعادة الفهرسة" in check_html(bot.replies()[-1]["text"])


# --- uploads --------------------------------------------------------------------------------


async def test_admin_upload_is_saved_and_indexed(bot: Bot, seed_dir: Path):
    content = "تقرير جديد\n\nافتتح متحف الفنون الإسلامية في الدوحة معرضاً للخط العربي.\n"
    await bot.send(bot.document("تقرير الخط.txt", content.encode()))
    assert (seed_dir / "تقرير الخط.txt").read_text(encoding="utf-8") == content
    final = bot.request.sent("editMessageText")[-1]
    assert "حفظت الملف" in check_html(final["text"]) and "6 وثائق" in final["text"]
    await bot.send(bot.private("معرض الخط العربي في الدوحة"))
    assert "تقرير الخط.txt" in bot.replies()[-1]["text"]


async def test_admin_uploads_a_pdf_and_readers_get_its_page(bot: Bot, seed_dir: Path, tmp_path: Path):
    producers = pytest.importorskip("benchmarks.producers")
    if (missing := producers.available("reportlab")) is not None:
        pytest.skip(missing)
    doc = producers.Doc(
        "تقرير المعرض",
        ["افتتح متحف الفنون الإسلامية في الدوحة معرضاً للخط العربي يضم مئتي لوحة نادرة."] * 3
        + ["ويستمر معرض المخطوطات الأندلسية في قرطبة حتى نهاية شهر سبتمبر المقبل."],
    )
    pdf = producers.pdf_reportlab(doc, tmp_path / "تقرير.pdf")
    await bot.send(bot.document("تقرير المعرض.pdf", pdf.read_bytes()))
    final = check_html(bot.request.sent("editMessageText")[-1]["text"])
    assert "حفظت الملف" in final and "صفحة واحدة" in final, final
    await bot.send(bot.private("متى ينتهي معرض المخطوطات الأندلسية في قرطبة؟"))
    reply = bot.replies()[-1]["text"]
    assert "<code>تقرير المعرض.pdf</code> — «صفحة 1، الفقرة" in reply.split("\n\n")[0], reply


async def test_upload_never_overwrites_silently(bot: Bot, seed_dir: Path):
    name = "000_83998fafb468cc7d.txt"
    before = (seed_dir / name).read_bytes()
    await bot.send(bot.document(name, "نص بديل عن معرض الخط\n".encode()))
    refused = bot.request.sent("editMessageText")[-1]["text"]
    assert "يوجد في المجموعة ملف" in refused and "استبدال" in refused
    assert (seed_dir / name).read_bytes() == before
    await bot.send(bot.document(name, "نص بديل عن معرض الخط\n".encode(), caption="استبدال"))
    assert "استبدلت الملف" in bot.request.sent("editMessageText")[-1]["text"]
    assert (seed_dir / name).read_text(encoding="utf-8") == "نص بديل عن معرض الخط\n"


@pytest.mark.parametrize(
    ("name", "content", "size", "reason"),
    [
        ("../x.txt", "نص".encode(), None, "اسم الملف غير مقبول"),
        ("..\\x.txt", "نص".encode(), None, "اسم الملف غير مقبول"),
        ("/etc/x.txt", "نص".encode(), None, "اسم الملف غير مقبول"),
        (".hidden.txt", "نص".encode(), None, "اسم الملف غير مقبول"),
        ("report.exe", b"MZ", None, "أقبل ملفات PDF"),
        ("report.pdf", "نص".encode(), None, "لا يطابق امتداده"),
        ("report.docx", b"%PDF-1.4\n", None, "لا يطابق امتداده"),
        ("truncated.pdf", b"%PDF-1.4\n1 0 obj", None, "تالف"),
        ("big.txt", "نص".encode(), 3 * 1024 * 1024, "كبير جداً"),
        ("latin1.txt", "café à la carte".encode("latin-1"), None, "UTF-8"),
        ("binary.md", b"\x00\x01\x02abc", None, "ليس نصاً"),
        ("blank.txt", b"  \n\n ", None, "فارغ"),
    ],
)
async def test_bad_uploads_are_refused_with_the_reason(
    bot: Bot, tmp_path: Path, seed_dir: Path, name, content, size, reason
):
    before = sorted(p.name for p in tmp_path.rglob("*"))
    await bot.send(bot.document(name, content, size=size))
    last = (bot.request.sent("sendMessage", "editMessageText"))[-1]["text"]
    assert check_html(last).startswith("لم أقبل الملف") and reason in last
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


async def test_actual_download_size_is_checked_too(bot: Bot, seed_dir: Path):
    await bot.send(bot.document("lying.txt", "نص ".encode() * 800_000, size=10))
    assert "كبير جداً" in bot.request.sent("editMessageText")[-1]["text"]
    assert not (seed_dir / "lying.txt").exists()


async def test_upload_from_a_non_admin_is_refused(bot: Bot, seed_dir: Path):
    await bot.send(bot.document("note.txt", "نص".encode(), user=USER))
    (reply,) = bot.replies()
    assert "لمشرفي البوت فقط" in reply["text"]
    assert not (seed_dir / "note.txt").exists() and not bot.request.sent("getFile")


# --- robustness -----------------------------------------------------------------------------


async def test_flooding_user_gets_one_slow_down_message(make_bot):
    clock = FakeClock()
    bot = await make_bot(questions_per_minute=3, clock=clock)
    for _ in range(8):
        await bot.send(bot.private(QUESTION))
    texts = [r["text"] for r in bot.replies()]
    assert len(texts) == 4
    assert all("<blockquote>" in t for t in texts[:3]) and "تمهّل" in texts[3]
    await bot.send(bot.private(QUESTION, user=OTHER))  # others are not affected
    assert "<blockquote>" in bot.replies()[-1]["text"]
    clock.now += 61
    await bot.send(bot.private(QUESTION))
    assert "<blockquote>" in bot.replies()[-1]["text"]


async def test_edited_messages_are_not_answered(bot: Bot):
    update = bot.private(QUESTION)
    update["edited_message"] = update.pop("message")
    update["edited_message"]["edit_date"] = int(time.time())
    await bot.send(update)
    group = bot.group(f"/ask {QUESTION}")
    group["edited_message"] = group.pop("message")
    await bot.send(group)
    channel = bot.channel(f"/ask {QUESTION}")
    channel["edited_channel_post"] = channel.pop("channel_post")
    await bot.send(channel)
    assert bot.request.calls == [("getMe", {})]


class BrokenService(QAService):
    def ask(self, question: str, top: int = 3, offset: int = 0):
        raise RuntimeError(f"boom while calling https://api.telegram.org/bot{TOKEN}/getMe")


async def test_errors_are_logged_and_reported_to_admins_without_the_token(
    make_bot, seed_db: Path, seed_dir: Path, caplog
):
    configure_logging(TOKEN)
    service = BrokenService(seed_db, seed_dir)
    bot = await make_bot(service=service)
    with caplog.at_level(logging.INFO):
        await bot.send(bot.private(QUESTION))
        await bot.send(bot.private("/help"))  # the bot goes on
    to_admin = [r for r in bot.replies() if r["chat_id"] == ADMIN]
    assert len(to_admin) == 1 and "RuntimeError" in to_admin[0]["text"]
    check_html(to_admin[0]["text"])
    to_user = [check_html(r["text"]) for r in bot.replies() if r["chat_id"] == USER]
    assert to_user[0].startswith("عذراً، حدث خطأ") and "/ask" in to_user[1]
    assert "failure while handling message" in caplog.text and "RuntimeError" in caplog.text
    secret = TOKEN.split(":")[1]
    assert secret not in caplog.text
    assert all(secret not in json.dumps(p, ensure_ascii=False) for _, p in bot.request.calls)
    assert logging.getLogger("httpx").level == logging.WARNING
    service.close()


def test_redact_removes_the_token_and_its_secret():
    assert redact(f"url /bot{TOKEN}/getMe", TOKEN) == "url /bot<token>/getMe"
    assert TOKEN.split(":")[1] not in redact(f"x {TOKEN.split(':')[1]}", TOKEN)


async def test_one_log_line_per_question_without_the_text_unless_asked(make_bot, caplog):
    bot = await make_bot()
    with caplog.at_level(logging.INFO, logger="bot.telegram"):
        await bot.send(bot.private(QUESTION))
        await bot.send(bot.group(f"/ask {QUESTION}"))
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("question ")]
    assert len(lines) == 2 and "chat=private" in lines[0] and "chat=supergroup" in lines[1]
    assert "latency=" in lines[0] and "results=3" in lines[0]
    assert QUESTION not in caplog.text
    caplog.clear()
    verbose = await make_bot(log_questions=True)
    with caplog.at_level(logging.INFO, logger="bot.telegram"):
        await verbose.send(verbose.private(QUESTION))
    assert QUESTION in caplog.text


async def test_allowed_chat_ids_keep_the_bot_private(make_bot):
    bot = await make_bot(allowed_chat_ids=frozenset({GROUP}))
    await bot.send(bot.private(QUESTION))  # a stranger in private
    assert check_html(bot.replies()[-1]["text"]) == "هذا بوت خاص، ولا يعمل في هذه المحادثة."
    await bot.send(bot.private(QUESTION, user=ADMIN))  # admins may use it in private
    assert "<blockquote>" in bot.replies()[-1]["text"]
    await bot.send(bot.group(f"/ask {QUESTION}"))  # the allowed group
    assert "<blockquote>" in bot.replies()[-1]["text"]
    await bot.send(bot.inline(QUESTION))
    assert bot.request.sent("answerInlineQuery")[-1]["results"] == []
    assert len(bot.replies()) == 3


def test_base_urls_reach_the_bot():
    settings = Settings.from_values(
        {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_BASE_URL": "http://127.0.0.1:8081/bot",
        }
    )
    app = build_application(settings, QAService(":memory:", "."), request=OfflineRequest())
    assert app.bot.base_url == f"http://127.0.0.1:8081/bot{TOKEN}"
    assert app.bot.base_file_url == f"http://127.0.0.1:8081/file/bot{TOKEN}"


async def test_outside_allowed_chats_the_bot_only_says_it_is_private(make_bot):
    bot = await make_bot(allowed_chat_ids=frozenset({-42}))
    await bot.send(bot.group(QUESTION))  # not addressed: silence
    await bot.send(bot.group("/start@OtherBot"))
    assert bot.replies() == []
    update = bot.group(f"/ask {QUESTION}")
    await bot.send(update)
    (reply,) = bot.replies()
    assert check_html(reply["text"]) == "هذا بوت خاص، ولا يعمل في هذه المحادثة."
    assert reply["reply_parameters"]["message_id"] == update["message"]["message_id"]
    message = {"message_id": 7, "date": int(time.time()), "from": BOT_USER,
               "chat": bot.request.chats[GROUP], "text": "قديم"}
    await bot.send(bot.press("m:whatever", message))
    assert bot.request.sent("answerCallbackQuery")[-1]["text"] == "هذا بوت خاص."
    assert len(bot.replies()) == 1


class ThreadRecordingService(QAService):
    def ask(self, question: str, top: int = 3, offset: int = 0):
        self.thread = threading.current_thread()
        return super().ask(question, top, offset)


async def test_search_runs_in_a_worker_thread(make_bot, seed_db: Path, seed_dir: Path):
    service = ThreadRecordingService(seed_db, seed_dir)
    bot = await make_bot(service=service)
    await bot.send(bot.private(QUESTION))
    assert service.thread is not threading.main_thread()
    assert "<blockquote>" in bot.replies()[0]["text"]
    service.close()


@pytest.mark.parametrize("webhook", [True, False])
def test_run_bot_uses_a_webhook_when_webhook_url_is_set_else_polling(monkeypatch, webhook):
    calls: dict[str, Any] = {}

    async def serve(app, settings, service, allowed_updates):
        calls["webhook"] = (settings, allowed_updates)

    monkeypatch.setattr("bot.webhook.serve", serve)
    monkeypatch.setattr(
        Application,
        "run_polling",
        lambda self, **kw: calls.setdefault("polling", kw["allowed_updates"]),
    )
    settings = Settings(
        telegram_bot_token=TOKEN,
        webhook_url="https://bot.example.org/telegram/hook" if webhook else "",
    )
    assert run_bot(settings, QAService(":memory:", ".")) == 0
    if webhook:
        assert set(calls) == {"webhook"} and calls["webhook"][0] is settings
        allowed = calls["webhook"][1]
    else:
        assert set(calls) == {"polling"}
        allowed = calls["polling"]
    assert set(allowed) >= {"message", "channel_post"}


# --- faults: reindex under load, bad questions ----------------------------------------------

LOAD_USERS = 20
LOAD_REINDEXES = 10


def _seed_questions(corpus: Path, service: QAService, count: int) -> list[str]:
    """`count` questions the seeds answer: the first words of their longer paragraphs."""
    lines = [
        line
        for path in sorted(corpus.glob("*.txt"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if len(line.split()) > 12
    ]
    questions = [" ".join(line.split()[2:9]) for line in lines]
    answered = [q for q in questions if service.ask(q).results]
    assert len(answered) >= count
    return answered[:count]


class StepClock:
    """A clock that moves 3 s on every reading: each user stays within 20 questions a minute."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 3.0
        return self.now


async def test_reindex_under_load_loses_no_answer(make_bot, seed_dir: Path, capsys):
    bot = await make_bot(clock=StepClock(), questions_per_minute=20)
    questions = _seed_questions(seed_dir, bot.service, LOAD_USERS)
    users = [10_000 + i for i in range(LOAD_USERS)]
    asked = dict.fromkeys(users, 0)
    during = 0
    done = asyncio.Event()

    async def user_asks(user: int, question: str) -> None:
        nonlocal during
        while not done.is_set():
            during += bot.app.bot_data["state"].reindexing
            asked[user] += 1
            await bot.send(bot.private(question, user=user))

    async def admin_reindexes() -> None:
        for run in range(LOAD_REINDEXES):
            (seed_dir / "changing.txt").write_text(
                f"فقرة متغيرة رقم {run} عن مهرجان الكتاب في المدينة.\n", encoding="utf-8"
            )
            await bot.send(bot.private("/reindex", user=ADMIN))
        done.set()

    await asyncio.gather(admin_reindexes(), *(user_asks(u, q) for u, q in zip(users, questions)))

    for user in users:
        replies = [r["text"] for r in bot.replies() if r["chat_id"] == user]
        assert len(replies) == asked[user], "one reply per question"
        assert all(check_html(t) and "<blockquote>" in t for t in replies), "never empty"
    to_admin = [check_html(r["text"]) for r in bot.replies() if r["chat_id"] == ADMIN]
    assert to_admin == [check_html(render.REINDEX_STARTED_HTML)] * LOAD_REINDEXES
    reports = [e["text"] for e in bot.request.sent("editMessageText")]
    finals = [t for t in reports if "اكتملت إعادة الفهرسة" in t]
    assert len(finals) == LOAD_REINDEXES and all("1 مفهرسة" in t for t in finals)
    sent = json.dumps([p for _, p in bot.request.calls], ensure_ascii=False)
    assert "database is locked" not in sent and "خطأ" not in sent
    assert during > 0, "questions were asked while a reindex ran"
    with capsys.disabled():
        print(
            f"\nreindex under load: {LOAD_USERS} users, {sum(asked.values())} answers "
            f"({during} while a reindex ran), {LOAD_REINDEXES} reindexes, 0 failures"
        )


FUZZ_INPUTS = 10_000
FUZZ_THROUGH_HANDLERS = 300  # AIORateLimiter sends 30 messages a second: 10 s
FUZZ_IN_GROUP = 15  # and 20 a minute per group
_MARKS = "\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff\u0640"
_EMOJI = ["😀", "👍🏽", "👨‍👩‍👧", "🇸🇦", "❤️", "🕌", "𝕏", "𓀀", "🫠"]
_INJECTIONS = [
    "<b>", "</blockquote>", "<a href='javascript:alert(1)'>x</a>", "<script>", "&amp;", "&#0;",
    "&lt;", "<tg-spoiler>", "**عريض**", "__x__", "`code`", "```pre```", "[رابط](http://x.y)",
    "'; DROP TABLE postings; --", "1 OR 1=1", "\" OR \"\"=\"", "%' --", "NULL", "\\x00",
    "title:موسكو AND زيارة*", "NEAR(زيارة لافروف)", '"زيارة لافروف"', "-موسكو +بيونغ", "^2", "(((",
    "*", "?", "~1", "زيارة OR", "{{7*7}}", "${jndi:ldap://x}", "/ask", "@QaBot", "#وسم",
]
_ARABIC = ["زيارة", "لافروف", "مُتَى", "تَبْدَأُ", "كوريا", "الشمالية", "ـــــ", "٢٠٢٤", "ﻻ", "ی", "؟"]


def _fuzz_input(rng: random.Random) -> str:
    """One hostile question: random Unicode, marks, emoji, controls, injections, Arabic, or huge."""
    kind = rng.randrange(8)
    if kind == 0:  # random code points, astral included, no surrogates
        return "".join(
            chr(c) for c in (rng.randrange(0x110000) for _ in range(rng.randrange(1, 40)))
            if not 0xD800 <= c <= 0xDFFF
        )
    if kind == 1:
        return "".join(rng.choice(_MARKS + "زيارة لافروف ") for _ in range(rng.randrange(1, 60)))
    if kind == 2:
        return "".join(chr(rng.choice([*range(0, 32), *range(127, 160)])) for _ in range(20)) + "زيارة"
    if kind == 3 and rng.random() < 0.01:
        return (rng.choice(_ARABIC + _EMOJI + _INJECTIONS) * 100_000)[:100_000]
    pool = _ARABIC + _EMOJI + _INJECTIONS + list(_MARKS)
    return " ".join(rng.choice(pool) for _ in range(rng.randrange(1, 15)))


def _check_reply(text: str, markup: dict | None = None) -> int:
    """A reply Telegram accepts: its HTML parses, ≤ 4096 characters, callback data ≤ 64 bytes."""
    check_html(text)
    parse_html(text)
    assert all(len(d.encode()) <= 64 for d in callback_data(markup))
    return len(text.encode("utf-16-le")) // 2


async def test_bad_questions_get_valid_replies(make_bot, capsys):
    bot = await make_bot(questions_per_minute=FUZZ_INPUTS)
    state = bot.app.bot_data["state"]
    rng = random.Random(20240711)
    inputs = [_fuzz_input(rng) for _ in range(FUZZ_INPUTS)]
    longest = 0
    for question in inputs[FUZZ_THROUGH_HANDLERS:]:
        answer = bot.service.ask(question, top=3)
        markup = keyboard(state, question, answer, 0)
        longest = max(longest, _check_reply(render.answer_to_html(answer), markup and markup.to_dict()))
    for question in inputs[:FUZZ_THROUGH_HANDLERS]:
        await bot.send(bot.private(question))
    for question in inputs[:FUZZ_IN_GROUP]:
        await bot.send(bot.group(f"/ask {question}"))
    replies = bot.replies()
    assert len(replies) == FUZZ_THROUGH_HANDLERS + FUZZ_IN_GROUP, "one reply each"
    for reply in replies:
        longest = max(longest, _check_reply(reply["text"], reply.get("reply_markup")))
    assert not [r for r in replies if r["text"] == render.UNEXPECTED_ERROR_HTML]
    with capsys.disabled():
        print(
            f"\nfuzz: {FUZZ_INPUTS} inputs ({len(replies)} through process_update), "
            f"longest input {max(map(len, inputs))} characters, 0 exceptions, "
            f"longest reply {longest} characters"
        )
