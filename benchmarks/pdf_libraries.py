"""Which PDF library reads Arabic text best: word F1 per producer × library, and speed.

    python -m benchmarks.pdf_libraries [--seeds DIR] [--out DIR] [--speed PAGES] [--direction]

Every seed article (`seeds/*.txt`, each non-empty line a paragraph) is rendered by every
producer of `benchmarks.producers` that runs here (reportlab: visual-order presentation
forms; presentation_forms: logical-order ones; chromium, libreoffice, xetex: shaped
glyphs with ToUnicode maps). Each PDF is read by:

- `pdfium`, `pdfminer`, `pypdf`: the library's own plain-text output;
- `<lib>+repair`: that output through `arabic_text.repair_text` (forms folded, lines
  that read backwards reversed);
- `pdfminer+layout`: pdfminer's glyphs (LTChar boxes) through our layout code;
- `extract_pdf`: the project's extractor (PDFium glyphs + our layout).

Word F1: bag-of-words F1 between the source's words (title and paragraphs) and the
extracted words, both NFKC-normalised with tashkeel, kashida and punctuation removed
(so a word counts only when all its letters come out in the right order). "recall" is
the share of source words recovered exactly. `paras` is blocks / source paragraphs for
the extractors that make paragraphs. Speed: pages per second over all PDFs of the run;
`--speed N` also times `extract_pdf` on an N-page reportlab PDF (and Chromium's if it
is installed).

Measured on this machine (2 cores; `python -m benchmarks.pdf_libraries --speed 500`,
2026-12-04), mean over the 5 seeds, word F1:

    reader            reportlab  2 columns  forms    chromium  libreoffice  xetex
    pdfium            0.999      0.989      0.016    0.322     0.998        0.945
    pdfminer          0.017      0.016      1.000    0.015     0.015        0.016
    pypdf             0.992      0.982      0.010    0.994     0.986        0.046
    pdfium+repair     0.998      0.985      0.921    0.681     0.998        0.942
    pdfminer+repair   1.000      0.990      1.000    0.994     0.994        0.894
    pypdf+repair      0.992      0.982      0.989    0.994     0.986        0.044
    pdfminer+layout   1.000      0.996      1.000    0.965     0.972        0.754
    extract_pdf       1.000      0.996      1.000    0.999     0.999        0.998

Blocks per source paragraph, extract_pdf: 1.08-1.35. The extra blocks are the lines of
the seeds' long first lines, set as a centred title of several lines: each line ends
short, so each is its own block (indexed as the heading of the first paragraph). Pages/s
over these 52 pages: pdfium 407, pypdf 41, pdfminer 23, pdfminer+layout 29, extract_pdf
111; extract_pdf on 505 reportlab pages 4.3 s (117 pages/s), on 503 Chromium pages 6.2 s.
The decision is explained in `storage/formats/pdf.py`'s docstring.

`--direction` measures the reading-direction signal of `arabic_text.reversal_score`
(learned on arcd-train) on held-out text: arcd-test and XQuAD-ar, n-word groups
read forwards and backwards.

Exit status: 0 when measured, 3 when the seeds (or, for --direction, the eval files)
are missing.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.common import digest, word_f1
from benchmarks.documents import seed_docs
from benchmarks.producers import ALL_PDF_PRODUCERS, Doc, ProducerUnavailable, available

ROOT = Path(__file__).resolve().parent.parent
SEEDS_DIR = ROOT / "seeds"
OUT_DIR = ROOT / "benchmarks" / "out" / "pdf_libraries"
EVAL_DIR = ROOT.parent / "shared" / "eval"
#: Producers measured (scanned PDFs have no text layer: OCR is measured elsewhere).
PRODUCERS = ("reportlab", "reportlab_2col", "presentation_forms", "chromium", "libreoffice",
             "xetex")

def word_scores(source: str, extracted: str) -> tuple[float, float]:
    """(bag-of-words F1, recall) of `extracted` against `source`."""
    _, recall, f1 = word_f1(source, extracted)
    return f1, recall


# ---------------------------------------------------------------- readers


def read_pdfium(data: bytes) -> tuple[str, int]:
    """PDFium's plain text (all pages) and the page count."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(data)
    try:
        texts = []
        for page in pdf:
            textpage = page.get_textpage()
            texts.append(textpage.get_text_range())
            textpage.close()
            page.close()
        return "\n".join(texts), len(pdf)
    finally:
        pdf.close()


def read_pdfminer(data: bytes) -> tuple[str, int]:
    """pdfminer.six's `extract_text` and the page count."""
    from pdfminer.high_level import extract_text
    from pdfminer.pdfpage import PDFPage

    pages = sum(1 for _ in PDFPage.get_pages(io.BytesIO(data)))
    return extract_text(io.BytesIO(data)), pages


def read_pypdf(data: bytes) -> tuple[str, int]:
    """pypdf's `extract_text` of every page and the page count."""
    import pypdf

    reader = pypdf.PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages), len(reader.pages)


