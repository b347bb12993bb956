"""Question statistics that last: the stats file beside the index, its buffer and writer.

Real SQLite files in tmp_path; a real child process for the kill case.
"""

from __future__ import annotations

import logging
import os
import random
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from bot import render
from bot.service import QAService
from bot.stats import LastingStats, percentile, stats_path
from storage.stats_store import (
    BUCKET_ERROR,
    LAST_BUCKET,
    MAX_SECONDS,
    MIN_SECONDS,
    DayCount,
    StatsStore,
    bucket_of,
    bucket_percentile,
    bucket_value,
)
from storage.store import StoreError
from tests.conftest import sqlite_rows as rows

ROOT = Path(__file__).resolve().parent.parent
JUNE_1 = datetime(2024, 6, 1, 12, tzinfo=timezone.utc).timestamp()
DAY = 86_400.0



def lasting(path: Path, clock=time.time, flush_seconds: float = 3600.0) -> LastingStats:
    """Stats whose writer thread stays idle unless a test says otherwise."""
    return LastingStats(path, flush_seconds=flush_seconds, clock=clock)


def test_the_stats_file_is_beside_the_index_unless_configured(tmp_path: Path):
    assert stats_path(tmp_path / "data/bot.sqlite3") == tmp_path / "data/bot-stats.sqlite3"
    assert stats_path("data/bot.sqlite3", tmp_path / "s.db") == tmp_path / "s.db"
    assert stats_path(":memory:") == Path(":memory:")


def test_counts_survive_a_restart(tmp_path: Path):
    path = tmp_path / "bot-stats.sqlite3"
    stats = lasting(path)
    stats.record(0.010, answered=True, chat_type="private")
    stats.record(0.030, answered=False, chat_type="private")
    stats.record(0.020, answered=True, chat_type="supergroup")
    stats.close()
    again = lasting(path)
    assert again.snapshot().questions == 0  # "since start" is this run only
    history = again.history()
    assert (history.questions, history.unanswered, history.days) == (3, 1, 1)
    assert history.by_chat_type == {"private": 2, "supergroup": 1}
    assert history.first_day == datetime.now(timezone.utc).strftime("%Y-%m-%d")
    assert history.lost is None
    again.record(0.5, answered=False, chat_type="channel")
    again.close()
    third = lasting(path)
    history = third.history()
    assert (history.questions, history.unanswered) == (4, 2)
    assert history.by_chat_type["channel"] == 1
    third.close()


def test_days_are_utc_days_and_the_file_keeps_no_text_or_ids(tmp_path: Path):
    path = tmp_path / "s.sqlite3"
    now = [datetime(2024, 6, 1, 23, 59, 59, tzinfo=timezone.utc).timestamp()]
    stats = lasting(path, clock=lambda: now[0])
    stats.record(0.01, answered=True, chat_type="private")
    now[0] += 2  # 00:00:01 UTC the next day
    stats.record(0.01, answered=True, chat_type="private")
    stats.record(0.01, answered=False, chat_type="group")
    stats.close()
    assert rows(path, "SELECT * FROM days ORDER BY day, chat_type") == [
        ("2024-06-01", "private", 1, 1, 0),
        ("2024-06-02", "group", 1, 0, 1),
        ("2024-06-02", "private", 1, 1, 0),
    ]
    columns = {
        (table, col[1])
        for (table,) in rows(path, "SELECT name FROM sqlite_master WHERE type = 'table'")
        for col in rows(path, f"PRAGMA table_info({table})")
    }
    assert {c for t, c in columns if t in ("meta", "days", "latency")} == {
        "key", "value", "day", "chat_type", "questions", "answered", "unanswered", "bucket",
        "count",
    }
    # counting questions keeps no answer rows (those come with the buttons: test_feedback.py)
    assert rows(path, "SELECT COUNT(*) FROM answers") == [(0,)]
    store = StatsStore(path)
    history = store.history()
    store.close()
    assert (history.first_day, history.last_day, history.days) == ("2024-06-01", "2024-06-02", 2)


