"""👍 / 👎 under answers and /unanswered, through Application.process_update with the
offline request of test_telegram_handlers (no network, real SQLite files)."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from bot import render
from bot.stats import stats_path
from tests.conftest import sqlite_rows as table
from tests.test_telegram_handlers import (  # noqa: F401 - fixtures used by name
    ADMIN,
    BOT_USER,
    NOWHERE,
    OTHER,
    QUESTION,
    USER,
    Bot,
    _restore_logging,
    bot,
    callback_data,
    check_html,
    make_bot,
)


def vote_data(markup: dict | None) -> tuple[str, str]:
    """The callback data of the 👍 and 👎 buttons under a message."""
    up, down = [d for d in callback_data(markup) if d.startswith("v:")]
    assert up.endswith(":+") and down.endswith(":-")
    return up, down


def labels(markup: dict) -> list[str]:
    return [b["text"] for row in markup["inline_keyboard"] for b in row]


async def press(bot: Bot, data: str, message: dict[str, Any], user: int = USER) -> dict[str, Any]:
    """Press a button; the callback's answer (the short text the reader sees)."""
    before = len(bot.request.sent("answerCallbackQuery"))
    await bot.send(bot.press(data, message, user=user))
    answers = bot.request.sent("answerCallbackQuery")
    assert len(answers) == before + 1, "every press is answered"
    return answers[-1]


def edited_markup(bot: Bot) -> dict:
    return bot.request.sent("editMessageReplyMarkup")[-1]["reply_markup"]



# --- votes ------------------------------------------------------------------------------


async def test_an_answer_has_vote_buttons_beside_the_others_all_within_64_bytes(bot: Bot):
    await bot.send(bot.private(QUESTION))
    answer = bot.last_sent_message()
    data = callback_data(answer["reply_markup"])
    assert any(d.startswith("f:") for d in data) and any(d.startswith("m:") for d in data)
    up, down = vote_data(answer["reply_markup"])
    assert up[:-1] == down[:-1] and all(len(d.encode()) <= 64 for d in data)
    assert labels(answer["reply_markup"])[-2:] == ["👍", "👎"]


async def test_vote_change_withdraw_and_a_second_reader(bot: Bot, seed_db: Path):
    await bot.send(bot.private(QUESTION))
    answer = bot.last_sent_message()
    up, down = vote_data(answer["reply_markup"])
    others = [d for d in callback_data(answer["reply_markup"]) if not d.startswith("v:")]

    said = await press(bot, up, answer)
    assert said["text"] == "شكراً، سجّلت تقييمك 👍" and not said.get("show_alert")
    markup = edited_markup(bot)
    assert labels(markup)[-2:] == ["👍 1", "👎"]
    assert [d for d in callback_data(markup) if not d.startswith("v:")] == others, "kept"

    said = await press(bot, down, {**answer, "reply_markup": markup})
    assert said["text"] == "غيّرت تقييمك إلى 👎"
    assert labels(edited_markup(bot))[-2:] == ["👍", "👎 1"]

    said = await press(bot, down, answer, user=OTHER)  # another reader: their own vote
    assert said["text"] == "شكراً، سجّلت تقييمك 👎"
    assert labels(edited_markup(bot))[-2:] == ["👍", "👎 2"]

    said = await press(bot, down, answer)  # the same button again: withdrawn
    assert said["text"] == "سحبت تقييمك 👎"
    assert labels(edited_markup(bot))[-2:] == ["👍", "👎 1"]
    assert table(stats_path(seed_db), "SELECT vote FROM votes") == [(-1,)]


async def test_a_vote_on_an_unknown_answer_gets_a_polite_answer(bot: Bot):
    message = {
        "message_id": 7, "date": int(time.time()), "from": BOT_USER,
        "chat": {"id": USER, "type": "private", "first_name": "x"}, "text": "قديم",
    }
    for data in ("v:NoSuchAnswer:+", "v:NoSuchAnswer:-", "v::+", "v:abc:?", "v:a:b:c", "v"):
        said = await press(bot, data, message)
        assert said["show_alert"] is True and "شكراً" in said["text"], data
        assert said["text"] in (render.VOTE_EXPIRED_TEXT, render.STALE_BUTTON_TEXT)
    assert not bot.request.sent("editMessageReplyMarkup") and not bot.replies()


async def test_a_vote_on_an_answer_older_than_feedback_days_is_declined(make_bot, seed_db: Path):
    bot = await make_bot(feedback_days=30)
    await bot.send(bot.private(QUESTION))
    answer = bot.last_sent_message()
    up, _ = vote_data(answer["reply_markup"])
    stats = bot.app.bot_data["state"].stats
    stats.flush()
    conn = sqlite3.connect(stats_path(seed_db))
    with conn:  # the answer was sent 31 days ago
        conn.execute("UPDATE answers SET at = at - 31 * 86400")
    conn.close()
    assert stats.prune() == 1
    said = await press(bot, up, answer)
    assert said["text"] == render.VOTE_EXPIRED_TEXT and said["show_alert"] is True
    assert not bot.request.sent("editMessageReplyMarkup")


