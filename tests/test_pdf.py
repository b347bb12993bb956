"""Tests for the PDF extractor on real PDFs rendered at test time (benchmarks.producers)."""

from __future__ import annotations

import io
import re
import unicodedata
from pathlib import Path

import pypdf
import pytest

from benchmarks.producers import (
    ALL_PDF_PRODUCERS,
    RUNNING_HEADER,
    Doc,
    available,
    pdf_presentation_forms,
    pdf_reportlab,
    pdf_scanned,
    sample_doc,
)
from storage.formats import ExtractError, Extracted, Limits
from storage.formats.arabic_text import looks_reversed
from storage.formats.pdf import extract_pdf

_MARKS = re.compile("[\u064b-\u065f\u0670\u0640]")
_PRESENTATION = re.compile("[\ufb50-\ufdff\ufe70-\ufeff]")


def words(text: str) -> list[str]:
    """Words in order, NFKC, tashkeel removed (reportlab's reshaper drops tashkeel)."""
    return re.findall(r"\w+", _MARKS.sub("", unicodedata.normalize("NFKC", text)))


def source_blocks(doc: Doc) -> list[list[str]]:
    return [words(doc.title)] + [words(p) for p in doc.paragraphs]


def extract(path: Path, **limits) -> Extracted:
    return extract_pdf(path.read_bytes(), Limits(**limits))


def block_words(result: Extracted) -> list[list[str]]:
    return [words(b.text) for b in result.blocks]


def distinct_doc(paragraphs: int) -> Doc:
    """Paragraphs that differ from each other (sample_doc repeats four texts)."""
    base = sample_doc(4).paragraphs
    return Doc(
        "تقرير عن الخطة الوطنية",
        [f"الفقرة رقم {i + 1}: {base[i % 4]}" for i in range(paragraphs)],
    )


@pytest.fixture(scope="module")
def doc() -> Doc:
    return sample_doc(4)


@pytest.fixture(scope="module")
def reportlab_pdf(tmp_path_factory, doc: Doc) -> Path:
    return pdf_reportlab(doc, tmp_path_factory.mktemp("rl") / "doc.pdf")


# ---------------------------------------------------------------- text and paragraphs


def test_reportlab_words_and_paragraphs(reportlab_pdf: Path, doc: Doc) -> None:
    result = extract(reportlab_pdf)
    assert result.format == "pdf" and result.pages == 1
    assert block_words(result) == source_blocks(doc)
    assert all(b.page == 1 for b in result.blocks)


def test_one_block_per_paragraph_not_per_line(reportlab_pdf: Path, doc: Doc) -> None:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(reportlab_pdf))
    lines = [ln for ln in pdf[0].get_textpage().get_text_range().splitlines() if ln.strip()]
    result = extract(reportlab_pdf)
    assert len(lines) >= 3 * len(doc.paragraphs)  # the paragraphs do span several lines
    assert len(result.blocks) == len(doc.paragraphs) + 1


def test_visual_order_lines_are_put_back(reportlab_pdf: Path, doc: Doc) -> None:
    from pdfminer.high_level import extract_text

    raw = [ln for ln in extract_text(str(reportlab_pdf)).splitlines() if len(ln.split()) > 4]
    assert raw and all(looks_reversed(ln) for ln in raw)  # the file really is backwards
    first = extract(reportlab_pdf).blocks[1].text
    assert words(first) == words(doc.paragraphs[0])


def test_presentation_forms_are_folded(tmp_path: Path, reportlab_pdf: Path, doc: Doc) -> None:
    logical = pdf_presentation_forms(doc, tmp_path / "forms.pdf")
    for path in (reportlab_pdf, logical):
        result = extract(path)
        text = "\n".join(b.text for b in result.blocks)
        assert not _PRESENTATION.search(text)
        assert "\u0640" not in text
        assert block_words(result) == source_blocks(doc)


def test_title_from_metadata(reportlab_pdf: Path, doc: Doc) -> None:
    assert extract(reportlab_pdf).title == doc.title


