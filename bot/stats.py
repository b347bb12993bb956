"""Question statistics since the bot started (in memory): count, no-answer share, latency.

stats = QuestionStats()
stats.record(0.012, answered=True)
stats.snapshot().p95
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class StatsSnapshot:
    """What /stats shows about questions."""

    questions: int
    unanswered: int
    p50: float | None  # seconds
    p95: float | None

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


class QuestionStats:
    """Counts every question; keeps the latest `keep` latencies for the percentiles."""

    def __init__(self, keep: int = 10_000):
        self.questions = 0
        self.unanswered = 0
        self._latencies: deque[float] = deque(maxlen=keep)

    def record(self, seconds: float, *, answered: bool) -> None:
        """Count one question that took `seconds` and did (or did not) get results."""
        self.questions += 1
        if not answered:
            self.unanswered += 1
        self._latencies.append(seconds)

    def snapshot(self) -> StatsSnapshot:
        latencies = list(self._latencies)
        return StatsSnapshot(
            self.questions, self.unanswered, percentile(latencies, 50), percentile(latencies, 95)
        )
