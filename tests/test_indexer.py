"""Indexing a collection folder into a real SQLite file: what is read, skipped, updated,
rebuilt, and what a failed, killed or concurrent run leaves behind."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

import storage.indexer as indexer
import storage.analysis as analysis
from bot.service import QAService
from retrieval.analyzer import analyze
from retrieval.search import Searcher
from storage.indexer import IndexBusyError, index_collection, needs_rebuild
from storage.store import Store, StoreError, connect

ROOT = Path(__file__).resolve().parent.parent

QUESTIONS = [
    "متى تبدأ زيارة لافروف؟",
    "من هي وزيرة خارجية كوريا الشمالية؟",
    "أين عقد لقاء لافروف وروبيو؟",
    "ما الصواريخ التي أرسلها كيم لمساعدة روسيا؟",
    "كوريا الشمالية روسيا",
    "كلمةفريدة",
]

GOOD = "فقرة أولى عن التعاون الزراعي بين البلدين تنتهي بنقطة.\nفقرة ثانية عن القمح والشعير."


def _bump_mtime(path: Path) -> None:
    """Move the modification time well away from the indexed one (coarse clocks)."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))


def _answers(db: Path, questions=QUESTIONS) -> tuple[int, list[dict]]:
    store = Store(db)
    try:
        searcher = Searcher(store)
        return store.generation(), [searcher.search(q, top=5).to_json() for q in questions]
    finally:
        store.close()


def _documents(db: Path) -> dict[str, tuple]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT path, id, sha256, size, title, indexed_at, paragraphs, passages FROM documents"
        ).fetchall()
        paragraphs = conn.execute(
            "SELECT d.path, p.id, p.number, p.text FROM paragraphs p JOIN documents d ON d.id = p.doc_id"
        ).fetchall()
    finally:
        conn.close()
    out = {row[0]: row[1:] for row in rows}
    for path, pid, number, text in paragraphs:
        out[path] = out[path] + ((pid, number, text),)
    return out


def _terms(db: Path) -> set[str]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return {row[0] for row in conn.execute("SELECT term FROM terms")}
    finally:
        conn.close()


def _meta(db: Path) -> dict[str, str]:
    store = Store(db)
    try:
        return store.meta()
    finally:
        store.close()


def _fail_on_call(monkeypatch, n: int, exc: BaseException | None = None):
    """Make split_paragraphs raise on its n-th call (the n-th file read)."""
    real = analysis.split_paragraphs
    calls = []

    def failing(text):
        calls.append(1)
        if len(calls) == n:
            raise exc or RuntimeError("disk on fire")
        return real(text)

    monkeypatch.setattr(analysis, "split_paragraphs", failing)
    return calls


# --- what is read ---------------------------------------------------------------------


def test_txt_and_md_under_subfolders_are_read_other_files_ignored(tmp_path, write_corpus):
    corpus = write_corpus(
        tmp_path / "c",
        {
            "top.txt": "فقرة في الملف الأعلى عن القمح.",
            "notes.md": "# عنوان\n\nفقرة ماركداون عن الشعير.",
            "a/b/deep.txt": "فقرة عميقة عن الذرة.",
            "a/upper.TXT": "فقرة بامتداد كبير عن الأرز.",
            "page.xml": "<p>فقرة ويب عن البطاطا</p>",
            "data.json": '{"text": "فقرة جيسون عن الطماطم"}',
            "a/archive.txt.bak": "نسخة قديمة عن الجزر.",
            "README": "ملف بلا امتداد عن الخيار.",
        },
    )
    db = tmp_path / "db.sqlite3"
    report = index_collection(db, corpus)
    assert sorted(report.indexed) == ["a/b/deep.txt", "a/upper.TXT", "notes.md", "top.txt"]
    assert report.skipped == []
    assert sorted(_documents(db)) == ["a/b/deep.txt", "a/upper.TXT", "notes.md", "top.txt"]
    terms = _terms(db)
    for word in ["القمح", "الشعير", "الذرة", "الأرز"]:
        assert set(analyze(word)) <= terms
    for word in ["البطاطا", "الطماطم", "الجزر", "الخيار"]:
        assert not set(analyze(word)) & terms


