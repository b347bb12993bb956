"""Read a PDF's text layer (PDFium) into paragraphs with their page; OCR pages without one.

    doc = extract_pdf(path.read_bytes(), Limits())   # ExtractError(reason) when unreadable

Library: pypdfium2 (PDFium; Apache-2.0/BSD-3), chosen by `benchmarks/pdf_libraries.py`
(5 seed articles × 6 producers). Word F1, each library's own text → with this module:

    producer            pdfium  pdfminer  pypdf   pdfminer+repair  extract_pdf (PDFium)
    reportlab (visual)  0.999   0.016     0.992   1.000            1.000
    2 columns           0.989   0.016     0.982   0.990            0.996
    forms, logical      0.016   1.000     0.010   1.000            1.000
    Chromium            0.324   0.015     0.994   0.994            0.999
    LibreOffice         0.998   0.015     0.986   0.994            1.000
    XeTeX (Amiri)       0.947   0.015     0.045   0.893            0.997

No library is right on its own: PDFium reorders Arabic itself and gets Chromium's PDFs
wrong (it flips some words and not others), pdfminer gives visual order, pypdf loses
XeTeX's spaces. String repair of pdfminer's text is good but pdfminer reads 16-26
pages/s (a 500-page PDF would take 20-30 s); PDFium gives every glyph's box, pen
position and baseline at C speed (about 70-110 pages/s for the whole extraction here,
500 pages in 5-8 s of CPU). So the page is laid out here from PDFium's glyphs:

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
   outermost lines in the top or bottom `BAND` of at least half the pages) dropped;
5. lines joined into paragraphs by layout (`_starts_paragraph`), also across a page or
   column break when the text runs on; a block keeps the page it starts on;
6. pages without a text layer that draw something are rasterised and read by OCR
   (`storage.formats.ocr`); blank pages are skipped.
"""

from __future__ import annotations

import ctypes
import io
import math
import re
import time
import unicodedata
from bisect import bisect_left
from dataclasses import dataclass, field
from functools import lru_cache

from storage.formats import Block, Extracted, ExtractError, Limits
from storage.formats.arabic_text import (
    LINE_CONFIDENT,
    balance_pairs,
    clean,
    join_lines,
    reversal_score,
    visual_to_logical,
)

#: PDFium numbers words by the spaces it infers. Two letters (or digits) of different
#: words are split by a space when their boxes are at least `LETTER_GAP` line heights
#: apart; next to a sign (bracket, quote, dot) PDFium's words are unreliable (fallback
#: fonts) and the gap alone decides, `SIGN_GAP`. Measured on the seeds and a bracket
#: test line: between letters PDFium's word gaps are 0.10-0.50 (one 0.02: a final «ر»
#: reaching under the next word), its spurious ones inside XeTeX words -0.12-0.04;
#: next to signs real spaces are 0.24-0.37, none 0.04-0.14.
LETTER_GAP = 0.03
SIGN_GAP = 0.18
#: Glyphs are split by a space whatever their word number beyond this gap.
WIDE_GAP = 0.6
#: The gap that makes a space for glyphs without word numbers (word number -1).
GEOMETRIC_GAP = 0.2
#: Top and bottom share of the page where running headers and footers are looked for.
BAND = 0.2
#: A line pitch this much larger than the document's usual pitch starts a paragraph.
PARA_PITCH = 1.3
#: Font size ratio between two lines beyond which they are not one paragraph.
SIZE_CHANGE = 1.15
#: A first line set in by more than this share of the line height is indented.
INDENT = 0.8
#: The font size is read for one glyph in this many (it is compared per line).
SIZE_EVERY = 8
#: Narrowest gutter between two columns, as a share of the median line height.
GUTTER_MIN = 0.6

# One glyph: (text, x0, x1, y0, y1, baseline, font size, pen x, word number, index in
# the text page); tuples, as a 500-page PDF has about a million glyphs.
Glyph = tuple[str, float, float, float, float, float, float, float, int, int]

