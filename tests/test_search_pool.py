"""Search processes: the same answers as in the bot's own process, and they survive faults."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import pytest

from bot.search_pool import SearchPool
from bot.service import QAService
from storage.indexer import index_collection, quarantine

QUESTIONS = ["متى تبدأ زيارة لافروف؟", "شويجو", "بيونج يانج", "ما عاصمة البرازيل؟", "", "؟؟"]


@pytest.fixture
def pool(seed_db: Path, seed_dir: Path):
    pool = SearchPool(seed_db, seed_dir, variants=True, processes=2)
    yield pool
    pool.close()


def _ask_all(pool: SearchPool, questions: list[str]) -> list:
    async def run() -> list:
        return await asyncio.gather(*(pool.ask(q, 3, 0) for q in questions))

    return asyncio.run(run())


def test_answers_equal_the_bots_own_process(
    pool: SearchPool, seed_db: Path, seed_dir: Path
) -> None:
    service = QAService(seed_db, seed_dir, variants=True)
    try:
        expected = [service.ask(q, 3, 0) for q in QUESTIONS]
    finally:
        service.close()
    assert _ask_all(pool, QUESTIONS * 3) == expected * 3
    assert expected[0].results and expected[4].error  # answers and errors alike


def test_the_search_time_is_measured_in_the_worker(pool: SearchPool) -> None:
    answer, seconds = asyncio.run(pool.ask_timed(QUESTIONS[0]))
    assert answer.results and 0 < seconds < 5


def test_a_killed_search_process_is_replaced_and_the_question_answered(pool: SearchPool) -> None:
    first = _ask_all(pool, QUESTIONS[:1])[0]
    for pid in list(pool._executor._processes):  # the workers, as a crash would leave them
        os.kill(pid, signal.SIGKILL)
    time.sleep(0.2)
    assert _ask_all(pool, QUESTIONS[:1] * 4) == [first] * 4


def test_a_replaced_store_file_is_reopened(
    pool: SearchPool, seed_db: Path, tmp_path: Path, write_corpus
) -> None:
    assert _ask_all(pool, ["لافروف"])[0].results
    quarantine(seed_db)  # as a broken store is set aside, then rebuilt from the files
    other = {
        "a.txt": "قطف المزارعون التمر في الواحة.\n",
        "b.txt": "هطل المطر على الجبال.\n",
        "c.txt": "افتتحت المدينة متحفا للفنون.\n",
    }
    index_collection(seed_db, write_corpus(tmp_path / "other", other))
    after = _ask_all(pool, ["لافروف", "التمر"] * 2)
    assert not after[0].results and not after[2].results
    assert after[1].results[0].source == "a.txt"


def test_workers_see_each_new_generation(pool: SearchPool, seed_db: Path, seed_dir: Path) -> None:
    assert not _ask_all(pool, ["التمر"])[0].results
    (seed_dir / "new.txt").write_text("قطف المزارعون التمر في الواحة.\n", encoding="utf-8")
    index_collection(seed_db, seed_dir)
    assert [r.source for r in _ask_all(pool, ["التمر"] * 2)[1].results] == ["new.txt"]
