"""Shared fixtures: a real SQLite store in tmp_path, built from the seed articles.

Also a session-wide check: no bot token in any log line of the whole run (see
`TokenWatch` at the end).
"""

from __future__ import annotations

import logging
import shutil
import subprocess
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

import re  # noqa: E402
import sqlite3  # noqa: E402

from retrieval.analyzer import analyze, analyze_spans  # noqa: E402
from retrieval.snippets import ELLIPSIS, SNIPPET_CHARS  # noqa: E402


def sqlite_rows(path: Path, sql: str) -> list[tuple]:
    """Read a SQLite file with a connection of its own (what another process would see)."""
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


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


def _check_snippet(text: str, snippet, weights) -> str:
    """Check every promise of a snippet of paragraph `text` (plain text, ≤ 300 characters
    plus «…» where cut, cut between words, highlights = the words of the snippet whose
    term is a query term); return its body without the ellipses."""
    body = snippet.text
    prefix = body.startswith(ELLIPSIS + " ")
    suffix = body.endswith(" " + ELLIPSIS)
    core = body[2 if prefix else 0 : len(body) - (2 if suffix else 0)]
    assert core and core == core.strip()
    assert len(core) <= SNIPPET_CHARS
    start = text.find(core)
    assert start >= 0, "the snippet is a piece of the paragraph"
    end = start + len(core)
    assert prefix == (start > 0), "«…» exactly where the start was cut"
    assert suffix == (end < len(text)), "«…» exactly where the end was cut"
    if start > 0:
        assert not re.match(r"\w\w", text[start - 1 : start + 1]), "cut inside a word"
    if end < len(text):
        assert not re.match(r"\w\w", text[end - 1 : end + 1]), "cut inside a word"
    expected = [(s, e) for s, e, t in analyze_spans(body) if t is not None and t in weights]
    assert [tuple(h) for h in snippet.highlights] == expected
    for s, e in snippet.highlights:
        assert set(analyze(body[s:e])) & set(weights)
    return core


@pytest.fixture
def check_snippet():
    """`check_snippet(paragraph text, snippet, query weights)` → the snippet's body."""
    return _check_snippet


# --- Telegram Bot API emulator (tests/telegram_emulator.py) ---------------------------


@pytest.fixture
def telegram_emulator():
    """A running Bot API emulator on 127.0.0.1 (a free port), stopped after the test."""
    from tests.telegram_emulator import TelegramEmulator

    with TelegramEmulator() as emulator:
        yield emulator


@pytest.fixture(scope="session")
def shared_seed_db(tmp_path_factory) -> Path:
    """A seed index built once per session, for tests that only read (never change it)."""
    root = tmp_path_factory.mktemp("shared-seeds")
    shutil.copytree(SEEDS, root / "corpus")
    db = root / "bot.sqlite3"
    index_collection(db, root / "corpus")
    return db


@pytest.fixture(scope="session")
def shared_seed_store(shared_seed_db: Path):
    """An open Store over the shared seed index (read only)."""
    store = Store(shared_seed_db)
    yield store
    store.close()


# --- the token never appears in a log line of the whole run ----------------------------

#: A bot token (id:secret), or a secret alone (Telegram's start with "AA", 35 characters).
TOKEN_SHAPE = re.compile(r"\d{3,}:[A-Za-z0-9_-]{30,}|(?<![\w-])AA[A-Za-z0-9_-]{33}(?![\w-])")
#: Loggers of the Bot API emulator, which plays Telegram: tokens in its request paths are its own.
EMULATOR_LOGGERS = ("aiohttp.access", "aiohttp.server", "aiohttp.web")


class TokenWatch(logging.Handler):
    """Sees every log record of the session (and subprocess outputs); keeps those with a token."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.leaks: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if not record.name.startswith(EMULATOR_LOGGERS):
            self.check(f"log record of {record.name}", self.format(record))

    def check(self, where: str, text: str | bytes | None) -> None:
        """Keep `text` as a leak when it shows a token."""
        if isinstance(text, bytes):
            text = text.decode("utf-8", errors="replace")
        match = TOKEN_SHAPE.search(text or "")
        if match:
            line = next(ln for ln in text.splitlines() if match.group(0) in ln)
            self.leaks.append(f"{where}: {line[:300]}")


TOKEN_WATCH = TokenWatch()
_communicate = subprocess.Popen.communicate


def _watched_communicate(self: subprocess.Popen, *args, **kwargs):
    """Popen.communicate (so subprocess.run) that shows what the child wrote to TOKEN_WATCH."""
    out, err = _communicate(self, *args, **kwargs)
    TOKEN_WATCH.check(f"output of {self.args!r}"[:200], out)
    TOKEN_WATCH.check(f"stderr of {self.args!r}"[:200], err)
    return out, err


def pytest_configure(config: pytest.Config) -> None:
    """Watch every log record at the bot's level (INFO) and every captured subprocess output."""
    root = logging.getLogger()
    root.addHandler(TOKEN_WATCH)
    root.setLevel(logging.INFO)
    subprocess.Popen.communicate = _watched_communicate


@pytest.fixture(scope="session", autouse=True)
def _log_files_are_watched(tmp_path_factory: pytest.TempPathFactory):
    """At the end, also read the log files the tests' processes wrote (e.g. the e2e bot's)."""
    yield
    for path in sorted(tmp_path_factory.getbasetemp().rglob("*.log")):
        TOKEN_WATCH.check(str(path), path.read_bytes())


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run when a token reached a log line, naming where."""
    if TOKEN_WATCH.leaks:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        reporter.write_sep("=", "a bot token appeared in the logs", red=True)
        for leak in TOKEN_WATCH.leaks:
            reporter.write_line(leak)