_SPACES = frozenset("\u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
                    "\u200a\u202f\u205f\u3000")
#: Combining marks (harakat and others): placed by the letter under them, not in the line.
_MARK_CHARS = frozenset(chr(c) for c in range(0x300, 0x2000) if unicodedata.combining(chr(c)))
_DIGITS = re.compile(r"[0-9\u0660-\u0669\u06f0-\u06f9]+")
_PAGE_WORDS = re.compile(r"(?i)\b(page|p|pp|صفحة|الصفحة|ص)\b")
_NOT_TEXT = re.compile(r"[\ufffd\ue000-\uf8ff\x00-\x08\x0e-\x1f]")
_MEANINGLESS_TITLE = re.compile(
    r"(?i)^(untitled|document\d*|microsoft word - .*|.*\.(docx?|odt|rtf|txt|pdf|html?|tex)|"
    r"[\W_\d]*)$"
)


@dataclass(slots=True)
class Line:
    """One line of text in reading order, with the geometry paragraphs are decided from."""

    text: str
    x0: float
    x1: float
    base: float
    height: float  # tallest glyph
    size: float  # median font size
    first_word: float  # width of the word the line starts with (in reading order)
    rtl: bool  # the page's direction (which edge lines start from)
    page: int
    flow: int  # lines of one column of one page region share a flow
    col_x0: float = 0.0  # edges of the line's column on its page
    col_x1: float = 0.0


@dataclass(slots=True)
class _RawLine:
    glyphs: list[Glyph]
    base: float
    y0: float
    y1: float
    marks: list[Glyph] = field(default_factory=list)


# ---------------------------------------------------------------- reading glyphs


def _page_text(raw, textpage, count: int) -> str | None:
    """All of a text page's characters in one call, or None when they do not align."""
    buffer = ctypes.create_string_buffer(2 * (count + 1))
    written = raw.FPDFText_GetText(textpage, 0, count,
                                   ctypes.cast(buffer, ctypes.POINTER(ctypes.c_ushort)))
    text = buffer.raw[:2 * max(written - 1, 0)].decode("utf-16-le", errors="replace")
    return text if len(text) == count else None


@lru_cache(maxsize=1)
def _char_api():
    """PDFium's per-character functions without ctypes argument checks (3x faster).

    pypdfium2's bindings declare `argtypes`, and ctypes then converts every argument
    at every call; a page has thousands of characters, a long PDF millions. The same
    library loaded again with bare prototypes (only the return types set) is called
    with a void pointer, an int and double pointers, which ctypes passes as they are.
    """
    import pypdfium2_raw

    lib = ctypes.CDLL(pypdfium2_raw.bindings._libs["pdfium"]._name)
    box, origin = lib.FPDFText_GetCharBox, lib.FPDFText_GetCharOrigin
    size = lib.FPDFText_GetFontSize
    box.restype = origin.restype = ctypes.c_int
    size.restype = ctypes.c_double
    return box, origin, size


