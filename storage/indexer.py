"""Bring the store up to date with a collection folder.

    report = index_collection("data/bot.sqlite3", "seeds")
    print(report.summary())

Reads plain text (`*.txt`, `*.md`), PDF, Word (`.docx`), web pages (`.html`) and
the other formats of `storage.formats` under the folder (subfolders included).
Files that cannot be read — not valid UTF-8, empty, binary, too large, outside the
folder, not what their extension says, encrypted, damaged, a ZIP bomb... — are
skipped with a reason. Unchanged files are not touched; changed, added and removed files
change only their own rows and the postings of their terms. Everything happens
in one transaction: the new generation appears at once or not at all.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import time
from array import array
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from retrieval.analyzer import ANALYZER_VERSION
from retrieval.bm25 import BM25Params, idf_sum
from retrieval.passages import PASSAGES_VERSION, passage_terms
from storage.analysis import (
    SkippedFile,
    SourceFile,
    analyze_files,
    default_workers,
    read_source,
)
from storage.formats import FORMATS_BY_SUFFIX, Limits, unsupported_reason
from storage.store import (
    ID_DTYPE,
    LENGTH_DTYPE,
    BUSY_TIMEOUT_MS,
    SCHEMA_VERSION,
    TF_DTYPE,
    StoreError,
    check_intact,
    connect,
    create_schema,
    explain,
)
from storage.variant_index import VariantUpdate

SUFFIXES = tuple(FORMATS_BY_SUFFIX)
DEFAULT_MAX_FILE_BYTES = 20 * 1024 * 1024  # text files; other formats: Limits.max_bytes
WRITE_LOCK_WAIT_MS = 2000

Progress = Callable[[str, int, int], None]


class IndexBusyError(StoreError):
    """Another index run holds the write lock."""


@dataclass(frozen=True)
class DocumentRead:
    """What was read from one indexed file."""

    format: str
    paragraphs: int
    pages: int | None = None
    ocr_pages: int = 0
    ocr_seconds: float = 0.0


@dataclass
class IndexReport:
    """What an index run did."""

    corpus_dir: str = ""
    indexed: list[str] = field(default_factory=list)  # added or changed
    read: dict[str, DocumentRead] = field(default_factory=dict)  # each indexed file's details
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    documents: int = 0
    paragraphs: int = 0
    passages: int = 0
    terms: int = 0
    variant_forms: int = 0  # rows of the variant index (it adds no postings)
    variant_keys: int = 0
    seconds: float = 0.0
    ocr_pages: int = 0  # pages of the files indexed in this run that were read by OCR
    ocr_seconds: float = 0.0
    pdf_pages: int = 0  # pages of the PDFs indexed in this run
    rebuilt: str | None = None  # why everything was rebuilt, if it was
    params_changed: str | None = None  # "old → new" BM25 parameters, when they changed

    @property
    def changed(self) -> bool:
        """True when the index was rewritten (files, a rebuild or new BM25 parameters)."""
        return bool(self.indexed or self.removed or self.rebuilt or self.params_changed)

    def summary(self) -> str:
        """A short English report for the operator."""
        lines = [f"collection: {self.corpus_dir}"]
        if self.rebuilt:
            lines.append(f"full rebuild: {self.rebuilt}")
        if self.params_changed:
            lines.append(f"BM25 parameters changed ({self.params_changed}): scores recomputed")
        if not self.changed:
            lines.append(f"no changes: {self.unchanged} files unchanged, index left as it was")
        else:
            lines.append(
                f"files indexed: {len(self.indexed)}, unchanged: {self.unchanged}, "
                f"removed: {len(self.removed)}"
            )
        lines.append(f"skipped: {len(self.skipped)}")
        lines += [f"  {path}: {reason}" for path, reason in self.skipped]
        lines.append(
            f"documents: {self.documents}, paragraphs: {self.paragraphs}, "
            f"passages: {self.passages}, terms: {self.terms}"
        )
        lines.append(
            f"spelling variants: {self.variant_forms} forms under {self.variant_keys} keys "
            "(no extra postings)"
        )
        if self.pdf_pages:
            lines.append(
                f"PDF pages read: {self.pdf_pages}, by OCR: {self.ocr_pages}"
                + (f" in {self.ocr_seconds:.1f} s" if self.ocr_pages else "")
            )
        lines.append(f"seconds: {self.seconds:.2f}")
        return "\n".join(lines)


def scan(corpus_dir: Path, report: IndexReport) -> list[SourceFile]:
    """Every candidate file under `corpus_dir`, sorted; symlinks leaving it are skipped."""
    root = corpus_dir.resolve()
    found: list[SourceFile] = []
    folders = [root]
    while folders:  # depth first, in name order, as os.walk would go
        folder = folders.pop()
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=lambda e: e.name)
        subfolders = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if entry.is_dir(follow_symlinks=False):
                subfolders.append(Path(entry.path))
            elif entry.is_symlink() and entry.is_dir():
                report.skipped.append(_linked_folder(root, Path(entry.path)))
            elif entry.name.lower().endswith(SUFFIXES):
                source = _source(root, entry, report)
                if source is not None:
                    found.append(source)
            elif (reason := unsupported_reason(entry.name)) is not None:
                report.skipped.append((Path(entry.path).relative_to(root).as_posix(), reason))
        folders.extend(reversed(subfolders))
    return found


def _source(root: Path, entry: os.DirEntry, report: IndexReport) -> SourceFile | None:
    """The file an entry names, or None (with the reason in the report)."""
    path = Path(entry.path)
    rel = path.relative_to(root).as_posix()
    if not entry.is_symlink():  # a plain entry of a folder inside the collection
        if not entry.is_file(follow_symlinks=False):
            report.skipped.append((rel, "not a regular file"))
            return None
        stat = entry.stat(follow_symlinks=False)
        return SourceFile(rel, path, stat.st_size, stat.st_mtime_ns)
    real = _link_target(root, path)
    if isinstance(real, str):
        report.skipped.append((rel, real))
        return None
    if not real.is_file():
        report.skipped.append((rel, "not a regular file"))
        return None
    stat = real.stat()
    return SourceFile(rel, real, stat.st_size, stat.st_mtime_ns)


def _linked_folder(root: Path, path: Path) -> tuple[str, str]:
    """A linked folder is never followed: (its path, why) for the report."""
    target = _link_target(root, path)
    reason = target if isinstance(target, str) else (
        "linked folder (not followed; its files are indexed where they are)"
    )
    return path.relative_to(root).as_posix(), reason


def _link_target(root: Path, path: Path) -> Path | str:
    """Where a symlink leads inside the collection, or why it is not used."""
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError):
        return "broken link"
    return real if real.is_relative_to(root) else "link pointing outside the collection"


def rebuild_reason(conn: sqlite3.Connection) -> str | None:
    """Why the stored index cannot be updated in place (None when it can)."""
    meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    if not meta:
        return "new index"
    if meta.get("schema_version") != str(SCHEMA_VERSION):
        return f"store schema changed ({meta.get('schema_version')} → {SCHEMA_VERSION})"
    if meta.get("analyzer_version") != ANALYZER_VERSION:
        return f"analyzer changed ({meta.get('analyzer_version')} → {ANALYZER_VERSION})"
    if meta.get("passages_version") != PASSAGES_VERSION:
        return f"passage splitting changed ({meta.get('passages_version')} → {PASSAGES_VERSION})"
    return None


def needs_rebuild(db_path: Path | str) -> str | None:
    """Why the store at `db_path` must be built before it can answer, or None.

    Raises BrokenStoreError when the file is there but is not a usable index.
    """
    db_path = Path(db_path)
    if not db_path.exists():
        return "no index yet"
    try:
        conn = connect(db_path)
        try:
            check_intact(conn, db_path)
            has_meta = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'meta'").fetchone()
            if not has_meta:
                return "empty store"
            for table in ("documents", "paragraphs", "passages", "terms", "arrays"):
                conn.execute(f"SELECT * FROM {table} LIMIT 1").fetchall()
            return rebuild_reason(conn)
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise explain(exc, db_path) from exc


def quarantine(db_path: Path | str) -> Path:
    """Move a broken store (and its WAL files) aside, keeping it for inspection."""
    db_path = Path(db_path)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    target = db_path.with_name(f"{db_path.name}.broken-{stamp}")
    for suffix in ("-wal", "-shm"):
        side = db_path.with_name(db_path.name + suffix)
        if side.exists():
            side.rename(target.with_name(target.name + suffix))
    db_path.rename(target)
    return target


def indexed_corpus_dir(db_path: Path | str) -> Path | None:
    """The collection folder the store was last built from, if any."""
    try:
        conn = connect(db_path)
        try:
            row = conn.execute("SELECT value FROM meta WHERE key = 'corpus_dir'").fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return None
    return Path(row[0]) if row else None


def index_collection(
    db_path: Path | str,
    corpus_dir: Path | str,
    *,
    params: BM25Params | None = None,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    progress: Progress | None = None,
    workers: int | None = None,
    limits: Limits | None = None,
) -> IndexReport:
    """Make `corpus_dir` the collection of the store at `db_path` and bring it up to date.

    Large runs analyse files in `workers` processes (default: `default_workers()`);
    `limits` bounds what reading one PDF, Word file or web page may cost.
    """
    started = time.perf_counter()
    corpus_dir = Path(corpus_dir)
    if not corpus_dir.is_dir():
        raise StoreError(f"collection folder not found: {corpus_dir}")
    params = params or BM25Params()
    report = IndexReport(corpus_dir=str(corpus_dir.resolve()))
    try:
        conn = connect(db_path)
    except sqlite3.Error as exc:
        raise explain(exc, db_path) from exc
    try:
        create_schema(conn)
        workers = workers or default_workers()
        _run(
            conn, corpus_dir, params, max_file_bytes, progress, report, workers,
            limits or Limits(),
        )
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise IndexBusyError("another index run is in progress") from exc
        raise explain(exc, db_path) from exc
    except sqlite3.Error as exc:
        raise explain(exc, db_path) from exc
    finally:
        conn.close()
    report.seconds = time.perf_counter() - started
    return report


def _notify(progress: Progress | None, stage: str, done: int, total: int) -> None:
    if progress is not None:
        progress(stage, done, total)


def _run(
    conn: sqlite3.Connection,
    corpus_dir: Path,
    params: BM25Params,
    max_file_bytes: int,
    progress: Progress | None,
    report: IndexReport,
    workers: int,
    limits: Limits,
) -> None:
    sources = scan(corpus_dir, report)
    # Another index run holds the write lock: fail fast rather than queue behind it.
    conn.execute(f"PRAGMA busy_timeout = {WRITE_LOCK_WAIT_MS}")
    conn.execute("BEGIN IMMEDIATE")
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    try:
        reason = rebuild_reason(conn)
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        if reason is None and meta.get("corpus_dir") != report.corpus_dir:
            reason = f"collection folder changed ({meta.get('corpus_dir')} → {report.corpus_dir})"
        stored = (meta.get("k1"), meta.get("b"), meta.get("epsilon"))
        wanted = (repr(params.k1), repr(params.b), repr(params.epsilon))
        if meta and reason is None and stored != wanted:
            report.params_changed = (
                "k1 {} b {} epsilon {} → k1 {} b {} epsilon {}".format(*stored, *wanted)
            )
        if reason is not None:
            report.rebuilt = reason if meta else None
            # Drop rather than empty: a schema change may have changed the tables.
            for table in ("terms", "passages", "paragraphs", "documents", "arrays", "meta"):
                conn.execute(f"DROP TABLE IF EXISTS {table}")
            create_schema(conn)
            if "generation" in meta:  # open readers must see a new generation, never the old number
                _write_meta(conn, {"generation": meta["generation"]})
        known = {
            row[0]: row[1:]
            for row in conn.execute("SELECT path, id, sha256, size, mtime_ns FROM documents")
        }
        to_add: list[SourceFile] = []  # read again when indexed: memory stays bounded
        to_remove: list[int] = []
        seen: set[str] = set()
        for i, source in enumerate(sources):
            _notify(progress, "reading", i, len(sources))
            seen.add(source.rel)
            old = known.get(source.rel)
            if old is None:
                to_add.append(source)
                continue
            if old[2] == source.size and old[3] == source.mtime_ns:
                report.unchanged += 1
                continue
            read = read_source(source, max_file_bytes, limits)
            if isinstance(read, str):
                report.skipped.append((source.rel, read))
                to_remove.append(old[0])
                report.removed.append(source.rel)
            elif old[1] == read[1]:
                report.unchanged += 1
                conn.execute(
                    "UPDATE documents SET mtime_ns = ? WHERE id = ?", (source.mtime_ns, old[0])
                )
            else:
                to_remove.append(old[0])
                to_add.append(source)
        for rel, old in known.items():
            if rel not in seen:
                to_remove.append(old[0])
                report.removed.append(rel)
        if to_add or to_remove or reason is not None or report.params_changed:
            variants = VariantUpdate(conn)
            arrays = _apply(
                conn, to_add, to_remove, max_file_bytes, progress, report, workers, variants,
                limits,
            )
            _finish(conn, params, report, arrays)
            variants.finish()
        _fill_counts(conn, report)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _apply(
    conn: sqlite3.Connection,
    to_add: list[SourceFile],
    to_remove: list[int],
    max_file_bytes: int,
    progress: Progress | None,
    report: IndexReport,
    workers: int,
    variants: VariantUpdate,
    limits: Limits,
) -> tuple[np.ndarray, np.ndarray]:
    """Delete removed documents, insert new ones and merge the postings of touched terms.

    Returns the passage arrays (length and paragraph of every passage id).
    """
    removed_ids: dict[str, list[int]] = defaultdict(list)
    for doc_id in to_remove:
        rows = conn.execute(
            """SELECT s.id, s.start, s.end, p.heading, p.text FROM passages s
               JOIN paragraphs p ON p.id = s.paragraph_id WHERE p.doc_id = ?""",
            (doc_id,),
        ).fetchall()
        for passage_id, start, end, heading, text in rows:
            for term in set(passage_terms(heading, text[start:end])):
                removed_ids[term].append(passage_id)
        conn.execute(
            "DELETE FROM passages WHERE paragraph_id IN "
            "(SELECT id FROM paragraphs WHERE doc_id = ?)",
            (doc_id,),
        )
        conn.execute("DELETE FROM paragraphs WHERE doc_id = ?", (doc_id,))
        conn.execute("DELETE FROM documents WHERE id = ?", (doc_id,))
        variants.remove(doc_id)

    added = _PostingsBuilder()
    forms = _FormCounts()
    next_doc, next_paragraph, next_passage = (
        (conn.execute(f"SELECT max(id) FROM {table}").fetchone()[0] or 0) + 1
        for table in ("documents", "paragraphs", "passages")
    )
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    docs, paragraph_rows, passage_rows = [], [], []
    for i, doc in enumerate(analyze_files(to_add, max_file_bytes, workers, limits)):
        _notify(progress, "indexing", i, len(to_add))
        if isinstance(doc, SkippedFile):
            report.skipped.append((doc.rel, doc.reason))
            continue
        report.indexed.append(doc.rel)
        report.read[doc.rel] = DocumentRead(
            doc.format, len(doc.paragraphs), doc.pages, doc.ocr_pages, doc.ocr_seconds
        )
        if doc.format == "pdf":
            report.pdf_pages += doc.pages or 0
        report.ocr_pages += doc.ocr_pages
        report.ocr_seconds += doc.ocr_seconds
        paragraph_rows += [
            (next_paragraph + k, next_doc, number, heading, text, page)
            for k, (number, heading, text, page) in enumerate(doc.paragraphs)
        ]
        passage_rows += [
            (next_passage + k, next_paragraph + p, start, end, length)
            for k, ((p, start, end), length) in enumerate(zip(doc.windows, doc.lengths))
        ]
        passage_ids = np.arange(next_passage, next_passage + len(doc.windows), dtype=ID_DTYPE)
        token_passages = np.repeat(passage_ids, np.frombuffer(doc.lengths, np.uint32))
        added.add_file(doc.producer, doc.new_words, doc.tokens, token_passages)
        docs.append(
            (next_doc, doc.rel, doc.sha256, doc.size, doc.mtime_ns, doc.title, now,
             len(doc.paragraphs), len(doc.windows), doc.format, doc.pages)
        )
        forms.add(doc.producer, doc.new_forms, doc.form_ids)
        variants.add_packed(next_doc, doc.sha256, doc.forms)
        next_doc += 1
        next_paragraph += len(doc.paragraphs)
        next_passage += len(doc.windows)
        if len(passage_rows) >= 20_000:
            _insert_rows(conn, docs, paragraph_rows, passage_rows)
            docs, paragraph_rows, passage_rows = [], [], []
    _insert_rows(conn, docs, paragraph_rows, passage_rows)
    variants.count(forms.counts())

    arrays = _passage_arrays(conn)
    lengths = arrays[0]

    def write(term: str, ids: np.ndarray, tfs: np.ndarray) -> None:
        _write_postings(conn, term, ids, tfs, lengths)

    stored = conn.execute("SELECT count(*) FROM terms").fetchone()[0]
    for i, (term, new_ids, new_tfs) in enumerate(added.postings()):
        if i % 5000 == 0:
            _notify(progress, "postings", i, len(added.term_ids))
        old = _stored_postings(conn, term) if stored else None
        if old is None:
            write(term, new_ids, new_tfs)
            continue
        ids, tfs = _without(old, removed_ids.pop(term, None))
        # New passage ids are larger than every existing one: appending keeps order.
        write(term, np.concatenate([ids, new_ids]), np.concatenate([tfs, new_tfs]))
    for term, gone in removed_ids.items():
        old = _stored_postings(conn, term)
        if old is not None:
            write(term, *_without(old, gone))
    return arrays


def _stored_postings(conn: sqlite3.Connection, term: str) -> tuple[bytes, bytes] | None:
    return conn.execute("SELECT ids, tfs FROM terms WHERE term = ?", (term,)).fetchone()


def _without(row: tuple[bytes, bytes], gone: list[int] | None) -> tuple[np.ndarray, np.ndarray]:
    """Decode a stored postings row, leaving out the passage ids in `gone`."""
    ids, tfs = np.frombuffer(row[0], ID_DTYPE), np.frombuffer(row[1], TF_DTYPE)
    if gone:
        keep = ~np.isin(ids, np.array(gone, dtype=ID_DTYPE))
        ids, tfs = ids[keep], tfs[keep]
    return ids, tfs


def _write_postings(
    conn: sqlite3.Connection, term: str, ids: np.ndarray, tfs: np.ndarray, lengths: np.ndarray
) -> None:
    """Store a term's postings with the bounds of its score (largest tf, shortest passage)."""
    if len(ids):
        conn.execute(
            "INSERT OR REPLACE INTO terms (term, df, max_tf, min_len, ids, tfs)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                term, len(ids), int(tfs.max()), int(lengths[ids].min()),
                ids.astype(ID_DTYPE).tobytes(), tfs.astype(TF_DTYPE).tobytes(),
            ),
        )
    else:
        conn.execute("DELETE FROM terms WHERE term = ?", (term,))


