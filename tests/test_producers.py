"""The document producers of `benchmarks.producers` make real, well-formed files.

PDFs are opened with pypdfium2 (pages, A4 size, text objects) and pdfminer (the raw
characters of the text layer); DOCX with python-docx and its XML; HTML with the
standard parser. Renderers that are not installed make their test skip with what to
install; chromium / soffice / xelatex render once per session.
"""

from __future__ import annotations

import re
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import pytest

from benchmarks import producers as P

pdfium = pytest.importorskip("pypdfium2", reason="pip install pypdfium2")
pdfium_c = pytest.importorskip("pypdfium2.raw", reason="pip install pypdfium2")

A4 = (595.3, 841.9)
LONG = 24  # paragraphs: three pages or more in one column


def _need(name: str) -> None:
    missing = P.available(name)
    if missing is not None:
        pytest.skip(f"producer {name!r} unavailable: {missing}")


def _pages(path: Path) -> list[tuple[float, float]]:
    pdf = pdfium.PdfDocument(str(path))
    try:
        return [tuple(page.get_size()) for page in pdf]
    finally:
        pdf.close()


def _page_texts(path: Path) -> list[str]:
    pdf = pdfium.PdfDocument(str(path))
    try:
        return [page.get_textpage().get_text_range() for page in pdf]
    finally:
        pdf.close()


def _text_objects(path: Path, index: int = 0) -> list[tuple[float, float, float, float]]:
    """(left, bottom, right, top) glyph bounds of each text object on page `index`."""
    pdf = pdfium.PdfDocument(str(path))
    try:
        objs = pdf[index].get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_TEXT], max_depth=1)
        return [tuple(o.get_bounds()) for o in objs]
    finally:
        pdf.close()


def _lines(path: Path, index: int = 0, columns: int = 1) -> list[tuple[float, float, float]]:
    """(baseline y, left, right) of each drawn line on page `index`, in content order.

    A line is the text objects sharing a baseline and a column (a reportlab line is
    one object per font run: Arabic and the Latin fallback).
    """
    pdf = pdfium.PdfDocument(str(path))
    try:
        objs = pdf[index].get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_TEXT], max_depth=1)
        lines: dict[tuple[float, bool], list[float]] = {}
        for o in objs:
            y = round(o.get_matrix().get()[5], 1)
            left, _, right, _ = o.get_bounds()
            key = (y, columns == 2 and left > A4[0] / 2)
            box = lines.setdefault(key, [left, right])
            box[0], box[1] = min(box[0], left), max(box[1], right)
        return [(y, box[0], box[1]) for (y, _), box in lines.items()]
    finally:
        pdf.close()


def _assert_pdf(path: Path, pages: int | None = None) -> int:
    assert path.read_bytes()[:5] == b"%PDF-"
    sizes = _pages(path)
    for w, h in sizes:
        assert w == pytest.approx(A4[0], abs=1.5) and h == pytest.approx(A4[1], abs=1.5)
    if pages is not None:
        assert len(sizes) == pages
    return len(sizes)


def _raw_text(path: Path) -> str:
    pdfminer = pytest.importorskip("pdfminer.high_level", reason="pip install pdfminer.six")
    return pdfminer.extract_text(str(path))


def _digits(text: str) -> set[str]:
    return set(re.findall(r"\d+", text))


# ---------------------------------------------------------------- Doc helpers


def test_doc_from_text_short_first_block_is_title() -> None:
    doc = P.doc_from_text("العنوان\n\nفقرة أولى\nتكمل هنا\n\n\nفقرة ثانية\n")
    assert doc == P.Doc("العنوان", ["فقرة أولى تكمل هنا", "فقرة ثانية"])


def test_doc_from_text_long_first_block_stays_a_paragraph() -> None:
    long = " ".join(["كلمة"] * 60)
    doc = P.doc_from_text(long + "\n\nثانية")
    assert doc.title == " ".join(["كلمة"] * 8)
    assert doc.paragraphs == [long, "ثانية"]
    with pytest.raises(ValueError):
        P.doc_from_text(" \n\n ")


# ---------------------------------------------------------------- reportlab


def test_reportlab_short_doc_is_one_a4_page(tmp_path: Path) -> None:
    _need("reportlab")
    out = P.pdf_reportlab(P.sample_doc(2), tmp_path / "a.pdf")
    assert out == tmp_path / "a.pdf"
    _assert_pdf(out, pages=1)


def test_reportlab_writes_visual_order_presentation_forms(tmp_path: Path) -> None:
    _need("reportlab")
    doc = P.Doc("خطة وطنية لمكافحة الأمراض", ["قال الوزير إن الخطة تستهدف 3 ملايين مواطن."])
    raw = _raw_text(P.pdf_reportlab(doc, tmp_path / "a.pdf"))
    assert P._visual(doc.title) in raw
    assert doc.title not in raw  # not logical-order base letters
    assert any(0xFE70 <= ord(c) <= 0xFEFF for c in raw)


