"""Real Arabic documents made at test time by real renderers (PDF, DOCX, HTML).

    doc = Doc("عنوان", ["فقرة أولى ...", "فقرة ثانية ..."])
    pdf_reportlab(doc, tmp_path / "a.pdf", columns=2, header="جريدة", footer_page_numbers=True)
    pdf_scanned(tmp_path / "a.pdf", tmp_path / "scan.pdf")          # image-only, no text layer
    docx_python_docx(doc, tmp_path / "a.docx", table_rows=[["أ", "ب"]], footnote="حاشية")
    html_with_boilerplate(doc, tmp_path / "a.html")
    for name, make in ALL_PDF_PRODUCERS.items():
        if available(name) is None:
            make(doc, tmp_path / f"{name}.pdf")

Each producer writes one file and returns its path, or raises `ProducerUnavailable`
whose message says what to install. A renderer that runs and fails raises
RuntimeError with the tail of its stderr. Every page is A4.

What each PDF's text layer holds (the point of having several producers):
- `pdf_reportlab`: visual-order presentation forms (arabic-reshaper + python-bidi),
  one text object per line, as many generated PDFs in the wild.
- `pdf_presentation_forms`: presentation forms in LOGICAL order (reshaped, not
  reversed), drawn right-aligned; a test of folding, it does not read correctly.
- `pdf_chromium`, `pdf_libreoffice`, `pdf_xetex`: HarfBuzz-shaped glyphs with
  ToUnicode maps, as browsers, office suites and TeX write them.
- `pdf_scanned`: page images only.
"""

from __future__ import annotations

import atexit
import datetime as _dt
import html
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"))
#: Fonts tried in order for the PDF producers (file names under FONT_DIRS).
ARABIC_FONTS = (
    "NotoNaskhArabic-Regular.ttf",
    "NotoSansArabic-Regular.ttf",
    "Amiri-Regular.ttf",
)
#: Fallback for what the Arabic font lacks (Noto Naskh has no Latin letters, quotes, -()).
LATIN_FONTS = ("NotoSerif-Regular.ttf", "NotoSans-Regular.ttf", "DejaVuSans.ttf")
FONT_HINT = "apt-get install fonts-noto-core (Noto Naskh Arabic)"
_FIXED_TIME = _dt.datetime(2024, 1, 1, 12, 0, 0, tzinfo=_dt.timezone.utc)
#: The running header of the "reportlab_2col" producer.
RUNNING_HEADER = "جريدة الأخبار اليومية - الطبعة الأولى"
_TOOL_TIMEOUT = 180.0  # seconds; a renderer that takes longer is broken here


class ProducerUnavailable(Exception):
    """The producer's tool is not installed here; `str()` says what to install."""


@dataclass
class Doc:
    """A simple document: a title and its paragraphs (logical-order Arabic text)."""

    title: str
    paragraphs: list[str] = field(default_factory=list)


def doc_from_text(text: str, title: str | None = None) -> Doc:
    """A Doc from plain text whose blank lines split paragraphs.

    Without `title`, a short first block (<= 150 chars) is the title; otherwise the
    title is the first 8 words of the first paragraph, which stays a paragraph.
    """
    blocks = [" ".join(b.split()) for b in re.split(r"\n\s*\n", text)]
    blocks = [b for b in blocks if b]
    if not blocks:
        raise ValueError("empty text: no title and no paragraphs")
    if title is not None:
        return Doc(title, blocks)
    if len(blocks[0]) <= 150:
        return Doc(blocks[0], blocks[1:])
    return Doc(" ".join(blocks[0].split()[:8]), blocks)


def sample_doc(paragraphs: int = 4) -> Doc:
    """A deterministic Arabic test document: long paragraphs with digits, Latin words and quotes."""
    base = [
        'أعلنت وزارة الصحة يوم الثلاثاء 12 مارس 2024 عن خطة وطنية جديدة لمكافحة الأمراض '
        'المزمنة، وقال الوزير في مؤتمر صحفي إن "الخطة تستهدف أكثر من 3 ملايين مواطن" خلال '
        'السنوات الخمس المقبلة بالتعاون مع منظمة الصحة العالمية WHO ومراكز البحث في الجامعات.',
        'وتشمل الخطة إنشاء 45 مركزاً صحياً في المناطق الريفية، وتدريب الكوادر الطبية على '
        'أحدث أساليب التشخيص المبكر، وإطلاق تطبيق إلكتروني باسم Sehaty يتيح للمرضى حجز '
        'المواعيد ومتابعة نتائج الفحوص عن بعد، كما تتضمن حملات توعية في المدارس والمساجد '
        'والأسواق الشعبية حول أهمية النشاط البدني والتغذية السليمة والإقلاع عن التدخين.',
        'وأوضح المتحدث باسم الوزارة أن الميزانية المخصصة للمشروع تبلغ 2.5 مليار ريال، وأن '
        'المرحلة الأولى ستبدأ في العاصمة قبل أن تمتد إلى باقي المحافظات، مشيراً إلى أن '
        'نسبة الإصابة بالسكري بلغت 18% بين البالغين وفق آخر مسح وطني أجري العام الماضي.',
        'من جهتهم رحب عدد من الأطباء بالخطة، لكنهم طالبوا بزيادة عدد الأسرّة في المستشفيات '
        'الحكومية وتحسين رواتب الممرضين، وقال أحدهم: "لا يمكن أن تنجح أي خطة من دون كوادر '
        'مؤهلة وبنية تحتية قوية"، مضيفاً أن التجارب السابقة أظهرت أن المتابعة الدورية هي '
        'مفتاح النجاح الحقيقي لأي برنامج صحي طويل الأمد في البلاد.',
    ]
    paras = [base[i % len(base)] for i in range(paragraphs)]
    return Doc("خطة وطنية لمكافحة الأمراض المزمنة", paras)


