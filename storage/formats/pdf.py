"""Read a PDF's text layer (PDFium) into paragraphs with their page; OCR pages without one.

    doc = extract_pdf(path.read_bytes(), Limits())   # ExtractError(reason) when unreadable

Library: pypdfium2 (PDFium; Apache-2.0/BSD-3), chosen by `benchmarks/pdf_libraries.py`
(5 seed articles × 6 producers; its docstring and docs/benchmarks.md have the table): word F1
with this module 0.996-1.000 on every producer, each library's own text 0.01-0.999.

No library is right on its own: PDFium reorders Arabic itself and gets Chromium's PDFs
wrong (it flips some words and not others), pdfminer gives visual order, pypdf loses
XeTeX's spaces. String repair of pdfminer's text is good but pdfminer reads 16-26
pages/s (a 500-page PDF would take 20-30 s); PDFium gives every glyph's box, pen
position and baseline at C speed (about 70-110 pages/s for the whole extraction here,
500 pages in 5-8 s of CPU). So the page is laid out here from PDFium's glyphs
(`pdf_glyphs`: reading them; `pdf_lines`: one line; `pdf_layout`: the rest):

1. glyphs (turned upright by the page's /Rotate) → lines by baseline (`raw_lines`);
   a vertical gutter with no text splits two columns, read right column first (left
   first on mostly-Latin pages) (`find_gutter`);
2. a line's glyphs in visual order by pen position, whatever the content stream's
   order; spaces from PDFium's word boundaries checked against the gaps; the visual
   order turned into reading order (`arabic_text.visual_to_logical`: RTL runs
   reversed, Latin and digits left to right, a ligature glyph's letters kept whole and
   in order; backwards bracket and quote pairs swapped back) (`build_line`); a page
   whose Arabic then reads backwards (`arabic_text.reversal_score`: glyphs drawn in
   reading order, as the "presentation_forms" producer does) is read again as drawn;
3. presentation forms folded, kashida / soft hyphens / bidi controls dropped (`clean`);
4. running headers, footers and page numbers (same text, digits aside, among the two
   outermost lines in the top or bottom `BAND` of at least half the pages) dropped
   (`running_lines`);
5. lines joined into paragraphs by layout (`_starts_paragraph`), also across a page or
   column break when the text runs on; a block keeps the page it starts on;
6. pages without a text layer that draw something are rasterised and read by OCR
   (`storage.formats.ocr`); blank pages are skipped.
"""

from __future__ import annotations

import io
import re
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor

from storage.formats import Block, Extracted, ExtractError, Limits, sandbox
from storage.formats.arabic_text import clean
from storage.formats.pdf_glyphs import has_text, read_glyphs, upright
from storage.formats.pdf_layout import RawPage, document_lines, paragraphs
from storage.formats.pdf_lines import raw_lines

#: A page is rasterised for OCR at `Limits.ocr_dpi`, but never beyond this many pixels
#: (a poster-sized page would otherwise need gigabytes).
OCR_MAX_PIXELS = 50_000_000
#: A running header or footer on OCR'd pages is at most this long.
RUNNING_MAX_CHARS = 100
_MEANINGLESS_TITLE = re.compile(
    r"(?i)^(untitled|document\d*|microsoft word - .*|.*\.(docx?|odt|rtf|txt|pdf|html?|tex)|"
    r"(scan(ned)?|img|image)[\W_\d]*(document|image|page)?[\W_\d]*|"  # what scanners write
    r"[\W_\d]*)$"
)
_PDFIUM_ERRORS = {1: "unknown error", 2: "file not found or unreadable",
                  3: "not a valid PDF structure",
                  5: "unsupported security handler", 6: "page not found"}


def _open(data: bytes):
    """The PDFium document, or ExtractError with why it cannot be opened."""
    import pypdfium2 as pdfium

    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        code = getattr(exc, "err_code", None)
    # PDFium's error code can be left over from an earlier document (a PDF without
    # pages fails with "success"): pypdf tells what the file really is.
    diagnosis = _diagnose(data)
    if diagnosis:
        raise ExtractError(diagnosis) from None
    if code == 5:
        raise ExtractError("encrypted PDF (unsupported security handler)") from None
    raise ExtractError(f"damaged PDF: {_PDFIUM_ERRORS.get(code, 'cannot be parsed')}") from None