def test_sources_use_forward_slashes(tmp_path, seed_dir):
    sub = seed_dir / "world" / "asia"
    sub.mkdir(parents=True)
    (sub / "korea.txt").write_text("كلمةفريدة تظهر في ملف داخل مجلد فرعي.", encoding="utf-8")
    db = tmp_path / "db.sqlite3"
    index_collection(db, seed_dir)
    assert "world/asia/korea.txt" in _documents(db)
    _, answers = _answers(db, ["كلمةفريدة"])
    assert answers[0]["results"][0]["source"] == "world/asia/korea.txt"


def test_utf8_bom_is_allowed(tmp_path, seed_dir):
    (seed_dir / "bom.txt").write_bytes("\ufeffكلمةفريدة في أول الملف.\nفقرة ثانية.".encode("utf-8"))
    db = tmp_path / "db.sqlite3"
    report = index_collection(db, seed_dir)
    assert "bom.txt" in report.indexed
    doc = _documents(db)["bom.txt"]
    assert doc[3] == "كلمةفريدة في أول الملف."  # title without the BOM
    assert doc[7][2] == "كلمةفريدة في أول الملف."  # paragraph 1 text without the BOM
    _, answers = _answers(db, ["كلمةفريدة"])
    assert answers[0]["results"][0]["source"] == "bom.txt"
    assert answers[0]["results"][0]["paragraph"] == 1


BAD_FILES = {
    "invalid-utf8": (
        "كلمةفريدة في بداية صحيحة. ".encode() + b"\xff\xfe\xfa broken" + " كلمةفريدة".encode(),
        "UTF-8",
    ),
    "latin1": ("café كلمةفريدة".encode("latin-1", errors="ignore") + b" caf\xe9", "UTF-8"),
    "empty": (b"", "empty"),
    "whitespace-only": (b"  \n\t\r\n   \n", "empty"),
    "binary-nul": ("كلمةفريدة ".encode() + b"\x00\x01\x02binary", "binary"),
    "too-large": (("كلمةفريدة " * 1000).encode(), "too large"),  # 19 kB, limit 10 kB
}


@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_bad_files_are_skipped_with_a_reason_and_never_half_indexed(tmp_path, seed_dir, kind):
    data, reason = BAD_FILES[kind]
    (seed_dir / "bad.txt").write_bytes(data)
    db = tmp_path / "db.sqlite3"
    report = index_collection(db, seed_dir, max_file_bytes=10_000)
    skipped = dict(report.skipped)
    assert list(skipped) == ["bad.txt"]
    assert reason.lower() in skipped["bad.txt"].lower()
    assert "bad.txt" not in report.indexed
    assert "bad.txt" not in _documents(db)
    assert len(_documents(db)) == 5  # the good files are all there
    assert not set(analyze("كلمةفريدة")) & _terms(db)
    assert "bad.txt" in report.summary() and skipped["bad.txt"] in report.summary()
    # Still skipped, still reported, on the next run; the index stays as it was.
    again = index_collection(db, seed_dir, max_file_bytes=10_000)
    assert dict(again.skipped) == skipped
    assert not again.changed


def test_symlink_pointing_outside_the_collection_is_skipped(tmp_path, seed_dir):
    outside = tmp_path / "secret.txt"
    outside.write_text("كلمةفريدة سرية خارج المجموعة.", encoding="utf-8")
    (seed_dir / "link.txt").symlink_to(outside)
    (seed_dir / "inside.txt").symlink_to(seed_dir / "001_29605565af34d15c.txt")
    (seed_dir / "dangling.txt").symlink_to(tmp_path / "nowhere.txt")
    db = tmp_path / "db.sqlite3"
    report = index_collection(db, seed_dir)
    skipped = dict(report.skipped)
    assert "outside" in skipped["link.txt"]
    assert "dangling.txt" in skipped
    assert "inside.txt" in report.indexed  # a link inside the collection is fine
    assert "link.txt" not in _documents(db)
    assert not set(analyze("كلمةفريدة")) & _terms(db)