async def test_votes_count_after_a_restart_and_a_reindex(make_bot, seed_db: Path, seed_dir: Path):
    first = await make_bot()
    await first.send(first.private(QUESTION))
    answer = first.last_sent_message()
    up, down = vote_data(answer["reply_markup"])
    await press(first, up, answer)
    await first.app.shutdown()
    first.app.bot_data["state"].stats.close()  # a restart: nothing is left in memory

    again = await make_bot()
    said = await press(again, down, answer)
    assert said["text"] == "غيّرت تقييمك إلى 👎"
    assert labels(edited_markup(again))[-2:] == ["👍", "👎 1"]

    (seed_dir / "new.md").write_text("زيارة جديدة إلى موسكو\n", encoding="utf-8")
    await again.send(again.private("/reindex", user=ADMIN))
    said = await press(again, up, answer, user=OTHER)
    assert said["text"] == "شكراً، سجّلت تقييمك 👍"
    assert labels(edited_markup(again))[-2:] == ["👍 1", "👎 1"]
    await again.send(again.private("/stats", user=ADMIN))
    text = check_html(again.replies()[-1]["text"])
    start, lasting = text.split("الأسئلة منذ أول يوم")
    assert "التقييمات: 👍 1، 👎 1" in start, "the votes of this run, as they stand"
    assert "التقييمات: 👍 1، 👎 1" in lasting


async def test_groups_and_channels_get_vote_buttons(bot: Bot):
    await bot.send(bot.group(f"/ask {QUESTION}"))
    vote_data(bot.replies()[-1]["reply_markup"])
    await bot.send(bot.channel(f"/ask {QUESTION}"))
    vote_data(bot.replies()[-1]["reply_markup"])


async def test_the_more_page_gets_its_own_vote_buttons(bot: Bot):
    await bot.send(bot.private(QUESTION))
    first = bot.last_sent_message()
    more = next(d for d in callback_data(first["reply_markup"]) if d.startswith("m:"))
    await bot.send(bot.press(more, first))
    second = bot.last_sent_message()
    assert vote_data(second["reply_markup"]) != vote_data(first["reply_markup"])


async def test_no_vote_buttons_without_an_answer_inline_or_with_feedback_off(make_bot):
    bot = await make_bot()
    await bot.send(bot.private(NOWHERE))
    assert "reply_markup" not in bot.replies()[-1]
    await bot.send(bot.inline(QUESTION))
    (inline,) = bot.request.sent("answerInlineQuery")
    assert all("reply_markup" not in r for r in inline["results"])

    off = await make_bot(feedback=False)
    await off.send(off.private(QUESTION))
    data = callback_data(off.replies()[-1]["reply_markup"])
    assert data and not any(d.startswith("v:") for d in data)
    await bot.send(bot.private("/help"))
    await off.send(off.private("/help"))
    assert "👍" in bot.replies()[-1]["text"] and "👍" not in off.replies()[-1]["text"]


# --- /unanswered ---------------------------------------------------------------------------


async def test_unanswered_groups_equal_questions_and_lists_downvoted_answers(bot: Bot):
    for text in (NOWHERE, NOWHERE + "؟", "ما هو الطقس  على المريخ غداً!"):
        await bot.send(bot.private(text))
    await bot.send(bot.private("ما لون الزرافة الطائرة"))
    await bot.send(bot.private(QUESTION))
    disliked = bot.last_sent_message()
    await press(bot, vote_data(disliked["reply_markup"])[1], disliked)
    await bot.send(bot.private("متى تبدأ زيارة لافروف إلى كوريا؟"))
    liked = bot.last_sent_message()
    await press(bot, vote_data(liked["reply_markup"])[0], liked)

    await bot.send(bot.private("/unanswered", user=ADMIN))
    reply = bot.replies()[-1]
    text = check_html(reply["text"])
    assert "1–3 من 3" in text and "reply_markup" not in reply
    lines = text.split("\n")
    assert lines[1].startswith(f"1. «{QUESTION}»") and "1 مرة: بلا إجابة 0، 👎 1" in lines[2]
    assert lines[3] == "2. «ما لون الزرافة الطائرة»"
    assert lines[5] == "3. «ما هو الطقس  على المريخ غداً!»", "the latest text of the group"
    assert "3 مرة: بلا إجابة 3، 👎 0 — آخرها " in lines[6] and "(UTC)" in lines[6]
    assert "كوريا" not in text, "an answer with 👍 is not listed"