# ---------------------------------------------------------------- helpers


def find_font(names: Sequence[str] = ARABIC_FONTS) -> Path:
    """The first of `names` found under the system font folders, else ProducerUnavailable."""
    for name in names:
        for root in FONT_DIRS:
            if root.is_dir():
                hit = next(iter(sorted(root.rglob(name))), None)
                if hit is not None:
                    return hit
    raise ProducerUnavailable(f"no Arabic TTF font ({', '.join(names)}): {FONT_HINT}")


def _require_modules(*names: str) -> None:
    import importlib.util

    missing = [n for n in names if importlib.util.find_spec(n) is None]
    if missing:
        raise ProducerUnavailable(f"pip install {' '.join(missing)}")


def _which(*names: str) -> str | None:
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    return None


def _run(cmd: list[str], *, cwd: Path | None = None, what: str) -> subprocess.CompletedProcess:
    """Run a renderer; RuntimeError with its stderr tail when it fails or times out."""
    try:
        proc = subprocess.run(
            cmd, cwd=cwd, capture_output=True, text=True, errors="replace",
            timeout=_TOOL_TIMEOUT, stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        tail = (exc.stderr or b"")[-2000:]
        raise RuntimeError(f"{what} timed out after {_TOOL_TIMEOUT:.0f}s: {tail!r}") from exc
    if proc.returncode != 0:
        raise RuntimeError(f"{what} failed (exit {proc.returncode}): {_tail(proc)}")
    return proc


def _tail(proc: subprocess.CompletedProcess, n: int = 2000) -> str:
    return ((proc.stderr or "") + (proc.stdout or ""))[-n:]


def _private_tmpdir(prefix: str) -> Path:
    path = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, path, True)
    return path


# ---------------------------------------------------------------- reportlab layout

_A4 = (595.2756, 841.8898)  # points
_MARGIN = 56.0
_COL_GAP = 24.0
_BODY_SIZE = 13.0
_LEADING = _BODY_SIZE * 1.6
_PARA_GAP = 10.0
_TITLE_SIZE = 20.0
_registered_fonts: dict[Path, str] = {}


def _register_font(path: Path) -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if path not in _registered_fonts:
        name = f"Arabic-{path.stem}"
        pdfmetrics.registerFont(TTFont(name, str(path)))
        _registered_fonts[path] = name
    return _registered_fonts[path]


@dataclass(frozen=True)
class _Faces:
    """The Arabic face and a fallback face for the characters it has no glyph for."""

    main: str
    fallback: str | None
    covered: frozenset[int]

    def runs(self, text: str) -> list[tuple[str, str]]:
        """(face, text) runs of `text`, each char in the main face when it has the glyph."""
        out: list[tuple[str, str]] = []
        for ch in text:
            face = self.main
            if self.fallback and ord(ch) not in self.covered and not ch.isspace():
                face = self.fallback
            if out and out[-1][0] == face:
                out[-1] = (face, out[-1][1] + ch)
            else:
                out.append((face, ch))
        return out

    def width(self, text: str, size: float) -> float:
        """Drawn width of `text` in points, fallback runs included."""
        from reportlab.pdfbase.pdfmetrics import stringWidth

        return sum(stringWidth(t, f, size) for f, t in self.runs(text))

    def draw_right(self, canvas, x_right: float, y: float, text: str, size: float) -> None:
        """Draw `text` (already in drawing order) ending at `x_right`, switching faces per run."""
        from reportlab.pdfbase.pdfmetrics import stringWidth

        x = x_right - self.width(text, size)
        for face, run in self.runs(text):
            canvas.setFont(face, size)
            canvas.drawString(x, y, run)
            x += stringWidth(run, face, size)

    def draw_centred(self, canvas, x_mid: float, y: float, text: str, size: float) -> None:
        """Draw `text` centred on `x_mid`."""
        self.draw_right(canvas, x_mid + self.width(text, size) / 2, y, text, size)


def _faces(font_path: Path) -> _Faces:
    from reportlab.pdfbase import pdfmetrics

    main = _register_font(font_path)
    try:
        fallback = _register_font(find_font(LATIN_FONTS))
    except ProducerUnavailable:
        fallback = None
    covered = frozenset(pdfmetrics.getFont(main).face.charToGlyph)
    return _Faces(main, fallback, covered)


