"""OCR of scanned pages with Tesseract: words and paragraphs recovered from a real
rendered Arabic page, timeouts that leave no child behind, failures and install hints.

The page is rendered by `benchmarks.producers` (reportlab, Noto Naskh Arabic),
turned into an image-only PDF and rasterised at 200 dpi with pypdfium2, as the
PDF extractor does with a scanned file. Layout rules are also tested with a fake
`tesseract` (TESSERACT_CMD) that prints fixed hOCR, so they run everywhere.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from pathlib import Path

import pytest

from storage.formats import ExtractError
from storage.formats.ocr import ocr_image, ocr_version, unavailable

ROOT = Path(__file__).resolve().parent.parent
TASHKEEL = re.compile("[\u064b-\u0652\u0670\u0640]")  # harakat, superscript alef, tatweel


def words(text: str) -> Counter:
    """Bag of words without tashkeel and punctuation."""
    return Counter(re.findall(r"\w+", TASHKEEL.sub("", text)))


def word_f1(reference: str, found: str) -> float:
    """Bag-of-words F1 of `found` against `reference`."""
    ref, hyp = words(reference), words(found)
    common = sum((ref & hyp).values())
    if not common:
        return 0.0
    precision, recall = common / sum(hyp.values()), common / sum(ref.values())
    return 2 * precision * recall / (precision + recall)


def tesseract_children() -> list[str]:
    """Processes named tesseract* whose parent is this test process (zombies included)."""
    import os

    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        state, ppid = text[text.rindex(")") + 2 :].split()[:2]
        if int(ppid) == os.getpid() and name.startswith("tesseract"):
            found.append(f"{stat.parent.name} {name} {state}")
    return found


@pytest.fixture
def need_tesseract() -> None:
    reason = unavailable()
    if reason is not None:
        pytest.skip(reason)


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    """(title + paragraphs, image) of one scanned page of a seed article, 200 dpi."""
    reason = unavailable()
    if reason is not None:
        pytest.skip(reason)
    import pypdfium2

    from benchmarks.producers import Doc, ProducerUnavailable, pdf_reportlab, pdf_scanned

    lines = (ROOT / "seeds" / "000_83998fafb468cc7d.txt").read_text(encoding="utf-8").splitlines()
    paragraphs = [line.strip() for line in lines if len(line.split()) >= 20][:3]
    doc = Doc("زيارة وفد روسي إلى كوريا الشمالية", paragraphs)
    folder = tmp_path_factory.mktemp("ocr")
    try:
        text_pdf = pdf_reportlab(doc, folder / "page.pdf")
    except ProducerUnavailable as error:
        pytest.skip(str(error))
    scan = pdf_scanned(text_pdf, folder / "scan.pdf", dpi=200)
    pdf = pypdfium2.PdfDocument(str(scan))
    try:
        image = pdf.get_page(0).render(scale=200 / 72).to_pil()
    finally:
        pdf.close()
    return [doc.title, *paragraphs], image


@pytest.fixture(scope="module")
def page_ocr(page) -> list[str]:
    """The page read once by OCR (shared: it is the slow part)."""
    return ocr_image(page[1], timeout=60)


def test_ocr_recovers_most_words(page, page_ocr):
    # Measured 1.00 on this page, 0.96-0.99 on a full page of each seed article.
    source, _ = page
    assert word_f1("\n".join(source), "\n".join(page_ocr)) >= 0.9


def test_each_paragraph_is_one_string_in_reading_order(page, page_ocr):
    source, _ = page
    assert len(page_ocr) == len(source), page_ocr
    for wanted, got in zip(source, page_ocr):  # title first, then the paragraphs in order
        assert "\n" not in got
        assert word_f1(wanted, got) >= 0.85, (wanted, got)
    # Logical order: the paragraph begins with its first words, not its last.
    assert page_ocr[1].split()[:3] == source[1].split()[:3]


def test_timeout_raises_and_kills_tesseract(page):
    _, image = page
    started = time.monotonic()
    with pytest.raises(ExtractError, match=r"^OCR of a page took longer than 0\.05 s$"):
        ocr_image(image, timeout=0.05)
    assert time.monotonic() - started < 5
    assert tesseract_children() == []


def test_blank_page_gives_no_paragraphs(need_tesseract):
    from PIL import Image

    assert ocr_image(Image.new("L", (800, 600), 255), timeout=30) == []


def test_unavailable_when_binary_missing(tmp_path, monkeypatch):
    monkeypatch.setenv("TESSERACT_CMD", str(tmp_path / "no-such-tesseract"))
    reason = unavailable()
    assert reason is not None
    assert "apt-get install tesseract-ocr tesseract-ocr-ara" in reason
    assert "scanned pages are skipped" in reason
    assert ocr_version() == "tesseract not installed"
    from PIL import Image

    with pytest.raises(ExtractError, match="^OCR failed: "):
        ocr_image(Image.new("L", (50, 50), 255), timeout=5)


def test_unavailable_for_missing_language_and_installed(need_tesseract):
    assert unavailable() is None
    assert unavailable("zzz") is not None and "tesseract-ocr-zzz" in unavailable("zzz")
    assert re.match(r"^tesseract \d+\.\d+", ocr_version())


def test_wrong_input_is_refused():
    from PIL import Image

    with pytest.raises(TypeError):
        ocr_image(b"not an image", timeout=5)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        ocr_image(Image.new("L", (10, 10)), timeout=0)
    with pytest.raises(ValueError):
        ocr_image(Image.new("L", (10, 10)), timeout=5, lang="ara; rm -rf /")


# ------------------------------------------------- a fake tesseract printing fixed hOCR


def fake_tesseract(tmp_path: Path, monkeypatch, body: str) -> Path:
    """Point TESSERACT_CMD at a shell script with `body` (stdin already drained)."""
    script = tmp_path / "tesseract"
    script.write_text(f"#!/bin/sh\ncat > /dev/null\n{body}\n", encoding="utf-8")
    script.chmod(0o755)
    monkeypatch.setenv("TESSERACT_CMD", str(script))
    return script


def test_failure_reports_stderr_tail(tmp_path, monkeypatch):
    from PIL import Image

    fake_tesseract(tmp_path, monkeypatch, "echo 'Error: Failed loading language ara' >&2; exit 1")
    with pytest.raises(ExtractError, match="^OCR failed: Error: Failed loading language ara$"):
        ocr_image(Image.new("L", (50, 50), 255), timeout=5)


def hocr(blocks: list[list[list[tuple[str, tuple[int, int, int, int]]]]]) -> str:
    """Tesseract-like RTL hOCR: blocks of paragraphs of (line text, line bbox)."""
    out = ["<?xml version='1.0' encoding='UTF-8'?>",
           '<html xmlns="http://www.w3.org/1999/xhtml"><body>',
           "<div class='ocr_page' title='bbox 0 0 1700 2300'>"]
    for blk in blocks:
        out.append("<div class='ocr_carea' title='bbox 0 0 1 1'>")
        for par in blk:
            out.append("<p class='ocr_par' dir='rtl' lang='ara' title='bbox 0 0 1 1'>")
            for text, (left, top, right, bottom) in par:
                out.append(f"<span class='ocr_line' title='bbox {left} {top} {right} {bottom}; "
                           f"baseline 0 -8; x_size 40'>")
                words = text.split(" ")
                step = (right - left) // max(1, len(words))
                for i, word in enumerate(words):  # logical order, right to left
                    x1 = right - i * step
                    out.append(f"<span class='ocrx_word' title='bbox {x1 - step + 10} {top} "
                               f"{x1} {bottom}; x_wconf 90'>{word}</span>")
                out.append("</span>")
            out.append("</p>")
        out.append("</div>")
    out.append("</div></body></html>")
    return "\n".join(out)


FULL = "وقالت وزارة الدفاع الروسية إنها تلقت دعوة من نظيرتها الكورية الشمالية وستشارك في"
SHORT = "فعاليات يوم النصر."


def test_paragraphs_follow_the_page_layout_not_tesseract_blocks(tmp_path, monkeypatch):
    from PIL import Image

    def line(text: str, top: int, left: int = 200) -> tuple[str, tuple[int, int, int, int]]:
        return (text, (left, top, 1500, top + 40))

    page = hocr([
        [[line("—  .", 20, 1400)]],                          # a speck line: dropped
        [[line(FULL, 100), line(FULL, 160), line(SHORT, 220, 1200)]],
        # Tesseract starts a block after a full line at the usual pitch: same paragraph.
        [[line(FULL, 340)]],
        [[line(FULL, 400), line(SHORT, 460, 1200),
          # ... and keeps a paragraph going after a short line: a new one.
          line("ولم  تذكر وسائل الإعلام", 520), line(FULL, 580)],
         # A wider gap than usual after a full line: a new paragraph.
         [line(FULL, 700), line("12", 760, 1450)]],
    ])
    (tmp_path / "page.hocr").write_text(page, encoding="utf-8")
    env_file = tmp_path / "env.txt"
    fake_tesseract(tmp_path, monkeypatch,
                   f'echo "$OMP_THREAD_LIMIT" > "{env_file}"; cat "{tmp_path / "page.hocr"}"')

    got = ocr_image(Image.new("L", (1700, 2300), 255), timeout=5)

    assert got == [
        f"{FULL} {FULL} {SHORT}",
        f"{FULL} {FULL} {SHORT}",
        f"ولم تذكر وسائل الإعلام {FULL}",
        f"{FULL} 12",
    ]
    assert env_file.read_text().strip() == "1"  # OMP_THREAD_LIMIT=1 for the child


def test_columns_are_read_in_order_and_a_flowing_paragraph_joins(tmp_path, monkeypatch):
    from PIL import Image

    right_col = [(FULL, (900, 100, 1500, 140)), (FULL, (900, 160, 1500, 200))]
    left_col = [(SHORT, (500, 100, 800, 140))]  # continues the right column's paragraph
    page = hocr([[right_col], [left_col]])
    (tmp_path / "page.hocr").write_text(page, encoding="utf-8")
    fake_tesseract(tmp_path, monkeypatch, f'cat "{tmp_path / "page.hocr"}"')

    assert ocr_image(Image.new("L", (1700, 2300), 255), timeout=5) == [f"{FULL} {FULL} {SHORT}"]
