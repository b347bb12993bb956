"""The store survives what operators and machines do to it: broken files, kills, no disk."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.service import QAService
from storage import indexer
from storage.indexer import index_collection, needs_rebuild
from storage.store import BrokenStoreError, Store, StoreError

from tests.conftest import ROOT

QUESTIONS = [
    "متى تبدأ زيارة لافروف؟",
    "من هي وزيرة خارجية كوريا الشمالية؟",
    "أين عقد لقاء لافروف وروبيو؟",
    "ما الصواريخ التي أرسلها كيم لمساعدة روسيا؟",
]


def _answers(db: Path, corpus: Path) -> list[list[tuple[str, int, float]]]:
    service = QAService(db, corpus)
    try:
        return [
            [(r.source, r.paragraph, round(r.score, 9)) for r in service.ask(q, top=5).results]
            for q in QUESTIONS
        ]
    finally:
        service.close()


@pytest.mark.parametrize(
    ("damage", "kept_aside"),
    [
        pytest.param(lambda p: p.write_bytes(b"not a database" * 100), True, id="garbage"),
        pytest.param(lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 3]), True, id="truncated"),
        pytest.param(lambda p: p.write_bytes(b""), False, id="empty-file"),
        pytest.param(lambda p: p.unlink(), False, id="missing"),
    ],
)
def test_damaged_store_is_detected_and_rebuilt_from_the_collection(
    tmp_path, seed_dir, damage, kept_aside, caplog
):
    db = tmp_path / "data" / "bot.sqlite3"
    index_collection(db, seed_dir)
    expected = _answers(db, seed_dir)
    for side in ("-wal", "-shm"):  # a copied or restored file comes without them
        Path(f"{db}{side}").unlink(missing_ok=True)
    damage(db)

    service = QAService(db, seed_dir)
    try:
        report = service.ensure_index()
    finally:
        service.close()

    assert report is not None and len(report.indexed) == 5
    assert _answers(db, seed_dir) == expected
    broken = [p for p in db.parent.glob("bot.sqlite3.broken-*") if not p.name.endswith(("-wal", "-shm"))]
    assert len(broken) == kept_aside  # a damaged file is kept for inspection, not deleted
    if kept_aside:
        assert "moved it to" in caplog.text  # and the operator is told what happened


def test_index_command_rebuilds_a_garbage_store(tmp_path, seed_dir):
    db = tmp_path / "data" / "bot.sqlite3"
    db.parent.mkdir()
    db.write_bytes(b"garbage" * 1000)
    env = {**os.environ, "DATABASE_PATH": str(db), "CORPUS_DIR": str(seed_dir)}
    run = subprocess.run(
        [sys.executable, "-m", "bot", "index"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    assert "not a usable index" in run.stderr and "rebuilding" in run.stderr
    assert "files indexed: 5" in run.stdout


def test_garbage_store_is_reported_as_broken(tmp_path):
    db = tmp_path / "bot.sqlite3"
    db.write_bytes(os.urandom(8192))
    with pytest.raises(BrokenStoreError, match="not a usable index"):
        needs_rebuild(db)
    with pytest.raises(StoreError):
        Store(db)


@pytest.fixture
def read_only_folder(tmp_path):
    """A folder nobody can write to, root included (immutable where chattr works)."""
    folder = tmp_path / "ro"
    folder.mkdir()
    if os.geteuid() != 0:
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)
        return
    if subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode != 0:
        pytest.skip("root, and chattr +i is not available to make a read-only folder")
    yield folder
    subprocess.run(["chattr", "-i", str(folder)], check=True)


def test_read_only_data_folder_gives_a_clear_error(read_only_folder, seed_dir):
    with pytest.raises(StoreError, match="read-only"):
        index_collection(read_only_folder / "bot.sqlite3", seed_dir)


def test_full_disk_gives_a_clear_error_and_keeps_the_old_index(tmp_path, seed_dir, monkeypatch):
    db = tmp_path / "data" / "bot.sqlite3"
    index_collection(db, seed_dir)
    expected = _answers(db, seed_dir)
    (seed_dir / "big.txt").write_text("\n".join(["كلمة جديدة أخرى"] * 5000), encoding="utf-8")

    real_connect = indexer.connect

    def small_disk(path):
        conn = real_connect(path)
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages + 2}")  # SQLite: "database or disk is full"
        return conn

    monkeypatch.setattr(indexer, "connect", small_disk)
    with pytest.raises(StoreError, match="full"):
        index_collection(db, seed_dir)
    monkeypatch.undo()
    assert _answers(db, seed_dir) == expected


def test_unwritable_data_folder_gives_a_clear_error(tmp_path, seed_dir):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the data folder should be")
    with pytest.raises(StoreError, match="data folder"):
        index_collection(blocker / "data" / "bot.sqlite3", seed_dir)


def test_killed_indexer_leaves_the_previous_index_answering(tmp_path, seed_dir):
    """kill -9 a reindex at 20 random moments: every time the old index answers as before."""
    db = tmp_path / "data" / "bot.sqlite3"
    index_collection(db, seed_dir)
    expected = _answers(db, seed_dir)
    baseline = db.read_bytes()  # every connection is closed: the WAL has been checkpointed

    # Give the next run real work: many new files and a changed seed.
    rng = random.Random(5)
    words = (seed_dir / "001_29605565af34d15c.txt").read_text(encoding="utf-8").split()
    extra = seed_dir / "extra"
    extra.mkdir()
    for i in range(400):
        paragraphs = [" ".join(rng.choices(words, k=rng.randint(20, 80))) for _ in range(4)]
        (extra / f"doc{i:03d}.txt").write_text("\n".join(paragraphs), encoding="utf-8")
    seed = seed_dir / "000_83998fafb468cc7d.txt"
    seed.write_text(seed.read_text(encoding="utf-8") + "\nفقرة جديدة عن لافروف.", encoding="utf-8")

    env = {**os.environ, "DATABASE_PATH": str(db), "CORPUS_DIR": str(seed_dir)}
    command = [sys.executable, "-m", "bot", "index", str(seed_dir)]

    def start() -> subprocess.Popen:
        return subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    # How long an uninterrupted run takes here, to spread the kills over it.
    probe_db = tmp_path / "probe" / "bot.sqlite3"
    began = time.monotonic()
    subprocess.run(
        command, cwd=ROOT, env={**env, "DATABASE_PATH": str(probe_db)}, check=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    duration = time.monotonic() - began
    completed = _answers(probe_db, seed_dir)
    assert completed != expected

    kills = 0
    while kills < 20:
        process = start()
        time.sleep(rng.uniform(0.1, 0.95) * duration)
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert needs_rebuild(db) is None
        answers = _answers(db, seed_dir)
        if answers == completed:  # it committed before the kill: restore the old index
            for side in ("-wal", "-shm"):
                Path(f"{db}{side}").unlink(missing_ok=True)
            db.write_bytes(baseline)
            continue
        assert answers == expected  # never anything in between
        kills += 1
