"""Question statistics: since the bot started (in memory) and over every day (a file).

stats = QuestionStats()                         # since start only
stats = LastingStats("data/bot-stats.sqlite3")  # ... and daily counts that last
stats.record(0.012, answered=True, chat_type="private")
stats.snapshot().p95, stats.history().p95
stats.close()                                   # writes what is still buffered

Recording a question only appends to a list under a lock; a background thread adds
the buffered questions to the file every FLUSH_SECONDS and at close, so an answer
never waits for SQLite. A clean stop writes everything; a kill loses at most the
last FLUSH_SECONDS of counts.
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

from storage.stats_store import DayCount, History, StatsStore
from storage.store import StoreError

log = logging.getLogger(__name__)

#: Seconds between two writes of the buffered questions to the stats file.
FLUSH_SECONDS = 5.0
DAY_SECONDS = 86_400


@dataclass(frozen=True)
class StatsSnapshot:
    """What /stats shows about questions since the bot started."""

    questions: int
    unanswered: int
    p50: float | None  # seconds
    p95: float | None
    by_chat_type: dict[str, int] = field(default_factory=dict)

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
        )

    def history(self) -> History | None:
        """The counts over every day kept (None: nothing is kept beyond this run)."""
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
    ):
        super().__init__(keep)
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
        self._unwritten: dict[tuple[int, str], DayCount] = {}  # kept after a failed write
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
            for when, chat_type, seconds, answered in taken:
                key = (int(when // DAY_SECONDS), chat_type)  # the UTC day
                if key not in self._unwritten:
                    day = datetime.fromtimestamp(key[0] * DAY_SECONDS, timezone.utc)
                    self._unwritten[key] = DayCount(day.strftime("%Y-%m-%d"), chat_type)
                self._unwritten[key].count(seconds, answered)
            if not self._unwritten:
                return
            try:
                self.store.add(self._unwritten.values())
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
        if self._unwritten:
            lost = sum(c.questions for c in self._unwritten.values())
            log.warning("%d questions could not be written to the stats file", lost)
        self.store.close()
