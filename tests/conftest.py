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
