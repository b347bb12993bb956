"""Read the text of a scanned page with Tesseract (Arabic model by default).

    if (reason := unavailable()) is None:
        paragraphs = ocr_image(page_image, timeout=60.0)   # ExtractError on timeout/failure

Tesseract is run with `subprocess` directly rather than through pytesseract:
the child needs its own environment (`OMP_THREAD_LIMIT=1`; pytesseract always
passes the parent's `os.environ`, so it could only be set process-wide), the image
is piped through stdin and hOCR read from stdout (no temporary files), and on
timeout `subprocess.run` kills *and reaps* the child and keeps its stderr.

hOCR rather than TSV: besides block/paragraph/line numbers it gives each line's
box, text size and direction, which `_paragraphs` needs. Tesseract's own
paragraph detection both merges and splits paragraphs on clean pages, so its
boundaries are corrected by the page's geometry: a line starts a new paragraph
when it is not under the previous one (another column or region: then only if the
previous line stopped short), when the line pitch is clearly larger than the
page's usual pitch, or when the previous line stops short (the next line's first
word would have fit) or, where Tesseract saw a new paragraph, the line is indented.
Lines without a letter or digit (specks, rules) are dropped; nothing is added.

Defaults, measured on page 1 of each seed article rendered by
`benchmarks.producers.pdf_reportlab` (13 pt Noto Naskh; one column, two columns
with a running header, and a degraded copy: 0.8 deg skew, blur, noise), bag-of-words
F1 without tashkeel, 2 shared cores (mean F1 / seconds per page):

    psm, threshold   1 col 200 dpi  2 col 200   degraded 200   1 col 300   2 col 300
    3, Otsu          0.962 1.3      0.967 2.4   0.980 1.8      0.977 1.9   0.968 1.8
    3, Sauvola       0.988 1.4      0.981 1.5   0.985 1.9      0.967 1.9   0.974 2.0
    4, Sauvola       0.988 1.4      0.966 1.6   0.982 1.8      0.967 2.1   0.966 2.0
    6, Sauvola       0.985 1.4      0.909 1.7   0.985 1.6      0.969 2.0   0.873 2.2

psm 4 and 6 break two-column pages into line-sized paragraphs (21/57 and 7/57
source paragraphs recovered, against 55/57 with psm 3). Tesseract's default Otsu
threshold silently drops whole lines on clean renders (recall 0.94); Leptonica's
Otsu (`thresholding_method=1`) collapses on the degraded scans (F1 0.12); Sauvola
(`thresholding_method=2`) is best or equal everywhere. 200 dpi is as good as 300
for 9-16 pt text (9 pt: 0.984 both; 7 pt: 0.978 vs 0.986) and ~20% faster.
`ara+eng` read Latin words but lowered F1 on `producers.sample_doc` (0.945 vs 0.971).
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from storage.formats import ExtractError

if TYPE_CHECKING:
    from PIL import Image

#: Page segmentation: automatic, with columns (measured: see the module docstring).
PSM = 3
#: Sauvola adaptive thresholding (measured: see the module docstring).
OPTIONS: tuple[str, ...] = ("-c", "thresholding_method=2")

_LANG_RE = re.compile(r"^[A-Za-z_]+(\+[A-Za-z_]+)*$")
_CHECK_SECONDS = 15.0
_STDERR_TAIL = 300


def _command() -> str:
    """The tesseract binary: $TESSERACT_CMD when set, else `tesseract` on PATH."""
    return os.environ.get("TESSERACT_CMD") or "tesseract"


def _environment() -> dict[str, str]:
    """The child's environment: one OpenMP thread (it is slower with several on 2 cores)."""
    return {**os.environ, "OMP_THREAD_LIMIT": "1"}


def _hint(lang: str) -> str:
    """How to install Tesseract with the data for `lang`."""
    packages = " ".join(f"tesseract-ocr-{code.lower()}" for code in lang.split("+"))
    return f"apt-get install tesseract-ocr {packages} (or make setup as root)"


def unavailable(lang: str = "ara") -> str | None:
    """None when Tesseract and its `lang` data are installed, else why not and how to fix it."""
    return _unavailable(_command(), lang)