def _visual(text: str) -> str:
    """Presentation forms in visual (left-to-right drawing) order: reshape, then bidi."""
    import arabic_reshaper
    from bidi import get_display

    return get_display(arabic_reshaper.reshape(text), base_dir="R")


def _logical_forms(text: str) -> str:
    """Presentation forms in logical order: reshape only."""
    import arabic_reshaper

    return arabic_reshaper.reshape(text)


def _wrap(text: str, width: float, faces: _Faces, size: float) -> list[str]:
    """Split logical-order `text` into lines whose shaped width fits `width` points.

    Joining never crosses a space, so a line's shaped width is the sum of its
    words' shaped widths plus the spaces.
    """
    space = faces.width(" ", size)
    lines: list[str] = []
    current: list[str] = []
    used = 0.0
    for word in text.split():
        w = faces.width(_logical_forms(word), size)
        extra = w if not current else space + w
        if current and used + extra > width:
            lines.append(" ".join(current))
            current, used = [word], w
        else:
            current.append(word)
            used += extra
    if current:
        lines.append(" ".join(current))
    return lines


def _layout_pdf(
    doc: Doc,
    path: Path,
    *,
    shape: Callable[[str], str],
    columns: int,
    header: str | None,
    footer_page_numbers: bool,
    font: str | Path | None,
) -> Path:
    """Lay `doc` out on A4 pages with reportlab, each line drawn right-aligned as shape(line)."""
    _require_modules("reportlab", "arabic_reshaper", "bidi")
    from reportlab.pdfgen.canvas import Canvas

    if columns not in (1, 2):
        raise ValueError(f"columns must be 1 or 2, not {columns!r}")
    font_path = Path(font) if font is not None else find_font()
    if not font_path.is_file():
        raise ProducerUnavailable(f"font file {font_path} not found: {FONT_HINT}")
    faces = _faces(font_path)
    page_w, page_h = _A4
    full_w = page_w - 2 * _MARGIN
    col_w = (full_w - _COL_GAP * (columns - 1)) / columns
    # Frames right to left: the right column is read first.
    x_rights = [page_w - _MARGIN - i * (col_w + _COL_GAP) for i in range(columns)]
    top = page_h - _MARGIN - (14.0 if header else 0.0)
    bottom = _MARGIN + (10.0 if footer_page_numbers else 0.0)

    path = Path(path)
    canvas = Canvas(str(path), pagesize=_A4, invariant=1)
    canvas.setTitle(doc.title)
    # frame_top: where columns start on this page (below the title on page 1).
    state = {"page": 1, "col": 0, "y": top, "frame_top": top}

    def decorate() -> None:
        if header:
            faces.draw_centred(canvas, page_w / 2, page_h - _MARGIN + 4, shape(header), 10)
        if footer_page_numbers:
            faces.draw_centred(canvas, page_w / 2, _MARGIN - 20, str(state["page"]), 10)

    def next_frame() -> None:
        if state["col"] + 1 < columns:
            state["col"] += 1
        else:
            canvas.showPage()
            state["page"] += 1
            state["col"] = 0
            state["frame_top"] = top
            decorate()
        state["y"] = state["frame_top"]

    decorate()
    y = top
    for line in _wrap(doc.title, full_w, faces, _TITLE_SIZE):
        y -= _TITLE_SIZE * 1.4
        faces.draw_right(canvas, page_w - _MARGIN, y, shape(line), _TITLE_SIZE)
    state["y"] = state["frame_top"] = y - _TITLE_SIZE * 0.8
    for index, paragraph in enumerate(doc.paragraphs):
        if index and state["y"] < state["frame_top"]:
            state["y"] -= _PARA_GAP
        for line in _wrap(paragraph, col_w, faces, _BODY_SIZE):
            if state["y"] - _LEADING < bottom:
                next_frame()
            state["y"] -= _LEADING
            faces.draw_right(canvas, x_rights[state["col"]], state["y"], shape(line), _BODY_SIZE)
    canvas.showPage()
    canvas.save()
    return path


def pdf_reportlab(
    doc: Doc,
    path: Path,
    *,
    columns: int = 1,
    header: str | None = None,
    footer_page_numbers: bool = False,
    font: str | Path | None = None,
) -> Path:
    """A4 PDF by reportlab whose text layer holds visual-order presentation forms."""
    return _layout_pdf(
        doc, path, shape=_visual, columns=columns, header=header,
        footer_page_numbers=footer_page_numbers, font=font,
    )


def pdf_presentation_forms(
    doc: Doc,
    path: Path,
    *,
    columns: int = 1,
    header: str | None = None,
    footer_page_numbers: bool = False,
    font: str | Path | None = None,
) -> Path:
    """A4 PDF whose text layer holds presentation forms in logical order ("InDesign-like")."""
    return _layout_pdf(
        doc, path, shape=_logical_forms, columns=columns, header=header,
        footer_page_numbers=footer_page_numbers, font=font,
    )


# ---------------------------------------------------------------- scanned