async def test_unanswered_is_paged_and_its_more_button_works_after_a_restart(make_bot):
    bot = await make_bot(questions_per_minute=100)
    for i in range(render.UNANSWERED_PAGE + 2):
        await bot.send(bot.private(f"ما لون الزرافة الطائرة رقم {i}"))
    await bot.send(bot.private("/unanswered", user=ADMIN))
    page = bot.last_sent_message()
    text = check_html(page["text"])
    assert "1–10 من 12" in text and "«ما لون الزرافة الطائرة رقم 11»" in text
    (more,) = callback_data(page["reply_markup"])
    assert more.startswith("un:10:") and len(more.encode()) <= 64
    await bot.send(bot.private("ما لون الزرافة الطائرة رقم 99"))  # after the list was made
    await bot.app.shutdown()
    bot.app.bot_data["state"].stats.close()

    again = await make_bot(questions_per_minute=100)
    await press(again, more, page, user=ADMIN)
    last = again.replies()[-1]
    text = check_html(last["text"])
    assert "11–12 من 12" in text and "«ما لون الزرافة الطائرة رقم 0»" in text
    assert "رقم 99" not in text and "reply_markup" not in last
    said = await press(again, more, page, user=USER)
    assert said["text"] == render.ADMINS_ONLY_TEXT and len(again.replies()) == 1


async def test_unanswered_is_for_admins_in_their_private_chat_only(bot: Bot):
    await bot.send(bot.private(NOWHERE))
    await bot.send(bot.private("/unanswered", user=USER))
    assert check_html(bot.replies()[-1]["text"]) == render.ADMINS_ONLY_HTML
    await bot.send(bot.group("/unanswered@QaBot", user=USER))
    assert check_html(bot.replies()[-1]["text"]) == render.ADMINS_ONLY_HTML
    await bot.send(bot.group("/unanswered@QaBot", user=ADMIN))
    assert check_html(bot.replies()[-1]["text"]) == render.UNANSWERED_PRIVATE_ONLY_HTML
    assert not any("الطقس" in r["text"] for r in bot.replies())


async def test_unanswered_without_question_texts_shows_hash_groups(make_bot, seed_db: Path):
    bot = await make_bot(store_questions=False)
    for text in (NOWHERE, NOWHERE + "؟", "ما لون الزرافة الطائرة"):
        await bot.send(bot.private(text))
    await bot.send(bot.private("/unanswered", user=ADMIN))
    text = check_html(bot.replies()[-1]["text"])
    assert "STORE_QUESTIONS=0" in text and "الطقس" not in text and "الزرافة" not in text
    assert text.count("سؤال بلا نص محفوظ (بصمة ") == 2
    assert "2 مرة: بلا إجابة 2" in text and "1 مرة: بلا إجابة 1" in text


# --- what the stats file keeps ---------------------------------------------------------------

READER = 987_654_321_012  # an id no hash, count or timestamp contains by chance


def every_value(path: Path) -> list[Any]:
    """Every value of every column of every table of the SQLite file."""
    conn = sqlite3.connect(path)
    try:
        tables = [t for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return [v for t in tables for row in conn.execute(f"SELECT * FROM {t}") for v in row]
    finally:
        conn.close()


async def _vote_in_every_chat(bot: Bot) -> None:
    for update in (bot.private(QUESTION, user=READER), bot.group(f"/ask {QUESTION}", user=READER)):
        await bot.send(update)
        message = bot.last_sent_message()
        await press(bot, vote_data(message["reply_markup"])[1], message, user=READER)
    await bot.send(bot.private(NOWHERE, user=READER))
    await bot.send(bot.private("/unanswered", user=ADMIN))
    await bot.app.shutdown()
    bot.app.bot_data["state"].stats.close()


async def test_the_stats_file_never_holds_a_user_id(make_bot, seed_db: Path):
    await _vote_in_every_chat(await make_bot())
    values = every_value(stats_path(seed_db))
    assert QUESTION in values and NOWHERE in values  # STORE_QUESTIONS=1 keeps the texts
    ids = {str(READER), str(ADMIN), str(USER), str(-1001234)}
    for value in values:
        assert value not in {READER, ADMIN, USER, -1001234}
        assert not any(i in str(value) for i in ids if len(i) > 6), value


async def test_with_store_questions_0_no_question_text_is_written(make_bot, seed_db: Path):
    await _vote_in_every_chat(await make_bot(store_questions=False))
    path = stats_path(seed_db)
    values = every_value(path)
    assert values, "the votes were kept"
    for value in values:
        assert value != READER and str(READER) not in str(value)
        assert not any("\u0600" <= ch <= "\u06ff" for ch in str(value)), value  # no Arabic at all
    raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    for word in ("الطقس", "لافروف", "زيارة"):
        assert word.encode() not in raw, word