@pytest.mark.parametrize(
    "title", ["Microsoft Word - report_final.docx", "scan", "Scan 2024-01-01 10.32", "IMG_2031"]
)
def test_meaningless_title_is_dropped(tmp_path: Path, reportlab_pdf: Path, title: str) -> None:
    writer = pypdf.PdfWriter(clone_from=str(reportlab_pdf))
    writer.add_metadata({"/Title": title})
    path = tmp_path / "word.pdf"
    writer.write(path)
    assert extract(path).title == ""


def test_page_numbers_of_blocks(tmp_path: Path) -> None:
    import pypdfium2 as pdfium

    doc = distinct_doc(10)
    path = pdf_reportlab(doc, tmp_path / "long.pdf")
    result = extract(path)
    assert result.pages >= 2
    pages = [b.page for b in result.blocks]
    assert pages == sorted(pages) and pages[0] == 1 and pages[-1] == result.pages
    pdf = pdfium.PdfDocument(str(path))
    page_words = [set(words(extract_pdf_page_text(pdf, i))) for i in range(len(pdf))]
    for block in result.blocks:  # a block's first words are on its page
        assert set(words(block.text)[:4]) <= page_words[block.page - 1], block.text[:40]


def extract_pdf_page_text(pdf, index: int) -> str:
    """PDFium's own text of one page, folded (reportlab's visual order reversed back)."""
    from storage.formats.arabic_text import repair_text

    return repair_text(pdf[index].get_textpage().get_text_range())


def test_paragraph_across_a_page_break_is_one_block(tmp_path: Path) -> None:
    doc = distinct_doc(10)
    result = extract(pdf_reportlab(doc, tmp_path / "long.pdf"))
    assert block_words(result) == source_blocks(doc)


def test_running_header_and_page_numbers_dropped(tmp_path: Path) -> None:
    doc = distinct_doc(10)
    path = pdf_reportlab(doc, tmp_path / "hf.pdf", header=RUNNING_HEADER,
                         footer_page_numbers=True)
    result = extract(path)
    assert result.pages >= 2
    texts = [b.text for b in result.blocks]
    assert not any(words(RUNNING_HEADER)[0] in words(t) for t in texts)
    assert not any(re.fullmatch(r"\d+", t) for t in texts)
    assert block_words(result) == source_blocks(doc)


def test_two_columns_right_column_first(tmp_path: Path) -> None:
    import pypdfium2 as pdfium

    from storage.formats.pdf_glyphs import read_glyphs
    from storage.formats.pdf_layout import find_gutter
    from storage.formats.pdf_lines import raw_lines

    doc = distinct_doc(6)
    path = pdf_reportlab(doc, tmp_path / "cols.pdf", columns=2)
    page = pdfium.PdfDocument(str(path))[0]
    assert find_gutter(raw_lines(read_glyphs(page.get_textpage()))) is not None
    result = extract(path)
    assert block_words(result) == source_blocks(doc)
    numbers = [int(m.group(1)) for b in result.blocks if (m := re.search(r"رقم (\d+)", b.text))]
    assert numbers == list(range(1, 7))


def test_two_columns_under_a_long_title_over_both(tmp_path: Path) -> None:
    base = distinct_doc(6)
    title = " ".join(sample_doc(2).paragraphs)  # about 6 full-width lines over the columns
    doc = Doc(title, base.paragraphs)
    result = extract(pdf_reportlab(doc, tmp_path / "lead.pdf", columns=2))
    numbers = [int(m.group(1)) for b in result.blocks if (m := re.search(r"رقم (\d+)", b.text))]
    assert numbers[-6:] == list(range(1, 7))  # right column first, not lines of both mixed
    assert block_words(result)[1:] == source_blocks(doc)[1:]


def test_one_column_page_has_no_gutter(reportlab_pdf: Path) -> None:
    import pypdfium2 as pdfium

    from storage.formats.pdf_glyphs import read_glyphs
    from storage.formats.pdf_layout import find_gutter
    from storage.formats.pdf_lines import raw_lines

    page = pdfium.PdfDocument(str(reportlab_pdf))[0]
    assert find_gutter(raw_lines(read_glyphs(page.get_textpage()))) is None