def pdf_scanned(pdf_in: Path, pdf_out: Path, dpi: int = 200, *, grayscale: bool = True) -> Path:
    """Rasterise every page of `pdf_in` into an image-only PDF (no text layer) at `dpi`."""
    _require_modules("pypdfium2", "PIL")
    import pypdfium2 as pdfium

    if dpi < 20 or dpi > 1200:
        raise ValueError(f"dpi must be in 20..1200, not {dpi!r}")
    pdf = pdfium.PdfDocument(str(pdf_in))
    try:
        images = []
        for page in pdf:
            image = page.render(scale=dpi / 72).to_pil()
            images.append(image.convert("L" if grayscale else "RGB"))
            page.close()
    finally:
        pdf.close()
    if not images:
        raise ValueError(f"{pdf_in} has no pages")
    pdf_out = Path(pdf_out)
    images[0].save(
        pdf_out, "PDF", save_all=True, append_images=images[1:], resolution=float(dpi),
        creationDate=_FIXED_TIME.timetuple(), modDate=_FIXED_TIME.timetuple(),
        producer="benchmarks.producers", title="scan",  # Pillow's default: the file's stem
    )
    return pdf_out


def _scanned_from_doc(doc: Doc, path: Path) -> Path:
    """The reportlab rendering of `doc`, scanned at 200 dpi."""
    with tempfile.TemporaryDirectory(prefix="scan-") as tmp:
        text_pdf = pdf_reportlab(doc, Path(tmp) / "text.pdf", footer_page_numbers=True)
        return pdf_scanned(text_pdf, path)


# ---------------------------------------------------------------- DOCX

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_DOCX_FONT = "Noto Naskh Arabic"
_NS = (
    'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
    'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
    'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
    'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" '
    'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
    'xmlns:v="urn:schemas-microsoft-com:vml" '
    'xmlns:o="urn:schemas-microsoft-com:office:office"'
)


def _rtl_paragraph_xml(text: str, *, extra_pre: str = "") -> str:
    """A raw <w:p> with bidi paragraph and rtl run (for footnotes and text boxes)."""
    return (
        f"<w:p {_NS}><w:pPr><w:bidi/></w:pPr>{extra_pre}"
        f'<w:r><w:rPr><w:rtl/></w:rPr><w:t xml:space="preserve">{html.escape(text)}</w:t>'
        "</w:r></w:p>"
    )


def _make_rtl(paragraph) -> None:
    """Mark a python-docx paragraph and its runs right-to-left (w:bidi, w:rtl)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    ppr = paragraph._p.get_or_add_pPr()
    if ppr.find(qn("w:bidi")) is None:
        bidi = OxmlElement("w:bidi")
        # w:bidi must come early in pPr (after pStyle/keepNext...); insert after pStyle.
        style = ppr.find(qn("w:pStyle"))
        if style is not None:
            style.addnext(bidi)
        else:
            ppr.insert(0, bidi)
    for run in paragraph.runs:
        rpr = run._r.get_or_add_rPr()
        if rpr.find(qn("w:rtl")) is None:
            rpr.append(OxmlElement("w:rtl"))


def _set_cs_font(style, size_pt: float | None = None) -> None:
    """Give a style the Arabic complex-script font, language and (optionally) size."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    rpr = style.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    fonts.set(qn("w:cs"), _DOCX_FONT)
    fonts.attrib.pop(qn("w:cstheme"), None)
    if size_pt is not None:
        for tag in ("w:sz", "w:szCs"):  # Latin and complex-script sizes, half-points
            el = rpr.find(qn(tag))
            if el is None:
                el = OxmlElement(tag)
                rpr.append(el)
            el.set(qn("w:val"), str(round(size_pt * 2)))
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:bidi"), "ar-SA")


def _add_footnotes_part(document, text: str) -> None:
    """Add word/footnotes.xml (separators + footnote id 1) related from the main document."""
    from docx.opc.constants import CONTENT_TYPE as CT
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.opc.packuri import PackURI
    from docx.opc.part import Part

    body = _rtl_paragraph_xml(
        " " + text,
        extra_pre='<w:r><w:rPr><w:vertAlign w:val="superscript"/></w:rPr><w:footnoteRef/></w:r>',
    ).replace(f"<w:p {_NS}>", "<w:p>")
    xml = (
        "<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"
        f'<w:footnotes xmlns:w="{_W}">'
        '<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p>'
        "</w:footnote>"
        '<w:footnote w:type="continuationSeparator" w:id="0"><w:p><w:r>'
        "<w:continuationSeparator/></w:r></w:p></w:footnote>"
        f'<w:footnote w:id="1">{body}</w:footnote>'
        "</w:footnotes>"
    )
    part = Part(PackURI("/word/footnotes.xml"), CT.WML_FOOTNOTES, xml.encode("utf-8"),
                document.part.package)
    document.part.relate_to(part, RT.FOOTNOTES)


def _footnote_reference_run():
    from docx.oxml import parse_xml

    return parse_xml(
        f'<w:r {_NS}><w:rPr><w:vertAlign w:val="superscript"/><w:rtl/></w:rPr>'
        '<w:footnoteReference w:id="1"/></w:r>'
    )


