"""The question-answering service shared by the console, the CLI and Telegram.

It owns the store and the searcher, indexes the collection when needed and keeps
answering from the old index while a reindex runs.
"""

from __future__ import annotations

import logging
import shutil
import threading
from datetime import datetime, timezone
from pathlib import Path

from retrieval.rerank import load_default
from retrieval.search import Answer, Searcher
from retrieval.small_talk import small_talk
from storage.formats import Limits
from storage.indexer import (
    IndexReport,
    Progress,
    index_collection,
    indexed_corpus_dir,
    needs_rebuild,
    quarantine,
)
from storage.store import BrokenStoreError, SourceInfo, Store, StoreError

log = logging.getLogger(__name__)


class QAService:
    """Search, list sources and reindex one store."""

    def __init__(
        self,
        database_path: Path | str,
        corpus_dir: Path | str,
        *,
        variants: bool = False,
        rerank: bool = False,
        limits: Limits | None = None,
    ):
        self.database_path = Path(database_path)
        self.corpus_dir = Path(corpus_dir)
        self.variants = variants  # match other spellings of foreign names (retrieval/variants.py)
        # Reorder BM25's first candidates with the shipped model (retrieval/rerank.py); a
        # missing or broken model file logs one warning and leaves BM25 order.
        self.rerank = rerank
        self.limits = limits or Limits()  # what reading one PDF, Word file or web page may cost
        self._store: Store | None = None
        self._searcher: Searcher | None = None
        self._index_lock = threading.Lock()
        self.last_report: IndexReport | None = None  # of the last index run since start

    def ensure_index(
        self, progress: Progress | None = None, *, keep_collection: bool = False
    ) -> IndexReport | None:
        """Index the collection when the store is missing or built by another analyzer.

        With `keep_collection`, a store that exists is rebuilt from the folder it was
        built from (`index DIR` made that the collection), not from `corpus_dir`.
        """
        try:
            reason = self.rebuild_needed()
        except BrokenStoreError as exc:
            self._set_aside(exc)
            reason, keep_collection = "the store was broken", False
        if reason is None:
            return None
        stored = indexed_corpus_dir(self.database_path) if keep_collection else None
        if stored is not None and stored.is_dir():
            self.corpus_dir = stored
        log.info("indexing %s: %s", self.corpus_dir, reason)
        return self.reindex(progress)

    def rebuild_needed(self) -> str | None:
        """Why the store must be (re)built before answering, or None."""
        return needs_rebuild(self.database_path)

    def reindex(self, progress: Progress | None = None, corpus_dir: Path | str | None = None) -> IndexReport:
        """Bring the store up to date with the collection; searches go on meanwhile."""
        if corpus_dir is not None:
            self.corpus_dir = Path(corpus_dir)
        with self._index_lock:
            try:
                report = self._index(progress)
            except BrokenStoreError as exc:  # the files are the source of truth: rebuild
                self.close()
                self._set_aside(exc)
                report = self._index(progress)
            self.last_report = report
            return report

    def _index(self, progress: Progress | None) -> IndexReport:
        return index_collection(
            self.database_path, self.corpus_dir, progress=progress, limits=self.limits
        )

    def remove(self, source: str) -> tuple[Path, IndexReport]:
        """Take an indexed file out of the collection and the index.

        The file is moved, not deleted, to `removed/` beside the store (named with the
        time), so an admin's slip can be undone by moving it back; returns where it went.
        """
        path = self.source_file(source)
        if path is None:
            raise StoreError(f"not in the collection: {source}")
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        trash = self.database_path.parent / "removed"
        trash.mkdir(parents=True, exist_ok=True)
        target = trash / f"{stamp}-{path.name}"
        shutil.move(path, target)
        return target, self.reindex()

    def _set_aside(self, exc: BrokenStoreError) -> None:
        """Move a broken store aside (kept for inspection) so it can be rebuilt."""
        moved = quarantine(self.database_path)
        log.warning("%s; moved it to %s and rebuilding from %s", exc, moved, self.corpus_dir)

    @property
    def store(self) -> Store:
        """The store, opened on first use."""
        if self._store is None:
            self._store = Store(self.database_path)
            reranker = load_default() if self.rerank else None
            self._searcher = Searcher(self._store, variants=self.variants, reranker=reranker)
        return self._store

    @property
    def searcher(self) -> Searcher:
        """The searcher over the store, opened on first use."""
        self.store
        return self._searcher  # type: ignore[return-value]

    def ask(self, question: str, top: int = 3, offset: int = 0) -> Answer:
        """Answer one question; a greeting, thanks or goodbye is answered without a search."""
        kind = small_talk(question)
        if kind is not None:
            return Answer(query=question, small_talk=kind)
        return self.searcher.search(question, top=top, offset=offset)

    def source_file(self, source: str) -> Path | None:
        """The collection file a result comes from, or None when it is no longer there."""
        root = self.corpus_dir.resolve()
        path = (root / source).resolve()
        return path if path.is_relative_to(root) and path.is_file() else None

    def find_source(self, name: str) -> tuple[SourceInfo | None, list[SourceInfo]]:
        """The indexed file `name` names (its path, or a file name unique in the collection),
        else None and up to five files whose path contains it."""
        sources = self.sources()
        name = name.strip()
        exact = [s for s in sources if s.path == name] or [
            s for s in sources if s.path.rsplit("/", 1)[-1] == name
        ]
        if len(exact) == 1:
            return exact[0], []
        return None, [s for s in sources if name and name in s.path][:5]

    def sources(self) -> list[SourceInfo]:
        """The indexed files."""
        return self.store.sources()

    def counts(self) -> dict[str, int]:
        """Documents, paragraphs, passages and terms in the index."""
        return self.store.counts()

    def close(self) -> None:
        """Close the store."""
        if self._store is not None:
            self._store.close()
            self._store = self._searcher = None


__all__ = ["QAService", "StoreError"]