def read_pdfminer_layout(data: bytes) -> tuple[str, int, int]:
    """pdfminer's glyphs through the project's layout: (text, pages, paragraphs)."""
    from pdfminer.converter import PDFPageAggregator
    from pdfminer.layout import LTChar, LTContainer
    from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
    from pdfminer.pdfpage import PDFPage

    from storage.formats.pdf_layout import document_lines, paragraphs
    from storage.formats.pdf_lines import raw_lines

    manager = PDFResourceManager()
    device = PDFPageAggregator(manager, laparams=None)
    interpreter = PDFPageInterpreter(manager, device)
    pages = []
    for page in PDFPage.get_pages(io.BytesIO(data)):
        interpreter.process_page(page)
        layout = device.get_result()
        chars, stack = [], [layout]
        while stack:
            item = stack.pop()
            if isinstance(item, LTChar):
                chars.append(item)
            elif isinstance(item, LTContainer):
                stack.extend(reversed(list(item)))
        # word numbers from the PDF's own space glyphs when it has any, else geometry
        spaced = any(c.get_text().isspace() for c in chars)
        glyphs, word = [], 0
        for c in chars:
            if c.get_text().isspace():
                word += 1
                continue
            glyphs.append((c.get_text(), c.x0, c.x1, c.y0, c.y1, c.matrix[5], c.size,
                           c.matrix[4], word if spaced else -1, len(glyphs)))
        pages.append((raw_lines(glyphs), layout.height))
    blocks = paragraphs(document_lines(pages))
    return "\n".join(b.text for b in blocks), len(pages), len(blocks)


def read_extractor(data: bytes) -> tuple[str, int, int]:
    """The project's `extract_pdf`: (text, pages, paragraphs)."""
    from storage.formats import Limits
    from storage.formats.pdf import extract_pdf

    doc = extract_pdf(data, Limits(ocr=False))
    return "\n".join(b.text for b in doc.blocks), doc.pages or 0, len(doc.blocks)


def _with_repair(reader: Callable[[bytes], tuple[str, int]]):
    from storage.formats.arabic_text import repair_text

    def read(data: bytes) -> tuple[str, int]:
        text, pages = reader(data)
        return repair_text(text), pages
    return read


RAW_READERS = {"pdfium": read_pdfium, "pdfminer": read_pdfminer, "pypdf": read_pypdf}


def readers() -> dict[str, Callable]:
    """Every reader measured, by the name shown in the table."""
    out: dict[str, Callable] = dict(RAW_READERS)
    out.update({f"{name}+repair": _with_repair(r) for name, r in RAW_READERS.items()})
    out["pdfminer+layout"] = read_pdfminer_layout
    out["extract_pdf"] = read_extractor
    return out


# ---------------------------------------------------------------- running


def render_all(docs: dict[str, Doc], out: Path, producers: tuple[str, ...]) -> dict:
    """(producer, seed) → PDF path, rendering only what is not cached under `out`.

    A cached file is named after a digest of its document, so a changed seed is rendered again.
    """
    made = {}
    for name in producers:
        reason = available(name)
        if reason is not None:
            print(f"  {name}: skipped ({reason})", file=sys.stderr)
            continue
        folder = out / name
        folder.mkdir(parents=True, exist_ok=True)
        for seed, doc in docs.items():
            path = folder / f"{seed}-{digest(doc.title, *doc.paragraphs)}.pdf"
            if not path.exists():
                try:
                    ALL_PDF_PRODUCERS[name](doc, path)
                except (ProducerUnavailable, RuntimeError) as exc:
                    print(f"  {name}/{seed}: {exc}", file=sys.stderr)
                    continue
            made[(name, seed)] = path
    return made


def measure(docs: dict[str, Doc], pdfs: dict) -> tuple[dict, dict, dict]:
    """F1/recall per (producer, reader), paragraph ratio, and (pages, seconds) per reader."""
    scores: dict[tuple[str, str], list[tuple[float, float]]] = {}
    paras: dict[tuple[str, str], list[float]] = {}
    speed: dict[str, list[float]] = {}
    for reader_name, reader in readers().items():
        for (producer, seed), path in pdfs.items():
            doc = docs[seed]
            source = "\n".join([doc.title, *doc.paragraphs])
            data = path.read_bytes()
            started = time.perf_counter()
            result = reader(data)
            seconds = time.perf_counter() - started
            text, pages = result[0], result[1]
            scores.setdefault((producer, reader_name), []).append(word_scores(source, text))
            if len(result) > 2:
                paras.setdefault((producer, reader_name), []).append(
                    result[2] / (len(doc.paragraphs) + 1))
            total = speed.setdefault(reader_name, [0.0, 0.0])
            total[0] += pages
            total[1] += seconds
    return scores, paras, speed


