"""Per-user question limit: a sliding window, one polite warning per flood.

limiter = QuestionLimiter(per_minute=20)
verdict = limiter.check(user_id)   # "ok", "warn" (say "slow down" once) or "drop"
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Hashable
from typing import Literal

Verdict = Literal["ok", "warn", "drop"]


class QuestionLimiter:
    """At most `per_minute` questions per key in any `window` seconds.

    The first question over the limit gets "warn" (the caller sends one "slow down"
    message); further ones get "drop" until the window frees a slot again.
    """

    def __init__(
        self,
        per_minute: int,
        *,
        window: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 10_000,
    ):
        if per_minute <= 0:
            raise ValueError("per_minute must be positive")
        self.per_minute = per_minute
        self.window = window
        self.clock = clock
        self.max_keys = max_keys
        self._times: dict[Hashable, deque[float]] = {}
        self._warned: set[Hashable] = set()

    def check(self, key: Hashable) -> Verdict:
        """Count one question from `key` and say whether to answer it."""
        now = self.clock()
        times = self._times.get(key)
        if times is None:
            if len(self._times) >= self.max_keys:
                self._forget_idle(now)
            times = self._times[key] = deque()
        while times and now - times[0] >= self.window:
            times.popleft()
        if len(times) < self.per_minute:
            times.append(now)
            self._warned.discard(key)
            return "ok"
        if key in self._warned:
            return "drop"
        self._warned.add(key)
        return "warn"

    def _forget_idle(self, now: float) -> None:
        """Drop keys with nothing in the window (keeps memory bounded)."""
        for key in [k for k, t in self._times.items() if not t or now - t[-1] >= self.window]:
            del self._times[key]
            self._warned.discard(key)