def read_glyphs(textpage) -> list[Glyph]:
    """Every visible glyph of a pypdfium2 text page: box, baseline, size, pen x, word number.

    Words are numbered by PDFium's own spaces (which it infers from the font's space
    width and the glyph positions): its word boundaries are mostly good, its order is
    not. The font size is read for every `SIZE_EVERY`th glyph only (it is used per line).
    """
    import pypdfium2.raw as raw

    try:
        get_box, get_origin, get_size = _char_api()
        handle = ctypes.c_void_p(ctypes.cast(textpage.raw, ctypes.c_void_p).value)
    except (AttributeError, KeyError, OSError):  # another pypdfium2 layout: the checked calls
        get_box, get_origin = raw.FPDFText_GetCharBox, raw.FPDFText_GetCharOrigin
        get_size, handle = raw.FPDFText_GetFontSize, textpage.raw
    left, right, bottom, top = (ctypes.c_double() for _ in range(4))
    ox, oy = ctypes.c_double(), ctypes.c_double()
    refs = (ctypes.byref(left), ctypes.byref(right), ctypes.byref(bottom), ctypes.byref(top))
    orefs = (ctypes.byref(ox), ctypes.byref(oy))
    count = raw.FPDFText_CountChars(textpage.raw)
    text = _page_text(raw, textpage.raw, count) if count > 0 else ""
    glyphs: list[Glyph] = []
    append = glyphs.append
    word = 0
    size = 0.0
    for i in range(count):
        char = text[i] if text is not None else chr(raw.FPDFText_GetUnicode(textpage.raw, i))
        if char == "\ufffe" or char == "\x02":  # PDFium's mark of a hyphen ending a line
            char = "-"
        elif char == "\x00":  # a glyph without a Unicode value
            continue
        elif char <= " " or char in _SPACES:
            word += 1
            continue
        get_box(handle, i, *refs)
        get_origin(handle, i, *orefs)
        if not i % SIZE_EVERY or not size:
            size = get_size(handle, i)
        append((char, left.value, right.value, bottom.value, top.value, oy.value,
                size, ox.value, word, i))
    return glyphs


def upright(glyphs: list[Glyph], rotation: int, width: float, height: float) -> list[Glyph]:
    """Glyphs in the coordinates of the page as shown: turned by its /Rotate (clockwise).

    `width`, `height`: the page's size as shown. PDFium gives glyphs in the unrotated
    page's coordinates; a page whose content is drawn sideways and shown upright by
    /Rotate 90 or 270 (scans, landscape tables) would otherwise be read across its lines.
    """
    if rotation == 90:  # unrotated width is the shown height
        return [(c, y0, y1, height - x1, height - x0, height - ox, s, base, w, i)
                for c, x0, x1, y0, y1, base, s, ox, w, i in glyphs]
    if rotation == 180:
        return [(c, width - x1, width - x0, height - y1, height - y0, height - base, s,
                 width - ox, w, i) for c, x0, x1, y0, y1, base, s, ox, w, i in glyphs]
    if rotation == 270:
        return [(c, width - y1, width - y0, x0, x1, ox, s, width - base, w, i)
                for c, x0, x1, y0, y1, base, s, ox, w, i in glyphs]
    return glyphs


def has_text(glyphs: list[Glyph]) -> bool:
    """True when a page's glyphs hold real text (not only control or private-use codes)."""
    if not glyphs:
        return False
    bad = sum(1 for g in glyphs if _NOT_TEXT.match(g[0]))
    return bad <= len(glyphs) // 2


# ---------------------------------------------------------------- lines and columns