@lru_cache(maxsize=8)
def _unavailable(command: str, lang: str) -> str | None:
    """`unavailable` for one binary and language (cached: it is asked once per file)."""
    language = "Arabic" if lang == "ara" else f"language data '{lang}'"
    missing = f"OCR needs Tesseract with {language}: {_hint(lang)}; scanned pages are skipped"
    if not _LANG_RE.match(lang):
        return f"invalid OCR language {lang!r}"
    if shutil.which(command) is None:
        return missing
    try:
        done = subprocess.run(
            [command, "--list-langs"], capture_output=True, timeout=_CHECK_SECONDS,
            env=_environment(), check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return missing
    installed = set(done.stdout.decode("utf-8", "replace").split()[1:])  # after the header
    if done.returncode != 0 or not set(lang.split("+")) <= installed:
        return missing
    return None


@lru_cache(maxsize=4)
def _version(command: str) -> str:
    """The first line of `tesseract --version`, e.g. "tesseract 5.3.0"."""
    try:
        done = subprocess.run(
            [command, "--version"], capture_output=True, timeout=_CHECK_SECONDS, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return "tesseract not installed"
    lines = (done.stdout or done.stderr).decode("utf-8", "replace").strip().splitlines()
    return lines[0].strip() if done.returncode == 0 and lines else "tesseract not installed"


def ocr_version() -> str:
    """The Tesseract version in use, e.g. "tesseract 5.3.0" (for reports)."""
    return _version(_command())


def ocr_image(image: Image.Image, *, timeout: float, lang: str = "ara") -> list[str]:
    """The page's paragraphs in reading order (logical order), one string per paragraph.

    Raises ExtractError when Tesseract fails or runs longer than `timeout` seconds
    (the child is killed). A page with no text gives [].
    """
    from PIL import Image as PILImage  # Pillow is only needed when there is a page to read

    if not isinstance(image, PILImage.Image):
        raise TypeError(f"ocr_image needs a PIL image, not {type(image).__name__}")
    if not timeout > 0:
        raise ValueError(f"OCR timeout must be positive, not {timeout!r}")
    if not _LANG_RE.match(lang):
        raise ValueError(f"invalid OCR language {lang!r}")
    command = [_command(), "stdin", "stdout", "-l", lang, "--psm", str(PSM), *OPTIONS]
    try:
        done = subprocess.run(
            [*command, "hocr"], input=_png(image), capture_output=True, timeout=timeout,
            env=_environment(), check=False,
        )
    except subprocess.TimeoutExpired:
        raise ExtractError(f"OCR of a page took longer than {timeout:g} s") from None
    except OSError as error:
        raise ExtractError(f"OCR failed: cannot run {command[0]}: {error.strerror}") from None
    if done.returncode != 0:
        tail = " ".join(done.stderr.decode("utf-8", "replace").split())[-_STDERR_TAIL:]
        raise ExtractError(f"OCR failed: {tail or f'tesseract exit status {done.returncode}'}")
    return _paragraphs(_lines(done.stdout))


def _png(image: Image.Image) -> bytes:
    """The image as a greyscale PNG (fast compression: the bytes only cross a pipe)."""
    if image.mode not in ("1", "L"):
        image = image.convert("L")
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


@dataclass(frozen=True)
class _Line:
    """One OCR line: its words' text and where Tesseract put it (pixels, y down)."""

    text: str
    par: tuple[int, int]  # (block, paragraph) numbers in Tesseract's order
    left: int
    top: int
    right: int
    bottom: int
    middle: float  # y of the bbox centre (steadier than Tesseract's baselines)
    first_word: float  # width of the line's first word (in reading order), estimated
    rtl: bool


_LINE_CLASSES = {"ocr_line", "ocr_header", "ocr_caption", "ocr_textfloat"}
_HAS_WORD_CHAR = re.compile(r"[^\W_]")


def _title(element: ET.Element) -> dict[str, list[str]]:
    """An hOCR title attribute ("bbox 1 2 3 4; x_size 39") as {"bbox": ["1", ...], ...}."""
    fields = {}
    for part in element.get("title", "").split(";"):
        if part.strip():
            name, *values = part.split()
            fields[name] = values
    return fields


def _bbox(element: ET.Element) -> tuple[int, int, int, int]:
    """An hOCR element's (left, top, right, bottom)."""
    left, top, right, bottom = (int(v) for v in _title(element)["bbox"])
    return left, top, right, bottom


def _classed(element: ET.Element, *classes: str):
    """The descendants of `element` with one of the hOCR `classes`, in document order."""
    return (e for e in element.iter() if e.get("class") in classes)


def _lines(hocr: bytes) -> list[_Line]:
    """The text lines of a Tesseract hOCR page, in its reading order; noise lines dropped."""
    try:
        return _parse_lines(ET.fromstring(hocr))
    except (ET.ParseError, KeyError, ValueError) as error:
        raise ExtractError(f"OCR failed: unreadable hOCR output ({error!r})") from None


def _parse_lines(root: ET.Element) -> list[_Line]:
    """`_lines` of a parsed hOCR document (KeyError/ValueError when it is malformed)."""
    lines: list[_Line] = []
    for block_no, block in enumerate(_classed(root, "ocr_carea")):
        for par_no, par in enumerate(_classed(block, "ocr_par")):
            for line in _classed(par, *_LINE_CLASSES):
                words = [w for w in _classed(line, "ocrx_word") if "".join(w.itertext()).strip()]
                text = " ".join(" ".join("".join(w.itertext()) for w in words).split())
                if not _HAS_WORD_CHAR.search(text):
                    continue  # specks, rules and stray punctuation
                left, top, right, bottom = _bbox(line)
                first = "".join(words[0].itertext()).strip()
                lines.append(_Line(
                    text, (block_no, par_no), left, top, right, bottom,
                    middle=(top + bottom) / 2,
                    # Tesseract's word boxes are sometimes a sliver of the word: estimate
                    # the first word's width from the line's mean character width.
                    first_word=len(first) * (right - left) / max(1, len(text)),
                    rtl=par.get("dir") == "rtl",
                ))
    return lines


#: A line pitch (centre to centre) this much larger than the page's usual one is a gap.
_GAP_RATIO = 1.3
#: Without enough lines to know the usual pitch, a gap is a pitch this many line heights.
_GAP_HEIGHTS = 1.7
#: Lines this much taller than usual (a title) have their own, larger usual pitch.
_LARGE_TEXT = 1.3
#: The next line is "indented" when it starts this many line heights after the edge.
_INDENT_HEIGHTS = 0.7
#: Room needed after a line's end, besides the next line's first word, to call it short.
_SPACE_HEIGHTS = 0.8


@dataclass(frozen=True)
class _Layout:
    """What is usual on the page, to judge each pair of lines against."""

    pitch: float | None  # usual centre-to-centre distance of consecutive lines
    height: float  # median line height
    columns: dict[int, tuple[int, int]]  # block → (left, right) of its lines


def _layout(lines: list[_Line]) -> _Layout:
    """The page's usual line pitch and height, and each block's horizontal extent."""
    pitches = sorted(b.middle - a.middle for a, b in zip(lines, lines[1:]) if _below(a, b))
    heights = sorted(line.bottom - line.top for line in lines)
    columns: dict[int, tuple[int, int]] = {}
    for line in lines:
        low, high = columns.get(line.par[0], (line.left, line.right))
        columns[line.par[0]] = (min(low, line.left), max(high, line.right))
    # The lower quartile: most pitches are within paragraphs, the larger ones between.
    pitch = pitches[len(pitches) // 4] if len(pitches) >= 3 else None
    return _Layout(pitch, heights[len(heights) // 2], columns)


def _paragraphs(lines: list[_Line]) -> list[str]:
    """Join OCR lines into paragraphs (see the module docstring for the rules)."""
    if not lines:
        return []
    layout = _layout(lines)
    paragraphs = [[lines[0].text]]
    for a, b in zip(lines, lines[1:]):
        if _starts_paragraph(a, b, layout):
            paragraphs.append([])
        paragraphs[-1].append(b.text)
    return [" ".join(words) for words in paragraphs]


def _below(a: _Line, b: _Line) -> bool:
    """Whether line b is under line a (lower, and overlapping it horizontally)."""
    overlap = min(a.right, b.right) - max(a.left, b.left)
    narrower = min(a.right - a.left, b.right - b.left)
    return b.top > a.bottom - (a.bottom - a.top) / 2 and overlap > 0.3 * narrower


def _starts_paragraph(a: _Line, b: _Line, layout: _Layout) -> bool:
    """Whether line b, which follows line a, starts a new paragraph."""
    columns = layout.columns
    if _below(a, b):
        height = (a.bottom - a.top + b.bottom - b.top) / 2
        if layout.pitch is None:
            limit = _GAP_HEIGHTS * height
        else:
            large = height > _LARGE_TEXT * layout.height
            limit = _GAP_RATIO * layout.pitch * (height / layout.height if large else 1.0)
        if b.middle - a.middle > limit:
            return True
        col_a, col_b = columns[a.par[0]], columns[b.par[0]]
        column = min(col_a[0], col_b[0]), max(col_a[1], col_b[1])
        if a.par == b.par:
            return _ends_short(a, b, column, layout.height)
        # Tesseract saw a new paragraph: keep it if the layout agrees.
        return _ends_short(a, b, column, layout.height) or _indented(b, column, layout.height)
    if b.bottom < a.top and min(a.right, b.right) <= max(a.left, b.left) and a.par[0] != b.par[0]:
        # b heads the next column: the paragraph goes on if a filled its line.
        return (_ends_short(a, b, columns[a.par[0]], layout.height)
                or _indented(b, columns[b.par[0]], layout.height))
    return True


def _ends_short(a: _Line, b: _Line, column: tuple[int, int], height: float) -> bool:
    """Whether line a ends early enough that b's first word would have fit after it."""
    room = a.left - column[0] if a.rtl else column[1] - a.right
    return room > b.first_word + _SPACE_HEIGHTS * height


def _indented(b: _Line, column: tuple[int, int], height: float) -> bool:
    """Whether line b starts clearly after its column's edge (a first-line indent)."""
    inset = column[1] - b.right if b.rtl else b.left - column[0]
    return inset > _INDENT_HEIGHTS * height
