"""Postings built in spilled runs equal postings built in memory."""

import concurrent.futures
import random
import subprocess
import sys
from array import array
from pathlib import Path

import numpy as np
import pytest

from retrieval.analyzer import analyze, term_of
from retrieval.variants import document_forms
from storage import analysis, indexer
from storage.formats import Limits
from storage.indexer import index_collection
from storage.store import Store
from storage.variant_index import pack_forms


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
    _add(builder, 1, ["a", "b", "a"])
    _add(builder, 2, ["b"])
    _add(builder, 5, ["a", "c", "a", "a"])
    got = {t: (ids.tolist(), tfs.tolist()) for t, ids, tfs in builder.postings()}
    assert got == {"a": ([1, 5], [2, 3]), "b": ([1, 2], [1, 1]), "c": ([5], [1])}


def _add(builder: indexer._PostingsBuilder, passage_id: int, terms: list[str]) -> None:
    """Feed one passage the way the indexer does: ids in a producer's vocabulary."""
    vocabulary = dict.fromkeys(builder.term_ids)
    new_words = [t for t in dict.fromkeys(terms) if t not in vocabulary]
    order = {t: i for i, t in enumerate([*vocabulary, *new_words])}
    tokens = array("I", [order[t] for t in terms])
    builder.add_file(1, new_words, tokens, np.full(len(terms), passage_id, np.uint32))


def _rows(db: Path) -> dict[str, list[tuple]]:
    store = Store(db)
    try:
        return {
            table: store.conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
            for table in ("paragraphs", "passages", "arrays", "variant_forms")
        } | {
            "documents": store.conn.execute(
                "SELECT id, path, sha256, title, paragraphs, passages FROM documents ORDER BY 1"
            ).fetchall(),
            "meta": store.conn.execute(
                "SELECT * FROM meta WHERE key NOT IN ('built_at', 'corpus_dir') ORDER BY 1"
            ).fetchall(),
        }
    finally:
        store.close()


def test_worker_processes_build_exactly_the_serial_index(tmp_path, seed_dir, monkeypatch):
    corpus = tmp_path / "many"
    corpus.mkdir()
    for i, path in enumerate(sorted(seed_dir.iterdir()) * 3):  # 15 files, shared words
        (corpus / f"{i:02}-{path.name}").write_bytes(path.read_bytes())
    (corpus / "bad.txt").write_bytes(b"\xff\xfe not utf-8")

    serial = tmp_path / "serial.sqlite3"
    serial_report = index_collection(serial, corpus, workers=1)

    monkeypatch.setattr(analysis, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(analysis, "BATCH_FILES", 2)  # 8 tasks over 2 vocabularies
    started = []
    real_pool = concurrent.futures.ProcessPoolExecutor  # analysis imports it when it runs
    monkeypatch.setattr(
        concurrent.futures, "ProcessPoolExecutor",
        lambda **kw: started.append(kw) or real_pool(**kw),
    )
    parallel = tmp_path / "parallel.sqlite3"
    parallel_report = index_collection(parallel, corpus, workers=2)

    assert started and started[0]["max_workers"] == 2
    assert parallel_report.skipped == serial_report.skipped == [
        ("bad.txt", "not valid UTF-8 (byte 0)")
    ]
    assert _rows(parallel) == _rows(serial)
    assert _all_postings(parallel) == _all_postings(serial)


def test_an_analysis_worker_exits_when_the_indexer_is_killed(tmp_path):
    """kill -9 of the indexer cannot tell its workers: they watch it and exit."""
    indexer_process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    worker = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from storage.analysis import exit_with; "
         f"exit_with({indexer_process.pid}); time.sleep(60)"],
        cwd=Path(__file__).resolve().parent.parent,
    )
    try:
        with pytest.raises(subprocess.TimeoutExpired):
            worker.wait(timeout=1.5)  # alive while the indexer is
        indexer_process.kill()
        indexer_process.wait()
        assert worker.wait(timeout=10) == 1
    finally:
        for process in (worker, indexer_process):
            process.kill()
            process.wait()


def _fuzz_texts(n: int) -> list[str]:
    """Random documents of Arabic words with marks, punctuation, digits, Latin and controls."""
    rng = random.Random(4)
    letters = "ابتثجحخدذرسشصضطظعغفقكلمنهويىةءأإآؤئ" + "یکە"
    extras = ["\u064e", "\u0651", "\u0640", "\u200c", "\u200f", "\ufeff", "ﻻ", "٣", "۴", "_"]
    seps = [" ", " ", " ", "، ", "؛", "؟ ", "«", "» ", ".", "-", "/", "(", ") ", "\t", "…"]
    latin = ["Google", "ÉCOLE", "İstanbul", "x2", "ß"]
    texts = []
    for _ in range(n):
        lines = []
        for _ in range(rng.randint(1, 8)):
            words = []
            for _ in range(rng.randint(1, 120)):
                if rng.random() < 0.05:
                    words.append(rng.choice(latin))
                    continue
                word = "".join(rng.choice(letters) for _ in range(rng.randint(1, 9)))
                if rng.random() < 0.3:
                    at = rng.randint(0, len(word))
                    word = word[:at] + rng.choice(extras) + word[at:]
                words.append(("وال" if rng.random() < 0.2 else "") + word + rng.choice(seps))
            lines.append("".join(words))
        texts.append("\n".join(lines) + "\n")
    return texts


def test_forms_from_the_workers_word_runs_equal_document_forms(tmp_path, seed_dir):
    """The workers take a document's spelling forms from the runs they tokenise anyway."""
    for i, text in enumerate(_fuzz_texts(60)):
        (seed_dir / f"fuzz{i:02}.txt").write_text(text, encoding="utf-8")
    vocabulary = analysis._Vocabulary()  # one vocabulary: ids and caches shared across files
    checked = 0
    for path in sorted(seed_dir.iterdir()):
        source = analysis.SourceFile(path.name, path, path.stat().st_size, 0)
        done = vocabulary.analyze(source, 1 << 30)
        assert isinstance(done, analysis.AnalyzedFile)
        expected = document_forms(done.paragraphs)
        assert done.forms == pack_forms(expected), path.name
        assert {vocabulary.forms[i] for i in done.form_ids} == expected
        checked += len(expected)
    assert checked > 1000


def test_a_worker_batch_leaves_the_analyzers_caches_empty(seed_dir):
    """Workers cache whole runs themselves; the analyzer's caches would hold them again."""
    sources = [
        analysis.SourceFile(p.name, p, p.stat().st_size, 0) for p in sorted(seed_dir.iterdir())
    ]
    done = analysis._analyze_batch(sources, 1 << 30, Limits())
    assert all(isinstance(d, analysis.AnalyzedFile) for d in done)
    assert term_of.cache_info().currsize == 0
    assert analyze("الرئيس") == ["رئيس"]  # still answers, filling its caches again


def test_a_full_run_table_starts_again_without_changing_the_index(tmp_path, seed_dir, monkeypatch):
    usual = tmp_path / "usual.sqlite3"
    index_collection(usual, seed_dir, workers=1)
    monkeypatch.setattr(analysis._RunTable, "MAX_RUNS", 3)  # a new table for every file
    small = tmp_path / "small.sqlite3"
    index_collection(small, seed_dir, workers=1)
    assert _rows(small) == _rows(usual)
    assert _all_postings(small) == _all_postings(usual)
