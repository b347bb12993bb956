"""Searches in worker processes, so that many questions at once use every core.

A search is Python code: in threads, questions asked at once take turns on one core
(Python's GIL). The Telegram front hands them to a pool of processes instead, each
with its own connection to the store (it only reads); indexing stays in the bot's process
and the workers see each new generation of the index as it commits. A worker that
dies is replaced and the question asked again; a store file that was replaced
(a broken store set aside and rebuilt) is reopened.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from bot.service import QAService
from retrieval.search import Answer
from storage.analysis import exit_with, usable_cpus

log = logging.getLogger(__name__)


def default_processes() -> int:
    """Processes that search at once: one per usable CPU, at most 4."""
    return max(1, min(usable_cpus(), 4))


class SearchPool:
    """`processes` worker processes answering questions over one store."""

    def __init__(
        self,
        database_path: Path | str,
        corpus_dir: Path | str,
        *,
        variants: bool,
        processes: int,
        rerank: bool = False,
    ):
        self._args = (str(database_path), str(corpus_dir), variants, rerank, os.getpid())
        self.processes = processes
        self._lock = threading.Lock()
        self._executor = self._start()

    def _start(self) -> ProcessPoolExecutor:
        # forkserver: the bot has threads (fork would copy their locks mid-use).
        executor = ProcessPoolExecutor(
            self.processes,
            mp_context=multiprocessing.get_context("forkserver"),
            initializer=_open,
            initargs=self._args,
        )
        for _ in range(self.processes):  # start them now, not at the first question
            executor.submit(os.getpid)
        return executor

    async def ask(self, question: str, top: int = 3, offset: int = 0) -> Answer:
        """Answer one question in a worker process."""
        answer, _ = await self.ask_timed(question, top, offset)
        return answer

    async def ask_timed(self, question: str, top: int = 3, offset: int = 0) -> tuple[Answer, float]:
        """The answer and the seconds the search itself took in its worker."""
        executor = self._executor
        try:
            return await asyncio.wrap_future(executor.submit(_ask, question, top, offset))
        except BrokenProcessPool:
            log.warning("a search process died; starting new ones and asking again")
            with self._lock:
                if self._executor is executor:
                    executor.shutdown(wait=False, cancel_futures=True)
                    self._executor = self._start()
            return await asyncio.wrap_future(self._executor.submit(_ask, question, top, offset))

    def close(self) -> None:
        """Stop the workers (after the questions they are answering)."""
        self._executor.shutdown(wait=True, cancel_futures=True)


# --- worker side ---------------------------------------------------------------------------

_service: QAService | None = None
_opened: tuple[int, int] | None = None  # (device, inode) of the store file it has open


def _open(database_path: str, corpus_dir: str, variants: bool, rerank: bool, parent: int) -> None:
    """Worker start: a service of its own over the store; exit when the bot is gone."""
    global _service
    _service = QAService(database_path, corpus_dir, variants=variants, rerank=rerank)
    exit_with(parent)


def _ask(question: str, top: int, offset: int) -> tuple[Answer, float]:
    """Worker side: answer, and say how long the search took."""
    global _opened
    assert _service is not None
    started = time.perf_counter()
    try:
        stat = os.stat(_service.database_path)
        current = (stat.st_dev, stat.st_ino)
    except OSError:
        current = None
    if current != _opened:  # replaced since it was opened (or not open yet)
        _service.close()
        _opened = current
    answer = _service.ask(question, top, offset)
    return answer, time.perf_counter() - started
