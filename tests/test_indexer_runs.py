"""Postings built in spilled runs equal postings built in memory."""

from pathlib import Path

import pytest

from storage import indexer
from storage.indexer import index_collection
from storage.store import Store


def _all_postings(db: Path) -> dict[str, tuple[list[int], list[int]]]:
    store = Store(db)
    try:
        rows = store.conn.execute("SELECT term FROM terms").fetchall()
        terms = [r[0] for r in rows]
        with store.read():
            got = store.postings(terms)
        return {t: (p.ids.tolist(), p.tfs.tolist()) for t, p in got.items()}
    finally:
        store.close()


def test_spilled_runs_give_the_same_postings(tmp_path, seed_dir, monkeypatch):
    in_memory = tmp_path / "a.sqlite3"
    index_collection(in_memory, seed_dir)

    real = indexer._PostingsBuilder
    spills = []

    class TinyRuns(real):
        def __init__(self) -> None:
            super().__init__(run_tokens=200)

        def _spill(self) -> None:
            spills.append(1)
            super()._spill()

    monkeypatch.setattr(indexer, "_PostingsBuilder", TinyRuns)
    spilled = tmp_path / "b.sqlite3"
    index_collection(spilled, seed_dir)

    assert len(spills) > 3  # the runs really were spilled and merged
    assert _all_postings(spilled) == _all_postings(in_memory)


@pytest.mark.parametrize("run_tokens", [1, 7, 10_000_000])
def test_postings_are_sorted_with_exact_tfs(run_tokens):
    builder = indexer._PostingsBuilder(run_tokens=run_tokens)
    builder.add(1, ["a", "b", "a"])
    builder.add(2, ["b"])
    builder.add(5, ["a", "c", "a", "a"])
    got = {t: (ids.tolist(), tfs.tolist()) for t, ids, tfs in builder.postings()}
    assert got == {"a": ([1, 5], [2, 3]), "b": ([1, 2], [1, 1]), "c": ([5], [1])}
