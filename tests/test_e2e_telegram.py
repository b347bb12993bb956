"""End to end: the real bot process (`python -m bot run`, polling) against the Bot API emulator.

One emulator and one bot process serve the whole module (starting them is the slow
part); each test uses its own users and chats. The bot gets its settings from the
environment, like in production, with TELEGRAM_BASE_URL pointing at the emulator on
127.0.0.1. Waits are generous and nothing asserts on speed: the bot shares the
machine with other test runs.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.render import ADMINS_ONLY_HTML, UPLOAD_ADMINS_ONLY_HTML
from bot.settings import Settings
from bot.webhook import SECRET_HEADER
from tests.telegram_emulator import Call, TelegramEmulator

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"

TOKEN = "987654321:AAE2eTestTokenForTheQaBot_012345678"
BOT_USERNAME = "SeedQaBot"
ADMIN_ID = 700_000_001
QUESTION = "متى تبدأ زيارة لافروف؟"
SOURCE = "001_29605565af34d15c.txt"
MORE = "المزيد"
FULL_TEXT = "النص الكامل"
STARTUP_SECONDS = 90.0
WAIT_SECONDS = 30.0
SETTLE_SECONDS = 1.5
UPLOAD_NAME = "e2e_saffron.txt"
UPLOAD_TEXT = """مهرجان الزعفران الذهبي

يقام مهرجان الزعفران الذهبي في واحة تلوين كل عام في الأسبوع الأول من شهر نوفمبر، ويشارك فيه مزارعو الزعفران من القرى المجاورة لعرض محاصيلهم وبيعها للزوار.

ويتضمن المهرجان مسابقة لأجود زعفران في الواحة، وجولات في الحقول عند الفجر لمشاهدة قطف الأزهار البنفسجية قبل أن تشتد حرارة الشمس.
"""
UPLOAD_QUESTION = "متى يقام مهرجان الزعفران الذهبي في واحة تلوين؟"
REINDEX_NAME = "e2e_lighthouse.txt"
REINDEX_TEXT = """منارة الفيروز

بنيت منارة الفيروز على الطرف الشمالي لجزيرة قمران سنة 1871، ويبلغ ارتفاعها ثمانية وثلاثين متراً، ويرى ضوؤها الأخضر من مسافة عشرين ميلاً بحرياً في الليالي الصافية.
"""
REINDEX_QUESTION = "كم يبلغ ارتفاع منارة الفيروز في جزيرة قمران؟"
BROKEN_NAME = "e2e_broken.txt"


class BotProcess:
    """`python -m bot run` in a subprocess, its output (stdout and stderr) in a log file."""

    def __init__(self, env: dict[str, str], log_path: Path):
        self.log_path = log_path
        self._log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"], cwd=ROOT, env=env,
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
        )

    def log(self) -> str:
        """Everything the bot wrote so far."""
        return self.log_path.read_text("utf-8", errors="replace")

    def tail(self, chars: int = 6000) -> str:
        """The end of the log, for failure messages."""
        return self.log()[-chars:]

    def check_alive(self) -> None:
        """Fail the test, with the bot's log, when the process has exited."""
        if self.proc.poll() is not None:
            pytest.fail(f"the bot exited with status {self.proc.returncode}; its log:\n{self.tail()}")

    def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM, then kill if it does not end in `timeout` seconds; returns the exit status."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if not self._log.closed:
            self._log.close()
        return self.proc.returncode


