"""The variant index: every form of the collection under its skeleton key (retrieval/variants.py).

Two tables, kept equal to what a fresh build would give by `update_variant_index`,
which the indexer calls once per run, inside its transaction:

- `variant_forms(form, key, term, docs)`: a form, its key (indexed), its index term
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
    conn.execute("CREATE INDEX IF NOT EXISTS variant_forms_key ON variant_forms (key)")
    conn.execute(
        "CREATE TABLE IF NOT EXISTS variant_docs (doc_id INTEGER PRIMARY KEY,"
        " sha256 TEXT NOT NULL, forms BLOB NOT NULL)"
    )


def update_variant_index(
    conn: sqlite3.Connection, known_forms: Mapping[int, Iterable[str]] | None = None
) -> None:
    """Subtract the forms of documents gone or changed, add those of new ones; record counts.

    `known_forms` holds the forms of documents just analysed (by document id); those of
    other new documents are read back from their stored paragraphs.
    """
    known_forms = known_forms or {}
    stored = conn.execute("SELECT value FROM meta WHERE key = 'variants_version'").fetchone()
    if stored is None or stored[0] != _VERSION:  # new store, rebuilt store or new rules
        conn.execute("DELETE FROM variant_forms")
        conn.execute("DELETE FROM variant_docs")
    delta: Counter[str] = Counter()
    gone = conn.execute(
        """SELECT v.doc_id, v.forms FROM variant_docs v LEFT JOIN documents d
           ON d.id = v.doc_id AND d.sha256 = v.sha256 WHERE d.id IS NULL"""
    ).fetchall()
    for doc_id, blob in gone:
        delta.subtract(_unpack(blob))
        conn.execute("DELETE FROM variant_docs WHERE doc_id = ?", (doc_id,))
    new = conn.execute(
        """SELECT d.id, d.sha256 FROM documents d LEFT JOIN variant_docs v ON v.doc_id = d.id
           WHERE v.doc_id IS NULL"""
    ).fetchall()
    rows = []
    for doc_id, sha256 in new:
        forms = known_forms.get(doc_id)
        if forms is None:
            forms = document_forms(
                conn.execute("SELECT number, heading, text FROM paragraphs WHERE doc_id = ?", (doc_id,))
            )
        delta.update(forms)
        rows.append((doc_id, sha256, zlib.compress(_SEP.join(forms).encode("utf-8"), 1)))
    conn.executemany("INSERT INTO variant_docs (doc_id, sha256, forms) VALUES (?, ?, ?)", rows)
    _apply_delta(conn, delta)
    n_forms, n_keys = conn.execute("SELECT count(*), count(DISTINCT key) FROM variant_forms").fetchone()
    conn.executemany(
        "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
        [("variants_version", _VERSION), ("variant_forms", str(n_forms)), ("variant_keys", str(n_keys))],
    )


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
