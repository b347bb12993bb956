"""The seed articles in every document format: extraction quality and answers per format.

    python -m benchmarks.documents [--eval-dir ../shared/eval] [--out benchmarks/out/documents]
                                   [--formats txt,reportlab,...] [--big-pages 500]

Renders the five seed articles with every producer of `benchmarks.producers` that is
installed here (PDF from reportlab + bidi, Chromium, LibreOffice, XeTeX, logical-order
presentation forms, a scanned PDF; DOCX; HTML with boilerplate around the article),
indexes each format alone and asks the `seeds_dev.jsonl` questions. Prints, per format:
hit@1 (the right file first) next to the `.txt` reference, answer visible@3, the share
of answers that carry a page, extraction word F1 against the rendered text, pages per
second. Then the time to index one `--big-pages`-page Arabic text PDF. Only the seeds
come from the repository; the questions come from `--eval-dir` (default
`../shared/eval`), and the benchmark says so and stops when they are missing.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from benchmarks import producers
from benchmarks.common import ROOT, DataMissing, Question, load_seeds_dev, word_f1
from benchmarks.producers import Doc, ProducerUnavailable
from retrieval.search import Searcher
from storage.analysis import usable_cpus
from storage.formats import Limits, extract, sniff
from storage.indexer import index_collection
from storage.store import Store

DEFAULT_EVAL_DIR = ROOT.parent / "shared" / "eval"
#: Reading as an index run of a few files does: OCR on every core.
READING = Limits(ocr_workers=min(usable_cpus(), 4))
DEFAULT_OUT = ROOT / "benchmarks" / "out" / "documents"
SEEDS = ROOT / "seeds"

@dataclass(frozen=True)
class Format:
    """One way of writing a seed article: a file ending and the function that writes it."""

    name: str
    suffix: str
    write: Callable[[Doc, Path], Path]
    paginated: bool


def _copy_text(doc: Doc, path: Path) -> Path:
    path.write_text("\n\n".join([doc.title, *doc.paragraphs]) + "\n", encoding="utf-8")
    return path


FORMATS = [
    Format("txt", ".txt", _copy_text, False),
    *(Format(name, ".pdf", make, True) for name, make in producers.ALL_PDF_PRODUCERS.items()),
    Format("docx", ".docx", lambda doc, path: producers.docx_python_docx(doc, path), False),
    Format("html", ".html", producers.html_with_boilerplate, False),
]


@dataclass
class FormatRow:
    """What one format gave."""

    name: str
    files: int = 0
    skipped: list[tuple[str, str]] | None = None
    hit1: int = 0
    visible: int = 0
    questions: int = 0
    with_page: int = 0
    results: int = 0
    precision: float = 0.0
    recall: float = 0.0
    f1: float = 0.0
    pages: int = 0
    ocr_pages: int = 0
    extract_seconds: float = 0.0
    index_seconds: float = 0.0
    unavailable: str | None = None


def seed_docs(seeds: Path = SEEDS) -> dict[str, Doc]:
    """Each seed article as a Doc, by file stem: its first line the title, each other line a
    paragraph — the paragraphs the `.txt` reader sees, so every format holds the same text."""
    docs = {}
    for path in sorted(seeds.glob("*.txt")):
        lines = [" ".join(line.split()) for line in path.read_text(encoding="utf-8").splitlines()]
        lines = [line for line in lines if line]
        if lines:
            docs[path.stem] = Doc(lines[0], lines[1:])
    return docs


def _stem(source: str) -> str:
    return source.rsplit("/", 1)[-1].rsplit(".", 1)[0]


def _new_store(out: Path, name: str) -> Path:
    """The path of a store `name` under `out`, with any store of an earlier run deleted."""
    for leftover in out.glob(f"{name}.sqlite3*"):
        leftover.unlink()
    return out / f"{name}.sqlite3"


def run_format(
    fmt: Format, docs: dict[str, Doc], questions: list[Question], out: Path
) -> FormatRow:
    """Render every seed in `fmt`, measure extraction, index the folder alone and ask."""
    row = FormatRow(fmt.name)
    folder = out / fmt.name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    sources, extracted = [], []
    for stem, doc in docs.items():
        try:
            path = fmt.write(doc, folder / f"{stem}{fmt.suffix}")
        except ProducerUnavailable as exc:
            row.unavailable = str(exc)
            return row
        data = path.read_bytes()
        started = time.perf_counter()
        document = extract(sniff(path.name, data), data, READING)
        row.extract_seconds += time.perf_counter() - started
        row.pages += document.pages or 0
        row.ocr_pages += document.ocr_pages
        sources.append("\n".join([doc.title, *doc.paragraphs]))
        extracted.append("\n".join(b.text for b in document.blocks))
    row.files = len(docs)
    row.precision, row.recall, row.f1 = word_f1("\n".join(sources), "\n".join(extracted))
    db = _new_store(out, fmt.name)
    started = time.perf_counter()
    report = index_collection(db, folder)
    row.index_seconds = time.perf_counter() - started
    row.skipped = report.skipped
    store = Store(db)
    try:
        searcher = Searcher(store, variants=True)
        for question in questions:
            answer = searcher.search(question.text, top=3)
            row.questions += 1
            gold = {_stem(g) for g in question.gold}
            if answer.results and _stem(answer.results[0].source) in gold:
                row.hit1 += 1
            if any(
                _stem(r.source) in gold and any(a in r.snippet for a in question.answers)
                for r in answer.results
            ):
                row.visible += 1
            row.results += len(answer.results)
            row.with_page += sum(r.page is not None for r in answer.results)
    finally:
        store.close()
    return row


def big_pdf(pages: int, docs: dict[str, Doc], out: Path) -> tuple[int, float, float, int]:
    """(pages, seconds to index, seconds to extract, paragraphs) of one long text PDF.

    The seed paragraphs repeated until the reportlab rendering has at least `pages` pages.
    """
    base = [p for doc in docs.values() for p in doc.paragraphs]
    folder = out / "big"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    copies = 1
    while True:
        path = producers.pdf_reportlab(Doc("تقرير طويل", base * copies), folder / "big.pdf")
        data = path.read_bytes()
        started = time.perf_counter()
        document = extract("pdf", data, Limits(max_pages=10 * pages))
        extract_seconds = time.perf_counter() - started
        got = document.pages or 1
        if got >= pages:
            break
        copies = max(copies + 1, int(copies * pages / got * 1.02) + 1)
    db = _new_store(out, "big")
    started = time.perf_counter()
    report = index_collection(db, folder, limits=Limits(max_pages=10 * pages))
    return got, time.perf_counter() - started, extract_seconds, report.paragraphs


def _pct(part: int, whole: int) -> str:
    return f"{part / whole:.0%}" if whole else "—"


def table(rows: list[FormatRow]) -> str:
    """The per-format table, in Markdown."""
    reference = next((r for r in rows if r.name == "txt"), None)
    lines = [
        "| format | hit@1 | visible@3 | answers with a page | word P / R / F1 | pages | pages/s"
        " (extraction) | index s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if r.unavailable:
            lines.append(f"| {r.name} | not run: {r.unavailable} |||||||")
            continue
        ref = f" (txt {reference.hit1})" if reference and r is not reference else ""
        per_second = r.pages / r.extract_seconds if r.pages and r.extract_seconds else 0.0
        rate = f"{per_second:.{1 if per_second < 10 else 0}f}" if per_second else "—"
        if r.ocr_pages:
            rate += f" (OCR, {r.ocr_pages} pages)"
        skipped = f"; skipped {len(r.skipped)}" if r.skipped else ""
        lines.append(
            f"| {r.name} | {r.hit1}/{r.questions}{ref} | {r.visible}/{r.questions} | "
            f"{_pct(r.with_page, r.results)} | {r.precision:.3f} / {r.recall:.3f} / {r.f1:.3f} | "
            f"{r.pages or '—'} | {rate} | {r.index_seconds:.2f}{skipped} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL_DIR)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--formats", help="comma-separated subset of: " +
                        ", ".join(f.name for f in FORMATS))
    parser.add_argument("--big-pages", type=int, default=500,
                        help="pages of the long text PDF to index (0: skip)")
    parser.add_argument("--json", action="store_true", help="also print the rows as JSON")
    args = parser.parse_args(argv)
    questions = load_seeds_dev(args.eval_dir)
    if not questions:
        print(
            f"documents: no seeds_dev.jsonl in {args.eval_dir} (pass --eval-dir)", file=sys.stderr
        )
        return 2
    wanted = set(args.formats.split(",")) if args.formats else None
    docs = seed_docs()
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for fmt in FORMATS:
        if wanted is None or fmt.name in wanted:
            rows.append(run_format(fmt, docs, questions, args.out))
            print(f"documents: {fmt.name} done", file=sys.stderr)
    print(table(rows))
    for r in rows:
        for path, reason in r.skipped or []:
            print(f"  {r.name}: skipped {path}: {reason}")
    if args.big_pages:
        pages, seconds, extract_seconds, paragraphs = big_pdf(args.big_pages, docs, args.out)
        print(
            f"\nOne {pages}-page Arabic text PDF (reportlab): indexed in {seconds:.1f} s "
            f"({paragraphs} paragraphs); extraction alone {extract_seconds:.1f} s = "
            f"{pages / extract_seconds:.0f} pages/s"
        )
    if args.json:
        print(json.dumps([r.__dict__ for r in rows], ensure_ascii=False))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except DataMissing as exc:
        print(f"documents: {exc}", file=sys.stderr)
        sys.exit(2)
