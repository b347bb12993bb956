"""Smoke run of the load-through-the-bot benchmark on the seed store."""

from __future__ import annotations

from pathlib import Path

from benchmarks import bot_load


def test_every_user_gets_every_answer_and_the_report_says_so(seed_db, seed_dir, tmp_path, capsys):
    questions = tmp_path / "questions.txt"
    questions.write_text("متى تبدأ زيارة لافروف؟\nما هو الطقس على المريخ غدا\n", encoding="utf-8")
    code = bot_load.main(
        ["--db", str(seed_db), "--corpus", str(seed_dir), "--questions", str(questions),
         "--users", "3", "--per-user", "2"]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "answered 6/6 (3 with «no answer»)" in out  # the Mars question, asked by 3 users
    for row in ("search alone", "search inside the load run", "reply", "overhead"):
        assert f"| {row}" in out or f"| **{row}" in out


def test_a_missing_index_is_explained(tmp_path: Path, capsys):
    code = bot_load.main(["--db", str(tmp_path / "none.sqlite3")])
    assert code == 2
    assert "no index at" in capsys.readouterr().err
