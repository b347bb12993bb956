"""Benchmark data: the QA sets and SaudiNewsNet written as collection folders.

Nothing here is copied into the repository: every folder is written under a work
directory (by default `benchmarks/out/`, which git ignores). Files are written only
when their content changed, so the incremental indexer sees a rebuilt folder as
unchanged and a cached store stays valid.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: The two SQuAD-layout sets of the protocol: (name shown in tables, file name).
QA_SETS = (("XQuAD-ar", "xquad.ar.json"), ("ARCD", "arcd.json"))
SEEDS_DEV = "seeds_dev.jsonl"


class DataMissing(Exception):
    """A data folder or file the benchmark needs is absent (message says which)."""


@dataclass(frozen=True)
class Question:
    """One evaluation question: its gold file(s) and accepted answer texts."""

    set_name: str
    text: str
    gold: frozenset[str]  # paths relative to the collection folder
    answers: tuple[str, ...]


@dataclass
class QASet:
    """A set's paragraph files (relative path → text) and its questions."""

    name: str
    files: dict[str, str]
    questions: list[Question]


def set_slug(name: str) -> str:
    """Folder name of a set: "XQuAD-ar" → "xquad-ar"."""
    return name.lower().replace(" ", "-")


def load_squad(path: Path, name: str, prefix: str = "") -> QASet:
    """Each distinct context of a SQuAD-layout file as its own file, with its questions.

    Files are named `<prefix><set>/p0001.txt` in order of first appearance; a context
    that occurs twice in the set is one file, the gold of the questions of both.
    """
    if not path.is_file():
        raise DataMissing(f"evaluation file not found: {path}")
    data = json.loads(path.read_text(encoding="utf-8"))
    folder = prefix + set_slug(name)
    file_of: dict[str, str] = {}
    files: dict[str, str] = {}
    questions: list[Question] = []
    for article in data["data"]:
        for paragraph in article["paragraphs"]:
            context = paragraph["context"].strip()
            rel = file_of.get(context)
            if rel is None:
                rel = file_of[context] = f"{folder}/p{len(file_of) + 1:04d}.txt"
                files[rel] = context + "\n"
            for qa in paragraph["qas"]:
                answers = tuple(dict.fromkeys(a["text"] for a in qa.get("answers", []) if a["text"].strip()))
                questions.append(Question(name, qa["question"], frozenset([rel]), answers))
    return QASet(name, files, questions)


def load_qa_sets(eval_dir: Path) -> list[QASet]:
    """XQuAD-ar and ARCD from `eval_dir`."""
    check_dir(eval_dir, "evaluation data")
    return [load_squad(eval_dir / fname, name) for name, fname in QA_SETS]


def load_seeds_dev(eval_dir: Path) -> list[Question]:
    """The seed questions (`q`, `source`, `answer` per line); [] when the file is absent."""
    path = eval_dir / SEEDS_DEV
    if not path.is_file():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            out.append(Question("seeds_dev", row["q"], frozenset([row["source"]]), (row["answer"],)))
    return out


def check_dir(path: Path, what: str) -> None:
    if not path.is_dir():
        raise DataMissing(f"{what} folder not found: {path}")


def saudinewsnet_articles(corpus_dir: Path) -> Iterator[tuple[str, str]]:
    """(relative path, "title\\n\\ncontent") for every SaudiNewsNet article, in a fixed order."""
    folder = corpus_dir / "saudinewsnet"
    check_dir(folder, "SaudiNewsNet corpus")
    zips = sorted(folder.glob("*.zip"))
    if not zips:
        raise DataMissing(f"no SaudiNewsNet ZIP files in {folder}")
    for zpath in zips:
        with zipfile.ZipFile(zpath) as archive:
            for member in sorted(archive.namelist()):
                if not member.endswith(".json"):
                    continue
                articles = json.loads(archive.read(member).decode("utf-8"))
                for i, article in enumerate(articles, start=1):
                    title = (article.get("title") or "").strip()
                    content = (article.get("content") or "").strip()
                    yield f"saudinewsnet/{zpath.stem}/a{i:05d}.txt", f"{title}\n\n{content}\n"


def write_files(folder: Path, files: Iterator[tuple[str, str]] | dict[str, str]) -> set[str]:
    """Write `files` under `folder`, touching only changed ones; remove stray `.txt` files.

    Returns the relative paths written (or kept).
    """
    items = files.items() if isinstance(files, dict) else files
    kept: set[str] = set()
    folder.mkdir(parents=True, exist_ok=True)
    for rel, text in items:
        path = folder / rel
        data = text.encode("utf-8")
        kept.add(rel)
        try:
            if path.stat().st_size == len(data) and path.read_bytes() == data:
                continue
        except FileNotFoundError:
            path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    for path in folder.rglob("*.txt"):
        if path.relative_to(folder).as_posix() not in kept:
            path.unlink()
    return kept


_MARKS = re.compile("[\u064b-\u065f\u0670\u0640\u06d6-\u06ed]")
_WORD = re.compile(r"\w+")


def words(text: str) -> list[str]:
    """Comparable words: NFKC, tashkeel and kashida removed, split on non-word characters."""
    return _WORD.findall(_MARKS.sub("", unicodedata.normalize("NFKC", text)))


def word_f1(source: str, extracted: str) -> tuple[float, float, float]:
    """(precision, recall, F1) of the extracted words against the source's, as multisets.

    Recall is the share of the source's words recovered exactly (all letters, in order).
    """
    want, got = Counter(words(source)), Counter(words(extracted))
    hit = sum((want & got).values())
    if not hit:
        return 0.0, 0.0, 0.0
    precision, recall = hit / sum(got.values()), hit / sum(want.values())
    return precision, recall, 2 * precision * recall / (precision + recall)


def digest(*parts: str) -> str:
    """A short stable hash of some strings (for cache keys)."""
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()[:12]