def test_linked_folders_and_escaping_relative_links_are_skipped_with_a_reason(tmp_path, seed_dir):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("كلمةفريدة سرية خارج المجموعة.", encoding="utf-8")
    (seed_dir / "sub").mkdir()
    (seed_dir / "sub" / "escape.txt").symlink_to(Path("..", "..", "outside", "secret.txt"))
    (seed_dir / "linked-out").symlink_to(outside, target_is_directory=True)
    (seed_dir / "linked-in").symlink_to(seed_dir / "sub", target_is_directory=True)
    (seed_dir / "odd..name.txt").write_text("اسم غريب لكنه داخل المجموعة.", encoding="utf-8")
    db = tmp_path / "db.sqlite3"
    report = index_collection(db, seed_dir)
    skipped = dict(report.skipped)
    assert "outside" in skipped["sub/escape.txt"]
    assert "outside" in skipped["linked-out"]
    assert "linked-in" in skipped  # not followed: its files are indexed where they are
    assert "odd..name.txt" in report.indexed
    assert len(report.indexed) == 6
    assert not set(analyze("كلمةفريدة")) & _terms(db)


def test_missing_collection_folder_is_an_error(tmp_path):
    with pytest.raises(StoreError, match="not found"):
        index_collection(tmp_path / "db.sqlite3", tmp_path / "nowhere")


# --- updates --------------------------------------------------------------------------


def test_reindexing_unchanged_files_is_a_no_op_that_says_so(tmp_path, seed_dir, seed_db):
    before_meta, before_docs = _meta(seed_db), _documents(seed_db)
    report = index_collection(seed_db, seed_dir)
    assert not report.changed
    assert report.indexed == [] and report.removed == [] and report.rebuilt is None
    assert report.unchanged == 5
    assert "no changes" in report.summary()
    assert _meta(seed_db) == before_meta  # same generation, same built_at
    assert _documents(seed_db) == before_docs


def test_a_touched_but_identical_file_is_unchanged(tmp_path, seed_dir, seed_db, monkeypatch):
    before_meta = _meta(seed_db)
    _bump_mtime(seed_dir / "002_a0e9d82ca56d1e7c.txt")
    report = index_collection(seed_db, seed_dir)
    assert not report.changed and report.unchanged == 5
    assert _meta(seed_db)["generation"] == before_meta["generation"]
    # ...and the new mtime is remembered: the next run does not even read it.
    calls = []
    real = indexer.read_source
    monkeypatch.setattr(indexer, "read_source", lambda *a, **k: calls.append(a) or real(*a, **k))
    assert not index_collection(seed_db, seed_dir).changed
    assert calls == []


def test_changed_added_removed_files_change_only_what_they_must(tmp_path, seed_dir, seed_db):
    before_docs = _documents(seed_db)
    generation, _ = _answers(seed_db, [])
    changed = seed_dir / "002_a0e9d82ca56d1e7c.txt"
    changed.write_text(
        changed.read_text(encoding="utf-8").replace("فلاديفوستوك", "كلمةمعدلة"), encoding="utf-8"
    )
    _bump_mtime(changed)
    (seed_dir / "003_4d407a0bed6a0682.txt").unlink()
    (seed_dir / "new").mkdir()
    (seed_dir / "new" / "added.md").write_text("كلمةفريدة في ملف جديد.\n" + GOOD, encoding="utf-8")

    report = index_collection(seed_db, seed_dir)
    assert report.changed and report.rebuilt is None
    assert sorted(report.indexed) == ["002_a0e9d82ca56d1e7c.txt", "new/added.md"]
    assert report.removed == ["003_4d407a0bed6a0682.txt"]
    assert report.unchanged == 3
    after_docs = _documents(seed_db)
    for path in ["000_83998fafb468cc7d.txt", "001_29605565af34d15c.txt", "004_52c5d7abb1d2cf35.txt"]:
        assert after_docs[path] == before_docs[path]  # same ids, rows, paragraphs
    assert "003_4d407a0bed6a0682.txt" not in after_docs
    assert after_docs["002_a0e9d82ca56d1e7c.txt"][1] != before_docs["002_a0e9d82ca56d1e7c.txt"][1]
    new_generation, answers = _answers(
        seed_db, ["فلاديفوستوك", "كلمةمعدلة", "كلمةفريدة", "أين عقد لقاء لافروف وروبيو؟"]
    )
    assert new_generation == generation + 1
    assert answers[0]["results"] == []
    assert answers[1]["results"][0]["source"] == "002_a0e9d82ca56d1e7c.txt"
    assert answers[2]["results"][0]["source"] == "new/added.md"
    assert all(r["source"] != "003_4d407a0bed6a0682.txt" for r in answers[3]["results"])
    assert not set(analyze("فلاديفوستوك")) & _terms(seed_db)  # its postings are gone