def test_reportlab_wraps_long_paragraphs_and_flows_onto_pages(tmp_path: Path) -> None:
    _need("reportlab")
    doc = P.sample_doc(LONG)
    out = P.pdf_reportlab(doc, tmp_path / "long.pdf")
    pages = _assert_pdf(out)
    assert pages >= 3
    assert all(t.strip() for t in _page_texts(out))
    lines = _lines(out, 1)  # a full page
    assert len(lines) > 25
    width = A4[0] - 2 * P._MARGIN
    assert all(right - left <= width + 1 for _, left, right in lines)
    assert max(right - left for _, left, right in lines) > 0.9 * width  # filled, wrapped
    for _, _, right in lines:  # right-aligned lines
        assert right == pytest.approx(A4[0] - P._MARGIN, abs=2.0)
    steps = {round(a[0] - b[0], 1) for a, b in zip(lines, lines[1:])}
    assert steps == {round(P._LEADING, 1), round(P._LEADING + P._PARA_GAP, 1)}
    assert max(steps) - min(steps) >= 5  # a visible gap between paragraphs


def test_reportlab_two_columns_right_column_first(tmp_path: Path) -> None:
    _need("reportlab")
    one = P.pdf_reportlab(P.sample_doc(LONG), tmp_path / "one.pdf")
    two = P.pdf_reportlab(P.sample_doc(LONG), tmp_path / "two.pdf", columns=2)
    boxes = _text_objects(two, 1)
    mid = A4[0] / 2
    right = [b for b in boxes if b[0] > mid]
    left = [b for b in boxes if b[2] < mid]
    assert right and left and len(right) + len(left) == len(boxes)
    assert boxes[0][0] > mid  # reading order starts in the right column
    first_left = next(i for i, b in enumerate(boxes) if b[2] < mid)
    assert all(b[0] > mid for b in boxes[:first_left])
    assert all(b[2] < mid for b in boxes[first_left:])
    assert _assert_pdf(two) >= 2 and len(_pages(one)) >= 2
    with pytest.raises(ValueError):
        P.pdf_reportlab(P.sample_doc(1), tmp_path / "x.pdf", columns=3)


def test_reportlab_header_and_page_numbers_on_every_page(tmp_path: Path) -> None:
    _need("reportlab")
    out = P.pdf_reportlab(
        P.sample_doc(LONG), tmp_path / "h.pdf", header="جريدة الأخبار", footer_page_numbers=True
    )
    texts = _page_texts(out)
    assert len(texts) >= 3
    raw_pages = _raw_text(out).split("\f")
    for number, (text, raw) in enumerate(zip(texts, raw_pages), start=1):
        assert P._visual("جريدة الأخبار") in raw
        lines = [line.strip() for line in text.splitlines()]
        assert str(number) in lines


def test_reportlab_missing_font_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(P.ProducerUnavailable, match="fonts-noto-core"):
        P.pdf_reportlab(P.sample_doc(1), tmp_path / "a.pdf", font=tmp_path / "none.ttf")


def test_presentation_forms_are_in_logical_order(tmp_path: Path) -> None:
    _need("presentation_forms")
    doc = P.Doc("خطة وطنية لمكافحة الأمراض", ["قال الوزير إن الخطة تستهدف الملايين."])
    raw = _raw_text(P.pdf_presentation_forms(doc, tmp_path / "pf.pdf"))
    assert P._logical_forms(doc.title) in raw
    assert P._visual(doc.title) not in raw


# ---------------------------------------------------------------- scanned


def test_scanned_pdf_has_the_pages_and_no_text(tmp_path: Path) -> None:
    _need("scanned")
    text_pdf = P.pdf_reportlab(P.sample_doc(LONG), tmp_path / "t.pdf")
    pages = len(_pages(text_pdf))
    out = P.pdf_scanned(text_pdf, tmp_path / "scan.pdf", dpi=100)
    _assert_pdf(out, pages=pages)
    assert all(t == "" for t in _page_texts(out))
    assert all(_text_objects(out, i) == [] for i in range(pages))
    pdf = pdfium.PdfDocument(str(out))
    try:
        image = pdf[0].render(scale=0.5).to_pil().convert("L")
    finally:
        pdf.close()
    assert image.getextrema()[0] < 80  # ink on the page, not a blank image


# ---------------------------------------------------------------- DOCX


