"""Readers' votes and the questions nothing answers: the tables they add to the stats file.

StatsStore (storage/stats_store.py) owns the connection and its transactions and calls
these functions; this module holds their SQL only.

- `answers`: one row per answer a reader could judge (or a question that got no
  answer): its id (in the buttons' callback data), time, chat type, a salted hash of
  the question's analyzed words (`question_key`, what equal questions share), the
  question's text (NULL with STORE_QUESTIONS=0, and cleared after TEXT_DAYS unless it
  got no answer or a vote: a vote is kept with the question it judges), whether results were shown and which (file, page, paragraph).
- `votes`: one row per answer and reader — the reader only as a salted hash of their
  id — with +1 (👍) or -1 (👎) and the time.
- `vote_days`: 👍 and 👎 per UTC day of the answers judged; never pruned, so /stats
  counts them since the first day.

No user id, no chat id, no name is ever stored in clear.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone

SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    id TEXT PRIMARY KEY,
    at REAL NOT NULL,
    chat_type TEXT NOT NULL,
    question_key TEXT NOT NULL,
    question TEXT,
    answered INTEGER NOT NULL,
    shown TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS answers_at ON answers (at);
CREATE TABLE IF NOT EXISTS votes (
    answer_id TEXT NOT NULL,
    voter TEXT NOT NULL,
    vote INTEGER NOT NULL CHECK (vote IN (-1, 1)),
    at REAL NOT NULL,
    PRIMARY KEY (answer_id, voter)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS vote_days (
    day TEXT PRIMARY KEY,
    up INTEGER NOT NULL,
    down INTEGER NOT NULL
) WITHOUT ROWID;
"""
#: The text of a question that was answered and got no 👎 is cleared after this many days
#: (a vote after that still counts, grouped by the question's hash).
TEXT_DAYS = 2
DAY_SECONDS = 86_400


@dataclass(frozen=True)
class AnswerRow:
    """An answer as the stats file keeps it (written by the buffered writer)."""

    id: str
    at: float  # unix seconds
    chat_type: str
    question_key: str
    question: str | None  # None with STORE_QUESTIONS=0
    answered: bool
    shown: tuple[tuple[str, int | None, int], ...]  # (file, page or None, paragraph)


@dataclass(frozen=True)
class VoteResult:
    """What a press of 👍 / 👎 did, and the answer's counts after it."""

    outcome: str  # "counted", "changed" or "withdrawn"
    vote: int  # the vote pressed: 1 or -1
    up: int
    down: int


@dataclass(frozen=True)
class QuestionGroup:
    """Questions with equal analyzed words that got no answer or a 👎."""

    key: str  # the salted hash of the analyzed words
    question: str | None  # the latest text kept, or None
    count: int  # answers in the group (no answer, or at least one 👎)
    no_answer: int
    down: int  # 👎 votes on them
    last: float  # unix seconds of the latest


def day_of(at: float) -> str:
    """The UTC day of a unix time, YYYY-MM-DD."""
    return datetime.fromtimestamp(at, timezone.utc).strftime("%Y-%m-%d")


def add_answers(conn: sqlite3.Connection, rows: Iterable[AnswerRow]) -> None:
    """Insert answers (an id already there is kept as it is)."""
    conn.executemany(
        "INSERT OR IGNORE INTO answers VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (r.id, r.at, r.chat_type, r.question_key, r.question, int(r.answered),
             json.dumps(r.shown, ensure_ascii=False))
            for r in rows
        ],
    )


def vote(
    conn: sqlite3.Connection, answer_id: str, voter: str, value: int, now: float
) -> VoteResult | None:
    """Count `voter`'s `value` (1 or -1) on an answer; None when the answer is not kept.

    Pressing the other button changes the vote; pressing the same one again withdraws it.
    """
    if value not in (1, -1):
        raise ValueError(f"a vote is 1 or -1, not {value!r}")
    row = conn.execute("SELECT at FROM answers WHERE id = ?", (answer_id,)).fetchone()
    if row is None:
        return None
    old = conn.execute(
        "SELECT vote FROM votes WHERE answer_id = ? AND voter = ?", (answer_id, voter)
    ).fetchone()
    old = old[0] if old else 0
    if old == value:
        conn.execute("DELETE FROM votes WHERE answer_id = ? AND voter = ?", (answer_id, voter))
        outcome, new = "withdrawn", 0
    else:
        conn.execute(
            "INSERT INTO votes VALUES (?, ?, ?, ?) ON CONFLICT(answer_id, voter)"
            " DO UPDATE SET vote = excluded.vote, at = excluded.at",
            (answer_id, voter, value, now),
        )
        outcome, new = ("changed" if old else "counted"), value
    up = (new == 1) - (old == 1)
    down = (new == -1) - (old == -1)
    conn.execute(
        "INSERT INTO vote_days VALUES (?, ?, ?) ON CONFLICT(day) DO UPDATE"
        " SET up = up + excluded.up, down = down + excluded.down",
        (day_of(row[0]), up, down),
    )
    ups, downs = conn.execute(
        "SELECT TOTAL(vote > 0), TOTAL(vote < 0) FROM votes WHERE answer_id = ?", (answer_id,)
    ).fetchone()
    return VoteResult(outcome, value, int(ups), int(downs))