def _diagnose(data: bytes) -> str | None:
    """"encrypted ..." or "PDF has no pages" when pypdf can tell, else None."""
    import logging

    import pypdf

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            return "encrypted PDF (password needed)"
        if len(reader.pages) == 0:
            return "PDF has no pages"
    except Exception:  # noqa: BLE001 - any pypdf failure: the file is damaged
        return None
    return None


def _title(pdf) -> str:
    """The document's /Title when it is a real title, else ""."""
    try:
        title = (pdf.get_metadata_value("Title") or "").strip()
    except Exception:  # noqa: BLE001 - a broken info dictionary is no title
        return ""
    title = " ".join(clean(title).split())
    return "" if _MEANINGLESS_TITLE.match(title) else title


def extract_pdf(data: bytes, limits: Limits) -> Extracted:
    """Paragraphs of a PDF in reading order with their 1-based page; OCR for image pages."""
    if not data.startswith(b"%PDF") and b"%PDF" not in data[:1024]:
        raise ExtractError("damaged PDF: no PDF header")
    pdf = _open(data)
    try:
        count = len(pdf)
        if count == 0:
            raise ExtractError("PDF has no pages")
        if count > limits.max_pages:
            raise ExtractError(f"too many pages ({count}, limit {limits.max_pages})")
        return _extract(pdf, count, limits)
    finally:
        pdf.close()


def _extract(pdf, count: int, limits: Limits) -> Extracted:
    """The blocks of an open PDF of `count` pages (text layer, then OCR), with notes."""
    result = Extracted(format="pdf", blocks=[], title=_title(pdf), pages=count)
    pages, no_text, broken = _read_pages(pdf, count)
    if len(broken) == count:
        raise ExtractError("damaged PDF: no page can be read")
    lines = document_lines(pages)
    blocks = paragraphs(lines)
    if no_text:
        blocks = _merge_by_page(blocks, _ocr_pages(pdf, no_text, limits, result, bool(lines)))
    if broken:
        result.notes.append(f"{len(broken)} damaged page(s) skipped: {_pages_list(broken)}")
    if not blocks and not no_text:
        raise ExtractError("PDF has no text (blank pages)")
    result.blocks = blocks
    return result


def _read_pages(pdf, count: int) -> tuple[list[RawPage], list[int], list[int]]:
    """Each page's (raw lines, height); 0-based pages to OCR; 1-based unreadable pages.

    A page to OCR draws something but has no text layer; an unreadable page counts as
    an empty page of height 1.
    """
    import pypdfium2 as pdfium

    pages: list[RawPage] = []
    no_text: list[int] = []
    broken: list[int] = []
    for index in range(count):
        try:
            page = pdf[index]
        except pdfium.PdfiumError:
            broken.append(index + 1)
            pages.append(([], 1.0))
            continue
        try:
            textpage = page.get_textpage()
            try:
                glyphs = read_glyphs(textpage)
            finally:
                textpage.close()
            height = page.get_height()
            rotation = page.get_rotation()
            if rotation:
                glyphs = upright(glyphs, rotation, page.get_width(), height)
            if not has_text(glyphs):
                glyphs = []
                if _draws_something(page):
                    no_text.append(index)
        finally:
            page.close()
        pages.append((raw_lines(glyphs), height))
    return pages, no_text, broken


def _draws_something(page) -> bool:
    """True when a page without text still draws something (a scan, outlined text)."""
    import pypdfium2.raw as raw

    return raw.FPDFPage_CountObjects(page.raw) > 0


def _pages_list(pages: list[int]) -> str:
    """Page numbers for a note: the first ten, then "..."."""
    shown = ", ".join(str(p) for p in pages[:10])
    return shown + (", ..." if len(pages) > 10 else "")


def _ocr_unavailable(limits: Limits) -> str | None:
    """Why pages cannot be read by OCR here, or None when they can."""
    if not limits.ocr:
        return "OCR is turned off"
    try:
        from storage.formats import ocr
    except ImportError:
        return "OCR support is not installed"
    return ocr.unavailable()


def _render(pdf, index: int, limits: Limits):
    """Page `index` as an image for OCR: `limits.ocr_dpi`, at most `OCR_MAX_PIXELS`."""
    page = pdf[index]
    try:
        width, height = page.get_size()
        scale = min(limits.ocr_dpi / 72, (OCR_MAX_PIXELS / max(width * height, 1)) ** 0.5)
        return page.render(scale=scale).to_pil()
    finally:
        page.close()