def print_tables(scores: dict, paras: dict, speed: dict) -> None:
    """Word F1 (recall) per producer × reader, paragraphs, then pages per second."""
    producers = sorted({p for p, _ in scores}, key=PRODUCERS.index)
    names = list(readers())
    width = max(len(n) for n in names) + 2
    print("word F1 (exact-word recall), mean over seeds")
    print("reader".ljust(width) + "".join(p[:18].rjust(19) for p in producers))
    for name in names:
        cells = []
        for producer in producers:
            values = scores.get((producer, name), [])
            if values:
                f1 = sum(v[0] for v in values) / len(values)
                recall = sum(v[1] for v in values) / len(values)
                cells.append(f"{f1:.3f} ({recall:.3f})".rjust(19))
            else:
                cells.append("-".rjust(19))
        print(name.ljust(width) + "".join(cells))
    print("\nblocks / source paragraphs (1.00 = one block per paragraph)")
    for name in sorted({n for _, n in paras}, key=names.index):
        cells = []
        for producer in producers:
            values = paras.get((producer, name), [])
            cells.append((f"{sum(values) / len(values):.2f}" if values else "-").rjust(19))
        print(name.ljust(width) + "".join(cells))
    print("\npages/s over all PDFs")
    for name in names:
        pages, seconds = speed[name]
        print(f"{name.ljust(width)}{pages / seconds if seconds else 0:10.1f}  "
              f"({pages:.0f} pages, {seconds:.2f} s)")


def speed_test(docs: dict[str, Doc], pages: int, out: Path) -> None:
    """Time `extract_pdf` on a long PDF of the seeds repeated (reportlab, and Chromium)."""
    from storage.formats import Limits
    from storage.formats.pdf import extract_pdf

    paragraphs = [p for doc in docs.values() for p in doc.paragraphs]
    out.mkdir(parents=True, exist_ok=True)
    for name in ("reportlab", "chromium"):
        if available(name) is not None:
            continue
        path = out / f"long_{name}_{pages}.pdf"
        if not path.exists():
            reps, made = 1, 0
            while True:
                ALL_PDF_PRODUCERS[name](Doc("اختبار السرعة", paragraphs * reps), path)
                import pypdfium2 as pdfium
                made = len(pdfium.PdfDocument(str(path)))
                if made >= pages:
                    break
                reps = max(reps + 1, int(reps * pages / max(made, 1)) + 1)
        data = path.read_bytes()
        started, cpu = time.perf_counter(), time.process_time()
        doc = extract_pdf(data, Limits(ocr=False))
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        print(f"extract_pdf on {name} PDF: {doc.pages} pages, {len(doc.blocks)} blocks, "
              f"{seconds:.2f} s ({cpu:.2f} s CPU) = {doc.pages / seconds:.0f} pages/s")


def direction_test(eval_dir: Path) -> int:
    """Accuracy of `looks_reversed` on n-word groups of held-out text, both directions."""
    from storage.formats.arabic_text import reversal_score

    sets = {"arcd-test": eval_dir / "arcd-test.json", "XQuAD-ar": eval_dir / "xquad.ar.json"}
    missing = [str(p) for p in sets.values() if not p.is_file()]
    if missing:
        print(f"evaluation files not found: {', '.join(missing)}", file=sys.stderr)
        return 3
    arabic = re.compile("[\u0621-\u064a]+")
    print("n words  " + "  ".join(name.rjust(10) for name in sets))
    rows: dict[int, list[str]] = {}
    for name, path in sets.items():
        data = json.loads(path.read_text(encoding="utf-8"))
        contexts = [p["context"] for a in data["data"] for p in a["paragraphs"]]
        ws = [w for c in contexts for w in arabic.findall(_MARKS.sub("", c)) if len(w) >= 2]
        for n in (1, 3, 5, 8, 12):
            right = total = 0
            for i in range(0, len(ws) - n + 1, n):
                group = ws[i:i + n]
                right += reversal_score(" ".join(group)) <= 0
                right += reversal_score(" ".join(w[::-1] for w in group)) > 0
                total += 2
            rows.setdefault(n, []).append(f"{right / total:10.4f}")
    for n, cells in rows.items():
        print(f"{n:7d}  " + "  ".join(cells))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, render, measure, print."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.pdf_libraries",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=Path, default=SEEDS_DIR, help="folder of .txt seeds")
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="cache of rendered PDFs")
    parser.add_argument("--speed", type=int, default=0, metavar="PAGES",
                        help="also time extract_pdf on a PDF of this many pages")
    parser.add_argument("--direction", action="store_true",
                        help="only measure the reading-direction signal")
    parser.add_argument("--eval-dir", type=Path, default=EVAL_DIR)
    args = parser.parse_args(argv)
    if args.direction:
        return direction_test(args.eval_dir)
    docs = seed_docs(args.seeds)
    if not docs:
        print(f"no seed articles (*.txt) in {args.seeds}", file=sys.stderr)
        return 3
    pdfs = render_all(docs, args.out, PRODUCERS)
    scores, paras, speed = measure(docs, pdfs)
    print_tables(scores, paras, speed)
    if args.speed:
        speed_test(docs, args.speed, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