def vote_totals(conn: sqlite3.Connection, first_day: str, last_day: str) -> tuple[int, int]:
    """👍 and 👎 on the answers of the days from `first_day` to `last_day`."""
    up, down = conn.execute(
        "SELECT TOTAL(up), TOTAL(down) FROM vote_days WHERE day >= ? AND day <= ?",
        (first_day, last_day),
    ).fetchone()
    return int(up), int(down)


def votes_by_day(conn: sqlite3.Connection, first_day: str, last_day: str) -> dict[str, tuple]:
    """{day: (👍, 👎)} for the days from `first_day` to `last_day` that have votes."""
    rows = conn.execute(
        "SELECT day, up, down FROM vote_days WHERE day >= ? AND day <= ?", (first_day, last_day)
    ).fetchall()
    return {day: (up, down) for day, up, down in rows}


_BAD = """
WITH judged AS (
    SELECT a.id, a.at, a.question_key, a.question, a.answered,
           (SELECT COUNT(*) FROM votes v WHERE v.answer_id = a.id AND v.vote < 0) AS downs
    FROM answers a WHERE a.at >= ? AND a.at <= ?
), bad AS (SELECT * FROM judged WHERE answered = 0 OR downs > 0)
"""


def unanswered(
    conn: sqlite3.Connection, since: float, until: float, offset: int = 0, limit: int | None = None
) -> tuple[list[QuestionGroup], int]:
    """Groups of equal questions (answers from `since` to `until`) that got no answer or a 👎,
    the latest first, from `offset`; and how many groups there are."""
    args = (since, until)
    total = conn.execute(_BAD + "SELECT COUNT(DISTINCT question_key) FROM bad", args).fetchone()[0]
    rows = conn.execute(
        _BAD
        + "SELECT question_key, COUNT(*), TOTAL(answered = 0), TOTAL(downs), MAX(at),"
        " (SELECT question FROM bad b WHERE b.question_key = bad.question_key"
        "  AND b.question IS NOT NULL ORDER BY b.at DESC LIMIT 1)"
        " FROM bad GROUP BY question_key ORDER BY MAX(at) DESC, question_key"
        " LIMIT ? OFFSET ?",
        (*args, -1 if limit is None else limit, offset),
    ).fetchall()
    groups = [
        QuestionGroup(key, text, count, int(no_answer), int(downs), last)
        for key, count, no_answer, downs, last, text in rows
    ]
    return groups, total


def votes_by_source(conn: sqlite3.Connection, since: float, until: float) -> dict[str, list[int]]:
    """{file: [👍, 👎]} over the answers from `since` to `until` that showed the file
    (a vote on an answer counts once for each file it showed)."""
    rows = conn.execute(
        "SELECT a.shown, TOTAL(v.vote > 0), TOTAL(v.vote < 0) FROM votes v"
        " JOIN answers a ON a.id = v.answer_id WHERE a.at >= ? AND a.at <= ? GROUP BY a.id",
        (since, until),
    ).fetchall()
    out: dict[str, list[int]] = {}
    for shown, up, down in rows:
        for source in dict.fromkeys(s[0] for s in json.loads(shown)):
            counts = out.setdefault(source, [0, 0])
            counts[0] += int(up)
            counts[1] += int(down)
    return dict(sorted(out.items(), key=lambda kv: (-kv[1][0] - kv[1][1], kv[0])))


def prune(conn: sqlite3.Connection, now: float, keep_days: int) -> int:
    """Delete answers older than `keep_days` with their votes, and clear the text of answered
    questions older than TEXT_DAYS that nobody voted on; returns the answers deleted."""
    cutoff = now - keep_days * DAY_SECONDS
    conn.execute(
        "DELETE FROM votes WHERE answer_id IN (SELECT id FROM answers WHERE at < ?)", (cutoff,)
    )
    deleted = conn.execute("DELETE FROM answers WHERE at < ?", (cutoff,)).rowcount
    conn.execute(
        "UPDATE answers SET question = NULL WHERE question IS NOT NULL AND answered = 1"
        " AND at < ? AND NOT EXISTS"
        " (SELECT 1 FROM votes v WHERE v.answer_id = answers.id)",
        (now - TEXT_DAYS * DAY_SECONDS,),
    )
    return deleted