def test_counts_survive_a_reindex_and_a_garbage_index_rebuilt(seed_db: Path, seed_dir: Path):
    path = stats_path(seed_db)
    stats = lasting(path)
    for i in range(5):
        stats.record(0.01 * (i + 1), answered=i != 0, chat_type="private")
    stats.close()
    kept = path.read_bytes()

    service = QAService(seed_db, seed_dir)
    (seed_dir / "new.md").write_text("زيارة جديدة إلى موسكو\n", encoding="utf-8")
    assert service.reindex().indexed
    service.close()
    seed_db.write_bytes(os.urandom(8192))  # the index is garbage: set aside and rebuilt
    assert service.ensure_index() is not None
    assert service.counts()["documents"] == 6
    service.close()
    assert list(seed_db.parent.glob("bot.sqlite3.broken-*"))
    assert not list(seed_db.parent.glob("bot-stats*.broken-*"))

    assert path.read_bytes() == kept
    again = lasting(path)
    history = again.history()
    assert (history.questions, history.unanswered, history.lost) == (5, 1, None)
    again.close()


def _damaged_stats(path: Path, how: str) -> None:
    """A stats file made unreadable in one of three ways."""
    if how == "garbage":
        path.write_bytes(os.urandom(20_000))
        return
    now = [JUNE_1]
    stats = lasting(path, clock=lambda: now[0])
    for day in range(300):  # enough rows for many pages
        now[0] = JUNE_1 + day * DAY
        for i in range(20):
            stats.record(0.001 * (i + 1) * (day + 1), answered=True, chat_type="private")
    stats.close()
    data = path.read_bytes()
    assert len(data) > 8 * 4096
    if how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    else:  # pages overwritten after the first (the header still says SQLite)
        path.write_bytes(data[:4096] + os.urandom(len(data) - 4096))


@pytest.mark.parametrize("how", ["garbage", "truncated", "overwritten"])
def test_a_garbage_stats_file_is_set_aside_and_reported(tmp_path: Path, caplog, how: str):
    path = tmp_path / "bot-stats.sqlite3"
    _damaged_stats(path, how)
    broken = path.read_bytes()
    with caplog.at_level(logging.WARNING, logger="bot.stats"):
        stats = lasting(path)
    copies = tmp_path.glob("bot-stats.sqlite3.broken-*")
    (moved,) = [p for p in copies if not p.name.endswith(("-wal", "-shm"))]
    assert moved.read_bytes() == broken  # kept for inspection
    assert "history before" in caplog.text and moved.name in caplog.text
    history = stats.history()
    assert history.questions == 0 and history.lost is not None
    assert history.lost.moved_to == moved.name
    stats.record(0.02, answered=True)
    stats.close()

    again = lasting(path)  # the note lasts after a restart, and the new counts too
    history = again.history()
    assert history.questions == 1 and history.lost.moved_to == moved.name
    again.close()
    text = render.stats_to_html({}, again.snapshot(), history)
    assert "ضاع ما سُجّل قبل" in text and f"<code>{moved.name}</code>" in text
    assert history.lost.at[:10] in text


def test_a_file_that_is_not_stats_is_refused_not_moved(seed_db: Path):
    before = seed_db.read_bytes()
    with pytest.raises(StoreError, match="not question statistics; set STATS_PATH"):
        LastingStats(seed_db)
    assert seed_db.read_bytes() == before
    assert not list(seed_db.parent.glob("*.broken-*"))


def test_the_answer_path_never_writes_sqlite(tmp_path: Path):
    path = tmp_path / "s.sqlite3"
    stats = lasting(path)
    for i in range(50):
        stats.record(0.01, answered=i % 5 != 0, chat_type="private")
    assert stats.buffered == 50
    assert rows(path, "SELECT COUNT(*) FROM days") == [(0,)]  # nothing written yet

    # Another connection holds the write lock: a flush has to wait for it…
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    flusher = threading.Thread(target=stats.flush)
    flusher.start()
    for _ in range(200):
        if stats.buffered == 0:  # the flush took the buffer and waits on SQLite
            break
        time.sleep(0.005)
    time.sleep(0.05)
    # …and recording a question meanwhile does not.
    started = time.perf_counter()
    stats.record(0.01, answered=True, chat_type="group")
    assert time.perf_counter() - started < 0.05
    assert flusher.is_alive() and stats.buffered == 1
    blocker.execute("COMMIT")
    blocker.close()
    flusher.join(10)
    assert rows(path, "SELECT SUM(questions), SUM(unanswered) FROM days") == [(50, 10)]
    stats.close()
    assert rows(path, "SELECT SUM(questions) FROM days") == [(51,)]


