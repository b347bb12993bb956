"""The SQLite store: documents, paragraphs, passages and the BM25 inverted index.

One database file in WAL mode. Every index run writes in a single transaction, so
readers keep answering from the previous generation until it commits, and a run
that fails or is killed leaves nothing behind (SQLite rolls it back).

Postings are one row per term: passage ids (uint32, ascending) and term
frequencies (uint16) as little-endian blobs, so a question reads only the rows of
its own terms.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from retrieval.bm25 import BM25Params, CollectionStats
from retrieval.variants import Candidate
from storage.variant_index import create_variant_tables, lookup

SCHEMA_VERSION = 4
BUSY_TIMEOUT_MS = 30_000  # readers wait out a checkpoint or a commit, never fail on one
ID_DTYPE = np.dtype("<u4")
TF_DTYPE = np.dtype("<u2")
LENGTH_DTYPE = np.dtype("<u4")
#: Spelling keys whose forms the store keeps in memory (least recently used go first).
#: Short keys (a 3-letter part of a long word) hold hundreds of forms and recur across
#: questions.
VARIANT_CACHE_KEYS = 8192
#: Bytes of postings the store keeps in memory: the long postings of common words are
#: the costliest rows to read and recur across questions.
POSTINGS_CACHE_BYTES = 16 << 20


class StoreError(Exception):
    """The store cannot be opened or is not usable (message says why)."""


class BrokenStoreError(StoreError):
    """The store file exists but is not a usable index (garbage, truncated, damaged)."""


def explain(exc: sqlite3.Error, path: Path | str) -> StoreError:
    """Turn an SQLite error into a StoreError that tells the operator what to do."""
    text = str(exc).lower()
    folder = Path(path).parent
    if "readonly" in text or "read-only" in text or "unable to open" in text:
        return StoreError(
            f"cannot write the store {path}: is the data folder {folder} read-only or "
            f"missing? ({exc})"
        )
    if "disk is full" in text or "disk i/o" in text:
        return StoreError(f"cannot write the store {path}: the disk of {folder} is full ({exc})")
    if isinstance(exc, sqlite3.DatabaseError) and (
        "not a database" in text or "malformed" in text or "corrupt" in text
    ):
        return BrokenStoreError(f"{path} is not a usable index: {exc}")
    return StoreError(f"store error on {path}: {exc}")


def check_intact(conn: sqlite3.Connection, path: Path | str) -> None:
    """Raise BrokenStoreError when the file is shorter than its own page count says.

    A cheap start-up check (a full integrity check would take seconds on a large
    store): it catches a truncated copy; garbage fails on the first query anyway.
    """
    path = Path(path)
    wal = path.with_name(path.name + "-wal")
    if wal.exists() and wal.stat().st_size > 0:
        return  # committed pages may still live in the WAL
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    page_count = conn.execute("PRAGMA page_count").fetchone()[0]
    if path.stat().st_size < page_size * page_count:
        raise BrokenStoreError(
            f"{path} is truncated ({path.stat().st_size} bytes, expected {page_size * page_count})"
        )


@dataclass(frozen=True)
class Postings:
    """The postings of one term, with what bounds its BM25 contribution."""

    df: int
    max_tf: int  # largest term frequency
    min_len: int  # shortest passage containing the term
    ids: np.ndarray
    tfs: np.ndarray


@dataclass(frozen=True)
class PassageRecord:
    """Where a passage comes from and what it covers."""

    passage_id: int
    paragraph_id: int
    start: int
    end: int
    paragraph_number: int
    paragraph_text: str
    heading: str
    source: str
    page: int | None = None  # 1-based page of the paragraph (PDF), None without pages


@dataclass(frozen=True)
class SourceInfo:
    """One indexed file as shown by /sources."""

    path: str
    title: str
    paragraphs: int
    pages: int | None = None  # for paginated formats (PDF)


@dataclass(frozen=True)
class IndexSnapshot:
    """Arrays that depend on the generation: passage lengths and passage → paragraph."""

    generation: int
    stats: CollectionStats
    params: BM25Params
    lengths: np.ndarray  # float64, indexed by passage id (0 for unused ids)
    paragraph_of: np.ndarray  # uint32, indexed by passage id


def connect(path: Path | str) -> sqlite3.Connection:
    """Open the database in WAL mode with sensible timeouts (autocommit; explicit BEGIN)."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create the data folder {path.parent}: {exc.strerror}") from exc
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    # Let the WAL shrink back after a big index run has been checkpointed.
    conn.execute("PRAGMA journal_size_limit = 67108864")
    return conn