def _textbox_run(text: str):
    """A Word 2010 text box run: DrawingML wps shape with a VML fallback, as Word writes it."""
    from docx.oxml import parse_xml

    cx, cy = 2743200, 1371600  # EMU: 3 x 1.5 inches
    content = f"<w:txbxContent>{_rtl_paragraph_xml(text)}</w:txbxContent>".replace(
        f"<w:p {_NS}>", "<w:p>"
    )
    xml = (
        f"<w:r {_NS}><mc:AlternateContent>"
        '<mc:Choice Requires="wps"><w:drawing>'
        '<wp:anchor distT="45720" distB="45720" distL="114300" distR="114300" simplePos="0" '
        'relativeHeight="251659264" behindDoc="0" locked="0" layoutInCell="1" allowOverlap="1">'
        '<wp:simplePos x="0" y="0"/>'
        '<wp:positionH relativeFrom="column"><wp:posOffset>0</wp:posOffset></wp:positionH>'
        '<wp:positionV relativeFrom="paragraph"><wp:posOffset>0</wp:posOffset></wp:positionV>'
        f'<wp:extent cx="{cx}" cy="{cy}"/><wp:effectExtent l="0" t="0" r="0" b="0"/>'
        '<wp:wrapSquare wrapText="bothSides"/>'
        '<wp:docPr id="1" name="Text Box 1"/><wp:cNvGraphicFramePr/>'
        '<a:graphic><a:graphicData '
        'uri="http://schemas.microsoft.com/office/word/2010/wordprocessingShape">'
        '<wps:wsp><wps:cNvSpPr txBox="1"/>'
        f'<wps:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="{cx}" cy="{cy}"/></a:xfrm>'
        '<a:prstGeom prst="rect"><a:avLst/></a:prstGeom>'
        '<a:solidFill><a:srgbClr val="FFFFFF"/></a:solidFill>'
        '<a:ln w="6350"><a:solidFill><a:srgbClr val="000000"/></a:solidFill></a:ln>'
        "</wps:spPr>"
        f"<wps:txbx>{content}</wps:txbx>"
        '<wps:bodyPr rot="0" vert="horz" wrap="square" lIns="91440" tIns="45720" '
        'rIns="91440" bIns="45720" anchor="t" anchorCtr="0"><a:noAutofit/></wps:bodyPr>'
        "</wps:wsp></a:graphicData></a:graphic></wp:anchor></w:drawing></mc:Choice>"
        "<mc:Fallback><w:pict>"
        '<v:shape id="Text Box 1" o:spid="_x0000_s1026" type="#_x0000_t202" '
        'style="position:absolute;margin-left:0;margin-top:0;width:216pt;height:108pt;'
        'z-index:251659264" fillcolor="white" strokeweight=".5pt">'
        f"<v:textbox>{content}</v:textbox></v:shape>"
        "</w:pict></mc:Fallback></mc:AlternateContent></w:r>"
    )
    return parse_xml(xml)


def docx_python_docx(
    doc: Doc,
    path: Path,
    *,
    heading: bool = True,
    table_rows: Sequence[Sequence[str]] | None = None,
    footnote: str | None = None,
    textbox: str | None = None,
    header: str | None = None,
) -> Path:
    """A4 right-to-left DOCX by python-docx: title, paragraphs and optional table/footnote/box.

    - `heading`: the title is a "Heading 1" paragraph; else a plain bold paragraph.
    - `table_rows`: a table (style "Table Grid", w:bidiVisual) right after the first paragraph.
    - `footnote`: raw OOXML word/footnotes.xml; its reference ends the first paragraph.
    - `textbox`: a raw-OOXML text box anchored at the start of the second paragraph (the
      first if there is one): mc:AlternateContent with a wps shape AND a VML fallback, both
      holding the text, as Word writes it (a naive `.//w:t` reader sees it twice).
    - `header`: a running page header (section header part).
    """
    _require_modules("docx")
    from docx import Document
    from docx.oxml import OxmlElement
    from docx.shared import Mm

    document = Document()
    for name, size in (("Normal", 13.0), ("Heading 1", 18.0), ("Table Grid", None)):
        _set_cs_font(document.styles[name], size)
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Mm(20))
    section._sectPr.append(OxmlElement("w:bidi"))
    if header:
        hp = section.header.paragraphs[0]
        hp.add_run(header)
        _make_rtl(hp)

    if heading:
        title = document.add_heading(doc.title, level=1)
    else:
        title = document.add_paragraph()
        title.add_run(doc.title).bold = True
    _make_rtl(title)

    paragraphs = []
    for text in doc.paragraphs:
        p = document.add_paragraph(text)
        _make_rtl(p)
        paragraphs.append(p)

    if footnote is not None:
        if not paragraphs:
            raise ValueError("a footnote needs at least one paragraph to refer from")
        _add_footnotes_part(document, footnote)
        paragraphs[0]._p.append(_footnote_reference_run())
    if textbox is not None:
        if not paragraphs:
            raise ValueError("a text box needs at least one paragraph to anchor in")
        anchor = paragraphs[1] if len(paragraphs) > 1 else paragraphs[0]
        ppr = anchor._p.get_or_add_pPr()
        ppr.addnext(_textbox_run(textbox))
    if table_rows:
        ncols = max(len(r) for r in table_rows)
        table = document.add_table(rows=len(table_rows), cols=ncols)
        table.style = document.styles["Table Grid"]
        tbl_pr = table._tbl.tblPr
        tbl_pr.append(OxmlElement("w:bidiVisual"))
        for row, cells in zip(table.rows, table_rows):
            for cell, text in zip(row.cells, cells):
                cell.paragraphs[0].add_run(str(text))
                _make_rtl(cell.paragraphs[0])
        where = paragraphs[0]._p if paragraphs else title._p
        where.addnext(table._tbl)

    props = document.core_properties
    props.title = doc.title[:255]
    props.author = "benchmarks.producers"
    props.created = props.modified = _FIXED_TIME.replace(tzinfo=None)
    props.last_modified_by = "benchmarks.producers"
    props.revision = 1
    path = Path(path)
    document.save(str(path))
    return path


