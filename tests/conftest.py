"""Shared fixtures: a real SQLite store in tmp_path, built from the seed articles."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.service import QAService
from storage.indexer import index_collection
from storage.store import Store

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"


@pytest.fixture
def seed_dir(tmp_path: Path) -> Path:
    """A private copy of the seed collection (tests may change it)."""
    target = tmp_path / "corpus"
    shutil.copytree(SEEDS, target)
    return target


@pytest.fixture
def seed_db(tmp_path: Path, seed_dir: Path) -> Path:
    """A store indexed from the seed copy."""
    db = tmp_path / "data" / "bot.sqlite3"
    index_collection(db, seed_dir)
    return db


@pytest.fixture
def seed_store(seed_db: Path):
    """An open Store over the seed index."""
    store = Store(seed_db)
    yield store
    store.close()


@pytest.fixture
def seed_service(seed_db: Path, seed_dir: Path):
    """A QAService over the seed index."""
    service = QAService(seed_db, seed_dir)
    yield service
    service.close()


# --- shared helpers for the test-suite (fixtures returning functions) -----------------

import sqlite3  # noqa: E402

from retrieval.analyzer import analyze  # noqa: E402


def _passage_tokens(db: Path | str) -> tuple[list[int], list[list[str]]]:
    """Passage ids in id order and the tokens each is scored on: analyze(heading) +
    analyze(window text), recomputed from the stored rows."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            """SELECT s.id, s.start, s.end, p.heading, p.text FROM passages s
               JOIN paragraphs p ON p.id = s.paragraph_id ORDER BY s.id"""
        ).fetchall()
    finally:
        conn.close()
    ids = [row[0] for row in rows]
    tokens = [analyze(heading or "") + analyze(text[start:end]) for _, start, end, heading, text in rows]
    return ids, tokens


@pytest.fixture
def passage_tokens():
    """`passage_tokens(db)` → (passage ids, token lists) in passage-id order."""
    return _passage_tokens


def _write_corpus(root: Path, files: dict[str, str | bytes]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


@pytest.fixture
def write_corpus():
    """`write_corpus(dir, {relative path: text or bytes})` writes the files and returns dir."""
    return _write_corpus
