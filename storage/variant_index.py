"""The variant index: every form of the collection under its skeleton key (retrieval/variants.py).

Two tables, kept equal to what a fresh build would give by `VariantUpdate`, which
the indexer drives during each run, inside its transaction:

- `variant_forms(form, key, term, docs)`: a form, its key (indexed, with form and term:
  a lookup reads only the index), its index term
  and the number of documents that contain it;
- `variant_docs(doc_id, sha256, forms)`: the forms of each document (zlib), so that a
  removed or changed document can be subtracted after its rows are gone.

No postings are added: a variant is searched through its own term's postings.
"""

from __future__ import annotations

import sqlite3
import zlib
from collections import Counter
from collections.abc import Iterable, Mapping

from retrieval.analyzer import ANALYZER_VERSION, term_of
from retrieval.variants import VARIANTS_VERSION, Candidate, document_forms, key_of

_VERSION = f"{VARIANTS_VERSION}/{ANALYZER_VERSION}"
_SEP = "\n"


def create_variant_tables(conn: sqlite3.Connection) -> None:
    """Create the variant tables if they do not exist (idempotent)."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS variant_forms (form TEXT PRIMARY KEY, key TEXT NOT NULL,"
        " term TEXT NOT NULL, docs INTEGER NOT NULL) WITHOUT ROWID"
    )
    # Covering (term included): a lookup reads no table row. Stores made before had (key).
    conn.execute("DROP INDEX IF EXISTS variant_forms_key")
    conn.execute("CREATE INDEX IF NOT EXISTS variant_forms_by_key ON variant_forms (key, form, term)")
    conn.execute(
        "CREATE TABLE IF NOT EXISTS variant_docs (doc_id INTEGER PRIMARY KEY,"
        " sha256 TEXT NOT NULL, forms BLOB NOT NULL)"
    )


class VariantUpdate:
    """Brings the variant tables up to date during one index run (inside its transaction).

    Start it before documents change; `remove` each document deleted (or replaced) and
    `add` the forms of each new one as it is indexed (streamed to the store, so memory
    stays bounded); then `finish` applies the counts.
    """

    BATCH = 2000

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.delta: Counter[str] = Counter()
        self._rows: list[tuple[int, str, bytes]] = []
        stored = conn.execute("SELECT value FROM meta WHERE key = 'variants_version'").fetchone()
        if stored is None or stored[0] != _VERSION:  # new store, rebuilt store or new rules
            conn.execute("DELETE FROM variant_forms")
            conn.execute("DELETE FROM variant_docs")

    def add(self, doc_id: int, sha256: str, forms: str) -> None:
        """Record the forms of a new document (newline-separated)."""
        self.delta.update(forms.split(_SEP) if forms else ())
        self.add_packed(doc_id, sha256, zlib.compress(forms.encode("utf-8"), 1))

    def add_packed(self, doc_id: int, sha256: str, packed: bytes) -> None:
        """Record a new document's forms (`pack_forms`); the caller `count`s them."""
        self._rows.append((doc_id, sha256, packed))
        if len(self._rows) >= self.BATCH:
            self._flush()

    def count(self, docs: Mapping[str, int]) -> None:
        """Add documents per form, for documents recorded with `add_packed`."""
        self.delta.update(docs)

    def remove(self, doc_id: int) -> None:
        """Subtract the forms of a document that is being removed (or replaced)."""
        row = self.conn.execute("SELECT forms FROM variant_docs WHERE doc_id = ?", (doc_id,)).fetchone()
        if row is not None:
            self.delta.subtract(_unpack(row[0]))
            self.conn.execute("DELETE FROM variant_docs WHERE doc_id = ?", (doc_id,))

    def _flush(self) -> None:
        self.conn.executemany(
            "INSERT INTO variant_docs (doc_id, sha256, forms) VALUES (?, ?, ?)", self._rows
        )
        self._rows = []

    def finish(self) -> None:
        """Add any document not seen yet, apply the counts and record them."""
        self._flush()
        conn, delta = self.conn, self.delta
        # Documents indexed before the variant rules changed: read back from the store.
        unseen = conn.execute(
            """SELECT d.id, d.sha256 FROM documents d LEFT JOIN variant_docs v ON v.doc_id = d.id
               WHERE v.doc_id IS NULL"""
        ).fetchall()
        for doc_id, sha256 in unseen:
            paragraphs = conn.execute(
                "SELECT number, heading, text FROM paragraphs WHERE doc_id = ?", (doc_id,)
            )
            self.add(doc_id, sha256, _SEP.join(sorted(document_forms(paragraphs))))
        self._flush()
        _apply_delta(conn, delta)
        n_forms, n_keys = conn.execute(
            "SELECT count(*), count(DISTINCT key) FROM variant_forms"
        ).fetchone()
        conn.executemany(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
            [("variants_version", _VERSION), ("variant_forms", str(n_forms)),
             ("variant_keys", str(n_keys))],
        )


def pack_forms(forms: Iterable[str]) -> bytes:
    """A document's forms as `variant_docs` stores them (what `add` stores for their text)."""
    return zlib.compress(_SEP.join(sorted(forms)).encode("utf-8"), 1)


def _unpack(blob: bytes) -> list[str]:
    text = zlib.decompress(blob).decode("utf-8")
    return text.split(_SEP) if text else []


def _apply_delta(conn: sqlite3.Connection, delta: Counter[str]) -> None:
    """Add the document counts in `delta` to the forms; forms left in no document go."""
    changed = [(form, n) for form, n in delta.items() if n]
    conn.executemany(
        "INSERT INTO variant_forms (form, key, term, docs) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (form) DO UPDATE SET docs = docs + excluded.docs",
        [(form, key_of(form), term_of(form) or form, n) for form, n in changed],
    )
    conn.execute("DELETE FROM variant_forms WHERE docs <= 0")


def lookup(conn: sqlite3.Connection, keys: list[str]) -> dict[str, list[Candidate]]:
    """The forms stored under each key (one indexed SELECT)."""
    if not keys:
        return {}
    marks = ",".join("?" * len(keys))
    out: dict[str, list[Candidate]] = {}
    for key, form, term in conn.execute(
        f"SELECT key, form, term FROM variant_forms WHERE key IN ({marks}) ORDER BY key, form", keys
    ):
        out.setdefault(key, []).append(Candidate(form, term))
    return out
