"""Read, split and analyse collection files — in worker processes for large runs.

    for done in analyze_files(sources, max_bytes, workers=2):
        ...  # a SkippedFile, or an AnalyzedFile with its paragraphs, windows and tokens

Analysis (normalising, stemming) is most of the cost of indexing and each file is
independent, so large runs spread it over processes. Tokens travel back as arrays
of small integers (ids in the worker's own vocabulary, with the words the worker
had not sent before), not as millions of strings; files come back in input order.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import threading
import time
from array import array
from collections import deque
from collections.abc import Callable, Iterator
from itertools import chain, islice
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from retrieval.analyzer import analyze, clear_caches, run_terms, word_runs
from retrieval.passages import split_paragraphs, split_windows
from retrieval.variants import run_forms
from storage.variant_index import pack_forms

#: Below this many bytes to analyse, starting worker processes costs more than it saves.
PARALLEL_MIN_BYTES = 8 * 1024 * 1024
#: Files per task sent to a worker, and tasks in flight per worker (bounds memory).
BATCH_FILES = 64
TASKS_PER_WORKER = 4


@dataclass(frozen=True)
class SourceFile:
    """A candidate file found in the collection folder."""

    rel: str
    path: Path
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class LoadedFile:
    """A file read and checked: valid UTF-8 text, not empty, not binary, not too large."""

    rel: str
    size: int
    mtime_ns: int
    sha256: str
    text: str


@dataclass(frozen=True)
class SkippedFile:
    """A file left out of the index, with the reason."""

    rel: str
    reason: str


@dataclass
class AnalyzedFile:
    """One file ready to insert: its paragraphs, scoring windows and their tokens."""

    rel: str
    size: int
    mtime_ns: int
    sha256: str
    title: str
    paragraphs: list[tuple[int, str, str]]  # (number, heading, text)
    windows: list[tuple[int, int, int]]  # (index into paragraphs, start, end)
    lengths: array  # tokens per window
    tokens: array  # every window's tokens, as ids in the producer's vocabulary
    new_words: list[str]  # words of that vocabulary first used by this file, in id order
    producer: int  # whose vocabulary the ids are in (a process id)
    forms: bytes  # its spelling forms for the variant index, packed (`pack_forms`)
    form_ids: array  # the same forms as ids in the producer's vocabulary of forms
    new_forms: list[str]  # forms of that vocabulary first used by this file, in id order


def load(source: SourceFile, max_bytes: int) -> LoadedFile | str:
    """Read and check one file; return it, or the reason it is skipped."""
    if source.size > max_bytes:
        return f"too large ({source.size} bytes, limit {max_bytes})"
    try:
        data = source.path.read_bytes()
    except OSError as exc:
        return f"unreadable ({exc.strerror or exc})"
    if len(data) > max_bytes:
        return f"too large ({len(data)} bytes, limit {max_bytes})"
    if b"\x00" in data:
        return "binary file"
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return f"not valid UTF-8 (byte {exc.start})"
    if not text.strip():
        return "empty"
    return LoadedFile(source.rel, len(data), source.mtime_ns, hashlib.sha256(data).hexdigest(), text)


def passage_terms(heading: str, text: str) -> list[str]:
    """The tokens a passage is scored on: its heading's, then its own."""
    return analyze(heading) + analyze(text) if heading else analyze(text)


def _title(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:200]
    return ""


