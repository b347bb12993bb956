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
import os
from array import array
from collections import deque
from collections.abc import Iterator
from itertools import islice
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from retrieval.analyzer import clear_caches, run_terms, word_runs
from retrieval.passages import split_blocks, split_paragraphs, split_windows
from retrieval.variants import run_forms
from storage.formats import Extracted, ExtractError, Limits, decode_text, sniff, suffix_format
from storage.formats import sandbox
from storage.formats.sandbox import extract_isolated
from storage.lifetime import exit_with
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
    """A file read and checked: plain text (`text`), or a document read by its format."""

    rel: str
    size: int
    mtime_ns: int
    sha256: str
    text: str | None  # plain text; None for other formats
    document: Extracted | None = None  # PDF, Word, web page... (blocks with their pages)


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
    paragraphs: list[tuple[int, str, str, int | None]]  # (number, heading, text, page)
    windows: list[tuple[int, int, int]]  # (index into paragraphs, start, end)
    lengths: array  # tokens per window
    tokens: array  # every window's tokens, as ids in the producer's vocabulary
    new_words: list[str]  # words of that vocabulary first used by this file, in id order
    producer: int  # whose vocabulary the ids are in (a process id)
    forms: bytes  # its spelling forms for the variant index, packed (`pack_forms`)
    form_ids: array  # the same forms as ids in the producer's vocabulary of forms
    new_forms: list[str]  # forms of that vocabulary first used by this file, in id order
    format: str = "text"
    pages: int | None = None  # pages in the file (paginated formats)
    ocr_pages: int = 0
    ocr_seconds: float = 0.0


def read_source(
    source: SourceFile, max_bytes: int, limits: Limits = Limits()
) -> tuple[bytes, str] | str:
    """The bytes of one file and their sha256, or the reason it is skipped.

    `max_bytes` bounds a text file; other formats are bounded by `limits.max_bytes`.
    """
    if suffix_format(source.rel) not in (None, "text"):
        max_bytes = limits.max_bytes
    if source.size > max_bytes:
        return f"too large ({source.size} bytes, limit {max_bytes})"
    try:
        data = source.path.read_bytes()
    except OSError as exc:
        return f"unreadable ({exc.strerror or exc})"
    if len(data) > max_bytes:
        return f"too large ({len(data)} bytes, limit {max_bytes})"
    return data, hashlib.sha256(data).hexdigest()


def load(source: SourceFile, max_bytes: int, limits: Limits = Limits()) -> LoadedFile | str:
    """Read and check one file; return it, or the reason it is skipped.

    Plain text is decoded here; other formats are read in the reader process, which is
    killed when a file passes the time or memory limit (storage.formats.sandbox).
    """
    read = read_source(source, max_bytes, limits)
    if isinstance(read, str):
        return read
    data, sha256 = read
    try:
        fmt = sniff(source.rel, data)
        if fmt == "text":
            return LoadedFile(source.rel, len(data), source.mtime_ns, sha256, decode_text(data))
        document = extract_isolated(fmt, data, limits)
    except ExtractError as exc:
        return str(exc)
    if not any(block.text.strip() for block in document.blocks):
        return "no text found"
    return LoadedFile(source.rel, len(data), source.mtime_ns, sha256, None, document)


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
        self.form_ids: dict[str, int] = {}
        self.forms: list[str] = []  # id → form
        self.reported_forms = 0
        self._runs = _RunTable(self.ids, self.form_ids, self.forms)

    def analyze(
        self, source: SourceFile, max_bytes: int, limits: Limits = Limits()
    ) -> AnalyzedFile | SkippedFile:
        """Load, split and analyse one file."""
        doc = load(source, max_bytes, limits)
        if isinstance(doc, str):
            return SkippedFile(source.rel, doc)
        if doc.document is None:
            found, title = split_paragraphs(doc.text or ""), _title(doc.text or "")
        else:
            found = split_blocks(doc.document.blocks)
            title = doc.document.title or _title(found[0].text if found else "")
        paragraphs, windows = [], []
        runs: list[str] = []  # the word runs of every window, its heading's first
        ends = [0]  # where each window's runs end in `runs`
        for i, paragraph in enumerate(found):
            text = paragraph.text
            paragraphs.append((paragraph.number, paragraph.heading, text, paragraph.page))
            heading_runs = word_runs(paragraph.heading) if paragraph.heading else []
            text_runs = word_runs(text)
            for window in split_windows(text):
                windows.append((i, window.start, window.end))
                runs += heading_runs
                if window.start == 0 and window.end == len(text):
                    runs += text_runs
                else:
                    runs += word_runs(text[window.start : window.end])
                ends.append(len(runs))
        if len(self._runs) >= _RunTable.MAX_RUNS:
            self._runs = _RunTable(self.ids, self.form_ids, self.forms)
        tokens, lengths, form_ids = self._runs.lookup(runs, ends)
        new_forms = self.forms[self.reported_forms :]
        self.reported_forms = len(self.forms)
        new_words = _newest(self.ids, len(self.ids) - self.reported)
        self.reported = len(self.ids)
        read = doc.document
        return AnalyzedFile(
            doc.rel, doc.size, doc.mtime_ns, doc.sha256, title,
            paragraphs, windows, lengths, tokens, new_words, os.getpid(),
            pack_forms([self.forms[f] for f in form_ids]), form_ids, new_forms,
            **({} if read is None else {
                "format": read.format, "pages": read.pages,
                "ocr_pages": read.ocr_pages, "ocr_seconds": read.ocr_seconds,
            }),
        )