def _scores_by_passage(db: Path, questions: list[str]) -> list[dict[tuple, float]]:
    """For each question, every result's (source, paragraph, window) → score."""
    store = Store(db)
    try:
        searcher = Searcher(store, min_coverage=0.0)
        out = []
        for q in questions:
            answer = searcher.search(q, top=200)
            with store.read():
                records = store.passages(r.passage_id for r in answer.results)
            out.append(
                {
                    (r.source, r.paragraph, records[r.passage_id].start): r.score
                    for r in answer.results
                }
            )
        return out
    finally:
        store.close()


def test_incremental_update_scores_equal_a_full_rebuild(tmp_path, seed_dir, seed_db):
    questions = QUESTIONS + ["كلمةمعدلة القمح", "الشعير كوريا", "فلاديفوستوك بوتين"]
    changed = seed_dir / "002_a0e9d82ca56d1e7c.txt"
    changed.write_text(changed.read_text(encoding="utf-8") + "\nكلمةمعدلة عن القمح.", encoding="utf-8")
    _bump_mtime(changed)
    (seed_dir / "000_83998fafb468cc7d.txt").unlink()
    (seed_dir / "added.txt").write_text(GOOD + "\nكلمةفريدة وكوريا الشمالية.", encoding="utf-8")
    index_collection(seed_db, seed_dir)
    fresh = tmp_path / "fresh.sqlite3"
    index_collection(fresh, seed_dir)
    incremental_meta, fresh_meta = _meta(seed_db), _meta(fresh)
    for key in ("documents", "paragraphs", "passages", "terms", "total_length"):
        assert incremental_meta[key] == fresh_meta[key], key
    assert float(incremental_meta["idf_sum"]) == pytest.approx(float(fresh_meta["idf_sum"]), rel=1e-12)
    for got, expected in zip(_scores_by_passage(seed_db, questions), _scores_by_passage(fresh, questions)):
        assert got.keys() == expected.keys()
        for key in got:
            assert abs(got[key] - expected[key]) <= 1e-9


def test_a_file_that_turns_bad_is_removed_and_reported(tmp_path, seed_dir, seed_db):
    path = seed_dir / "003_4d407a0bed6a0682.txt"
    path.write_bytes(path.read_bytes() + b"\xff\xfe")
    _bump_mtime(path)
    report = index_collection(seed_db, seed_dir)
    assert "UTF-8" in dict(report.skipped)["003_4d407a0bed6a0682.txt"]
    assert "003_4d407a0bed6a0682.txt" not in _documents(seed_db)
    _, answers = _answers(seed_db, ["أين عقد لقاء لافروف وروبيو؟"])
    assert all(r["source"] != "003_4d407a0bed6a0682.txt" for r in answers[0]["results"])