def create_schema(conn: sqlite3.Connection) -> None:
    """Create the tables if they do not exist (idempotent)."""
    import sqlite_utils  # only building an index needs it; importing it costs ~60 ms

    db = sqlite_utils.Database(conn)
    db["meta"].create({"key": str, "value": str}, pk="key", if_not_exists=True)
    db["arrays"].create({"key": str, "value": bytes}, pk="key", if_not_exists=True)
    db["documents"].create(
        {
            "id": int, "path": str, "sha256": str, "size": int, "mtime_ns": int,
            "title": str, "indexed_at": str, "paragraphs": int, "passages": int,
            "format": str, "pages": int,
        },
        pk="id", not_null={"path", "sha256"}, if_not_exists=True,
    )
    db["documents"].create_index(["path"], unique=True, if_not_exists=True)
    db["paragraphs"].create(
        {"id": int, "doc_id": int, "number": int, "heading": str, "text": str, "page": int},
        pk="id", foreign_keys=[("doc_id", "documents", "id")], if_not_exists=True,
    )
    db["paragraphs"].create_index(["doc_id"], if_not_exists=True)
    db["passages"].create(
        {"id": int, "paragraph_id": int, "start": int, "end": int, "length": int},
        pk="id", foreign_keys=[("paragraph_id", "paragraphs", "id")], if_not_exists=True,
    )
    db["passages"].create_index(["paragraph_id"], if_not_exists=True)
    db["terms"].create(
        {"term": str, "df": int, "max_tf": int, "min_len": int, "ids": bytes, "tfs": bytes},
        pk="term", if_not_exists=True,
    )
    create_variant_tables(conn)


class GenerationCache:
    """Values read from one generation of the index, least recently used dropped first.

    `capacity` bounds the total of the sizes given to `put`; a new generation empties it.
    Not thread-safe by itself: the store uses it under its lock.
    """

    def __init__(self, capacity: int):
        self.capacity = capacity
        self.generation: int | None = None
        self.size = 0
        self._items: OrderedDict[str, tuple[object, int]] = OrderedDict()

    def of(self, generation: int) -> GenerationCache:
        """The cache, emptied first when `generation` is not the one it holds."""
        if generation != self.generation:
            self._items.clear()
            self.size, self.generation = 0, generation
        return self

    def __contains__(self, key: str) -> bool:
        return key in self._items

    def get(self, key: str) -> object:
        self._items.move_to_end(key)
        return self._items[key][0]

    def put(self, key: str, value: object, size: int) -> None:
        if key in self._items:
            self.size -= self._items.pop(key)[1]
        self._items[key] = (value, size)
        self.size += size
        while self.size > self.capacity and len(self._items) > 1:
            self.size -= self._items.popitem(last=False)[1][1]


