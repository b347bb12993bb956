"""Votes and kept questions in the stats file: migration, retention, restart, and the
`python -m bot report` built from them. Real SQLite files in tmp_path."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

import pytest

from bot import cli, report
from bot.feedback import question_key
from bot.stats import LastingStats
from retrieval.search import Answer, Result
from storage.feedback_store import TEXT_DAYS
from storage.stats_store import SCHEMA_VERSION, StatsStore
from tests.conftest import sqlite_rows as rows

JUNE_1 = datetime(2024, 6, 1, 12, tzinfo=timezone.utc).timestamp()
DAY = 86_400.0
READER, OTHER = 555_000_111, 555_000_222


def result(source: str, paragraph: int = 1, page: int | None = None) -> Result:
    return Result(source, paragraph, 1.0, "نص", "نص", [], 1, 1, page=page)


def answer(*sources: str) -> Answer:
    return Answer("س", results=[result(s, i + 1) for i, s in enumerate(sources)])


class Clock:
    def __init__(self, now: float = JUNE_1) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def lasting(path: Path, clock: Clock, **kwargs) -> LastingStats:
    return LastingStats(path, flush_seconds=3600.0, clock=clock, **kwargs)



def test_a_schema_1_file_is_migrated_and_keeps_its_counts(tmp_path: Path):
    path = tmp_path / "s.sqlite3"
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
        "CREATE TABLE days (day TEXT NOT NULL, chat_type TEXT NOT NULL, questions INTEGER NOT"
        " NULL, answered INTEGER NOT NULL, unanswered INTEGER NOT NULL,"
        " PRIMARY KEY (day, chat_type)) WITHOUT ROWID;"
        "CREATE TABLE latency (day TEXT NOT NULL, chat_type TEXT NOT NULL, bucket INTEGER NOT"
        " NULL, count INTEGER NOT NULL, PRIMARY KEY (day, chat_type, bucket)) WITHOUT ROWID;"
        "INSERT INTO meta VALUES ('kind', 'question-stats'), ('schema', '1'),"
        " ('created', '2024-01-01 00:00');"
        "INSERT INTO days VALUES ('2024-01-02', 'private', 5, 4, 1);"
        "INSERT INTO latency VALUES ('2024-01-02', 'private', 40, 5);"
    )
    conn.close()
    store = StatsStore(path)
    history = store.history()
    salt = store.salt
    store.close()
    assert (history.questions, history.unanswered, history.since) == (5, 1, "2024-01-01 00:00")
    meta = dict(rows(path, "SELECT key, value FROM meta"))
    assert meta["schema"] == str(SCHEMA_VERSION) and len(bytes.fromhex(meta["salt"])) == 16
    again = StatsStore(path)  # the salt is made once
    assert again.salt == salt and again.history().questions == 5
    again.close()


def test_votes_and_answers_survive_a_restart(tmp_path: Path):
    path, clock = tmp_path / "s.sqlite3", Clock()
    stats = lasting(path, clock)
    answer_id = stats.record_answer("متى تبدأ الزيارة؟", answer("a.txt"), "private")
    assert stats.vote(answer_id, READER, 1).outcome == "counted"  # the row written first
    stats.close()
    stats = lasting(path, clock)
    result_ = stats.vote(answer_id, READER, -1)
    assert (result_.outcome, result_.up, result_.down) == ("changed", 0, 1)
    assert stats.history().down == 1 and stats.history().up == 0
    assert stats.snapshot().down == 1, "a change in this run counts since start"
    stats.close()


def test_an_answer_killed_before_its_write_is_not_votable(tmp_path: Path):
    path, clock = tmp_path / "s.sqlite3", Clock()
    stats = lasting(path, clock)
    lost = stats.record_answer("سؤال", answer("a.txt"), "private")
    stats._answers.clear()  # what a kill -9 before the next write loses
    assert stats.vote(lost, READER, 1) is None
    assert stats.record_answer("", Answer("", error="فارغ"), "private") is None
    stats.close()


def test_old_answers_and_votes_are_deleted_after_feedback_days(tmp_path: Path):
    path, clock = tmp_path / "s.sqlite3", Clock()
    stats = lasting(path, clock, feedback_days=30)
    old = stats.record_answer("سؤال قديم", answer("a.txt"), "private")
    stats.vote(old, READER, -1)
    clock.now += 29 * DAY
    recent = stats.record_answer("سؤال أحدث", answer(), "group")
    stats.flush()
    assert stats.prune() == 0
    clock.now += 2 * DAY  # `old` is 31 days old, `recent` 2
    assert stats.prune() == 1
    assert rows(path, "SELECT id FROM answers") == [(recent,)]
    assert rows(path, "SELECT COUNT(*) FROM votes") == [(0,)]
    assert stats.vote(old, READER, 1) is None, "an expired answer is not votable"
    groups, total = stats.unanswered_groups()
    assert total == 1 and groups[0].question == "سؤال أحدث"
    assert stats.history().down == 1, "the daily vote counts stay"
    stats.close()


def test_texts_kept_only_for_no_answer_or_a_vote(tmp_path: Path):
    path, clock = tmp_path / "s.sqlite3", Clock()
    stats = lasting(path, clock)
    liked = stats.record_answer("سؤال أعجب", answer("a.txt"), "private")
    disliked = stats.record_answer("سؤال لم يعجب", answer("a.txt"), "private")
    stats.record_answer("سؤال بلا إجابة", answer(), "private")
    stats.record_answer("سؤال لم يقيّم", answer("b.txt"), "private")
    stats.vote(liked, READER, 1)
    stats.vote(disliked, READER, -1)
    stats.prune()
    assert len(rows(path, "SELECT * FROM answers WHERE question IS NOT NULL")) == 4
    clock.now += TEXT_DAYS * DAY + 1
    stats.prune()
    kept = {q for (q,) in rows(path, "SELECT question FROM answers WHERE question IS NOT NULL")}
    assert kept == {"سؤال أعجب", "سؤال لم يعجب", "سؤال بلا إجابة"}
    assert rows(path, "SELECT COUNT(*) FROM answers") == [(4,)], "rows stay, votable"
    assert stats.vote(liked, OTHER, 1).up == 2
    stats.close()


def test_equal_analyzed_words_give_equal_keys_and_keys_depend_on_the_salt():
    salt = bytes(16)
    assert question_key(salt, "ما هو الطقس على المريخ غدا؟") == question_key(
        salt, "ما هو الطقس  على المريخ غداً!"
    )
    assert question_key(salt, "الطقس في المريخ") != question_key(salt, "الطقس في الزهرة")
    assert question_key(salt, "الطقس") != question_key(b"\x01" * 16, "الطقس")


# --- python -m bot report ---------------------------------------------------------------


@pytest.fixture
def filled(tmp_path: Path) -> Path:
    """A stats file with two days of questions, votes and unanswered questions."""
    path, clock = tmp_path / "data" / "bot-stats.sqlite3", Clock()
    stats = lasting(path, clock)
    for i in range(4):
        stats.record(0.010 * (i + 1), answered=i != 0, chat_type="private")
    a = stats.record_answer("متى الزيارة؟", answer("a.txt", "b.txt"), "private")
    clock.now += 60
    stats.record_answer("ما الطقس؟", answer(), "private")
    stats.vote(a, READER, 1)
    stats.vote(a, OTHER, -1)
    clock.now += DAY
    clock.now -= 60
    stats.record(0.200, answered=False, chat_type="group")
    b = stats.record_answer("من الوزير؟", answer("b.txt"), "group")
    stats.vote(b, READER, -1)
    stats.close()
    return path


def _run_report(monkeypatch, capsys, path: Path, *argv: str) -> str:
    monkeypatch.chdir(path.parent)  # no .env there
    monkeypatch.setenv("DATABASE_PATH", str(path.parent / "bot.sqlite3"))
    monkeypatch.setenv("STATS_PATH", "")
    assert cli.main(["report", *argv]) == 0
    return capsys.readouterr().out


def test_report_json_has_the_documented_schema(filled: Path, monkeypatch, capsys):
    data = json.loads(_run_report(monkeypatch, capsys, filled, "--json"))
    assert set(data) == {
        "schema", "generated", "since", "until", "questions", "unanswered", "no_answer_share",
        "votes", "days", "sources", "unanswered_groups",
    }
    assert data["schema"] == report.SCHEMA == 1 and data["since"] is None
    assert (data["questions"], data["unanswered"], data["no_answer_share"]) == (5, 2, 0.4)
    assert data["votes"] == {"up": 1, "down": 2}
    assert [d["day"] for d in data["days"]] == ["2024-06-01", "2024-06-02"]
    first = data["days"][0]
    assert set(first) == {"day", "questions", "unanswered", "up", "down", "p50_ms", "p95_ms"}
    assert (first["questions"], first["unanswered"], first["up"], first["down"]) == (4, 1, 1, 1)
    assert 18 < first["p50_ms"] < 22 and 37 < first["p95_ms"] < 43  # 20 ms, 40 ms ± 6 %
    assert data["sources"] == [
        {"source": "b.txt", "up": 1, "down": 2}, {"source": "a.txt", "up": 1, "down": 1}
    ]
    groups = data["unanswered_groups"]
    assert [g["question"] for g in groups] == ["من الوزير؟", "ما الطقس؟", "متى الزيارة؟"]
    assert set(groups[0]) == {"key", "question", "count", "no_answer", "down", "last"}
    assert (groups[1]["count"], groups[1]["no_answer"], groups[1]["down"]) == (1, 1, 0)
    assert groups[0]["last"] == "2024-06-02T12:00:00Z"


def test_report_since_and_csv(filled: Path, monkeypatch, capsys):
    data = json.loads(_run_report(monkeypatch, capsys, filled, "--json", "--since", "2024-06-02"))
    assert data["since"] == "2024-06-02" and data["questions"] == 1
    assert [g["question"] for g in data["unanswered_groups"]] == ["من الوزير؟"]
    table = list(csv.DictReader(io.StringIO(_run_report(monkeypatch, capsys, filled, "--csv"))))
    assert tuple(table[0]) == report.CSV_COLUMNS
    assert [r["section"] for r in table] == [
        "total", "day", "day", "source", "source", "unanswered", "unanswered", "unanswered"
    ]
    assert (table[0]["questions"], table[0]["up"], table[0]["down"]) == ("5", "1", "2")
    assert table[3]["source"] == "b.txt" and table[5]["question"] == "من الوزير؟"
    text = _run_report(monkeypatch, capsys, filled)
    assert "questions 5, no answer 2 (40%)" in text and "من الوزير؟" in text


def test_report_since_parsing_and_a_missing_file(tmp_path: Path, monkeypatch, capsys):
    now = JUNE_1
    assert report.since_day("7d", now) == "2024-05-26"
    assert report.since_day("1d", now) == "2024-06-01"
    assert report.since_day("2w", now) == "2024-05-19" and report.since_day("all", now) is None
    for bad in ("7", "0d", "yesterday", "2024-13-01"):
        with pytest.raises(ValueError):
            report.since_day(bad, now)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "bot.sqlite3"))
    assert cli.main(["report"]) == 1
    assert "no stats file" in capsys.readouterr().err
    with pytest.raises(SystemExit) as caught:
        cli.main(["report", "--since", "soon"])
    assert caught.value.code == 2