def _ocr_pages(pdf, indexes: list[int], limits: Limits, result: Extracted,
               has_text_pages: bool) -> list[Block]:
    """OCR the pages without a text layer (or say why not); fills the OCR counters.

    Raises ExtractError when no page of the PDF has text and OCR cannot run (the reason
    says how to enable it) or fails on every page; otherwise failures become notes.
    """
    numbers = [i + 1 for i in indexes]
    reason = _ocr_unavailable(limits)
    if reason is not None:
        if not has_text_pages:
            raise ExtractError(f"no text layer (scanned PDF?) and no OCR: {reason}")
        result.notes.append(f"{len(numbers)} page(s) without text layer not read "
                            f"({reason}): {_pages_list(numbers)}")
        return []
    from storage.formats import ocr

    blocks: list[Block] = []
    failed: list[tuple[int, str]] = []
    started = time.monotonic()

    def read(image) -> list[str]:
        try:
            return ocr.ocr_image(image, timeout=limits.ocr_page_seconds)
        finally:
            image.close()

    # Pages are rendered one by one (PDFium is not thread-safe) and read by up to
    # `ocr_workers` Tesseract processes at once, a few pages ahead at most.
    pending: deque[tuple[int, Future[list[str]]]] = deque()
    try:
        with ThreadPoolExecutor(max_workers=max(1, limits.ocr_workers)) as pool:
            for position, index in enumerate(indexes):
                pending.append((index, pool.submit(read, _render(pdf, index, limits))))
                while pending and (
                    len(pending) > 2 * limits.ocr_workers or position == len(indexes) - 1
                ):
                    page, future = pending.popleft()
                    try:
                        texts = future.result()
                    except ExtractError as exc:
                        failed.append((page + 1, str(exc)))
                        continue
                    finally:
                        sandbox.page_done()  # the file's deadline does not count OCR'd pages
                    result.ocr_pages += 1
                    for text in texts:
                        text = " ".join(clean(text).split())
                        if text:
                            blocks.append(Block(text, page=page + 1))
    finally:
        result.ocr_seconds += time.monotonic() - started
    blocks = _without_running_ocr_lines(blocks)
    if failed:
        if len(failed) == len(indexes) and not has_text_pages:
            raise ExtractError(f"OCR failed: {failed[0][1]}")
        result.notes.append(f"OCR failed on {len(failed)} page(s) "
                            f"({failed[0][1]}): {_pages_list([n for n, _ in failed])}")
    return blocks


_DIGITS = re.compile(r"[\d\u0660-\u0669\u06f0-\u06f9]+")
_PAGE_NUMBER = re.compile(r"^[\W\d\u0660-\u0669\u06f0-\u06f9]*$")


def _without_running_ocr_lines(blocks: list[Block]) -> list[Block]:
    """OCR'd blocks without page numbers and running headers/footers.

    A block of digits and punctuation only is a page number; a page's first or last block
    whose text (digits aside) is a page's first or last block on at least half of the
    OCR'd pages (two at least) is a running header or footer, if it is short.
    """
    blocks = [b for b in blocks if not _PAGE_NUMBER.match(b.text)]
    pages: dict[int | None, list[Block]] = {}
    for block in blocks:
        pages.setdefault(block.page, []).append(block)
    edges: dict[str, int] = {}
    for page_blocks in pages.values():
        ends = (page_blocks[0], page_blocks[-1])
        for key in {_DIGITS.sub("#", b.text) for b in ends if len(b.text) <= RUNNING_MAX_CHARS}:
            edges[key] = edges.get(key, 0) + 1
    running = {k for k, n in edges.items() if n >= 2 and n * 2 >= len(pages)}
    if not running:
        return blocks
    kept = []
    for page_blocks in pages.values():
        last = len(page_blocks) - 1
        kept += [
            b for i, b in enumerate(page_blocks)
            if not (i in (0, last) and _DIGITS.sub("#", b.text) in running)
        ]
    return kept


def _merge_by_page(text_blocks: list[Block], ocr_blocks: list[Block]) -> list[Block]:
    """Both lists in page order (each list is already in reading order)."""
    merged = text_blocks + ocr_blocks
    merged.sort(key=lambda b: b.page or 0)  # stable: order inside a page is kept
    return merged
