"""A document's lines laid out: columns, reading order, running headers, paragraphs.

    lines = document_lines([(raw_lines(glyphs), page_height), ...])
    blocks = paragraphs(lines)
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from storage.formats import Block
from storage.formats.arabic_text import LINE_CONFIDENT, clean, join_lines, reversal_score
from storage.formats.pdf_lines import RawLine, build_line, mostly_rtl

#: Top and bottom share of the page where running headers and footers are looked for.
BAND = 0.2
#: A line pitch this much larger than the document's usual pitch starts a paragraph.
PARA_PITCH = 1.3
#: Font size ratio between two lines beyond which they are not one paragraph.
SIZE_CHANGE = 1.15
#: A first line set in by more than this share of the line height is indented.
INDENT = 0.8
#: Narrowest gutter between two columns, as a share of the median line height.
GUTTER_MIN = 0.6
#: Shares of a page's lines at its top that may run over both columns (title, lead).
LEAD_SHARES = (0.2, 0.4)

#: One page for the layout: its `raw_lines` (top line first) and its height.
RawPage = tuple[list[RawLine], float]

_DIGITS = re.compile(r"[0-9\u0660-\u0669\u06f0-\u06f9]+")
_PAGE_WORDS = re.compile(r"(?i)\b(page|p|pp|صفحة|الصفحة|ص)\b")


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


# ---------------------------------------------------------------- columns


def find_gutter(lines: list[RawLine]) -> tuple[float, float] | None:
    """The x-span of a vertical gap splitting the page's text into two columns, or None.

    Looked for over the whole page, then below its top fifth and its top two fifths: a
    long title or a lead paragraph may run over both columns (`_gutter` allows only a
    few such lines).
    """
    gutter = _gutter(lines)
    for share in LEAD_SHARES if gutter is None and len(lines) >= 12 else ():
        gutter = _gutter(lines[int(share * len(lines)):])
        if gutter is not None:
            break
    return gutter


def _gutter(lines: list[RawLine]) -> tuple[float, float] | None:
    """`find_gutter` over these lines.

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


def _crosses(line: RawLine, g0: float, g1: float) -> bool:
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


def _make_line(raw: RawLine, page: int, flow: int, backwards: bool) -> Line | None:
    """The `Line` of a raw line's glyphs, or None when they make no text."""
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


def _split(raw: RawLine, keep: Callable[[float], bool]) -> RawLine:
    """The part of a line whose glyphs' centres `keep` accepts (one column's side)."""
    glyphs = [g for g in raw.glyphs if keep((g[1] + g[2]) / 2)]
    marks = [g for g in raw.marks if keep((g[1] + g[2]) / 2)]
    line = RawLine.of(sorted(glyphs, key=lambda g: -g[5]))
    line.base, line.marks = raw.base, marks
    return line


def page_lines(raws: list[RawLine], page: int, flow: int) -> list[Line]:
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


def _page_lines(raws: list[RawLine], page: int, flow: int, backwards: bool) -> list[Line]:
    """One reading of `page_lines`: `backwards` reads every line's glyphs as drawn."""
    gutter = find_gutter(raws)
    if gutter is None:
        lines = [ln for r in raws if (ln := _make_line(r, page, flow, backwards))]
        _set_columns(lines)
        return lines
    g0, g1 = gutter
    mid = (g0 + g1) / 2
    text = "".join(g[0] for r in raws for g in r.glyphs)
    right_first = mostly_rtl(text)
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


def running_lines(pages: list[RawPage]) -> set[tuple[int, int]]:
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


def document_lines(pages: list[RawPage]) -> list[Line]:
    """Every page's lines in reading order, running headers and footers dropped.

    `pages`: each page's `raw_lines` and height, in page order (page numbers are
    1-based positions in the list). Flows are numbered across the whole document.
    """
    drop = running_lines(pages)
    lines: list[Line] = []
    flow = 0
    for p, (raws, _) in enumerate(pages):
        kept = [r for i, r in enumerate(raws) if (p, i) not in drop]
        page_out = page_lines(kept, p + 1, flow + 1)
        flow = max([ln.flow for ln in page_out], default=flow + 1)
        lines.extend(page_out)
    return lines


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
    """Whether `line` starts a new paragraph after `prev`.

    It does when the font size changes, when `prev` ended short (the first word of
    `line` would have fitted), when `line` is indented, or, in one flow, when the line
    pitch is wider than usual or the line is above `prev`.
    """
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