def raw_lines(glyphs: list[Glyph]) -> list[_RawLine]:
    """Group a page's glyphs by baseline, top line first, each line's glyphs by pen x.

    Combining marks go with the line whose vertical extent holds (or is nearest) them.
    """
    marks = [g for g in glyphs if g[0] in _MARK_CHARS]
    bases = [g for g in glyphs if g[0] not in _MARK_CHARS] if marks else list(glyphs)
    if not bases:
        return []
    heights = sorted(g[4] - g[3] for g in bases)
    tol = max(0.5, 0.25 * heights[len(heights) // 2])
    bases.sort(key=lambda g: -g[5])
    lines: list[_RawLine] = []
    current: list[Glyph] = [bases[0]]
    for glyph in bases[1:]:
        if current[0][5] - glyph[5] <= tol:
            current.append(glyph)
        else:
            lines.append(_raw(current))
            current = [glyph]
    lines.append(_raw(current))
    lines = _merge_raised(lines)
    for line in lines:
        line.glyphs.sort(key=_pen_x)
    if marks:
        _attach_marks(lines, marks)
    return lines


def _pen_x(glyph: Glyph) -> float:
    return glyph[7]


def _raw(glyphs: list[Glyph]) -> _RawLine:
    return _RawLine(glyphs, glyphs[0][5], min(g[3] for g in glyphs), max(g[4] for g in glyphs))


def _merge_raised(lines: list[_RawLine]) -> list[_RawLine]:
    """Merge a tiny group (a superscript, a raised sign) into the line it overlaps."""
    out: list[_RawLine] = []
    for line in lines:
        if out and (len(line.glyphs) <= 3 or len(out[-1].glyphs) <= 3):
            prev = out[-1]
            small, big = (line, prev) if len(line.glyphs) <= len(prev.glyphs) else (prev, line)
            overlap = min(small.y1, big.y1) - max(small.y0, big.y0)
            if overlap > 0.5 * (small.y1 - small.y0):
                big.glyphs.extend(small.glyphs)
                big.y0, big.y1 = min(big.y0, small.y0), max(big.y1, small.y1)
                out[-1] = big
                continue
        out.append(line)
    return out


def _attach_marks(lines: list[_RawLine], marks: list[Glyph]) -> None:
    """Give each combining mark to the line whose vertical extent is nearest its centre."""
    centres = [-(ln.y0 + ln.y1) / 2 for ln in lines]  # ascending: lines go top down
    for mark in marks:
        mid = (mark[3] + mark[4]) / 2
        i = bisect_left(centres, -mid)
        near = [j for j in (i - 1, i) if 0 <= j < len(lines)]
        best = min(near, key=lambda j: 0.0 if lines[j].y0 <= mid <= lines[j].y1
                   else min(abs(mid - lines[j].y0), abs(mid - lines[j].y1)))
        lines[best].marks.append(mark)


def find_gutter(lines: list[_RawLine]) -> tuple[float, float] | None:
    """The x-span of a vertical gap splitting the page's text into two columns, or None.

    The gap must lie in the middle half of the text, be at least `GUTTER_MIN` line
    heights wide, be crossed by at most a tenth of the lines (titles, headers), and
    have text on both sides in at least three lines each. Lines are looked at until
    more than a tenth of them have no wide gap in the middle: on one-column pages
    that is after a few lines.
    """
    if len(lines) < 6:
        return None
    x0 = min(ln.glyphs[0][1] for ln in lines)
    x1 = max(ln.glyphs[-1][2] for ln in lines)
    lo, hi = x0 + 0.25 * (x1 - x0), x1 - 0.25 * (x1 - x0)
    if x1 - x0 < 50:
        return None
    heights = sorted(ln.y1 - ln.y0 for ln in lines)
    least = GUTTER_MIN * heights[len(heights) // 2]
    limit = len(lines) // 10
    crossing = 0
    gaps: list[tuple[float, float]] = []  # every line's wide gaps inside [lo, hi]
    for line in lines:
        found = False
        first, reach = line.glyphs[0][1], line.glyphs[0][2]
        if first - lo >= least:  # nothing on the left of this line's text
            gaps.append((lo, min(first, hi)))
            found = True
        for g in line.glyphs:
            if g[1] - reach >= least and g[1] > lo and reach < hi:
                gaps.append((max(reach, lo), min(g[1], hi)))
                found = True
            reach = max(reach, g[2])
        if hi - reach >= least:  # nothing on its right
            gaps.append((max(reach, lo), hi))
            found = True
        if not found:
            crossing += 1
            if crossing > limit:
                return None
    # the widest x range inside the gaps of the most lines: sweep the gap ends
    events = sorted([(a, 1) for a, _ in gaps] + [(b, -1) for _, b in gaps])
    best: tuple[int, float, float] = (0, 0.0, 0.0)  # depth, start, end
    depth, start = 0, 0.0
    for x, step in events:
        if depth and (depth, x - start) > (best[0], best[2] - best[1]):
            best = (depth, start, x)
        depth += step
        start = x
    if best[0] < len(lines) - limit or best[2] - best[1] < least * 0.5:
        return None
    g0, g1 = best[1], best[2]
    left = sum(1 for ln in lines if ln.glyphs[0][2] <= g0)
    right = sum(1 for ln in lines if ln.glyphs[-1][1] >= g1)
    return (g0, g1) if left >= 3 and right >= 3 else None


def _crosses(line: _RawLine, g0: float, g1: float) -> bool:
    """True when a line runs across the gutter (a title over both columns)."""
    mid = (g0 + g1) / 2
    reach = -math.inf  # right edge of the glyphs left of `mid`
    for g in line.glyphs:  # by pen x
        if g[1] >= mid:
            return reach > -math.inf and g[1] - reach < (g1 - g0) / 2
        reach = max(reach, g[2])
        if reach > mid:
            return True
    return False


def build_line(glyphs: list[Glyph], marks: list[Glyph] = (), backwards: bool = False
               ) -> tuple[str, float, bool]:
    """(reading-order text, width of its first word, is RTL) of one line's glyphs.

    The text keeps presentation forms (`clean` folds them later; their shapes tell
    `reversal_score` the glyph order). `backwards`: the glyphs are drawn left to right in
    reading order although the text is Arabic (a broken producer), so the visual order
    is the reading order.

    Glyphs are put in visual order by their pen position (not their box: stacked
    letters such as Amiri's «مج» have boxes out of order). Letters that share a pen
    position come from one glyph (a ligature) and stay together, in reading order
    (`_unreverse_ligatures`). A space goes between letters of different words (PDFium's
    word boundaries) at least `LETTER_GAP` line heights apart or any `WIDE_GAP` apart,
    and next to a sign where the gap is wider than `SIGN_GAP` (`GEOMETRIC_GAP` for
    glyphs without word numbers).
    """
    glyphs = sorted(glyphs, key=_pen_x)  # already sorted when they come from `raw_lines`
    height = max(g[4] for g in glyphs) - min(g[3] for g in glyphs)
    sign_gap, letter_gap = SIGN_GAP * height, LETTER_GAP * height
    wide, geometric = WIDE_GAP * height, GEOMETRIC_GAP * height
    units: list[str] = []
    boxes: list[tuple[float, float]] = []  # x0, x1 of each unit (for the marks)
    cuts: list[int] = []  # glyph indexes where a word starts, after the first
    shared: list[int] = []  # units of several letters
    prev = glyphs[0]
    units.append(prev[0])
    boxes.append((prev[1], prev[2]))
    for k in range(1, len(glyphs)):
        g = glyphs[k]
        if g[7] == prev[7] and g[8] == prev[8]:  # one glyph, several letters
            units[-1] += g[0]
            if not shared or shared[-1] != len(units) - 1:
                shared.append(len(units) - 1)
            continue
        space = g[1] - prev[2]
        if g[8] < 0:
            split = space > geometric
        elif g[0].isalnum() and prev[0].isalnum():
            split = space > wide or (g[8] != prev[8] and space > letter_gap)
        else:
            split = space > sign_gap
        if split:
            units.append(" ")
            boxes.append((prev[2], g[1]))
            cuts.append(k)
        units.append(g[0])
        boxes.append((g[1], g[2]))
        prev = g
    if shared:
        _unreverse_ligatures(units, shared)
    if marks:
        _place_marks(units, boxes, marks)
    rtl = _rtl("".join(units))
    if backwards:
        logical = "".join(units).strip()
    else:
        logical = balance_pairs("".join(visual_to_logical(units, rtl)).strip())
    # the first word in reading order: the rightmost in RTL (unless backwards)
    if rtl and not backwards:
        word = glyphs[cuts[-1]:] if cuts else glyphs
    else:
        word = glyphs[:cuts[0]] if cuts else glyphs
    return logical, max(g[2] for g in word) - min(g[1] for g in word), rtl


def _place_marks(units: list[str], boxes: list[tuple[float, float]], marks: list[Glyph]) -> None:
    """Append each combining mark to the unit whose box centre is nearest its own."""
    centres = [(a + b) / 2 for a, b in boxes]
    for mark in marks:
        mid = (mark[1] + mark[2]) / 2
        i = bisect_left(centres, mid)
        candidates = [j for j in (i - 1, i) if 0 <= j < len(units) and units[j] != " "]
        if candidates:
            j = min(candidates, key=lambda j: abs(centres[j] - mid))
            units[j] += mark[0]


_ALEFS = "اأإآٱ"


def _unreverse_ligatures(units: list[str], shared: list[int]) -> None:
    """Put the letters of Arabic ligature glyphs in reading order.

    A glyph's letters come in the order of its ToUnicode entry as PDFium gives it:
    Chromium writes them backwards («ال» for the lam-alef glyph), XeTeX forwards, and
    PDFium turns some words around. A lam-alef is always lam first; a longer ligature
    is reversed when the line's lam-alefs came reversed.
    """
    backwards = forwards = 0
    for i in shared:
        unit = units[i]
        if len(unit) == 2 and unit[0] in _ALEFS and unit[1] == "ل":
            units[i] = unit[::-1]
            backwards += 1
        elif len(unit) == 2 and unit[0] == "ل" and unit[1] in _ALEFS:
            forwards += 1
    if backwards > forwards:
        for i in shared:
            unit = units[i]
            if len(unit) > 2 and _rtl(unit):
                units[i] = unit[::-1]


def _rtl(text: str) -> bool:
    rtl = ltr = 0
    for char in text:
        if "\u0590" <= char <= "\u08ff" or "\ufb1d" <= char <= "\ufefc":
            rtl += 1
        elif char.isalpha():
            ltr += 1
    return rtl > 0 and rtl >= ltr


def _make_line(raw: _RawLine, page: int, flow: int, backwards: bool = False) -> Line | None:
    text, first_width, rtl = build_line(raw.glyphs, raw.marks, backwards)
    if not text:
        return None
    sizes = sorted(g[6] for g in raw.glyphs)
    return Line(
        text=text,
        x0=min(g[1] for g in raw.glyphs),
        x1=max(g[2] for g in raw.glyphs),
        base=raw.base,
        height=raw.y1 - raw.y0,
        size=sizes[len(sizes) // 2],
        first_word=first_width,
        rtl=rtl,
        page=page,
        flow=flow,
    )


def _split(raw: _RawLine, keep) -> _RawLine:
    glyphs = [g for g in raw.glyphs if keep((g[1] + g[2]) / 2)]
    marks = [g for g in raw.marks if keep((g[1] + g[2]) / 2)]
    line = _raw(sorted(glyphs, key=lambda g: -g[5]))
    line.base, line.marks = raw.base, marks
    return line


def page_lines(raws: list[_RawLine], page: int, flow: int) -> list[Line]:
    """A page's lines in reading order, columns split at a gutter; `flow` numbers columns.

    When the page's Arabic, so read, clearly reads backwards (`reversal_score` of all
    its lines beyond `LINE_CONFIDENT`), its glyphs were drawn in reading order from left
    to right, and the page is read again that way.
    """
    lines = _page_lines(raws, page, flow, False)
    score = 0.0
    for line in lines:  # until the evidence is overwhelming either way
        if line.rtl:
            score += reversal_score(line.text)
            if abs(score) > 10 * LINE_CONFIDENT:
                break
    if score > LINE_CONFIDENT:
        lines = _page_lines(raws, page, flow, True)
    # layout (indents, short lines) follows the page's direction, not each line's: a
    # line of Latin or digits inside Arabic text is still set right to left
    rtl = sum(len(ln.text) for ln in lines if ln.rtl) >= sum(len(ln.text) for ln in lines) / 2
    for line in lines:
        line.rtl = rtl
    return lines


def _page_lines(raws: list[_RawLine], page: int, flow: int, backwards: bool) -> list[Line]:
    gutter = find_gutter(raws)
    if gutter is None:
        lines = [ln for r in raws if (ln := _make_line(r, page, flow, backwards))]
        _set_columns(lines)
        return lines
    g0, g1 = gutter
    mid = (g0 + g1) / 2
    text = "".join(g[0] for r in raws for g in r.glyphs)
    right_first = _rtl(text)
    out: list[Line] = []
    left: list[Line] = []
    right: list[Line] = []

    def flush() -> None:
        nonlocal flow
        for side in ((right, left) if right_first else (left, right)):
            if side:
                flow += 1
                for line in side:
                    line.flow = flow
                out.extend(side)
        left.clear()
        right.clear()

    for raw in raws:
        if _crosses(raw, g0, g1):
            flush()
            flow += 1
            if line := _make_line(raw, page, flow, backwards):
                out.append(line)
            continue
        for side, keep in ((left, lambda x: x < mid), (right, lambda x: x >= mid)):
            if any(keep((g[1] + g[2]) / 2) for g in raw.glyphs):
                if line := _make_line(_split(raw, keep), page, flow, backwards):
                    side.append(line)
    flush()
    _set_columns(out)
    return out


def _set_columns(lines: list[Line]) -> None:
    """Give each line the left and right edges of the lines of its column on its page."""
    by_flow: dict[int, list[Line]] = {}
    for line in lines:
        by_flow.setdefault(line.flow, []).append(line)
    for group in by_flow.values():
        x0, x1 = min(ln.x0 for ln in group), max(ln.x1 for ln in group)
        for line in group:
            line.col_x0, line.col_x1 = x0, x1


# ---------------------------------------------------------------- headers and footers


def _key(text: str) -> str:
    return " ".join(_DIGITS.sub("#", clean(text)).split())


def _is_page_number(key: str) -> bool:
    rest = _PAGE_WORDS.sub("", key)
    return "#" in rest and not re.search(r"\w", rest.replace("#", ""))


def running_lines(pages: list[tuple[list[_RawLine], float]]) -> set[tuple[int, int]]:
    """(page index, line index) of running headers, footers and page numbers.

    A line counts when it is one of the two outermost lines in the top or bottom `BAND`
    of its page and the same text (digits aside) is there on at least half the pages
    (at least two, unless it is a bare page number).
    """
    seen: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for p, (lines, height) in enumerate(pages):
        top = [i for i in range(min(2, len(lines))) if lines[i].y1 >= height * (1 - BAND)]
        low = [i for i in range(max(0, len(lines) - 2), len(lines))
               if lines[i].y0 <= height * BAND and i not in top]
        for band, idx in (("top", top), ("bottom", low)):
            for i in idx:
                text, _, _ = build_line(lines[i].glyphs, lines[i].marks)
                key = _key(text)
                if key:
                    seen.setdefault((band, key), []).append((p, i))
    drop: set[tuple[int, int]] = set()
    need = max(1, math.ceil(len(pages) / 2))
    for (_, key), where in seen.items():
        pages_with = len({p for p, _ in where})
        if pages_with >= need and (pages_with >= 2 or _is_page_number(key)):
            drop.update(where)
    return drop


# ---------------------------------------------------------------- paragraphs


def _usual_pitch(lines: list[Line]) -> float:
    """The document's line pitch inside paragraphs: the lower quartile of its pitches.

    Not the median: in a document of many one-line paragraphs (lists, short news
    items) most pitches are paragraph pitches.
    """
    pitches = sorted(a.base - b.base for a, b in zip(lines, lines[1:])
                     if a.flow == b.flow and a.base > b.base)
    return pitches[len(pitches) // 4] if pitches else 0.0


def _starts_paragraph(prev: Line, line: Line, pitch: float) -> bool:
    """Whether `line` starts a new paragraph after `prev` (see the module docstring)."""
    big, small = max(prev.size, line.size), min(prev.size, line.size)
    if small <= 0 or big / small > SIZE_CHANGE:
        return True
    h = max(prev.height, line.height, 1.0)
    if line.rtl:
        slack = prev.x0 - prev.col_x0
        indent = line.col_x1 - line.x1
        prev_indent = prev.col_x1 - prev.x1
    else:
        slack = prev.col_x1 - prev.x1
        indent = line.x0 - line.col_x0
        prev_indent = prev.x0 - prev.col_x0
    if slack > line.first_word + 0.5 * h:  # the next line's first word would have fitted
        return True
    if indent > INDENT * h and indent > prev_indent + INDENT * h:
        return True
    if prev.flow == line.flow:
        gap = prev.base - line.base
        if gap < 0 or (pitch and gap > PARA_PITCH * pitch and gap - pitch > 0.25 * h):
            return True
    return False


def paragraphs(lines: list[Line]) -> list[Block]:
    """Join reading-order lines into paragraph blocks (a block keeps its first page)."""
    pitch = _usual_pitch(lines)
    blocks: list[Block] = []
    current: list[Line] = []

    def flush() -> None:
        if current:
            text = " ".join(clean(join_lines([ln.text for ln in current])).split())
            if text:
                blocks.append(Block(text, page=current[0].page))
            current.clear()

    for line in lines:
        if current and _starts_paragraph(current[-1], line, pitch):
            flush()
        current.append(line)
    flush()
    return blocks


# ---------------------------------------------------------------- the document


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
    import pypdfium2 as pdfium

    result = Extracted(format="pdf", blocks=[], title=_title(pdf), pages=count)
    pages: list[tuple[list[_RawLine], float]] = []
    no_text: list[int] = []  # 0-based pages with something drawn but no text layer
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
    if len(broken) == count:
        raise ExtractError("damaged PDF: no page can be read")
    drop = running_lines(pages)
    lines: list[Line] = []
    flow = 0
    for p, (raws, _) in enumerate(pages):
        kept = [r for i, r in enumerate(raws) if (p, i) not in drop]
        page_out = page_lines(kept, p + 1, flow + 1)
        flow = max([ln.flow for ln in page_out], default=flow + 1)
        lines.extend(page_out)
    blocks = paragraphs(lines)
    if no_text:
        blocks = _merge_by_page(blocks, _ocr_pages(pdf, no_text, limits, result, bool(lines)))
    if broken:
        result.notes.append(f"{len(broken)} damaged page(s) skipped: {_pages_list(broken)}")
    if not blocks and not no_text:
        raise ExtractError("PDF has no text (blank pages)")
    result.blocks = blocks
    return result


def _draws_something(page) -> bool:
    """True when a page without text still draws something (a scan, outlined text)."""
    import pypdfium2.raw as raw

    return raw.FPDFPage_CountObjects(page.raw) > 0


def _pages_list(pages: list[int]) -> str:
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
    try:
        for index in indexes:
            page = pdf[index]
            try:
                image = page.render(scale=limits.ocr_dpi / 72).to_pil()
            finally:
                page.close()
            try:
                paragraphs_ = ocr.ocr_image(image, timeout=limits.ocr_page_seconds)
            except ExtractError as exc:
                failed.append((index + 1, str(exc)))
                continue
            finally:
                image.close()
            result.ocr_pages += 1
            for text in paragraphs_:
                text = " ".join(clean(text).split())
                if text:
                    blocks.append(Block(text, page=index + 1))
    finally:
        result.ocr_seconds += time.monotonic() - started
    if failed:
        if len(failed) == len(indexes) and not has_text_pages:
            raise ExtractError(f"OCR failed: {failed[0][1]}")
        result.notes.append(f"OCR failed on {len(failed)} page(s) "
                            f"({failed[0][1]}): {_pages_list([n for n, _ in failed])}")
    return blocks


def _merge_by_page(text_blocks: list[Block], ocr_blocks: list[Block]) -> list[Block]:
    """Both lists in page order (each list is already in reading order)."""
    merged = text_blocks + ocr_blocks
    merged.sort(key=lambda b: b.page or 0)  # stable: order inside a page is kept
    return merged
