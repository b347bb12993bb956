"""The SQLite store on a real file: schema, metadata, WAL, documents rows, read API."""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import datetime

import numpy as np
import pytest

from retrieval.analyzer import ANALYZER_VERSION, analyze
from retrieval.bm25 import BM25Params
from storage.indexer import index_collection
from retrieval.variants import key_of
from storage.store import SCHEMA_VERSION, GenerationCache, Store, StoreError

TABLES = {"meta", "arrays", "documents", "paragraphs", "passages", "terms"}


def _conn(db) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{db}?mode=ro", uri=True)


def test_schema_has_every_table(shared_seed_db):
    conn = _conn(shared_seed_db)
    try:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert TABLES <= names
        columns = {r[1] for r in conn.execute("PRAGMA table_info(documents)")}
        assert {"path", "sha256", "size", "title", "indexed_at"} <= columns
    finally:
        conn.close()


def test_wal_mode(shared_seed_db):
    conn = _conn(shared_seed_db)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        conn.close()


def test_metadata(shared_seed_db, shared_seed_store):
    meta = shared_seed_store.meta()
    params = BM25Params()
    assert meta["analyzer_version"] == ANALYZER_VERSION
    assert meta["schema_version"] == str(SCHEMA_VERSION)
    assert (float(meta["k1"]), float(meta["b"]), float(meta["epsilon"])) == (
        params.k1, params.b, params.epsilon,
    )
    assert int(meta["generation"]) >= 1
    built_at = datetime.fromisoformat(meta["built_at"])
    assert built_at.tzinfo is not None
    conn = _conn(shared_seed_db)
    try:
        for key, table in [("documents", "documents"), ("paragraphs", "paragraphs"),
                           ("passages", "passages"), ("terms", "terms"),
                           ("variant_forms", "variant_forms")]:
            assert int(meta[key]) == conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        total = conn.execute("SELECT sum(length) FROM passages").fetchone()[0]
    finally:
        conn.close()
    assert int(meta["documents"]) == 5
    assert int(meta["total_length"]) == total
    assert shared_seed_store.counts() == {
        k: int(meta[k]) for k in ("documents", "paragraphs", "passages", "terms", "variant_forms")
    }


def test_documents_rows(shared_seed_db):
    corpus = shared_seed_db.parent / "corpus"
    conn = _conn(shared_seed_db)
    try:
        rows = conn.execute(
            "SELECT path, sha256, size, title, indexed_at, paragraphs FROM documents ORDER BY path"
        ).fetchall()
    finally:
        conn.close()
    assert [r[0] for r in rows] == sorted(p.name for p in corpus.glob("*.txt"))
    for path, sha256, size, title, indexed_at, paragraphs in rows:
        data = (corpus / path).read_bytes()
        assert sha256 == hashlib.sha256(data).hexdigest()
        assert size == len(data)
        first_line = next(line.strip() for line in data.decode().splitlines() if line.strip())
        # the first non-empty line (a very long one may be shortened for display)
        assert title == first_line or (len(title) >= 100 and first_line.startswith(title))
        assert datetime.fromisoformat(indexed_at).tzinfo is not None
        assert paragraphs >= 1
    # seed 003 starts with an empty line: its title is still its first words
    assert rows[3][3].startswith("بدأ وزير الخارجية الروسي سيرغي لافروف")


def test_sources(shared_seed_store):
    sources = shared_seed_store.sources()
    assert [s.path for s in sources] == sorted(s.path for s in sources)
    assert len(sources) == 5
    assert {s.path: s.paragraphs for s in sources}["003_4d407a0bed6a0682.txt"] == 5


def test_postings_api(shared_seed_store):
    with shared_seed_store.read():
        snap = shared_seed_store.snapshot()
        terms = analyze("لافروف كوريا كلمةغائبة")
        postings = shared_seed_store.postings(terms + terms)
    assert set(postings) == set(analyze("لافروف كوريا"))
    for p in postings.values():
        ids = p.ids.tolist()
        assert ids == sorted(set(ids)) and p.df == len(ids)
        assert p.tfs.min() >= 1 and p.max_tf == p.tfs.max()
        assert p.min_len == snap.lengths[p.ids].min()
    assert shared_seed_store.postings([]) == {}