def test_the_writer_flushes_by_itself_and_a_kill_loses_only_the_last_seconds(tmp_path: Path):
    path = tmp_path / "s.sqlite3"
    child = (
        "import os, sys, time\n"
        "from bot.stats import LastingStats\n"
        "stats = LastingStats(sys.argv[1], flush_seconds=0.3)\n"
        "for _ in range(5): stats.record(0.01, answered=True)\n"
        "time.sleep(0.45)  # the writer wrote them at 0.3 s; next at 0.6 s\n"
        "for _ in range(3): stats.record(0.01, answered=True)\n"
        "os._exit(9)  # killed: no close, no final flush\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", child, str(path)], cwd=ROOT, capture_output=True, timeout=60
    )
    assert done.returncode == 9, done.stderr.decode()
    store = StatsStore(path)
    assert store.history().questions == 5  # written by the writer; the last 3 lost
    store.close()


def test_a_failed_write_keeps_the_counts_for_the_next_flush(tmp_path: Path, caplog):
    path = tmp_path / "s.sqlite3"
    stats = lasting(path)
    stats.store._conn.execute("PRAGMA busy_timeout = 10")
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    stats.record(0.01, answered=True)
    with caplog.at_level(logging.WARNING, logger="bot.stats"):
        stats.flush()  # "database is locked"
    assert "not written (kept, retrying)" in caplog.text
    blocker.execute("COMMIT")
    blocker.close()
    stats.record(0.01, answered=False)
    stats.close()
    assert rows(path, "SELECT SUM(questions), SUM(unanswered) FROM days") == [(2, 1)]


# --- latency buckets ------------------------------------------------------------------------


def test_buckets_cover_the_range_in_order():
    assert bucket_of(0) == bucket_of(MIN_SECONDS / 2) == 0
    assert bucket_of(MAX_SECONDS) == bucket_of(1e6) == LAST_BUCKET
    edges = [MIN_SECONDS * 10 ** (k / 20) for k in range(121)]
    values = sorted(10 ** random.Random(3).uniform(-5, 3) for _ in range(2000))
    buckets = [bucket_of(v) for v in values]
    assert buckets == sorted(buckets)
    for value, bucket in zip(values, buckets):
        if 0 < bucket < LAST_BUCKET:
            assert edges[bucket - 1] * (1 - 1e-9) <= value < edges[bucket] * (1 + 1e-9)
            assert abs(bucket_value(bucket) / value - 1) <= BUCKET_ERROR + 1e-9
    assert bucket_value(0) == MIN_SECONDS and bucket_value(LAST_BUCKET) == MAX_SECONDS


def test_percentiles_from_buckets_are_within_the_stated_error(tmp_path: Path):
    assert 0.058 < BUCKET_ERROR < 0.06
    rng = random.Random(14)
    latencies = [rng.lognormvariate(-4, 1.0) for _ in range(5000)]  # median ~18 ms
    days = [DayCount(f"2024-06-{d:02d}", kind) for d in (1, 2, 3) for kind in ("private", "group")]
    for i, seconds in enumerate(latencies):
        days[i % len(days)].count(seconds, answered=True)
    store = StatsStore(tmp_path / "s.sqlite3")
    store.add(days[:3])
    store.add(days[3:])
    history = store.history()
    store.close()
    assert history.questions == 5000 and history.days == 3
    summed: dict[int, int] = {}
    for day in days:
        for bucket, n in day.buckets.items():
            summed[bucket] = summed.get(bucket, 0) + n
    assert history.buckets == summed
    for q in (1, 50, 90, 95, 99):
        exact = percentile(latencies, q)
        assert abs(bucket_percentile(summed, q) / exact - 1) <= BUCKET_ERROR, q
    assert history.p50 == bucket_percentile(summed, 50)
    assert abs(history.p95 / percentile(latencies, 95) - 1) <= BUCKET_ERROR
    # Over a range of days: only those days' buckets.
    store = StatsStore(tmp_path / "s.sqlite3")
    later = store.history(first_day="2024-06-02")
    june_2 = store.history(first_day="2024-06-02", last_day="2024-06-02")
    store.close()
    mine = [s for i, s in enumerate(latencies) if i % 6 in (2, 3)]
    assert (later.questions, later.days, later.first_day) == (5000 - 1668, 2, "2024-06-02")
    assert june_2.questions == len(mine) and june_2.by_chat_type == {"group": 833, "private": 833}
    assert abs(june_2.p95 / percentile(mine, 95) - 1) <= BUCKET_ERROR
    assert abs(june_2.p50 / percentile(mine, 50) - 1) <= BUCKET_ERROR
    assert bucket_percentile({}, 50) is None