def _insert_rows(
    conn: sqlite3.Connection, docs: list[tuple], paragraphs: list[tuple], passages: list[tuple]
) -> None:
    conn.executemany(
        """INSERT INTO documents (id, path, sha256, size, mtime_ns, title, indexed_at,
           paragraphs, passages, format, pages) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        docs,
    )
    conn.executemany(
        "INSERT INTO paragraphs (id, doc_id, number, heading, text, page)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        paragraphs,
    )
    conn.executemany(
        "INSERT INTO passages (id, paragraph_id, start, end, length) VALUES (?, ?, ?, ?, ?)",
        passages,
    )


class _SharedIds:
    """One id per distinct word over all producers; turns each producer's ids into them."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self._of: dict[int, array] = {}  # producer → the shared id of each of its ids

    def map(self, producer: int, new_words: list[str], local: array) -> np.ndarray:
        """`local` (ids in `producer`'s vocabulary, which `new_words` extend) as shared ids."""
        known = self._of.setdefault(producer, array("I"))
        if new_words:
            ids = self.ids
            known.extend([ids.setdefault(w, len(ids)) for w in new_words])
        return np.frombuffer(known, np.uint32)[np.frombuffer(local, np.uint32)]


class _FormCounts:
    """Documents per spelling form of the new documents, counted with numpy."""

    FLUSH = 1 << 22

    def __init__(self) -> None:
        self._forms = _SharedIds()
        self._counts = np.zeros(0, np.int64)
        self._pending: list[np.ndarray] = []
        self._buffered = 0

    def add(self, producer: int, new_forms: list[str], form_ids: array) -> None:
        """Count one document's forms (ids in `producer`'s vocabulary of forms, each once)."""
        self._pending.append(self._forms.map(producer, new_forms, form_ids))
        self._buffered += len(form_ids)
        if self._buffered >= self.FLUSH:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            counts = np.bincount(np.concatenate(self._pending), minlength=len(self._forms.ids))
            counts[: len(self._counts)] += self._counts
            self._counts = counts
        self._pending, self._buffered = [], 0

    def counts(self) -> dict[str, int]:
        """Form → number of documents counted that contain it."""
        self._flush()
        return dict(zip(self._forms.ids, self._counts.tolist()))


class _PostingsBuilder:
    """Collects the tokens of new passages and turns them into sorted postings.

    Tokens are buffered as (term id, passage id) pairs; every `run_tokens` tokens the
    buffer is sorted with numpy into a run of postings and spilled to a temporary
    file, so memory stays bounded however large the collection. Passage ids only
    grow, so a term's postings are its runs concatenated in order.
    """

    def __init__(self, run_tokens: int = 8_000_000) -> None:
        self._terms_of = _SharedIds()
        self.term_ids = self._terms_of.ids
        self.run_tokens = run_tokens
        self._buffered = 0
        self._terms: list[np.ndarray] = []
        self._passages: list[np.ndarray] = []
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._runs: list[Path] = []

    def add_file(
        self, producer: int, new_words: list[str], tokens: array, passage_ids: np.ndarray
    ) -> None:
        """Record a file's tokens (ids in `producer`'s vocabulary) and their passage ids."""
        self._terms.append(self._terms_of.map(producer, new_words, tokens))
        self._passages.append(passage_ids.astype(np.uint32, copy=False))
        self._buffered += len(tokens)
        if self._buffered >= self.run_tokens:
            self._spill()

    def _sorted_run(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The buffer as (term id, passage id, tf) sorted by term then passage; empties it.

        Sorts one array of (term << 32 | passage) keys in place and counts equal
        neighbours: a few arrays the size of the buffer at most (np.unique copies more).
        """
        keys = np.concatenate(self._terms).astype(np.uint64)
        self._terms = []
        keys <<= np.uint64(32)
        keys |= np.concatenate(self._passages)
        self._passages, self._buffered = [], 0
        keys.sort()
        first = np.empty(len(keys), bool)  # where a new (term, passage) pair starts
        first[:1] = True
        np.not_equal(keys[1:], keys[:-1], out=first[1:])
        starts = np.flatnonzero(first)
        del first
        tfs = np.diff(starts, append=len(keys))
        np.minimum(tfs, np.iinfo(TF_DTYPE).max, out=tfs)
        tfs = tfs.astype(TF_DTYPE)
        keys = keys[starts]
        del starts
        passages = keys.astype(ID_DTYPE)  # the low 32 bits
        keys >>= np.uint64(32)
        return keys.astype(np.uint32), passages, tfs

    def _spill(self) -> None:
        if self._tmp is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="index-run-")
        path = Path(self._tmp.name, f"run{len(self._runs)}.npz")
        np.savez(path, *self._sorted_run())
        self._runs.append(path)

    def postings(self) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
        """(term, passage ids ascending, term frequencies) for every term seen."""
        runs = []
        if self._runs:
            if self._buffered:
                self._spill()
            for path in self._runs:
                with np.load(path) as run:
                    runs.append((run["arr_0"], run["arr_1"], run["arr_2"]))
        elif self._buffered:
            runs.append(self._sorted_run())
        n_terms = len(self.term_ids)
        bounds = [np.searchsorted(t, np.arange(n_terms + 1, dtype=np.uint32)) for t, _, _ in runs]
        try:
            for term_id, term in enumerate(self.term_ids):
                parts = [
                    (run[1][b[term_id] : b[term_id + 1]], run[2][b[term_id] : b[term_id + 1]])
                    for run, b in zip(runs, bounds)
                    if b[term_id + 1] > b[term_id]
                ]
                if len(parts) == 1:
                    yield term, parts[0][0], parts[0][1]
                elif parts:
                    yield term, np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
        finally:
            if self._tmp is not None:
                self._tmp.cleanup()


def _write_meta(conn: sqlite3.Connection, values: dict[str, object]) -> None:
    conn.executemany(
        "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
        [(k, repr(v) if isinstance(v, float) else str(v)) for k, v in values.items()],
    )


def _passage_arrays(conn: sqlite3.Connection) -> tuple[np.ndarray, np.ndarray]:
    """Length and paragraph id of every passage, indexed by passage id (0 where unused)."""
    rows = np.array(
        conn.execute("SELECT id, paragraph_id, length FROM passages").fetchall(), dtype=np.int64
    ).reshape(-1, 3)
    size = int(rows[:, 0].max()) + 1 if len(rows) else 1
    lengths = np.zeros(size, LENGTH_DTYPE)
    paragraph_of = np.zeros(size, ID_DTYPE)
    lengths[rows[:, 0]] = rows[:, 2]
    paragraph_of[rows[:, 0]] = rows[:, 1]
    return lengths, paragraph_of


def _finish(
    conn: sqlite3.Connection,
    params: BM25Params,
    report: IndexReport,
    arrays: tuple[np.ndarray, np.ndarray],
) -> None:
    """Recompute what depends on the whole index: N, average length and idf; bump generation."""
    lengths, paragraph_of = arrays
    n_passages = int(np.count_nonzero(paragraph_of))
    dfs = np.fromiter((r[0] for r in conn.execute("SELECT df FROM terms")), dtype=np.int64)
    old_generation = conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
    conn.executemany(
        "INSERT OR REPLACE INTO arrays (key, value) VALUES (?, ?)",
        [("lengths", lengths.tobytes()), ("paragraph_of", paragraph_of.tobytes())],
    )
    _write_meta(
        conn,
        {
            "schema_version": SCHEMA_VERSION,
            "analyzer_version": ANALYZER_VERSION,
            "passages_version": PASSAGES_VERSION,
            "corpus_dir": report.corpus_dir,
            "k1": params.k1,
            "b": params.b,
            "epsilon": params.epsilon,
            "generation": int(old_generation[0]) + 1 if old_generation else 1,
            "documents": conn.execute("SELECT count(*) FROM documents").fetchone()[0],
            "paragraphs": conn.execute("SELECT count(*) FROM paragraphs").fetchone()[0],
            "passages": n_passages,
            "terms": len(dfs),
            "total_length": int(lengths.sum(dtype=np.int64)),
            "idf_sum": idf_sum(n_passages, dfs) if n_passages else 0.0,
            "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        },
    )


def _fill_counts(conn: sqlite3.Connection, report: IndexReport) -> None:
    meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    report.documents = int(meta.get("documents", 0))
    report.paragraphs = int(meta.get("paragraphs", 0))
    report.passages = int(meta.get("passages", 0))
    report.terms = int(meta.get("terms", 0))
    report.variant_forms = int(meta.get("variant_forms", 0))
    report.variant_keys = int(meta.get("variant_keys", 0))