@dataclasses.dataclass
class E2E:
    """The emulator, the bot process and the admin, with waits that watch the process."""

    emu: TelegramEmulator
    bot: BotProcess
    corpus: Path
    admin: dict[str, Any]
    admin_chat: dict[str, Any]
    env: dict[str, str] = dataclasses.field(default_factory=dict)  # to start the bot again

    def wait(self, wait_fn: Callable[..., Call], *args: Any, timeout: float = WAIT_SECONDS, **kwargs: Any) -> Call:
        """Call an emulator `wait_for_*` helper in short slices, failing early if the bot dies."""
        deadline = time.monotonic() + timeout
        while True:
            self.bot.check_alive()
            try:
                return wait_fn(*args, timeout=min(1.0, max(deadline - time.monotonic(), 0.01)), **kwargs)
            except TimeoutError as exc:
                if time.monotonic() >= deadline:
                    pytest.fail(f"{exc}\n--- bot log (end) ---\n{self.bot.tail()}")
            except AssertionError as exc:
                pytest.fail(f"{exc}\n--- bot log (end) ---\n{self.bot.tail()}")

    def reply_to(self, message: dict[str, Any], after: int) -> Call:
        """The bot's message that replies to `message`."""
        return self.wait(self.emu.wait_for_reply, message, after=after)

    def message_in(
        self, chat: dict[str, Any], after: int, predicate: Callable[[Call], bool] | None = None,
        timeout: float = WAIT_SECONDS,
    ) -> Call:
        """The bot's next message in `chat` after the cursor `after` (matching `predicate`)."""
        return self.wait(self.emu.wait_for_bot_message, chat, predicate, after=after, timeout=timeout)

    def private_user(self, name: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """A new user and their private chat with the bot."""
        user = self.emu.add_user(name)
        return user, self.emu.add_private_chat(user)

    def ask_private(self, user: dict[str, Any], chat: dict[str, Any], text: str) -> Call:
        """Send `text` in a private chat and return the bot's answer."""
        mark = self.emu.mark()
        self.emu.send_message(chat, user, text)
        return self.message_in(chat, mark)

    def settle(self) -> None:
        """Give a bot that should stay silent the time to misbehave."""
        time.sleep(SETTLE_SECONDS)
        self.bot.check_alive()


def _bot_env(emu: TelegramEmulator, corpus: Path, db: Path) -> dict[str, str]:
    """The environment of the bot: ours for every setting (so a local .env cannot leak in)."""
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env.update({f.name.upper(): "" for f in dataclasses.fields(Settings)})
    env.update({
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_BASE_URL": emu.base_url,
        "ADMIN_IDS": str(ADMIN_ID),
        "CORPUS_DIR": str(corpus),
        "DATABASE_PATH": str(db),
        "QUESTIONS_PER_MINUTE": "1000",
        "MAX_UPLOAD_BYTES": str(64 * 1024),
        "NO_PROXY": "127.0.0.1,localhost",
        "PYTHONUNBUFFERED": "1",
        "PYTHONIOENCODING": "utf-8",
    })
    return env


@pytest.fixture(scope="module")
def e2e(tmp_path_factory: pytest.TempPathFactory) -> Iterator[E2E]:
    """The emulator and the bot, polling it, over a copy of the seeds; both stopped at the end."""
    root = tmp_path_factory.mktemp("e2e")
    corpus = root / "corpus"
    shutil.copytree(SEEDS, corpus)
    db = root / "data" / "bot.sqlite3"
    emu = TelegramEmulator(TOKEN, BOT_USERNAME).start()
    bot: BotProcess | None = None
    try:
        admin = emu.add_user("المشرف", user_id=ADMIN_ID, username="qa_admin")
        admin_chat = emu.add_private_chat(admin)  # so the admin command menu can be set
        env = _bot_env(emu, corpus, db)
        index = subprocess.run(
            [sys.executable, "-m", "bot", "index", str(corpus)], check=False, cwd=ROOT, env=env,
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300,
        )
        assert index.returncode == 0, f"`python -m bot index` failed:\n{index.stdout}\n{index.stderr}"
        bot = BotProcess(env, root / "bot.log")
        harness = E2E(emu, bot, corpus, admin, admin_chat, env)
        harness.wait(emu.wait_for_call, "deleteWebhook", timeout=STARTUP_SECONDS)  # polling starts next
        yield harness
    finally:
        if bot is not None:
            bot.stop()
        emu.stop()


def _buttons(call: Call) -> list[str]:
    return [b["text"] for b in call.buttons()]


def _assert_answer(call: Call, source: str = SOURCE) -> None:
    """An answer: HTML with quoted snippets (Telegram accepted it) naming the source file."""
    assert call.ok, call
    assert call.params.get("parse_mode") == "HTML", call
    assert "<blockquote>" in call.text and source in call.text, call.text
    assert any(e["type"] == "blockquote" for e in call.result.get("entities", [])), call.result


# --- start-up --------------------------------------------------------------------------------


def test_command_menus_are_registered(e2e: E2E):
    default = e2e.emu.wait_for_call(
        "setMyCommands", lambda c: (c.params.get("scope") or {"type": "default"})["type"] == "default"
    )
    users = {c["command"] for c in default.params["commands"]}
    assert {"start", "help", "ask", "sources"} <= users and "reindex" not in users
    admin = e2e.emu.wait_for_call(
        "setMyCommands", lambda c: (c.params.get("scope") or {}).get("chat_id") == ADMIN_ID
    )
    assert admin.ok and {"reindex", "stats"} <= {c["command"] for c in admin.params["commands"]}


# --- private chats, groups, channels, inline mode ----------------------------------------


def test_private_question_is_answered_with_quote_and_source(e2e: E2E):
    user, chat = e2e.private_user("سارة")
    answer = e2e.ask_private(user, chat, QUESTION)
    _assert_answer(answer)
    assert "<b>" in answer.text, "matched words are bold"
    assert any(label.startswith(FULL_TEXT) for label in _buttons(answer))


def test_group_ask_command_with_the_bot_name_is_answered_as_a_reply(e2e: E2E):
    user = e2e.emu.add_user("خالد")
    group = e2e.emu.add_group("نقاش", supergroup=True)
    mark = e2e.emu.mark()
    asked = e2e.emu.send_message(group, user, f"/ask@{BOT_USERNAME} {QUESTION}")
    _assert_answer(e2e.reply_to(asked, mark))


def test_group_mention_is_answered_as_a_reply(e2e: E2E):
    user = e2e.emu.add_user("ليلى")
    group = e2e.emu.add_group("أصدقاء")
    mark = e2e.emu.mark()
    asked = e2e.emu.send_message(group, user, f"@{BOT_USERNAME} {QUESTION}")
    _assert_answer(e2e.reply_to(asked, mark))


def test_group_message_not_addressed_to_the_bot_gets_no_reply(e2e: E2E):
    user = e2e.emu.add_user("عمر")
    group = e2e.emu.add_group("عائلة", supergroup=True)
    mark = e2e.emu.mark()
    ignored = e2e.emu.send_message(group, user, QUESTION)
    other_bot = e2e.emu.send_message(group, user, f"/ask@SomeOtherBot {QUESTION}")
    barrier = e2e.emu.send_message(group, user, f"/ask {QUESTION}")
    _assert_answer(e2e.reply_to(barrier, mark))
    e2e.settle()
    sent = [c for c in e2e.emu.calls()[mark:] if c.chat_id == group["id"]]
    assert [c.reply_to_message_id for c in sent] == [barrier["message_id"]], (
        f"only the addressed message is answered (ignored: {ignored['message_id']}, "
        f"other bot: {other_bot['message_id']}): {[str(c) for c in sent]}"
    )


@pytest.mark.parametrize("text", [f"/ask {QUESTION}", f"{QUESTION} @{BOT_USERNAME}"], ids=["ask", "mention"])
def test_channel_post_is_answered_as_a_reply(e2e: E2E, text: str):
    channel = e2e.emu.add_channel("أخبار")
    mark = e2e.emu.mark()
    post = e2e.emu.send_channel_post(channel, text)
    reply = e2e.reply_to(post, mark)
    _assert_answer(reply)
    assert reply.result["chat"]["type"] == "channel"


def test_inline_query_offers_at_most_ten_results(e2e: E2E):
    user = e2e.emu.add_user("هدى")
    mark = e2e.emu.mark()
    query = e2e.emu.send_inline_query(user, QUESTION)
    call = e2e.wait(
        e2e.emu.wait_for_call, "answerInlineQuery",
        lambda c: c.params.get("inline_query_id") == query["id"], after=mark,
    )
    assert call.ok, call
    results = call.params["results"]
    assert 1 <= len(results) <= 10
    assert any(SOURCE in r["title"] for r in results)
    chosen = results[0]["input_message_content"]
    assert chosen["parse_mode"] == "HTML" and "<blockquote>" in chosen["message_text"]


def test_group_reply_to_the_bot_is_answered_as_a_reply(e2e: E2E):
    user = e2e.emu.add_user("نادية")
    group = e2e.emu.add_group("قراء", supergroup=True)
    mark = e2e.emu.mark()
    first = e2e.emu.send_message(group, user, f"/ask {QUESTION}")
    answer = e2e.reply_to(first, mark)
    mark = e2e.emu.mark()
    follow_up = e2e.emu.send_message(group, user, "متى تبدأ زيارة لافروف إلى كوريا؟", reply_to=answer.result)
    _assert_answer(e2e.reply_to(follow_up, mark))


def test_edited_question_is_not_answered_twice(e2e: E2E):
    user, chat = e2e.private_user("تامر")
    mark = e2e.emu.mark()
    question = e2e.emu.send_message(chat, user, QUESTION)
    e2e.message_in(chat, mark)
    e2e.emu.edit_message(question, QUESTION + " بالتحديد")
    e2e.settle()
    assert len([c for c in e2e.emu.calls()[mark:] if c.chat_id == chat["id"]]) == 1


def test_start_help_and_sources(e2e: E2E):
    user, chat = e2e.private_user("جديد")
    for command in ("/start", "/help"):
        welcome = e2e.ask_private(user, chat, command)
        assert f"@{BOT_USERNAME}" in welcome.text and "/ask" in welcome.text
    listing = e2e.ask_private(user, chat, "/sources")
    for path in sorted(SEEDS.iterdir()):
        assert path.name in listing.text


# --- buttons -------------------------------------------------------------------------------


def test_more_button_shows_the_next_results(e2e: E2E):
    user, chat = e2e.private_user("منى")
    answer = e2e.ask_private(user, chat, QUESTION)
    assert MORE in _buttons(answer), _buttons(answer)
    mark = e2e.emu.mark()
    query = e2e.emu.press_button(answer.result, user, text=MORE)
    ack = e2e.wait(
        e2e.emu.wait_for_call, "answerCallbackQuery",
        lambda c: c.params.get("callback_query_id") == query["id"], after=mark,
    )
    assert ack.ok, ack
    more = e2e.wait(
        e2e.emu.wait_for_call, ("sendMessage", "editMessageText"),
        lambda c: c.chat_id == chat["id"], after=mark,
    )
    assert more.ok, more
    assert "<blockquote>" in more.text
    assert more.text != answer.text and "4. " in more.text, "the next results are numbered on"
    if more.method == "sendMessage":
        assert more.reply_to_message_id == answer.result["message_id"]


def test_full_text_button_and_a_stale_button(e2e: E2E):
    user, chat = e2e.private_user("رامي")
    answer = e2e.ask_private(user, chat, QUESTION)
    full = next(b for b in answer.buttons() if b["text"].startswith(FULL_TEXT))
    mark = e2e.emu.mark()
    e2e.emu.press_button(answer.result, user, data=full["callback_data"])
    paragraph = e2e.message_in(chat, mark)
    assert "<blockquote>" in paragraph.text and SOURCE in paragraph.text

    mark = e2e.emu.mark()
    stale = e2e.emu.push_callback_query(answer.result, user, "m:no-such-key")
    ack = e2e.wait(
        e2e.emu.wait_for_call, "answerCallbackQuery",
        lambda c: c.params.get("callback_query_id") == stale["id"], after=mark,
    )
    assert ack.ok and ack.params.get("text"), "a polite answer to a stale button"


def _labels_now(e2e: E2E, message: dict[str, Any]) -> list[str]:
    """The labels of the buttons under `message` as the emulator shows it now."""
    now = e2e.emu.message(message["chat"]["id"], message["message_id"])
    return [b["text"] for row in now["reply_markup"]["inline_keyboard"] for b in row]


def _vote(
    e2e: E2E, message: dict[str, Any], user: dict[str, Any], label: str
) -> tuple[str, list[str]]:
    """Press 👍 or 👎 under `message`: the callback's answer and the vote buttons after the edit."""
    mark = e2e.emu.mark()
    pressed = next(t for t in _labels_now(e2e, message) if t.startswith(label))
    query = e2e.emu.press_button(message, user, text=pressed)
    ack = e2e.wait(
        e2e.emu.wait_for_call, "answerCallbackQuery",
        lambda c: c.params.get("callback_query_id") == query["id"], after=mark,
    )
    assert ack.ok, ack
    edit = e2e.wait(
        e2e.emu.wait_for_call, "editMessageReplyMarkup",
        lambda c: c.params.get("message_id") == message["message_id"], after=mark,
    )
    assert edit.ok, edit
    return ack.params["text"], [t for t in _labels_now(e2e, message) if t[0] in "👍👎"]


def test_votes_are_counted_changed_and_kept_across_a_restart(e2e: E2E):
    user, chat = e2e.private_user("مقيّمة")
    answer = e2e.ask_private(user, chat, QUESTION)
    assert {"👍", "👎"} <= set(_buttons(answer)) and MORE in _buttons(answer)
    message = answer.result
    assert _vote(e2e, message, user, "👍") == ("شكراً، سجّلت تقييمك 👍", ["👍 1", "👎"])
    assert _vote(e2e, message, user, "👎") == ("غيّرت تقييمك إلى 👎", ["👍", "👎 1"])
    assert MORE in _labels_now(e2e, message), "the other buttons stay"

    assert e2e.bot.stop() == 0, e2e.bot.tail()  # a restart: nothing is left in memory
    mark = e2e.emu.mark()
    e2e.bot = BotProcess(e2e.env, e2e.bot.log_path.with_name("bot-restarted.log"))
    e2e.wait(e2e.emu.wait_for_call, "deleteWebhook", after=mark, timeout=STARTUP_SECONDS)
    other = e2e.emu.add_user("قارئ آخر")
    assert _vote(e2e, message, other, "👎") == ("شكراً، سجّلت تقييمك 👎", ["👍", "👎 2"])
    assert _vote(e2e, message, user, "👎") == ("سحبت تقييمك 👎", ["👍", "👎 1"])


# --- admins ---------------------------------------------------------------------------------


def test_reindex_by_an_admin_edits_one_progress_message_into_the_report(e2e: E2E):
    (e2e.corpus / REINDEX_NAME).write_text(REINDEX_TEXT, encoding="utf-8")
    (e2e.corpus / BROKEN_NAME).write_bytes(b"\xd9\x85\xff\xfe not UTF-8 \xc3\x28")
    mark = e2e.emu.mark()
    e2e.emu.send_message(e2e.admin_chat, e2e.admin, "/reindex")
    progress = e2e.message_in(e2e.admin_chat, mark)
    message_id = progress.result["message_id"]
    final = e2e.wait(
        e2e.emu.wait_for_call, "editMessageText",
        lambda c: c.params.get("message_id") == message_id and BROKEN_NAME in (c.text or ""), after=mark,
        timeout=60.0,
    )
    assert final.ok, final
    edits = [c for c in e2e.emu.calls("editMessageText") if c.index >= mark and c.chat_id == ADMIN_ID]
    assert {c.params["message_id"] for c in edits} == {message_id}, "one progress message, edited"
    now = e2e.emu.message(ADMIN_ID, message_id)
    assert now is not None and now["text"] == final.result["text"], "the report is what stays"

    user, chat = e2e.private_user("باحث")
    _assert_answer(e2e.ask_private(user, chat, REINDEX_QUESTION), source=REINDEX_NAME)


def test_reindex_is_refused_for_a_non_admin(e2e: E2E):
    user, chat = e2e.private_user("زائر")
    done_before = e2e.bot.log().count("reindex done")
    refusal = e2e.ask_private(user, chat, "/reindex")
    assert refusal.text == ADMINS_ONLY_HTML
    e2e.settle()
    assert not [c for c in e2e.emu.calls("editMessageText") if c.chat_id == chat["id"]]
    assert e2e.bot.log().count("reindex done") == done_before, "nothing ran"


def test_document_upload_by_an_admin_is_saved_indexed_and_answered(e2e: E2E):
    content = UPLOAD_TEXT.encode("utf-8")
    mark = e2e.emu.mark()
    e2e.emu.send_document(e2e.admin_chat, e2e.admin, content, UPLOAD_NAME)
    status = e2e.message_in(e2e.admin_chat, mark)
    done = e2e.wait(
        e2e.emu.wait_for_call, ("editMessageText", "sendMessage"),
        lambda c: c.chat_id == ADMIN_ID and UPLOAD_NAME in (c.text or ""), after=mark, timeout=60.0,
    )
    assert done.ok, done
    if done.method == "editMessageText":
        assert done.params["message_id"] == status.result["message_id"]
    assert (e2e.corpus / UPLOAD_NAME).read_bytes() == content
    assert e2e.emu.calls("getFile"), "the bot downloaded the document"

    user, chat = e2e.private_user("سائل")
    _assert_answer(e2e.ask_private(user, chat, UPLOAD_QUESTION), source=UPLOAD_NAME)


def test_a_pdf_upload_is_indexed_and_answers_cite_its_page(e2e: E2E, tmp_path: Path):
    producers = pytest.importorskip("benchmarks.producers")
    if (missing := producers.available("reportlab")) is not None:
        pytest.skip(missing)
    doc = producers.Doc("منارة الجزيرة", [
        "أضاءت منارة الجزيرة البيضاء سواحل الخليج أول مرة في شتاء عام ألف وتسعمئة وعشرين.",
        "ويبلغ ارتفاع منارة الجزيرة البيضاء اثنين وأربعين متراً فوق سطح البحر.",
    ])
    name = "منارة.pdf"
    pdf = producers.pdf_reportlab(doc, tmp_path / name).read_bytes()
    mark = e2e.emu.mark()
    e2e.emu.send_document(e2e.admin_chat, e2e.admin, pdf, name)
    done = e2e.wait(
        e2e.emu.wait_for_call, ("editMessageText", "sendMessage"),
        lambda c: c.chat_id == ADMIN_ID and name in (c.text or ""), after=mark, timeout=60.0,
    )
    assert done.ok and "صفحة واحدة" in done.text, done.text
    user, chat = e2e.private_user("قارئة")
    answer = e2e.ask_private(user, chat, "كم يبلغ ارتفاع منارة الجزيرة البيضاء؟")
    _assert_answer(answer, source=name)
    assert f"{name}</code> — «صفحة 1، الفقرة" in answer.text, answer.text


def test_document_upload_by_a_non_admin_is_refused(e2e: E2E):
    user, chat = e2e.private_user("غريب")
    mark = e2e.emu.mark()
    e2e.emu.send_document(chat, user, "نص".encode(), "intruder.txt")
    refusal = e2e.message_in(chat, mark)
    assert refusal.text == UPLOAD_ADMINS_ONLY_HTML
    assert not (e2e.corpus / "intruder.txt").exists()


def test_a_groups_own_admin_who_is_not_a_bot_admin_can_run_no_admin_command(e2e: E2E):
    owner = e2e.emu.add_user("مالك المجموعة")
    group = e2e.emu.add_group("إدارة", supergroup=True, admins=[owner])
    _, member = _http(
        f"{e2e.emu.base_url}{TOKEN}/getChatMember",
        json.dumps({"chat_id": group["id"], "user_id": owner["id"]}).encode(),
        {"Content-Type": "application/json"},
    )
    assert json.loads(member)["result"]["status"] == "administrator", "an admin of the group"
    done_before = e2e.bot.log().count("reindex done")
    for command in ("/reindex", "/stats"):
        mark = e2e.emu.mark()
        e2e.emu.send_message(group, owner, f"{command}@{BOT_USERNAME}")
        assert e2e.message_in(group, mark).text == ADMINS_ONLY_HTML
    mark = e2e.emu.mark()
    e2e.emu.send_document(group, owner, "نص".encode(), "group_upload.txt")
    e2e.settle()
    assert not [c for c in e2e.emu.calls()[mark:] if c.chat_id == group["id"] or c.method == "getFile"]
    assert not (e2e.corpus / "group_upload.txt").exists()
    assert e2e.bot.log().count("reindex done") == done_before, "nothing ran"
    assert not [c for c in e2e.emu.calls("editMessageText") if c.chat_id == group["id"]]


# --- the whole run ----------------------------------------------------------------------------


def test_no_bot_api_errors_and_the_token_is_never_logged(e2e: E2E):
    e2e.bot.check_alive()
    assert not e2e.emu.errors(), "\n".join(str(c) for c in e2e.emu.errors())
    log = e2e.bot.log()
    assert TOKEN.partition(":")[2] not in log
    assert "Traceback" not in log, log[-6000:]


# --- webhook mode ------------------------------------------------------------------------------

WEBHOOK_SECRET = "hook-secret_0123"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _http(url: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, str]:
    """GET (or POST `body`) on 127.0.0.1 without any proxy; the status and the text."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(url, data=body, headers=headers or {})
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_a_stop_while_the_bot_is_starting_is_clean(tmp_path: Path):
    # `docker stop` right after the container turns healthy lands while the bot is still
    # setting up polling: it must end as cleanly as a stop later on.
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    with TelegramEmulator(TOKEN, BOT_USERNAME) as emu:
        emu.hang_next("deleteWebhook", seconds=4)  # polling's set-up, after the bot is ready
        bot = BotProcess(_bot_env(emu, corpus, tmp_path / "bot.sqlite3"), tmp_path / "bot.log")
        try:
            deadline = time.monotonic() + STARTUP_SECONDS
            while " ready" not in bot.log() and time.monotonic() < deadline:
                bot.check_alive()
                time.sleep(0.05)
            time.sleep(0.5)
            bot.check_alive()
        finally:
            status = bot.stop()
    assert status == 0, bot.tail()
    assert "stopped cleanly" in bot.log(), bot.tail()


def test_webhook_mode_takes_updates_with_the_secret_and_serves_healthz(tmp_path: Path):
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    db = tmp_path / "bot.sqlite3"
    port = _free_port()
    hook_url = f"http://127.0.0.1:{port}/tg/hook"
    with TelegramEmulator(TOKEN, BOT_USERNAME) as emu:
        env = _bot_env(emu, corpus, db)
        env.update({"WEBHOOK_URL": hook_url, "WEBHOOK_LISTEN": "127.0.0.1",
                    "WEBHOOK_PORT": str(port), "WEBHOOK_SECRET": WEBHOOK_SECRET})
        bot = BotProcess(env, tmp_path / "bot.log")
        try:
            admin = emu.add_user("المشرف", user_id=ADMIN_ID)
            harness = E2E(emu, bot, corpus, admin, emu.add_private_chat(admin))
            registered = harness.wait(emu.wait_for_call, "setWebhook", timeout=STARTUP_SECONDS)
            assert registered.params["url"] == hook_url
            assert registered.params["secret_token"] == WEBHOOK_SECRET

            status, text = _http(f"http://127.0.0.1:{port}/healthz")
            assert (status, text) == (200, "ok: 5 documents, 59 passages\n")

            user, chat = harness.private_user("ويب")
            mark = emu.mark()
            message = emu.send_message(chat, user, QUESTION)
            update = json.dumps({"update_id": 1, "message": message}).encode()
            json_type = {"Content-Type": "application/json"}
            assert _http(hook_url, update, json_type)[0] == 403
            assert _http(hook_url, update, {**json_type, SECRET_HEADER: "wrong"})[0] == 403
            assert _http(hook_url, b"not json", {**json_type, SECRET_HEADER: WEBHOOK_SECRET})[0] == 400
            assert _http(hook_url, update, {**json_type, SECRET_HEADER: WEBHOOK_SECRET})[0] == 200
            _assert_answer(harness.message_in(chat, mark))
            harness.settle()
            assert len([c for c in emu.calls()[mark:] if c.chat_id == chat["id"]]) == 1, "answered once"

            db.rename(tmp_path / "away.sqlite3")
            status, text = _http(f"http://127.0.0.1:{port}/healthz")
            assert status == 503 and text.startswith("unhealthy: "), text
            (tmp_path / "away.sqlite3").rename(db)
            assert _http(f"http://127.0.0.1:{port}/healthz")[0] == 200
        finally:
            status = bot.stop()
    assert status == 0, bot.tail()
    assert "stopped cleanly" in bot.log(), bot.tail()
    assert TOKEN.partition(":")[2] not in bot.log() and WEBHOOK_SECRET not in bot.log()


# --- robustness (after the checks above: these make the bot log failures) -----------------


def test_a_failing_update_is_reported_to_the_admins_and_the_bot_goes_on(e2e: E2E):
    user, chat = e2e.private_user("متعثر")
    mark = e2e.emu.mark()
    e2e.emu.fail_next("sendMessage", error_code=500)
    e2e.emu.send_message(chat, user, QUESTION)
    note = e2e.wait(e2e.emu.wait_for_call, "sendMessage", lambda c: c.ok and c.chat_id == ADMIN_ID, after=mark)
    assert note.text and TOKEN.partition(":")[2] not in note.text
    apology = e2e.message_in(chat, mark, lambda c: c.ok)
    assert "<blockquote>" not in apology.text
    _assert_answer(e2e.ask_private(user, chat, QUESTION))


def test_an_answer_hit_by_a_flood_limit_is_sent_after_retry_after(e2e: E2E):
    user, chat = e2e.private_user("مستعجل")
    mark = e2e.emu.mark()
    e2e.emu.flood_next("sendMessage", retry_after=1)
    e2e.emu.send_message(chat, user, QUESTION)
    flooded = e2e.wait(e2e.emu.wait_for_call, "sendMessage", lambda c: c.injected, after=mark)
    assert flooded.chat_id == chat["id"]
    answer = e2e.message_in(chat, mark, lambda c: c.ok and "<blockquote>" in (c.text or ""), timeout=10.0)
    _assert_answer(answer)
    e2e.settle()
    assert len(_answers_in(e2e, chat, mark)) == 1, "sent again once, not twice"


def _answers_in(e2e: E2E, chat: dict[str, Any], after: int) -> list[Call]:
    """The answers (quoted snippets) the bot delivered in `chat` since the cursor `after`."""
    return [
        c for c in e2e.emu.calls("sendMessage")
        if c.index >= after and c.ok and c.chat_id == chat["id"] and "<blockquote>" in (c.text or "")
    ]


def test_a_send_that_times_out_is_neither_sent_again_nor_apologised_for(e2e: E2E):
    user, chat = e2e.private_user("بطيء")
    mark = e2e.emu.mark()
    e2e.emu.hang_next("sendMessage", seconds=8.0)  # longer than the bot's 5 s read timeout
    e2e.emu.send_message(chat, user, QUESTION)
    _assert_answer(e2e.message_in(chat, mark, lambda c: c.ok and "<blockquote>" in (c.text or "")))
    e2e.settle()
    assert len(_answers_in(e2e, chat, mark)) == 1, "delivered once, not retried"
    assert [c.text for c in e2e.emu.calls()[mark:] if c.chat_id == chat["id"]] == [
        _answers_in(e2e, chat, mark)[0].text
    ], "no apology for an answer that arrived"
    assert "did not answer in time" in e2e.bot.log()
    _assert_answer(e2e.ask_private(user, chat, QUESTION))


@pytest.mark.parametrize(
    ("error_code", "count", "retry_after"), [(502, 3, None), (500, 1, None), (429, 2, 1)],
    ids=["502x3", "500", "429"],
)
def test_polling_backs_off_after_getupdates_errors_and_answers_each_question_once(
    e2e: E2E, error_code: int, count: int, retry_after: int | None
):
    user, chat = e2e.private_user("صبور")
    mark = e2e.emu.mark()
    e2e.emu.fail_next("getUpdates", count, error_code=error_code, retry_after=retry_after)
    e2e.emu.send_message(chat, user, QUESTION)  # ends the poll in flight; the next ones fail
    e2e.wait(e2e.emu.wait_for_call, "getUpdates", lambda c: c.injected, after=mark)
    e2e.emu.send_message(chat, user, QUESTION + " بالضبط")
    e2e.wait(lambda timeout: _wait_answers(e2e, chat, mark, 2, timeout), timeout=60.0)
    e2e.settle()
    assert len(_answers_in(e2e, chat, mark)) == 2, "each question answered exactly once"
    assert len([c for c in e2e.emu.calls()[mark:] if c.method == "getUpdates" and c.injected]) == count


def _wait_answers(e2e: E2E, chat: dict[str, Any], after: int, n: int, timeout: float) -> Call:
    """Wait until `n` answers arrived in `chat`; the last one."""
    deadline = time.monotonic() + timeout
    while len(found := _answers_in(e2e, chat, after)) < n:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(found)} of {n} answers")
        time.sleep(0.05)
    return found[-1]


def test_bot_stops_cleanly_on_sigterm(e2e: E2E):
    e2e.bot.check_alive()
    status = e2e.bot.stop()
    assert status == 0, f"exit status {status}; log:\n{e2e.bot.tail()}"
