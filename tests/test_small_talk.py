"""Greetings, thanks and goodbyes: detected strictly, answered without a search everywhere."""

from __future__ import annotations

import doctest
import json
import time

import pytest

from bot import render
from retrieval import small_talk as small_talk_module
from retrieval.small_talk import KINDS, small_talk
from tests.test_cli import run_bot
from tests.test_telegram_handlers import (  # noqa: F401  (fixtures used by name)
    BOT_USER,
    GROUP,
    QUESTION,
    USER,
    Bot,
    _restore_logging,
    bot,
    check_html,
    make_bot,
)


@pytest.mark.parametrize(
    "message, kind",
    [
        ("السلام عليكم", "salam"),
        ("السلام عليكم ورحمة الله وبركاته", "salam"),
        ("سلام", "salam"),
        ("وعليكم السلام", "greeting"),
        ("مرحبا", "greeting"),
        ("مرحباااا يا بوت!!", "greeting"),
        ("أهلاً وسهلاً", "greeting"),
        ("صباح الخير", "greeting"),
        ("كيف حالك؟", "greeting"),
        ("شلونك", "greeting"),
        ("ازيك يا باشا", None),  # an unknown word: searched
        ("ممكن سؤال؟", "greeting"),
        ("شكرا", "thanks"),
        ("شكراً جزيلاً 🌹", "thanks"),
        ("وشكرا", "thanks"),
        ("جزاك الله خيراً", "thanks"),
        ("شكرا على المعلومة", "thanks"),
        ("مرحبا، شكراً", "thanks"),  # several kinds: thanks wins
        ("يعطيك العافية", "thanks"),
        ("Thanks!", "thanks"),
        ("مع السلامة", "goodbye"),
        ("باي", "goodbye"),
        ("تصبح على خير", "goodbye"),
        ("من أنت؟", "about"),
        ("شو بتعمل؟", "about"),
    ],
)
def test_small_talk_kinds(message, kind):
    assert small_talk(message) == kind


@pytest.mark.parametrize(
    "message",
    [
        "السلام عليكم متى تبدأ زيارة لافروف؟",  # a greeting then a question: searched
        "شكرا، ومن هي وزيرة خارجية كوريا الشمالية؟",
        "متى تبدأ زيارة لافروف؟",
        "صباح",
        "الخير",
        "الله",
        "شكرا 100",
        "",
        "   ",
        "مرحبا " * 20,
        "🙂🙂",
    ],
)
def test_anything_else_is_not_small_talk(message):
    assert small_talk(message) is None


def test_every_kind_has_an_arabic_reply_with_a_hint_where_it_helps():
    assert set(render.SMALL_TALK) == set(KINDS)
    for kind in KINDS:
        assert render.small_talk_text(kind) != render.NO_ANSWER
    for kind in ("salam", "greeting"):
        assert "اكتب سؤالك" in render.small_talk_text(kind)
    assert render.small_talk_text("salam").startswith("وعليكم السلام")
    assert len({render.small_talk_text(k) for k in ("greeting", "thanks", "goodbye")}) == 3


def test_module_examples():
    assert doctest.testmod(small_talk_module).failed == 0


# --- the service, the CLI and the console ---------------------------------------------------


def test_service_answers_small_talk_without_searching(seed_service):
    answer = seed_service.ask("السلام عليكم")
    assert answer.small_talk == "salam" and answer.results == [] and answer.error is None
    assert answer.to_json() == {
        "query": "السلام عليكم", "results": [], "error": None, "small_talk": "salam"
    }
    real = seed_service.ask("السلام عليكم متى تبدأ زيارة لافروف؟")
    assert real.small_talk is None and real.results
    assert "small_talk" not in real.to_json()  # the JSON of a question is unchanged


def test_ask_json_batch_and_console_chat(tmp_path, seed_db, seed_dir):
    lines = "مرحبا\nمتى تبدأ زيارة لافروف؟\nشكراً جزيلاً\n"
    code, out, err = run_bot("ask", "--json", corpus=seed_dir, db=seed_db, stdin=lines)
    assert code == 0, err
    greeting, question, thanks = (json.loads(line) for line in out.decode().splitlines())
    assert greeting == {"query": "مرحبا", "results": [], "error": None, "small_talk": "greeting"}
    assert thanks["small_talk"] == "thanks" and thanks["results"] == []
    assert question["results"] and "small_talk" not in question
    code, out, err = run_bot(corpus=seed_dir, db=seed_db, stdin="السلام عليكم\nمع السلامة\n/quit\n")
    assert code == 0, err
    text = out.decode()
    assert render.small_talk_text("salam") in text and render.small_talk_text("goodbye") in text
    assert render.NO_ANSWER not in text


# --- Telegram -------------------------------------------------------------------------------


def _own_message() -> dict:
    return {
        "message_id": 900,
        "date": int(time.time()),
        "chat": {"id": GROUP, "type": "supergroup", "title": "مجموعة"},
        "from": BOT_USER,
        "text": "إجابة سابقة",
    }


async def test_private_small_talk_gets_its_reply_and_is_no_question_in_stats(bot: Bot):
    for text in ("السلام عليكم", "شكرا", "مع السلامة"):
        await bot.send(bot.private(text))
    replies = [check_html(r["text"]) for r in bot.replies()]
    assert replies == [render.small_talk_text(k) for k in ("salam", "thanks", "goodbye")]
    assert all("reply_markup" not in r for r in bot.replies())
    assert bot.app.bot_data["state"].stats.snapshot().questions == 0


async def test_private_greeting_with_a_question_is_searched(bot: Bot):
    await bot.send(bot.private(f"السلام عليكم، {QUESTION}"))
    (reply,) = bot.replies()
    assert "<blockquote>" in reply["text"]


@pytest.mark.parametrize("text", ["/ask مرحبا", "@QaBot السلام عليكم", "@QaBot شكرا"])
async def test_group_small_talk_addressed_to_the_bot_is_answered(bot: Bot, text: str):
    await bot.send(bot.group(text))
    (reply,) = bot.replies()
    assert "reply_parameters" in reply and check_html(reply["text"]) in render.SMALL_TALK.values()


async def test_group_thanks_under_the_bots_answer_is_left_alone(bot: Bot):
    """In a busy group «شكراً» replying to an answer gets no «العفو»; a greeting does."""
    await bot.send(bot.group("شكرا جزيلا", reply_to_message=_own_message()))
    await bot.send(bot.group("مع السلامة", reply_to_message=_own_message()))
    assert bot.replies() == []
    await bot.send(bot.group("مرحبا", reply_to_message=_own_message()))
    (reply,) = bot.replies()
    assert check_html(reply["text"]) == render.small_talk_text("greeting")
    await bot.send(bot.group("شكرا"))  # not addressed at all: ignored as before
    assert len(bot.replies()) == 1


async def test_channel_small_talk_and_inline_small_talk(bot: Bot):
    await bot.send(bot.channel("@QaBot السلام عليكم"))
    (reply,) = bot.replies()
    assert check_html(reply["text"]) == render.small_talk_text("salam")
    await bot.send(bot.inline("مرحبا"))
    (call,) = bot.request.sent("answerInlineQuery")
    assert call["results"] == []
    assert call["button"]["text"] == render.INLINE_SMALL_TALK_TEXT
    assert call["button"]["start_parameter"] == "help"