# ---------------------------------------------------------------- HTML

_SITE = "الوطن نيوز"
_NAV = ("الرئيسية", "سياسة", "اقتصاد", "رياضة", "ثقافة", "تكنولوجيا", "منوعات", "اتصل بنا")
_RELATED = (
    "ارتفاع أسعار النفط في الأسواق العالمية بعد قرار أوبك",
    "الأمم المتحدة تحذر من أزمة غذاء في عدة دول",
    "منتخب الشباب يتأهل إلى نهائي البطولة العربية",
)
_MOST_READ = (
    "تعرف على حالة الطقس المتوقعة نهاية الأسبوع",
    "وزارة التعليم تعلن موعد بدء العام الدراسي الجديد",
    "افتتاح معرض الكتاب الدولي بمشاركة 500 دار نشر",
    "البنك المركزي يبقي على أسعار الفائدة دون تغيير",
)


def _links(items: Sequence[str], prefix: str) -> str:
    return "\n".join(
        f'      <li><a href="/{prefix}/{i + 1}.html">{html.escape(t)}</a></li>'
        for i, t in enumerate(items)
    )


def html_with_boilerplate(doc: Doc, path: Path) -> Path:
    """A realistic Arabic news page: the article inside nav, related links, sidebar, footer, JS."""
    e = html.escape
    paras = "\n".join(f"      <p>{e(p)}</p>" for p in doc.paragraphs)
    page = f"""<!DOCTYPE html>
<html lang="ar" dir="rtl">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{e(doc.title)} | {_SITE}</title>
  <meta property="og:title" content="{e(doc.title)}">
  <meta property="og:site_name" content="{_SITE}">
  <link rel="canonical" href="https://www.example.com/news/2024/01/article-12345.html">
  <style>
    body {{ font-family: "Noto Naskh Arabic", serif; margin: 0; direction: rtl; }}
    .top-nav ul {{ list-style: none; display: flex; gap: 1em; }}
    .sidebar {{ float: left; width: 30%; }} .content {{ float: right; width: 65%; }}
    /* الإعلانات تظهر هنا */
  </style>
  <script>
    window.dataLayer = window.dataLayer || [];
    function gtag() {{ dataLayer.push(arguments); }}
    var messages = {{
      subscribe: "اشترك في النشرة البريدية", cookies: "نستخدم ملفات تعريف الارتباط"
    }};
  </script>
</head>
<body>
  <div class="cookie-banner">نستخدم ملفات تعريف الارتباط لتحسين تجربتك. <button>موافق</button></div>
  <header class="site-header">
    <a class="logo" href="/">{_SITE}</a>
    <form class="search" action="/search"><input name="q" placeholder="ابحث في الموقع"></form>
    <span class="date">الثلاثاء 12 مارس 2024</span>
  </header>
  <nav class="top-nav">
    <ul>
{_links(_NAV, "section")}
    </ul>
  </nav>
  <div class="breadcrumb"><a href="/">الرئيسية</a> &rsaquo; <a href="/section/2">أخبار</a></div>
  <main class="content">
    <article class="article">
      <h1>{e(doc.title)}</h1>
      <div class="byline">بقلم: فريق التحرير &middot; <time datetime="2024-03-12">12/03/2024</time>
      </div>
      <div class="share">شارك: <a href="#">فيسبوك</a> <a href="#">تويتر</a>
        <a href="#">واتساب</a></div>
      <div class="article-body">
{paras}
      </div>
      <div class="tags">وسوم: <a href="/tag/1">أخبار</a> <a href="/tag/2">تقارير</a></div>
    </article>
    <section class="related">
      <h3>اقرأ أيضاً</h3>
      <ul>
{_links(_RELATED, "related")}
      </ul>
    </section>
    <section class="comments"><h3>التعليقات</h3><p>لا توجد تعليقات بعد. كن أول من يعلق.</p>
    </section>
  </main>
  <aside class="sidebar">
    <h3>الأكثر قراءة</h3>
    <ol>
{_links(_MOST_READ, "popular")}
    </ol>
    <div class="newsletter"><h4>النشرة البريدية</h4><p>اشترك ليصلك أهم الأخبار يومياً.</p></div>
    <div class="ad">إعلان</div>
  </aside>
  <footer class="site-footer">
    <ul>
{_links(("من نحن", "سياسة الخصوصية", "شروط الاستخدام", "أعلن معنا"), "about")}
    </ul>
    <p>جميع الحقوق محفوظة &copy; 2024 {_SITE}</p>
  </footer>
  <script>
    document.querySelectorAll(".share a").forEach(function (a) {{
      a.addEventListener("click", function () {{ gtag("event", "share"); }});
    }});
  </script>
</body>
</html>
"""
    path = Path(path)
    path.write_text(page, encoding="utf-8")
    return path