def test_blank_lines_of_a_short_paragraph_are_not_merged(tmp_path: Path) -> None:
    doc = Doc("أخبار", ["أخبار ذات صلة", "هل نرى أسلحة جديدة قريبا؟", sample_doc(1).paragraphs[0]])
    result = extract(pdf_reportlab(doc, tmp_path / "short.pdf"))
    assert block_words(result) == source_blocks(doc)


def test_latin_word_split_at_a_line_end_is_joined(tmp_path: Path) -> None:
    from reportlab.pdfgen.canvas import Canvas

    path = tmp_path / "hyphen.pdf"
    canvas = Canvas(str(path), pagesize=(595, 842))
    canvas.setFont("Helvetica", 12)
    lines = ["The committee published its report on the inter-",
             "national situation of the area, and on COVID-",
             "19 and the known problems of the whole region."]
    for i, line in enumerate(lines):
        canvas.drawString(72, 700 - 15 * i, line)
    canvas.save()
    assert [b.text for b in extract(path).blocks] == [
        "The committee published its report on the international situation of the area, "
        "and on COVID-19 and the known problems of the whole region."
    ]


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_page_shown_upright_by_rotate_is_read_upright(
        tmp_path: Path, reportlab_pdf: Path, doc: Doc, rotation: int) -> None:
    width, height = 595.2756, 841.8898  # the producer's A4
    # draw the page's content turned by -rotation, then /Rotate shows it upright again
    turn = {
        90: pypdf.Transformation().rotate(90).translate(tx=height, ty=0),
        180: pypdf.Transformation().rotate(180).translate(tx=width, ty=height),
        270: pypdf.Transformation().rotate(-90).translate(tx=0, ty=width),
    }[rotation]
    writer = pypdf.PdfWriter(clone_from=str(reportlab_pdf))
    page = writer.pages[0]
    page.add_transformation(turn)
    box = (height, width) if rotation in (90, 270) else (width, height)
    page.mediabox = pypdf.generic.RectangleObject([0, 0, *box])
    page.rotate(rotation)
    path = tmp_path / f"rotated{rotation}.pdf"
    writer.write(path)
    assert block_words(extract(path)) == source_blocks(doc)


# ---------------------------------------------------------------- other producers


@pytest.mark.parametrize("producer", ["chromium", "libreoffice", "xetex"])
def test_shaped_pdf_producers(tmp_path: Path, doc: Doc, producer: str) -> None:
    reason = available(producer)
    if reason is not None:
        pytest.skip(f"{producer} not installed: {reason}")
    path = ALL_PDF_PRODUCERS[producer](doc, tmp_path / f"{producer}.pdf")
    result = extract(path)
    expected = source_blocks(doc)
    got = block_words(result)
    if producer == "xetex":  # the producer's XeLaTeX source sets no PDF Title
        assert result.title == ""
    else:
        assert result.title == doc.title
    assert len(got) == len(expected)
    same = sum(a == b for g, e in zip(got, expected) for a, b in zip(g, e))
    assert same / sum(len(e) for e in expected) >= 0.98
    text = " ".join(b.text for b in result.blocks)
    for phrase in ("WHO", "Sehaty", "2.5 مليار ريال", "12 مارس 2024", "3 ملايين مواطن"):
        assert phrase in text


def test_mirrored_brackets_and_quotes(tmp_path: Path) -> None:
    line = "قال (كلمة) هنا و«زيارة» ثم “حزمة” في [2020] عام COVID-19 نهاية"
    doc = Doc("عنوان", [line])
    for name in ("reportlab", "chromium", "xetex"):
        if available(name) is not None:
            continue
        result = extract(ALL_PDF_PRODUCERS[name](doc, tmp_path / f"{name}.pdf"))
        assert result.blocks[1].text == line, name


# ---------------------------------------------------------------- pages without text