class Store:
    """Read access to an index for searching and listing.

    One connection shared by threads: every read runs under the store's lock inside
    one read transaction, so it sees one generation and never interleaves with another.
    """

    def __init__(self, path: Path | str):
        self.path = Path(path)
        if not self.path.exists():
            raise StoreError(f"no index at {self.path}")
        try:
            self.conn = connect(self.path)
            self.conn.execute("SELECT count(*) FROM meta").fetchone()
        except sqlite3.Error as exc:
            raise explain(exc, self.path) from exc
        self._snapshot: IndexSnapshot | None = None
        self._lock = threading.RLock()
        self._variant_cache = GenerationCache(VARIANT_CACHE_KEYS)
        self._postings_cache = GenerationCache(POSTINGS_CACHE_BYTES)

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self.conn.close()

    @contextmanager
    def read(self) -> Iterator[Store]:
        """A consistent read: everything inside sees one generation of the index."""
        with self._lock:
            if self.conn.in_transaction:  # nested use: already inside a snapshot
                yield self
                return
            self.conn.execute("BEGIN")
            try:
                yield self
            finally:
                self.conn.execute("COMMIT")

    def meta(self) -> dict[str, str]:
        """All metadata keys and values."""
        with self.read():
            return dict(self.conn.execute("SELECT key, value FROM meta").fetchall())

    def generation(self) -> int:
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        return int(row[0]) if row else 0

    def snapshot(self) -> IndexSnapshot:
        """The generation-dependent arrays, reloaded only when the generation changed."""
        generation = self.generation()
        if self._snapshot is None or self._snapshot.generation != generation:
            self._snapshot = load_snapshot(self.conn, generation)
        return self._snapshot

    def postings(self, terms: Iterable[str]) -> dict[str, Postings]:
        """Postings of the given terms that exist in the index (kept for the generation)."""
        terms = list(dict.fromkeys(terms))
        if not terms:
            return {}
        with self.read():
            cache = self._postings_cache.of(self.generation())
            found = {term: cache.get(term) for term in terms if term in cache}
            missing = [term for term in terms if term not in found]
            if missing:
                marks = ",".join("?" * len(missing))
                rows = self.conn.execute(
                    "SELECT term, df, max_tf, min_len, ids, tfs FROM terms"
                    f" WHERE term IN ({marks})",
                    missing,
                ).fetchall()
                for term, df, max_tf, min_len, ids, tfs in rows:
                    # Native-size ids: every indexing with them would convert uint32 again.
                    ids = np.frombuffer(ids, ID_DTYPE).astype(np.intp)
                    tfs = np.frombuffer(tfs, TF_DTYPE)
                    found[term] = Postings(df, max_tf, min_len, ids, tfs)
                for term in missing:
                    p = found.setdefault(term, None)
                    cache.put(term, p, 64 + (p.ids.nbytes + p.tfs.nbytes if p else 0))
            return {term: found[term] for term in terms if found[term] is not None}

    def variant_forms(self, keys: Iterable[str]) -> dict[str, list[Candidate]]:
        """The collection's forms under each spelling key that has any (retrieval/variants.py).

        Kept per key for the generation (the lists are shared: do not change them).
        """
        keys = sorted(set(keys))
        with self.read():
            cache = self._variant_cache.of(self.generation())
            found = {key: cache.get(key) for key in keys if key in cache}
            missing = [key for key in keys if key not in found]
            found.update(lookup(self.conn, missing))
            for key in missing:
                cache.put(key, found.setdefault(key, []), 1)
            return {key: found[key] for key in keys if found[key]}

    def passages(self, passage_ids: Iterable[int]) -> dict[int, PassageRecord]:
        """Source, paragraph and window of each passage id."""
        ids = [int(i) for i in passage_ids]
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self.conn.execute(
            f"""SELECT s.id, s.paragraph_id, s.start, s.end, p.number, p.text, p.heading, d.path,
                p.page FROM passages s JOIN paragraphs p ON p.id = s.paragraph_id
                JOIN documents d ON d.id = p.doc_id WHERE s.id IN ({marks})""",
            ids,
        ).fetchall()
        return {row[0]: PassageRecord(*row) for row in rows}

    def sources(self) -> list[SourceInfo]:
        """Indexed files with titles and paragraph counts, by path."""
        with self.read():
            rows = self.conn.execute(
                "SELECT path, title, paragraphs, pages FROM documents ORDER BY path"
            ).fetchall()
        return [SourceInfo(*row) for row in rows]

    def counts(self) -> dict[str, int]:
        """Numbers of documents, paragraphs, passages, terms and variant forms."""
        meta = self.meta()
        keys = ("documents", "paragraphs", "passages", "terms", "variant_forms")
        return {k: int(meta.get(k, 0)) for k in keys}


def load_snapshot(conn: sqlite3.Connection, generation: int) -> IndexSnapshot:
    """Read the stats and arrays of the current generation."""
    meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    arrays = dict(conn.execute("SELECT key, value FROM arrays").fetchall())
    stats = CollectionStats(
        n_passages=int(meta.get("passages", 0)),
        total_length=int(meta.get("total_length", 0)),
        idf_sum=float(meta.get("idf_sum", 0.0)),
        vocabulary_size=int(meta.get("terms", 0)),
    )
    params = BM25Params(float(meta["k1"]), float(meta["b"]), float(meta["epsilon"]))
    lengths = np.frombuffer(arrays.get("lengths", b""), LENGTH_DTYPE).astype(np.float64)
    paragraph_of = np.frombuffer(arrays.get("paragraph_of", b""), ID_DTYPE)
    return IndexSnapshot(generation, stats, params, lengths, paragraph_of)
