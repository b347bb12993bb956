"""Question statistics: since the bot started (in memory) and over every day (a file).

stats = QuestionStats()                         # since start only
stats = LastingStats("data/bot-stats.sqlite3")  # ... and daily counts that last
stats.record(0.012, answered=True, chat_type="private")
stats.snapshot().p95, stats.history().p95
answer_id = stats.record_answer(question, answer, "private")   # for 👍 / 👎, buffered too
stats.vote(answer_id, user_id, 1)               # in a thread: writes the buffer, then the vote
stats.close()                                   # writes what is still buffered

Recording a question (or an answer's row) only appends to a list under a lock; a
background thread adds the buffered questions to the file every FLUSH_SECONDS and at
close, so an answer never waits for SQLite. A vote is the exception: it writes the
buffer first (its answer's row may be in it) and then itself, in a worker thread. A
clean stop writes everything; a kill loses at most the last FLUSH_SECONDS of counts
(and the buttons of those answers say they expired).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from bot.feedback import answer_row, voter_key
from retrieval.search import Answer
from storage.feedback_store import DAY_SECONDS, AnswerRow, QuestionGroup, VoteResult
from storage.stats_store import DayCount, History, StatsStore
from storage.store import StoreError

log = logging.getLogger(__name__)

#: Seconds between two writes of the buffered questions to the stats file.
FLUSH_SECONDS = 5.0
#: Seconds between two deletions of the answers and votes older than FEEDBACK_DAYS.
PRUNE_SECONDS = 3600.0


@dataclass(frozen=True)
class StatsSnapshot:
    """What /stats shows about questions since the bot started."""

    questions: int
    unanswered: int
    p50: float | None  # seconds
    p95: float | None
    by_chat_type: dict[str, int] = field(default_factory=dict)
    up: int = 0  # 👍 given (or changed to) since start, as they stand now
    down: int = 0

    @property
    def unanswered_share(self) -> float:
        return self.unanswered / self.questions if self.questions else 0.0


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100) of `values`; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def stats_path(database_path: Path | str, configured: Path | str = "") -> Path:
    """The stats file: `configured` (STATS_PATH), else `<index stem>-stats.sqlite3` beside it."""
    if str(configured):
        return Path(configured)
    database_path = Path(database_path)
    if str(database_path) == ":memory:":
        return database_path
    return database_path.with_name(f"{database_path.stem}-stats.sqlite3")


class QuestionStats:
    """Counts every question; keeps the latest `keep` latencies for the percentiles."""

    def __init__(self, keep: int = 10_000):
        self.questions = 0
        self.unanswered = 0
        self.by_chat_type: Counter[str] = Counter()
        self._latencies: deque[float] = deque(maxlen=keep)
        self._run_votes: dict[tuple[str, str], int] = {}  # (answer, voter) -> vote, this run

    def record(self, seconds: float, *, answered: bool, chat_type: str = "private") -> None:
        """Count one question that took `seconds` and did (or did not) get results."""
        self.questions += 1
        if not answered:
            self.unanswered += 1
        self.by_chat_type[str(chat_type)] += 1
        self._latencies.append(seconds)

    def snapshot(self) -> StatsSnapshot:
        """The counts since start."""
        latencies = list(self._latencies)
        return StatsSnapshot(
            self.questions,
            self.unanswered,
            percentile(latencies, 50),
            percentile(latencies, 95),
            dict(self.by_chat_type.most_common()),
            up=sum(v > 0 for v in list(self._run_votes.values())),
            down=sum(v < 0 for v in list(self._run_votes.values())),
        )

    def history(self) -> History | None:
        """The counts over every day kept (None: nothing is kept beyond this run)."""
        return None

    def record_answer(self, question: str, answer: Answer, chat_type: str) -> str | None:
        """Keep an answer for votes and /unanswered; its id, or None when nothing is kept."""
        return None

    def vote(self, answer_id: str, user_id: int, value: int) -> VoteResult | None:
        """Count a reader's vote on an answer; None when the answer is not kept."""
        return None

    def unanswered_groups(
        self, offset: int = 0, limit: int | None = None, until: float | None = None
    ) -> tuple[list[QuestionGroup], int] | None:
        """The questions that got no answer or a 👎 (None: nothing is kept)."""
        return None

    def close(self) -> None:
        """Nothing to write."""