@pytest.fixture(scope="module")
def scanned_pdf(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("scan")
    text = pdf_reportlab(Doc("صفحة ممسوحة", [sample_doc(1).paragraphs[0]]), folder / "t.pdf")
    return pdf_scanned(text, folder / "scan.pdf", dpi=100)


def test_scanned_pdf_without_ocr_is_refused_with_the_reason(scanned_pdf: Path) -> None:
    with pytest.raises(ExtractError, match="no text layer.*OCR is turned off"):
        extract(scanned_pdf, ocr=False)


def test_scanned_page_goes_to_ocr(monkeypatch, scanned_pdf: Path) -> None:
    from storage.formats import ocr

    calls = []

    def fake_ocr(image, *, timeout: float, lang: str = "ara") -> list[str]:
        calls.append((image.size, timeout))
        return ["فقرة مقروءة بالتعرف الضوئي", "فقرة ثانية"]

    monkeypatch.setattr(ocr, "unavailable", lambda lang="ara": None)
    monkeypatch.setattr(ocr, "ocr_image", fake_ocr)
    result = extract(scanned_pdf, ocr_dpi=144, ocr_page_seconds=7.0)
    assert len(calls) == 1
    (width, height), timeout = calls[0]
    assert abs(width - 1191) <= 2 and abs(height - 1684) <= 2  # A4 at 144 dpi
    assert timeout == 7.0  # the page time limit is passed on
    assert [b.text for b in result.blocks] == ["فقرة مقروءة بالتعرف الضوئي", "فقرة ثانية"]
    assert [b.page for b in result.blocks] == [1, 1]
    assert result.ocr_pages == 1 and result.ocr_seconds >= 0


def _repeated(pdf: Path, times: int, path: Path) -> Path:
    """A PDF of `times` copies of `pdf`'s pages."""
    writer = pypdf.PdfWriter()
    for _ in range(times):
        writer.append(str(pdf))
    writer.write(path)
    return path


def test_ocr_pages_lose_page_numbers_and_running_headers(
        monkeypatch, tmp_path: Path, scanned_pdf: Path) -> None:
    from storage.formats import ocr
    from storage.formats import pdf as pdf_module

    path = _repeated(scanned_pdf, 3, tmp_path / "three.pdf")
    pages = iter(range(1, 4))
    bodies = ["افتتح المعرض أبوابه للزوار", "وشارك فيه مئة عارض", "ويختتم يوم الجمعة"]
    sizes = []

    def fake_ocr(image, *, timeout: float, lang: str = "ara") -> list[str]:
        sizes.append(image.size)
        n = next(pages)
        return ["نشرة البلدية - العدد 7", bodies[n - 1], f"- {n} -"]

    monkeypatch.setattr(ocr, "unavailable", lambda lang="ara": None)
    monkeypatch.setattr(ocr, "ocr_image", fake_ocr)
    monkeypatch.setattr(pdf_module, "OCR_MAX_PIXELS", 1_000_000)  # a poster is scaled down
    result = extract(path, ocr_dpi=300)
    assert [(b.text, b.page) for b in result.blocks] == [(bodies[n - 1], n) for n in (1, 2, 3)]
    assert all(w * h <= 1_010_000 for w, h in sizes)  # (rounded up to whole pixels)


ORDINALS = "الأولى الثانية الثالثة الرابعة الخامسة".split()


def test_pages_read_by_ocr_at_once_come_back_in_page_order(
        monkeypatch, tmp_path: Path, scanned_pdf: Path) -> None:
    import threading
    import time as clock

    from storage.formats import ocr
    from storage.formats import pdf as pdf_module

    path = _repeated(scanned_pdf, 5, tmp_path / "five.pdf")
    render = pdf_module._render

    def tagged(pdf, index, limits):
        image = render(pdf, index, limits)
        image.info["page"] = index + 1
        return image

    lock, running, most = threading.Lock(), [0], [0]

    def fake_ocr(image, *, timeout: float, lang: str = "ara") -> list[str]:
        page = image.info["page"]
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        clock.sleep(0.3 if page % 2 else 0.05)  # odd pages finish after the next one
        with lock:
            running[0] -= 1
        return [f"نص الصفحة {ORDINALS[page - 1]}"]  # (digits alone would look like a header)

    monkeypatch.setattr(pdf_module, "_render", tagged)
    monkeypatch.setattr(ocr, "unavailable", lambda lang="ara": None)
    monkeypatch.setattr(ocr, "ocr_image", fake_ocr)
    result = extract(path, ocr_workers=2)
    assert [(b.text, b.page) for b in result.blocks] == [
        (f"نص الصفحة {ORDINALS[n - 1]}", n) for n in range(1, 6)
    ]
    assert result.ocr_pages == 5 and most[0] == 2  # two pages were read at once


def test_ocr_unavailable_reason_is_given(monkeypatch, scanned_pdf: Path) -> None:
    from storage.formats import ocr

    monkeypatch.setattr(ocr, "unavailable", lambda lang="ara": "apt-get install tesseract-ocr")
    with pytest.raises(ExtractError, match="apt-get install tesseract-ocr"):
        extract(scanned_pdf)


def test_mixed_pdf_keeps_text_pages_and_notes_the_others(
        tmp_path: Path, reportlab_pdf: Path, scanned_pdf: Path, doc: Doc) -> None:
    writer = pypdf.PdfWriter()
    writer.append(str(reportlab_pdf))
    writer.append(str(scanned_pdf))
    path = tmp_path / "mixed.pdf"
    writer.write(path)
    result = extract(path, ocr=False)
    assert result.pages == 2
    assert block_words(result) == source_blocks(doc)
    assert any("without text layer" in note and "2" in note for note in result.notes)


def test_real_ocr_of_a_scanned_page(scanned_pdf: Path) -> None:
    from storage.formats import ocr

    reason = ocr.unavailable()
    if reason is not None:
        pytest.skip(reason)
    result = extract(scanned_pdf, ocr_dpi=200)
    assert result.ocr_pages == 1
    got = set(words(" ".join(b.text for b in result.blocks)))
    want = set(words(sample_doc(1).paragraphs[0]))
    assert len(got & want) / len(want) > 0.7


def test_blank_pdf_is_refused(tmp_path: Path) -> None:
    writer = pypdf.PdfWriter()
    writer.add_blank_page(595, 842)
    path = tmp_path / "blank.pdf"
    writer.write(path)
    with pytest.raises(ExtractError, match="no text"):
        extract(path)


# ---------------------------------------------------------------- bad input


def test_encrypted_pdf(tmp_path: Path, reportlab_pdf: Path) -> None:
    writer = pypdf.PdfWriter(clone_from=str(reportlab_pdf))
    writer.encrypt("secret")
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(ExtractError, match=r"^encrypted PDF \(password needed\)$"):
        extract_pdf(out.getvalue(), Limits())


def test_pdf_with_only_an_owner_password_is_read(reportlab_pdf: Path, doc: Doc) -> None:
    writer = pypdf.PdfWriter(clone_from=str(reportlab_pdf))
    writer.encrypt("", owner_password="owner")
    out = io.BytesIO()
    writer.write(out)
    assert block_words(extract_pdf(out.getvalue(), Limits())) == source_blocks(doc)


@pytest.mark.parametrize("keep", [0.2, 0.6, 0.95])
def test_truncated_pdf(reportlab_pdf: Path, keep: float) -> None:
    data = reportlab_pdf.read_bytes()
    with pytest.raises(ExtractError, match="^damaged PDF: "):
        extract_pdf(data[: int(len(data) * keep)], Limits())


def test_garbage_after_a_pdf_header() -> None:
    with pytest.raises(ExtractError, match="^damaged PDF: "):
        extract_pdf(b"%PDF-1.7\n" + bytes(range(256)) * 40, Limits())


def test_not_a_pdf_at_all() -> None:
    with pytest.raises(ExtractError, match="^damaged PDF: no PDF header$"):
        extract_pdf(b"<html>not a pdf</html>", Limits())


def test_zero_pages() -> None:
    out = io.BytesIO()
    pypdf.PdfWriter().write(out)
    with pytest.raises(ExtractError, match="^PDF has no pages$"):
        extract_pdf(out.getvalue(), Limits())


def test_too_many_pages_checked_before_reading(tmp_path: Path, monkeypatch) -> None:
    import storage.formats.pdf as pdf_module

    path = pdf_reportlab(distinct_doc(10), tmp_path / "long.pdf")
    pages = extract(path).pages
    assert pages >= 2

    def must_not_read(textpage):
        raise AssertionError("pages were read")

    monkeypatch.setattr(pdf_module, "read_glyphs", must_not_read)
    with pytest.raises(ExtractError, match=rf"^too many pages \({pages}, limit 1\)$"):
        extract(path, max_pages=1)