def test_a_changed_analyzer_version_rebuilds_everything_and_says_why(
    tmp_path, seed_dir, seed_db, monkeypatch
):
    old_version = _meta(seed_db)["analyzer_version"]
    before_docs = _documents(seed_db)
    monkeypatch.setattr(indexer, "ANALYZER_VERSION", "test-analyzer-v999")
    reason = needs_rebuild(seed_db)
    assert reason and "analyzer" in reason and "test-analyzer-v999" in reason
    service = QAService(seed_db, seed_dir)
    try:
        assert service.rebuild_needed() == reason
        report = service.ensure_index()
    finally:
        service.close()
    assert report is not None and report.rebuilt
    assert "analyzer" in report.rebuilt and old_version in report.rebuilt
    assert "full rebuild" in report.summary()
    assert sorted(report.indexed) == sorted(before_docs)
    assert _meta(seed_db)["analyzer_version"] == "test-analyzer-v999"
    assert needs_rebuild(seed_db) is None
    assert QAService(seed_db, seed_dir).ensure_index() is None


def test_changed_bm25_parameters_are_applied_and_stored(tmp_path, seed_dir, seed_db):
    from retrieval.bm25 import BM25Params

    params = BM25Params(1.5, 0.75, 0.25)
    report = index_collection(seed_db, seed_dir, params=params)
    meta = _meta(seed_db)
    assert (float(meta["k1"]), float(meta["b"]), float(meta["epsilon"])) == (1.5, 0.75, 0.25)
    assert report.indexed == []  # no file was read again
    assert report.changed and "no changes" not in report.summary()
    assert "BM25 parameters changed (k1 0.9 b 0.2 epsilon 0.25 → k1 1.5 b 0.75 epsilon 0.25)" in (
        report.summary()
    )
    assert not index_collection(seed_db, seed_dir, params=params).changed
    store = Store(seed_db)
    try:
        assert store.snapshot().params == params
    finally:
        store.close()


def test_a_different_collection_folder_rebuilds(tmp_path, seed_dir, seed_db, write_corpus):
    other = write_corpus(tmp_path / "other", {"only.txt": GOOD})
    report = index_collection(seed_db, other)
    assert report.rebuilt and "collection" in report.rebuilt
    assert list(_documents(seed_db)) == ["only.txt"]



def test_a_store_kept_open_sees_a_rebuilt_index(tmp_path, seed_dir, seed_db, write_corpus):
    store = Store(seed_db)
    try:
        before = store.snapshot()
        assert Searcher(store).search("لافروف").results
        index_collection(seed_db, write_corpus(tmp_path / "other", {"only.txt": GOOD}))
        after = store.snapshot()
        assert after.generation > before.generation  # a rebuild never reuses a generation
        assert after.stats.n_passages < before.stats.n_passages
        assert not Searcher(store).search("لافروف").results
    finally:
        store.close()


# --- failures, kills, concurrent readers and writers ------------------------------------


@pytest.mark.parametrize("kind", ["update", "full-rebuild", "interrupt"])
def test_an_index_run_that_fails_halfway_leaves_the_old_index_answering(
    tmp_path, seed_dir, seed_db, monkeypatch, kind
):
    before = _answers(seed_db)
    before_meta, before_docs, before_terms = _meta(seed_db), _documents(seed_db), _terms(seed_db)
    for i in range(4):
        (seed_dir / f"new_{i}.txt").write_text(f"كلمةفريدة رقم {i}.\n" + GOOD, encoding="utf-8")
    changed = seed_dir / "001_29605565af34d15c.txt"
    changed.write_text("كلمةفريدة تحل محل المقال كله.", encoding="utf-8")
    _bump_mtime(changed)
    (seed_dir / "004_52c5d7abb1d2cf35.txt").unlink()
    if kind == "full-rebuild":
        monkeypatch.setattr(indexer, "ANALYZER_VERSION", "test-analyzer-v999")
    exc = KeyboardInterrupt() if kind == "interrupt" else None
    calls = _fail_on_call(monkeypatch, 3, exc)

    with pytest.raises(KeyboardInterrupt if kind == "interrupt" else RuntimeError):
        index_collection(seed_db, seed_dir)
    assert len(calls) == 3  # it really failed halfway

    assert _answers(seed_db) == before  # same generation, same answers
    assert _meta(seed_db) == before_meta
    assert _documents(seed_db) == before_docs
    assert _terms(seed_db) == before_terms
    if kind != "full-rebuild":
        assert needs_rebuild(seed_db) is None

    monkeypatch.undo()
    report = index_collection(seed_db, seed_dir)  # the next run completes normally
    assert len(report.indexed) == 5 and report.removed == ["004_52c5d7abb1d2cf35.txt"]
    generation, answers = _answers(seed_db, ["كلمةفريدة"])
    assert generation == before[0] + 1
    assert len(answers[0]["results"]) >= 3