def _newest(ids: dict[str, int], n: int) -> list[str]:
    """The last `n` keys of `ids` in insertion (id) order."""
    return list(islice(reversed(ids), n))[::-1] if n else []


class _RunTable(dict):
    """Raw word run → run id (the hot path of indexing: one lookup per run).

    The term ids and form ids of each run sit in two flat tables (CSR: run id → end
    offset), so a document's tokens and forms are gathered with numpy, not in Python.
    """

    MAX_RUNS = 2_000_000

    def __init__(self, term_ids: dict[str, int], form_ids: dict[str, int], forms: list[str]) -> None:
        super().__init__()
        self.term_ids, self.form_ids, self.forms = term_ids, form_ids, forms
        self.term_end, self.terms = array("I", [0]), array("I")
        self.form_end, self.run_forms = array("I", [0]), array("I")

    def __missing__(self, run: str) -> int:
        run_id = self[run] = len(self)
        ids = self.term_ids
        self.terms.extend([ids.setdefault(t, len(ids)) for t in run_terms(run)])
        self.term_end.append(len(self.terms))
        form_ids, forms = self.form_ids, self.forms
        for form in run_forms(run):
            form_id = form_ids.get(form)
            if form_id is None:
                form_id = form_ids[form] = len(forms)
                forms.append(form)
            self.run_forms.append(form_id)
        self.form_end.append(len(self.run_forms))
        return run_id

    def lookup(self, runs: list[str], ends: list[int]) -> tuple[array, array, array]:
        """(term ids of `runs` in order, terms per window ending at `ends`, form ids, sorted)."""
        run_ids = np.frombuffer(array("I", map(self.__getitem__, runs)), np.uint32)
        tokens, per_run = _gather(self.term_end, self.terms, run_ids)
        total = np.zeros(len(per_run) + 1, np.int64)
        np.cumsum(per_run, out=total[1:])
        window_ends = np.array(ends, np.int64)
        lengths = total[window_ends[1:]] - total[window_ends[:-1]]
        forms, _ = _gather(self.form_end, self.run_forms, np.unique(run_ids))
        return (
            array("I", tokens.tobytes()),
            array("I", lengths.astype(np.uint32).tobytes()),
            array("I", np.unique(forms).tobytes()),
        )


def _gather(end: array, flat: array, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The values of CSR `rows` (row i is flat[end[i]:end[i + 1]]) in order, and their counts."""
    ends = np.frombuffer(end, np.uint32)
    stop = ends[rows.astype(np.int64) + 1].astype(np.int64)
    count = stop - ends[rows]
    before = np.cumsum(count) - count  # values of the earlier rows
    at = np.arange(int(count.sum()), dtype=np.int64) + np.repeat(stop - count - before, count)
    return np.frombuffer(flat, np.uint32)[at], count


_WORKER_VOCABULARY: _Vocabulary | None = None


def _analyze_batch(
    sources: list[SourceFile], max_bytes: int, limits: Limits
) -> list[AnalyzedFile | SkippedFile]:
    """Worker side: analyse a batch of files with this process's vocabulary."""
    global _WORKER_VOCABULARY
    if _WORKER_VOCABULARY is None:
        _WORKER_VOCABULARY = _Vocabulary()
    done = [_WORKER_VOCABULARY.analyze(source, max_bytes, limits) for source in sources]
    clear_caches()  # the vocabulary caches whole runs: the analyzer's caches would repeat them
    return done


def usable_cpus() -> int:
    """The CPUs this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def default_workers() -> int:
    """Worker processes for large runs: one more than the usable CPUs, at most 4.

    The indexing process itself is busy only part of the time (writing rows, merging),
    so one worker more keeps every core busy: 1M paragraphs on 2 CPUs took 132.6 s with
    2 workers and 115.0 s with 3 (peak 775 → 920 MB over all processes; 4 would pass
    1 GB). A single CPU gains nothing from workers.
    """
    cpus = usable_cpus()
    return 1 if cpus < 2 else min(cpus + 1, 4)


def analyze_files(
    sources: list[SourceFile], max_bytes: int, workers: int, limits: Limits = Limits()
) -> Iterator[AnalyzedFile | SkippedFile]:
    """Every source analysed, in order; in `workers` processes when the run is large."""
    if workers <= 1 or sum(s.size for s in sources) < PARALLEL_MIN_BYTES:
        # One file at a time here: a scanned PDF's pages are read by OCR on every core.
        limits = replace(limits, ocr_workers=min(usable_cpus(), 4))
        vocabulary = _Vocabulary()
        try:
            for source in sources:
                yield vocabulary.analyze(source, max_bytes, limits)
        finally:
            sandbox.shutdown()  # workers' reader processes end with the workers
        return
    # Imported here, for large runs only: they add ~12 ms to every start of the bot.
    import multiprocessing
    from concurrent.futures import Future, ProcessPoolExecutor

    batches = (sources[i : i + BATCH_FILES] for i in range(0, len(sources), BATCH_FILES))
    # forkserver: the indexer may run beside other threads (the bot's), where fork is unsafe.
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=exit_with, initargs=(os.getpid(),)
    ) as pool:
        pending: deque[Future[list[AnalyzedFile | SkippedFile]]] = deque()
        try:
            for batch in batches:
                pending.append(pool.submit(_analyze_batch, batch, max_bytes, limits))
                if len(pending) >= workers * TASKS_PER_WORKER:
                    yield from pending.popleft().result()
            while pending:
                yield from pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()