# ---------------------------------------------------------------- chromium

_CHROMIUM_HINT = "apt-get install chromium"


def _article_html(doc: Doc) -> str:
    e = html.escape
    paras = "\n".join(f"<p>{e(p)}</p>" for p in doc.paragraphs)
    return f"""<!DOCTYPE html>
<html lang="ar" dir="rtl">
<head><meta charset="utf-8"><title>{e(doc.title)}</title>
<style>
  @page {{ size: A4; margin: 2cm; }}
  body {{ font-family: "Noto Naskh Arabic", "Amiri", serif; font-size: 13pt; line-height: 1.7;
         text-align: justify; }}
  h1 {{ font-size: 20pt; }}
  p {{ margin: 0 0 0.8em 0; }}
</style></head>
<body>
<h1>{e(doc.title)}</h1>
{paras}
</body></html>
"""


def pdf_chromium(doc: Doc, path: Path) -> Path:
    """A4 PDF printed by headless Chromium from a right-to-left HTML page (Noto Naskh)."""
    exe = _which("chromium", "chromium-browser", "google-chrome")
    if exe is None:
        raise ProducerUnavailable(_CHROMIUM_HINT)
    path = Path(path).resolve()
    with tempfile.TemporaryDirectory(prefix="chromium-") as tmp:
        src = Path(tmp) / "doc.html"
        src.write_text(_article_html(doc), encoding="utf-8")
        out = Path(tmp) / "out.pdf"
        cmd = [
            exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--disable-dev-shm-usage", f"--user-data-dir={tmp}/profile",
            "--no-pdf-header-footer", f"--print-to-pdf={out}", src.as_uri(),
        ]
        proc = _run(cmd, what="chromium --print-to-pdf")
        if not out.is_file() or out.stat().st_size == 0:
            raise RuntimeError(f"chromium wrote no PDF: {_tail(proc)}")
        shutil.move(str(out), path)
    return path


# ---------------------------------------------------------------- LibreOffice

_SOFFICE_HINT = "apt-get install libreoffice-writer-nogui"
_soffice_lock = threading.Lock()
_soffice_profile: Path | None = None


def pdf_libreoffice(doc: Doc, path: Path, **docx_options) -> Path:
    """A4 PDF converted by LibreOffice from the python-docx DOCX of `doc` (options passed on)."""
    global _soffice_profile
    exe = _which("soffice", "libreoffice")
    if exe is None:
        raise ProducerUnavailable(_SOFFICE_HINT)
    path = Path(path).resolve()
    with _soffice_lock, tempfile.TemporaryDirectory(prefix="soffice-") as tmp:
        if _soffice_profile is None:  # one private profile per process: later runs start faster
            _soffice_profile = _private_tmpdir("soffice-profile-")
        src = docx_python_docx(doc, Path(tmp) / "doc.docx", **docx_options)
        cmd = [
            exe, f"-env:UserInstallation={_soffice_profile.as_uri()}", "--headless",
            "--norestore", "--nologo", "--nodefault", "--nolockcheck",
            "--convert-to", "pdf", "--outdir", tmp, str(src),
        ]
        proc = _run(cmd, what="soffice --convert-to pdf")
        out = Path(tmp) / "doc.pdf"
        if not out.is_file() or out.stat().st_size == 0:
            raise RuntimeError(f"soffice wrote no PDF: {_tail(proc)}")
        shutil.move(str(out), path)
    return path


# ---------------------------------------------------------------- XeLaTeX

_XETEX_HINT = "apt-get install texlive-xetex texlive-lang-arabic fonts-hosny-amiri"
_TEX_SPECIAL = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#",
    "^": r"\textasciicircum{}", "_": r"\_", "~": r"\textasciitilde{}", "%": r"\%",
}
# Latin words (and phrases), and numbers with separators ("2.5", "12/03/2024"), which
# bidi.sty would otherwise lay out digit group by digit group from right to left.
_LATIN_RUN = re.compile(
    r"[A-Za-z][A-Za-z0-9.'\-]*(?:[ ]+[A-Za-z][A-Za-z0-9.'\-]*)*|\d+(?:[.,:/]\d+)+"
)


def _tex_escape(text: str) -> str:
    return "".join(_TEX_SPECIAL.get(c, c) for c in text)


def _tex_arabic(text: str) -> str:
    """Escape `text` for TeX and set its Latin runs and dotted numbers left-to-right."""
    out, pos = [], 0
    for m in _LATIN_RUN.finditer(text):
        out.append(_tex_escape(text[pos:m.start()]))
        out.append(r"\textenglish{" + _tex_escape(m.group()) + "}")
        pos = m.end()
    out.append(_tex_escape(text[pos:]))
    return "".join(out)