def test_passages_api(shared_seed_store):
    conn = shared_seed_store.conn
    pid = conn.execute(
        """SELECT s.id FROM passages s JOIN paragraphs p ON p.id = s.paragraph_id
           JOIN documents d ON d.id = p.doc_id
           WHERE d.path = '001_29605565af34d15c.txt' AND p.number = 8"""
    ).fetchone()[0]
    with shared_seed_store.read():
        records = shared_seed_store.passages([pid])
        snap = shared_seed_store.snapshot()
    record = records[pid]
    assert record.source == "001_29605565af34d15c.txt"
    assert record.paragraph_number == 8
    assert record.heading == "زيارة “لافروف”"
    assert record.paragraph_text.startswith("زيارة لافروف، التي تبدأ في 11 يوليو")
    assert (record.start, record.end) == (0, len(record.paragraph_text))
    assert snap.paragraph_of[pid] == record.paragraph_id
    assert shared_seed_store.passages([]) == {}


def test_snapshot_arrays(shared_seed_store):
    snap = shared_seed_store.snapshot()
    conn = shared_seed_store.conn
    rows = conn.execute("SELECT id, paragraph_id, length FROM passages").fetchall()
    assert snap.stats.n_passages == len(rows)
    for pid, paragraph_id, length in rows:
        assert snap.lengths[pid] == length
        assert snap.paragraph_of[pid] == paragraph_id
    assert snap.stats.total_length == sum(r[2] for r in rows)
    unused = np.setdiff1d(np.arange(len(snap.paragraph_of)), [r[0] for r in rows])
    assert not snap.paragraph_of[unused].any()
    assert shared_seed_store.snapshot() is snap  # cached while the generation is the same


def test_missing_store_is_an_error(tmp_path):
    with pytest.raises(StoreError, match="no index"):
        Store(tmp_path / "absent.sqlite3")
    assert not (tmp_path / "absent.sqlite3").exists()


def test_a_file_that_is_not_a_database_is_an_error(tmp_path):
    path = tmp_path / "garbage.sqlite3"
    path.write_bytes(b"this is not SQLite at all" * 100)
    with pytest.raises(StoreError, match="not a usable index"):
        Store(path)


def test_a_read_sees_one_generation_even_if_a_reindex_commits_meanwhile(
    tmp_path, seed_dir, seed_db
):
    store = Store(seed_db)
    try:
        before = store.meta()
        with store.read():
            generation = store.generation()
            snap = store.snapshot()
            (seed_dir / "new.txt").write_text("كلمةجديدة في فقرة جديدة.", encoding="utf-8")
            report = index_collection(seed_db, seed_dir)  # another connection commits
            assert report.indexed == ["new.txt"]
            assert store.generation() == generation
            assert store.snapshot() is snap
            assert not store.postings(analyze("كلمةجديدة"))
            assert store.meta() == before
        assert store.generation() == generation + 1
        assert store.snapshot().stats.n_passages == snap.stats.n_passages + 1
        assert store.postings(analyze("كلمةجديدة"))
    finally:
        store.close()


def test_variant_forms_are_cached_per_generation(seed_dir, seed_db):
    store = Store(seed_db)
    try:
        key = key_of("سيلفربيرغ")
        before = store.variant_forms([key])
        assert store.variant_forms([key]) == before  # from the cache
        assert "سيلفربيرغ" not in {c.form for c in before.get(key, [])}
        (seed_dir / "new.txt").write_text("قال سيلفربيرغ إنه سيزور المدينة.", encoding="utf-8")
        index_collection(seed_db, seed_dir)  # a new generation: the cache is emptied
        assert "سيلفربيرغ" in {c.form for c in store.variant_forms([key])[key]}
        assert store.variant_forms([]) == {}
    finally:
        store.close()


def test_generation_cache_drops_the_least_recently_used_and_empties_on_a_new_generation():
    cache = GenerationCache(10).of(1)
    cache.put("a", 1, 4)
    cache.put("b", 2, 4)
    assert cache.get("a") == 1  # "b" is now the least recently used
    cache.put("c", 3, 4)
    assert "b" not in cache and "a" in cache and "c" in cache and cache.size == 8
    cache.put("huge", 4, 50)  # bigger than the capacity: kept alone until the next put
    assert "huge" in cache and cache.size == 50
    assert cache.of(1) is cache and "huge" in cache
    assert "huge" not in cache.of(2) and cache.size == 0