def test_docx_rtl_heading_table_footnote_textbox(tmp_path: Path) -> None:
    _need("docx")
    import docx

    doc = P.sample_doc(3)
    out = P.docx_python_docx(
        doc, tmp_path / "a.docx", table_rows=[["البلد", "العدد"], ["قطر", "12"]],
        footnote="حاشية للتوضيح", textbox="نص في مربع", header="رأس الصفحة",
    )
    assert out.read_bytes()[:4] == b"PK\x03\x04"
    opened = docx.Document(str(out))
    first = opened.paragraphs[0]
    assert first.style.name == "Heading 1" and first.text == doc.title
    assert [p.text for p in opened.paragraphs[1:]] == doc.paragraphs
    assert opened.tables[0].cell(1, 0).text == "قطر"
    assert opened.core_properties.title == doc.title
    assert opened.sections[0].header.paragraphs[0].text == "رأس الصفحة"
    assert opened.sections[0].page_width.mm == pytest.approx(210, abs=0.5)
    with zipfile.ZipFile(out) as z:
        body = z.read("word/document.xml").decode()
        notes = z.read("word/footnotes.xml").decode()
        types = z.read("[Content_Types].xml").decode()
    assert body.count("<w:bidi/>") >= len(doc.paragraphs) + 1
    assert "<w:rtl/>" in body and "<w:bidiVisual/>" in body
    assert '<w:footnoteReference w:id="1"/>' in body and "حاشية للتوضيح" in notes
    assert "footnotes+xml" in types
    assert body.count("<w:txbxContent>") == 2  # DrawingML shape + VML fallback, as Word does
    # Table follows the first paragraph; the text box is anchored in the second.
    order = [m.group() for m in re.finditer(r"<w:tbl>|<w:txbxContent>|تدريب الكوادر", body)]
    assert order[0] == "<w:tbl>" and order[1] == "<w:txbxContent>"


def test_docx_title_without_heading_style(tmp_path: Path) -> None:
    _need("docx")
    import docx

    out = P.docx_python_docx(P.sample_doc(1), tmp_path / "b.docx", heading=False)
    first = docx.Document(str(out)).paragraphs[0]
    assert first.style.name == "Normal" and first.runs[0].bold
    with zipfile.ZipFile(out) as z:
        assert "word/footnotes.xml" not in z.namelist()


# ---------------------------------------------------------------- HTML


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.article_p: list[str] = []
        self.title = ""
        self.tags: set[str] = set()
        self.all_text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.stack.append(tag)
        if tag == "p" and "article" in self.stack:
            self.article_p.append("")

    def handle_endtag(self, tag):
        while self.stack and self.stack.pop() != tag:
            pass

    def handle_data(self, data):
        self.all_text.append(data)
        if self.stack and self.stack[-1] == "title":
            self.title += data
        elif self.stack and self.stack[-1] == "p" and "article" in self.stack:
            self.article_p[-1] += data


def test_html_article_inside_boilerplate(tmp_path: Path) -> None:
    doc = P.Doc('عنوان <الخبر> & "التفاصيل"', P.sample_doc(3).paragraphs)
    out = P.html_with_boilerplate(doc, tmp_path / "a.html")
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and 'dir="rtl"' in text
    parsed = _Collect()
    parsed.feed(text)
    assert parsed.article_p == doc.paragraphs
    assert parsed.title.startswith(doc.title)
    assert {"nav", "header", "footer", "aside", "script", "style", "h1", "article"} <= parsed.tags
    everything = "".join(parsed.all_text)
    assert "اقرأ أيضاً" in everything and len(everything) > 1.3 * sum(map(len, doc.paragraphs))


# ---------------------------------------------------------------- external renderers


@pytest.fixture(scope="session")
def rendered(tmp_path_factory) -> dict[str, Path]:
    """One PDF per external renderer that is installed (rendered on first use)."""
    return {}


def _render(rendered: dict[str, Path], tmp_path_factory, name: str) -> Path:
    _need(name)
    if name not in rendered:
        out = tmp_path_factory.mktemp(name) / f"{name}.pdf"
        rendered[name] = P.ALL_PDF_PRODUCERS[name](P.sample_doc(3), out)
    return rendered[name]


@pytest.mark.parametrize("name", ["chromium", "libreoffice", "xetex"])
def test_external_renderer_makes_one_a4_page_with_text(
    rendered: dict[str, Path], tmp_path_factory, name: str
) -> None:
    out = _render(rendered, tmp_path_factory, name)
    _assert_pdf(out, pages=1)
    text = _page_texts(out)[0]
    assert {"12", "2024", "45", "3"} <= _digits(text)
    assert "WHO" in text and "Sehaty" in text
    assert len(re.findall(r"[\u0600-\u06FF]", text)) > 300


def test_missing_tool_is_unavailable_with_install_hint(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(P.shutil, "which", lambda name: None)
    for make, hint in (
        (P.pdf_chromium, "chromium"),
        (P.pdf_libreoffice, "libreoffice"),
        (P.pdf_xetex, "texlive-xetex"),
    ):
        with pytest.raises(P.ProducerUnavailable, match=hint):
            make(P.sample_doc(1), tmp_path / "x.pdf")
        assert not (tmp_path / "x.pdf").exists()
    assert "chromium" in P.available("chromium")


def test_available_knows_every_pdf_producer() -> None:
    for name in P.ALL_PDF_PRODUCERS:
        result = P.available(name)
        assert result is None or isinstance(result, str) and result
    with pytest.raises(ValueError, match="unknown producer"):
        P.available("word-perfect")
