"""Smoke run of the load-through-the-bot benchmark on the seed store."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import bot_load
from bot.stats import stats_path


@pytest.mark.parametrize(("stats", "feedback"), [("1", "1"), ("1", "0"), ("0", "1")])
def test_every_user_gets_every_answer_and_the_report_says_so(
    seed_db, seed_dir, tmp_path, capsys, stats, feedback
):
    questions = tmp_path / "questions.txt"
    questions.write_text("متى تبدأ زيارة لافروف؟\nما هو الطقس على المريخ غدا\n", encoding="utf-8")
    code = bot_load.main(
        ["--db", str(seed_db), "--corpus", str(seed_dir), "--questions", str(questions),
         "--users", "3", "--per-user", "2", "--stats", stats, "--feedback", feedback]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "answered 6/6 (3 with «no answer»)" in out  # the Mars question, asked by 3 users
    for row in ("search alone", "search inside the load run", "reply", "overhead"):
        assert f"| {row}" in out or f"| **{row}" in out
    if stats == "1":  # a temporary stats file got every question
        rows = 6 if feedback == "1" else 3  # FEEDBACK=0: only the questions without an answer
        assert "question stats: in a stats file" in out
        assert f"6 questions and {rows} answer rows in it" in out
    else:
        assert "question stats: in memory only" in out
    assert not stats_path(seed_db).exists()  # never the file beside the measured index


def test_a_missing_index_is_explained(tmp_path: Path, capsys):
    code = bot_load.main(["--db", str(tmp_path / "none.sqlite3")])
    assert code == 2
    assert "no index at" in capsys.readouterr().err