KILL_SCRIPT = """
import os, signal, sys
import storage.analysis as analysis
import storage.indexer as ix
real, calls = analysis.split_paragraphs, []
def killed(text):
    calls.append(1)
    if len(calls) == 3:
        os.kill(os.getpid(), signal.SIGKILL)
    return real(text)
analysis.split_paragraphs = killed
ix.index_collection(sys.argv[1], sys.argv[2])
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_an_index_run_killed_halfway_leaves_the_old_index_answering(tmp_path, seed_dir, seed_db):
    before = _answers(seed_db)
    before_docs = _documents(seed_db)
    for i in range(4):
        (seed_dir / f"new_{i}.txt").write_text(f"كلمةفريدة رقم {i}.\n" + GOOD, encoding="utf-8")
    (seed_dir / "003_4d407a0bed6a0682.txt").unlink()
    done = subprocess.run(
        [sys.executable, "-c", KILL_SCRIPT, str(seed_db), str(seed_dir)],
        cwd=ROOT, capture_output=True, timeout=60,
    )
    assert done.returncode == -9, done.stderr.decode()
    conn = sqlite3.connect(seed_db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()
    assert _answers(seed_db) == before
    assert _documents(seed_db) == before_docs
    report = index_collection(seed_db, seed_dir)
    assert len(report.indexed) == 4 and report.removed == ["003_4d407a0bed6a0682.txt"]


def test_a_reader_opened_before_a_reindex_answers_during_and_after_it(
    tmp_path, seed_dir, seed_db, monkeypatch
):
    store = Store(seed_db)
    try:
        searcher = Searcher(store)
        before = [searcher.search(q).to_json() for q in QUESTIONS]
        generation = store.generation()
        (seed_dir / "new.txt").write_text("كلمةفريدة في ملف جديد.\n" + GOOD, encoding="utf-8")
        (seed_dir / "000_83998fafb468cc7d.txt").unlink()

        real = analysis.split_paragraphs
        during = []

        def split_and_ask(text):
            # The index run holds its write transaction here; the reader goes on.
            during.append(([searcher.search(q).to_json() for q in QUESTIONS], store.generation()))
            return real(text)

        monkeypatch.setattr(analysis, "split_paragraphs", split_and_ask)
        report = index_collection(seed_db, seed_dir)
        assert report.indexed == ["new.txt"]
        assert during and all(d == (before, generation) for d in during)

        after = searcher.search("كلمةفريدة")
        assert store.generation() == generation + 1
        assert after.results[0].source == "new.txt"
        lavrov = searcher.search("ماذا تتهم الولايات المتحدة كوريا الشمالية؟")
        assert all(r.source != "000_83998fafb468cc7d.txt" for r in lavrov.results)
    finally:
        store.close()


def test_a_second_concurrent_index_run_gets_index_busy_error(
    tmp_path, seed_dir, seed_db, monkeypatch
):
    real_connect = indexer.connect

    def impatient(path, **kwargs):  # the real connection, without the 30 s busy wait
        conn = real_connect(path, **kwargs)
        conn.execute("PRAGMA busy_timeout = 50")
        return conn

    monkeypatch.setattr(indexer, "connect", impatient)
    before = _answers(seed_db)
    (seed_dir / "new.txt").write_text("كلمةفريدة في ملف جديد.", encoding="utf-8")
    holder = connect(seed_db)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another index run is writing
        with pytest.raises(IndexBusyError, match="another index run"):
            index_collection(seed_db, seed_dir)
        holder.execute("ROLLBACK")
    finally:
        holder.close()
    assert _answers(seed_db) == before
    assert index_collection(seed_db, seed_dir).indexed == ["new.txt"]