def _xetex_font() -> str:
    fc = _which("fc-list")
    if fc:
        names = subprocess.run([fc, ":", "family"], capture_output=True, text=True).stdout
        for family in ("Amiri", "Noto Naskh Arabic"):
            if re.search(rf"(^|,){re.escape(family)}(,|$)", names, re.M):
                return family
    raise ProducerUnavailable(f"no Amiri / Noto Naskh Arabic font for XeLaTeX: {_XETEX_HINT}")


def pdf_xetex(doc: Doc, path: Path) -> Path:
    """A4 PDF typeset by XeLaTeX with polyglossia (Arabic main language, Amiri font)."""
    exe = _which("xelatex")
    if exe is None:
        raise ProducerUnavailable(_XETEX_HINT)
    family = _xetex_font()
    body = "\n\n".join(_tex_arabic(p) for p in doc.paragraphs)
    tex = rf"""\documentclass[a4paper,12pt]{{article}}
\usepackage[margin=2cm]{{geometry}}
\usepackage{{fontspec}}
\usepackage{{polyglossia}}
\setmainlanguage{{arabic}}
\setotherlanguage{{english}}
\setmainfont{{{family}}}
\newfontfamily\arabicfont[Script=Arabic]{{{family}}}
\setlength{{\parindent}}{{0pt}}
\setlength{{\parskip}}{{0.7em}}
\pagestyle{{plain}}
\begin{{document}}
\section*{{{_tex_arabic(doc.title)}}}

{body}

\end{{document}}
"""
    path = Path(path).resolve()
    with tempfile.TemporaryDirectory(prefix="xetex-") as tmp:
        (Path(tmp) / "doc.tex").write_text(tex, encoding="utf-8")
        cmd = [exe, "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape", "doc.tex"]
        proc = _run(cmd, cwd=Path(tmp), what="xelatex")
        out = Path(tmp) / "doc.pdf"
        if not out.is_file():
            raise RuntimeError(f"xelatex wrote no PDF: {_tail(proc)}")
        shutil.move(str(out), path)
    return path


# ---------------------------------------------------------------- registry

PdfProducer = Callable[[Doc, Path], Path]


def _reportlab_two_columns(doc: Doc, path: Path) -> Path:
    """Two columns, a running header (a newspaper name) and page numbers."""
    return pdf_reportlab(doc, path, columns=2, header=RUNNING_HEADER, footer_page_numbers=True)


#: Every PDF producer as name -> f(doc, path); loop over them in benchmarks.
ALL_PDF_PRODUCERS: dict[str, PdfProducer] = {
    "reportlab": pdf_reportlab,
    "reportlab_2col": _reportlab_two_columns,
    "scanned": _scanned_from_doc,
    "chromium": pdf_chromium,
    "libreoffice": pdf_libreoffice,
    "xetex": pdf_xetex,
    "presentation_forms": pdf_presentation_forms,
}


def _check_reportlab() -> None:
    _require_modules("reportlab", "arabic_reshaper", "bidi")
    find_font()


def _check_scanned() -> None:
    _check_reportlab()
    _require_modules("pypdfium2", "PIL")


def _check_tool(hint: str, *names: str) -> Callable[[], None]:
    def check() -> None:
        if _which(*names) is None:
            raise ProducerUnavailable(hint)
    return check


def _check_libreoffice() -> None:
    _require_modules("docx")
    _check_tool(_SOFFICE_HINT, "soffice", "libreoffice")()


def _check_xetex() -> None:
    _check_tool(_XETEX_HINT, "xelatex")()
    kpse = _which("kpsewhich")
    if kpse and not subprocess.run([kpse, "polyglossia.sty"], capture_output=True).stdout:
        raise ProducerUnavailable(_XETEX_HINT)
    _xetex_font()


_CHECKS: dict[str, Callable[[], None]] = {
    "reportlab": _check_reportlab,
    "reportlab_2col": _check_reportlab,
    "presentation_forms": _check_reportlab,
    "scanned": _check_scanned,
    "chromium": _check_tool(_CHROMIUM_HINT, "chromium", "chromium-browser", "google-chrome"),
    "libreoffice": _check_libreoffice,
    "xetex": _check_xetex,
    "docx": lambda: _require_modules("docx"),
    "html": lambda: None,
}


def available(name: str) -> str | None:
    """None when producer `name` can run here, else what to install (a ProducerUnavailable text)."""
    try:
        check = _CHECKS[name]
    except KeyError:
        raise ValueError(f"unknown producer {name!r}; known: {', '.join(_CHECKS)}") from None
    try:
        check()
    except ProducerUnavailable as exc:
        return str(exc)
    return None


def iter_available_pdf_producers() -> Iterator[tuple[str, PdfProducer]]:
    """(name, producer) for every PDF producer whose tool is installed here."""
    for name, producer in ALL_PDF_PRODUCERS.items():
        if available(name) is None:
            yield name, producer