class _Vocabulary:
    """Word and form ids of one producer; remembers which ones it has not reported yet."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.reported = 0
        self._runs = _RunCache(self.ids, run_terms)
        self.form_ids: dict[str, int] = {}
        self.forms: list[str] = []  # id → form, for the forms reported so far
        self._run_forms = _RunCache(self.form_ids, run_forms)

    def tokens(self, runs: list[str], out: array) -> int:
        """Append the ids of the terms of `runs` (raw word runs) to `out`; return how many."""
        before = len(out)
        out.extend(chain.from_iterable(map(self._runs.__getitem__, runs)))
        return len(out) - before

    def analyze(self, source: SourceFile, max_bytes: int) -> AnalyzedFile | SkippedFile:
        """Load, split and analyse one file."""
        doc = load(source, max_bytes)
        if isinstance(doc, str):
            return SkippedFile(source.rel, doc)
        paragraphs, windows = [], []
        lengths, tokens = array("I"), array("I")
        runs: set[str] = set()  # every word run of the document, for its forms
        for i, paragraph in enumerate(split_paragraphs(doc.text)):
            text = paragraph.text
            paragraphs.append((paragraph.number, paragraph.heading, text))
            heading_runs = word_runs(paragraph.heading) if paragraph.heading else []
            text_runs = word_runs(text)
            runs.update(heading_runs)
            runs.update(text_runs)
            for window in split_windows(text):
                windows.append((i, window.start, window.end))
                whole = window.start == 0 and window.end == len(text)
                count = self.tokens(heading_runs, tokens)
                count += self.tokens(
                    text_runs if whole else word_runs(text[window.start : window.end]), tokens
                )
                lengths.append(count)
        form_ids = set(chain.from_iterable(map(self._run_forms.__getitem__, runs)))
        new_forms = _newest(self.form_ids, len(self.form_ids) - len(self.forms))
        self.forms += new_forms
        new_words = _newest(self.ids, len(self.ids) - self.reported)
        self.reported = len(self.ids)
        return AnalyzedFile(
            doc.rel, doc.size, doc.mtime_ns, doc.sha256, _title(doc.text),
            paragraphs, windows, lengths, tokens, new_words, os.getpid(),
            pack_forms(self.forms[f] for f in form_ids), array("I", form_ids), new_forms,
        )


def _newest(ids: dict[str, int], n: int) -> list[str]:
    """The last `n` keys of `ids` in insertion (id) order."""
    return list(islice(reversed(ids), n))[::-1] if n else []


class _RunCache(dict):
    """Raw word run → ids of what `of` finds in it (the hot path of indexing: one lookup per run)."""

    MAX_RUNS = 2_000_000

    def __init__(self, ids: dict[str, int], of: Callable[[str], tuple[str, ...]]) -> None:
        super().__init__()
        self.ids = ids
        self.of = of

    def __missing__(self, run: str) -> tuple[int, ...]:
        if len(self) >= self.MAX_RUNS:
            self.clear()
        ids = self.ids
        value = self[run] = tuple([ids.setdefault(t, len(ids)) for t in self.of(run)])
        return value


_WORKER_VOCABULARY: _Vocabulary | None = None


def _exit_with(parent: int) -> None:
    """Worker start: exit when the indexing process is gone (killed, it cannot say so)."""

    def watch() -> None:
        while True:
            time.sleep(1.0)
            try:
                os.kill(parent, 0)
            except ProcessLookupError:
                os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _analyze_batch(sources: list[SourceFile], max_bytes: int) -> list[AnalyzedFile | SkippedFile]:
    """Worker side: analyse a batch of files with this process's vocabulary."""
    global _WORKER_VOCABULARY
    if _WORKER_VOCABULARY is None:
        _WORKER_VOCABULARY = _Vocabulary()
    done = [_WORKER_VOCABULARY.analyze(source, max_bytes) for source in sources]
    clear_caches()  # the vocabulary caches whole runs: the analyzer's caches would repeat them
    return done


def default_workers() -> int:
    """Worker processes for large runs: the CPUs this process may use, at most 4."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, 4))


def analyze_files(
    sources: list[SourceFile], max_bytes: int, workers: int
) -> Iterator[AnalyzedFile | SkippedFile]:
    """Every source analysed, in order; in `workers` processes when the run is large."""
    if workers <= 1 or sum(s.size for s in sources) < PARALLEL_MIN_BYTES:
        vocabulary = _Vocabulary()
        for source in sources:
            yield vocabulary.analyze(source, max_bytes)
        return
    batches = (sources[i : i + BATCH_FILES] for i in range(0, len(sources), BATCH_FILES))
    # forkserver: the indexer may run beside other threads (the bot's), where fork is unsafe.
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_exit_with, initargs=(os.getpid(),)
    ) as pool:
        pending: deque[Future[list[AnalyzedFile | SkippedFile]]] = deque()
        try:
            for batch in batches:
                pending.append(pool.submit(_analyze_batch, batch, max_bytes))
                if len(pending) >= workers * TASKS_PER_WORKER:
                    yield from pending.popleft().result()
            while pending:
                yield from pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()
