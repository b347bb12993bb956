"""Question statistics that last: a small SQLite file of its own, beside the index.

    store = StatsStore("data/bot-stats.sqlite3")   # garbage is set aside: store.lost
    store.add([DayCount("2024-06-01", "private", questions=2, answered=1, buckets={40: 2})])
    store.history().p95

One row per UTC day and chat type (questions, answered, no answer) and the latency of
those questions as a histogram in fixed log-spaced buckets, so percentiles over any
range come from summed buckets (within BUCKET_ERROR). Since schema 2 the file also
keeps readers' votes and the answers they judge (storage/feedback_store.py), with a
salt made once per file for the hashes that stand for readers and questions; no user
id ever. A file of schema 1 is migrated in place, its counts kept.
The index store never touches this file: a reindex or an index rebuilt from garbage
keeps the counts; a stats file that is itself garbage is moved aside
(`.broken-<stamp>`) and counting starts afresh, with the date in `lost`.
"""

from __future__ import annotations

import math
import secrets
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TypeVar

from storage import feedback_store
from storage.feedback_store import AnswerRow, QuestionGroup, VoteResult
from storage.indexer import quarantine
from storage.store import BrokenStoreError, StoreError, check_intact, connect, explain

T = TypeVar("T")
KIND = "question-stats"
SCHEMA_VERSION = 2  # 1: daily counts; 2: + answers, votes, vote_days and the salt
#: Latency buckets: bucket 0 is below MIN_SECONDS, buckets 1..DECADES*PER_DECADE each
#: span a factor 10**(1/PER_DECADE) (12 %), the last one is MAX_SECONDS and above.
MIN_SECONDS = 1e-4
PER_DECADE = 20
DECADES = 6  # 0.1 ms .. 100 s
LAST_BUCKET = DECADES * PER_DECADE + 1
MAX_SECONDS = MIN_SECONDS * 10**DECADES
#: Worst relative error of a percentile read from the buckets (inside 0.1 ms .. 100 s):
#: a bucket is reported at its geometric middle, at most sqrt(width) off: 5.9 %.
BUCKET_ERROR = 10 ** (1 / (2 * PER_DECADE)) - 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS days (
    day TEXT NOT NULL,
    chat_type TEXT NOT NULL,
    questions INTEGER NOT NULL,
    answered INTEGER NOT NULL,
    unanswered INTEGER NOT NULL,
    PRIMARY KEY (day, chat_type),
    CHECK (questions = answered + unanswered)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS latency (
    day TEXT NOT NULL,
    chat_type TEXT NOT NULL,
    bucket INTEGER NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (day, chat_type, bucket)
) WITHOUT ROWID;
"""


def bucket_of(seconds: float) -> int:
    """The latency bucket `seconds` falls in (0 .. LAST_BUCKET)."""
    if seconds < MIN_SECONDS:
        return 0
    if seconds >= MAX_SECONDS:
        return LAST_BUCKET
    return min(LAST_BUCKET - 1, int(math.log10(seconds / MIN_SECONDS) * PER_DECADE) + 1)


def bucket_value(bucket: int) -> float:
    """The seconds a bucket stands for: its geometric middle (the bounds for the end ones)."""
    if bucket <= 0:
        return MIN_SECONDS
    if bucket >= LAST_BUCKET:
        return MAX_SECONDS
    return MIN_SECONDS * 10 ** ((bucket - 0.5) / PER_DECADE)


def bucket_percentile(buckets: Mapping[int, int], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100) of the latencies counted in `buckets`."""
    total = sum(buckets.values())
    if total == 0:
        return None
    rank = max(1, math.ceil(q / 100 * total))
    seen = 0
    for bucket in sorted(buckets):
        seen += buckets[bucket]
        if seen >= rank:
            return bucket_value(bucket)
    raise ValueError("bucket counts changed while reading them")  # unreachable


@dataclass
class DayCount:
    """Questions of one UTC day and chat type, to be added to what the file holds."""

    day: str  # YYYY-MM-DD, UTC
    chat_type: str  # Telegram's: private, group, supergroup, channel
    questions: int = 0
    answered: int = 0
    buckets: dict[int, int] = field(default_factory=dict)  # latency bucket -> questions

    @property
    def unanswered(self) -> int:
        return self.questions - self.answered

    def count(self, seconds: float, answered: bool) -> None:
        """Add one question that took `seconds`."""
        self.questions += 1
        self.answered += answered
        bucket = bucket_of(seconds)
        self.buckets[bucket] = self.buckets.get(bucket, 0) + 1

    def merge(self, other: DayCount) -> None:
        """Add the counts of `other` (same day and chat type) to these."""
        self.questions += other.questions
        self.answered += other.answered
        for bucket, n in other.buckets.items():
            self.buckets[bucket] = self.buckets.get(bucket, 0) + n


@dataclass(frozen=True)
class LostHistory:
    """The stats file was garbage: when it was set aside, why, and where it went."""

    at: str  # UTC, YYYY-MM-DD HH:MM
    reason: str
    moved_to: str  # the file name of the broken copy


class _Latency:
    """p50 / p95 of a latency histogram `buckets` (see `bucket_percentile`)."""

    buckets: dict[int, int]

    @property
    def p50(self) -> float | None:
        return bucket_percentile(self.buckets, 50)

    @property
    def p95(self) -> float | None:
        return bucket_percentile(self.buckets, 95)


@dataclass(frozen=True)
class DayRow(_Latency):
    """One UTC day over every chat type, for the report."""

    day: str
    questions: int
    unanswered: int
    buckets: dict[int, int]
    up: int = 0
    down: int = 0


@dataclass(frozen=True)
class History(_Latency):
    """What the file holds, summed over its days (or a range of them)."""

    first_day: str | None  # None: no question counted yet
    last_day: str | None
    days: int  # days with questions
    questions: int
    unanswered: int
    by_chat_type: dict[str, int]
    buckets: dict[int, int]
    since: str  # when this file was started (UTC, YYYY-MM-DD HH:MM)
    lost: LostHistory | None  # set when an earlier file was garbage
    up: int = 0  # 👍 on the answers of these days
    down: int = 0  # 👎

    @property
    def unanswered_share(self) -> float:
        return self.unanswered / self.questions if self.questions else 0.0


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M")


class StatsStore:
    """The stats file: add day counts, read the history. Not thread-safe: one user at a time."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.lost: LostHistory | None = None  # set when this open found garbage
        try:
            self._conn = self._open()
        except BrokenStoreError as exc:
            moved = quarantine(self.path)
            self._conn = self._open()
            self.lost = LostHistory(_now(), str(exc), moved.name)
            self._set_meta(
                {"lost_at": self.lost.at, "lost_reason": self.lost.reason, "lost_copy": moved.name}
            )

    def _open(self) -> sqlite3.Connection:
        """Open (creating when new) and check the file; BrokenStoreError when it is garbage."""
        conn = None
        try:
            conn = connect(self.path)
            if str(self.path) != ":memory:":
                check_intact(conn, self.path)
            if conn.execute("PRAGMA quick_check").fetchall() != [("ok",)]:
                raise BrokenStoreError(f"{self.path} is damaged (PRAGMA quick_check failed)")
            if conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0] == 0:
                conn.executescript(
                    f"BEGIN IMMEDIATE; {_SCHEMA} INSERT OR IGNORE INTO meta VALUES"
                    f" ('kind', '{KIND}'), ('schema', '1'),"
                    f" ('created', '{_now()}'); COMMIT;"
                )
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
            if meta.get("kind") == KIND and int(meta.get("schema", "0")) < SCHEMA_VERSION:
                self._migrate(conn)
                meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        except (sqlite3.Error, StoreError) as exc:
            if conn is not None:
                conn.close()
            error = explain(exc, self.path) if isinstance(exc, sqlite3.Error) else exc
            if isinstance(error, BrokenStoreError) and isinstance(exc, sqlite3.Error):
                error = BrokenStoreError(f"{self.path} is not a readable stats file: {exc}")
            raise error from exc
        problem = None
        if meta.get("kind") != KIND:
            problem = f"{self.path} is an SQLite file but not question statistics"
        elif int(meta.get("schema", "0")) > SCHEMA_VERSION:
            problem = f"{self.path} was written by a newer version (schema {meta['schema']})"
        if problem is not None:
            conn.close()
            raise StoreError(f"{problem}; set STATS_PATH to another file")
        self.salt = bytes.fromhex(meta["salt"])  # never logged
        return conn

    @staticmethod
    def _migrate(conn: sqlite3.Connection) -> None:
        """Schema 1 → 2: add the feedback tables and a salt; the daily counts stay as they are."""
        conn.executescript(
            f"BEGIN IMMEDIATE; {feedback_store.SCHEMA}"
            f" INSERT OR IGNORE INTO meta VALUES ('salt', '{secrets.token_hex(16)}');"
            f" UPDATE meta SET value = '{SCHEMA_VERSION}' WHERE key = 'schema'; COMMIT;"
        )

    def _set_meta(self, values: Mapping[str, str]) -> None:
        with self._transaction():
            self._conn.executemany(
                "INSERT INTO meta (key, value) VALUES (?, ?)"
                " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                values.items(),
            )

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """BEGIN IMMEDIATE … COMMIT, rolled back on error; SQLite errors become StoreError."""
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise explain(exc, self.path) from exc

    def add(self, counts: Iterable[DayCount], answers: Iterable[AnswerRow] = ()) -> None:
        """Add `counts` (and `answers`) to the file in one transaction (StoreError when it
        cannot be written)."""
        counts = list(counts)
        with self._transaction():
            feedback_store.add_answers(self._conn, answers)
            self._conn.executemany(
                "INSERT INTO days VALUES (?, ?, ?, ?, ?) ON CONFLICT(day, chat_type) DO UPDATE"
                " SET questions = questions + excluded.questions,"
                " answered = answered + excluded.answered,"
                " unanswered = unanswered + excluded.unanswered",
                [(c.day, c.chat_type, c.questions, c.answered, c.unanswered) for c in counts],
            )
            self._conn.executemany(
                "INSERT INTO latency VALUES (?, ?, ?, ?) ON CONFLICT(day, chat_type, bucket)"
                " DO UPDATE SET count = count + excluded.count",
                [(c.day, c.chat_type, b, n) for c in counts for b, n in c.buckets.items()],
            )

    def history(self, first_day: str | None = None, last_day: str | None = None) -> History:
        """The totals over the days of the file from `first_day` to `last_day` (default: all)."""
        where, args = " WHERE day >= ? AND day <= ?", (first_day or "", last_day or "9999")
        try:
            meta = dict(self._conn.execute("SELECT key, value FROM meta").fetchall())
            first, last, days, questions, unanswered = self._conn.execute(
                "SELECT MIN(day), MAX(day), COUNT(DISTINCT day), TOTAL(questions),"
                " TOTAL(unanswered) FROM days" + where, args
            ).fetchone()
            by_chat = self._conn.execute(
                "SELECT chat_type, SUM(questions) FROM days" + where + " GROUP BY chat_type"
                " ORDER BY SUM(questions) DESC, chat_type", args
            ).fetchall()
            buckets = self._conn.execute(
                "SELECT bucket, SUM(count) FROM latency" + where + " GROUP BY bucket", args
            ).fetchall()
            up, down = feedback_store.vote_totals(self._conn, *args)
        except sqlite3.Error as exc:
            raise explain(exc, self.path) from exc
        lost = None
        if "lost_at" in meta:
            lost = LostHistory(meta["lost_at"], meta["lost_reason"], meta["lost_copy"])
        return History(
            first_day=first,
            last_day=last,
            days=days,
            questions=int(questions),
            unanswered=int(unanswered),
            by_chat_type=dict(by_chat),
            buckets=dict(buckets),
            since=meta["created"],
            lost=lost,
            up=up,
            down=down,
        )

    def _read(self, fn: Callable[..., T], *args: object) -> T:
        """Run one feedback_store reader on the connection; SQLite errors become StoreError."""
        try:
            return fn(self._conn, *args)
        except sqlite3.Error as exc:
            raise explain(exc, self.path) from exc

    def answers_kept(self) -> int:
        """How many answers the file keeps (for votes and /unanswered)."""
        return self._read(lambda conn: conn.execute("SELECT COUNT(*) FROM answers").fetchone()[0])

    def vote(self, answer_id: str, voter: str, value: int, now: float) -> VoteResult | None:
        """Count a reader's 👍 (1) / 👎 (-1) on an answer; None when the answer is not kept."""
        with self._transaction():
            return feedback_store.vote(self._conn, answer_id, voter, value, now)

    def prune(self, now: float, keep_days: int) -> int:
        """Delete answers and votes older than `keep_days` (feedback_store.prune)."""
        with self._transaction():
            return feedback_store.prune(self._conn, now, keep_days)

    def unanswered(
        self, since: float, until: float, offset: int = 0, limit: int | None = None
    ) -> tuple[list[QuestionGroup], int]:
        """The groups of questions that got no answer or a 👎 (feedback_store.unanswered)."""
        return self._read(feedback_store.unanswered, since, until, offset, limit)

    def votes_by_source(self, since: float, until: float) -> dict[str, list[int]]:
        """{file: [👍, 👎]} over the answers from `since` to `until`."""
        return self._read(feedback_store.votes_by_source, since, until)

    def daily(self, first_day: str | None = None, last_day: str | None = None) -> list[DayRow]:
        """Each day from `first_day` to `last_day` that has questions or votes, in order."""
        args = (first_day or "", last_day or "9999")
        where = " WHERE day >= ? AND day <= ?"
        try:
            days = self._conn.execute(
                "SELECT day, SUM(questions), SUM(unanswered) FROM days" + where + " GROUP BY day",
                args,
            ).fetchall()
            buckets = self._conn.execute(
                "SELECT day, bucket, SUM(count) FROM latency" + where + " GROUP BY day, bucket",
                args,
            ).fetchall()
            votes = feedback_store.votes_by_day(self._conn, *args)
        except sqlite3.Error as exc:
            raise explain(exc, self.path) from exc
        per_day: dict[str, dict[int, int]] = {}
        for day, bucket, n in buckets:
            per_day.setdefault(day, {})[bucket] = n
        counts = {day: (q, u) for day, q, u in days}
        return [
            DayRow(day, *counts.get(day, (0, 0)), per_day.get(day, {}), *votes.get(day, (0, 0)))
            for day in sorted(set(counts) | set(votes))
        ]

    def close(self) -> None:
        """Close the file."""
        self._conn.close()