class LastingStats(QuestionStats):
    """QuestionStats that also adds each question to daily counts in a StatsStore file."""

    def __init__(
        self,
        path: Path | str,
        *,
        flush_seconds: float = FLUSH_SECONDS,
        keep: int = 10_000,
        clock: Callable[[], float] = time.time,
        feedback_days: int = 180,
        store_questions: bool = True,
    ):
        super().__init__(keep)
        self.feedback_days = feedback_days  # FEEDBACK_DAYS
        self.store_questions = store_questions  # STORE_QUESTIONS
        self.store = StatsStore(path)  # StoreError when it cannot be opened
        if self.store.lost is not None:
            log.warning(
                "the question stats file %s was unreadable (%s): moved it to %s and counting "
                "afresh; the history before %s UTC is lost",
                path, self.store.lost.reason, self.store.lost.moved_to, self.store.lost.at,
            )
        self.flush_seconds = flush_seconds
        self._clock = clock
        self._buffer: list[tuple[float, str, float, bool]] = []
        self._buffer_lock = threading.Lock()
        self._store_lock = threading.Lock()  # one flush or read of the file at a time
        self._answers: list[AnswerRow] = []  # buffered with the questions
        self._unwritten: dict[tuple[int, str], DayCount] = {}  # kept after a failed write
        self._unwritten_answers: list[AnswerRow] = []
        self._pruned_at = -PRUNE_SECONDS  # monotonic; the first flush prunes
        self._failing = False
        self.writes = 0  # successful flushes that wrote something
        self._stop = threading.Event()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="stats-writer", daemon=True)
        self._thread.start()

    def record(self, seconds: float, *, answered: bool, chat_type: str = "private") -> None:
        """Count the question in memory and buffer it for the file (no SQLite here)."""
        super().record(seconds, answered=answered, chat_type=chat_type)
        with self._buffer_lock:
            self._buffer.append((self._clock(), str(chat_type), seconds, answered))

    def record_answer(self, question: str, answer: Answer, chat_type: str) -> str | None:
        """Buffer the answer's row (question or its hash, files shown); its id for the buttons.

        Questions that could not be searched (empty, no words, too long) are not kept."""
        if answer.error:
            return None
        row = answer_row(
            self.store.salt, question, answer, chat_type, self._clock(),
            store_question=self.store_questions,
        )
        with self._buffer_lock:
            self._answers.append(row)
        return row.id

    @property
    def buffered(self) -> int:
        """Questions recorded and not yet taken by a flush."""
        with self._buffer_lock:
            return len(self._buffer)

    def flush(self) -> None:
        """Add the buffered questions to the file; on failure keep them for the next flush."""
        with self._store_lock:
            with self._buffer_lock:
                taken, self._buffer = self._buffer, []
                self._unwritten_answers += self._answers
                self._answers = []
            for when, chat_type, seconds, answered in taken:
                key = (int(when // DAY_SECONDS), chat_type)  # the UTC day
                if key not in self._unwritten:
                    day = datetime.fromtimestamp(key[0] * DAY_SECONDS, timezone.utc)
                    self._unwritten[key] = DayCount(day.strftime("%Y-%m-%d"), chat_type)
                self._unwritten[key].count(seconds, answered)
            if not self._unwritten and not self._unwritten_answers:
                self._prune_when_due()
                return
            try:
                self.store.add(self._unwritten.values(), self._unwritten_answers)
            except StoreError as exc:
                if not self._failing:
                    log.warning("question stats not written (kept, retrying): %s", exc)
                self._failing = True
                return
            if self._failing:
                log.info("question stats written again")
            self._failing = False
            self.writes += 1
            self._unwritten = {}
            self._unwritten_answers = []
            self._prune_when_due()

    def _prune_when_due(self) -> None:
        """Every PRUNE_SECONDS: delete answers and votes older than FEEDBACK_DAYS (lock held)."""
        if time.monotonic() - self._pruned_at < PRUNE_SECONDS:
            return
        self._pruned_at = time.monotonic()
        try:
            deleted = self.store.prune(self._clock(), self.feedback_days)
        except StoreError as exc:
            log.warning("old votes and questions not deleted (retrying later): %s", exc)
            return
        if deleted:
            log.info("deleted %d answers older than %d days", deleted, self.feedback_days)

    def prune(self) -> int:
        """Delete answers and votes older than FEEDBACK_DAYS now; how many answers went."""
        self.flush()
        with self._store_lock:
            return self.store.prune(self._clock(), self.feedback_days)

    def vote(self, answer_id: str, user_id: int, value: int) -> VoteResult | None:
        """Count a reader's 👍 (1) / 👎 (-1) on an answer (blocking: call in a thread).

        Writes the buffer first, so an answer sent a moment ago can be judged; None when
        the answer is not in the file (never written, or older than FEEDBACK_DAYS)."""
        self.flush()
        voter = voter_key(self.store.salt, user_id)
        with self._store_lock:
            result = self.store.vote(answer_id, voter, value, self._clock())
        if result is not None:
            if result.outcome == "withdrawn":
                self._run_votes[(answer_id, voter)] = 0
            else:
                self._run_votes[(answer_id, voter)] = value
        return result

    def unanswered_groups(
        self, offset: int = 0, limit: int | None = None, until: float | None = None
    ) -> tuple[list[QuestionGroup], int]:
        """Groups of the questions of the last FEEDBACK_DAYS (up to `until`) that got no
        answer or a 👎, the latest first; and how many groups (blocking: call in a thread)."""
        self.flush()
        now = self._clock() if until is None else until
        with self._store_lock:
            return self.store.unanswered(
                now - self.feedback_days * DAY_SECONDS, now, offset, limit
            )

    def history(self) -> History:
        """Write what is buffered, then read every day of the file (blocking: call in a thread)."""
        self.flush()
        with self._store_lock:
            return self.store.history()

    def _run(self) -> None:
        while not self._stop.wait(self.flush_seconds):
            try:
                self.flush()
            except Exception:  # never let the writer die: the next flush tries again
                log.exception("question stats flush failed")

    def close(self) -> None:
        """Stop the writer, write what is buffered, close the file (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        self._thread.join()
        self.flush()
        if self._unwritten or self._unwritten_answers:
            lost = sum(c.questions for c in self._unwritten.values())
            log.warning(
                "%d questions (%d answers for votes) could not be written to the stats file",
                lost, len(self._unwritten_answers),
            )
        self.store.close()
