"""One line of glyphs: glyphs grouped by baseline, then one line's text in reading order.

    for raw in raw_lines(glyphs):               # top line first
        text, first_word_width, rtl = build_line(raw.glyphs, raw.marks)

Spaces come from PDFium's word numbers checked against the gaps between glyphs; visual
order is turned into reading order by `arabic_text.visual_to_logical`.
"""

from __future__ import annotations

import unicodedata
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field

from storage.formats.arabic_text import balance_pairs, visual_to_logical
from storage.formats.pdf_glyphs import Glyph

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

#: Combining marks (harakat and others): placed by the letter under them, not in the line.
_MARK_CHARS = frozenset(chr(c) for c in range(0x300, 0x2000) if unicodedata.combining(chr(c)))


@dataclass(slots=True)
class RawLine:
    """A line's glyphs (by pen x once `raw_lines` is done), baseline, vertical extent, marks."""

    glyphs: list[Glyph]
    base: float
    y0: float
    y1: float
    marks: list[Glyph] = field(default_factory=list)

    @classmethod
    def of(cls, glyphs: list[Glyph]) -> RawLine:
        """The line of `glyphs`: the first glyph's baseline, the extent of them all."""
        return cls(glyphs, glyphs[0][5], min(g[3] for g in glyphs), max(g[4] for g in glyphs))


def raw_lines(glyphs: list[Glyph]) -> list[RawLine]:
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
    lines: list[RawLine] = []
    current: list[Glyph] = [bases[0]]
    for glyph in bases[1:]:
        if current[0][5] - glyph[5] <= tol:
            current.append(glyph)
        else:
            lines.append(RawLine.of(current))
            current = [glyph]
    lines.append(RawLine.of(current))
    lines = _merge_raised(lines)
    for line in lines:
        line.glyphs.sort(key=_pen_x)
    if marks:
        _attach_marks(lines, marks)
    return lines


def _pen_x(glyph: Glyph) -> float:
    return glyph[7]


def _merge_raised(lines: list[RawLine]) -> list[RawLine]:
    """Merge a tiny group (a superscript, a raised sign) into the line it overlaps."""
    out: list[RawLine] = []
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


def _attach_marks(lines: list[RawLine], marks: list[Glyph]) -> None:
    """Give each combining mark to the line whose vertical extent is nearest its centre."""
    centres = [-(ln.y0 + ln.y1) / 2 for ln in lines]  # ascending: lines go top down
    for mark in marks:
        mid = (mark[3] + mark[4]) / 2
        i = bisect_left(centres, -mid)
        near = [j for j in (i - 1, i) if 0 <= j < len(lines)]
        best = min(near, key=lambda j: 0.0 if lines[j].y0 <= mid <= lines[j].y1
                   else min(abs(mid - lines[j].y0), abs(mid - lines[j].y1)))
        lines[best].marks.append(mark)


def build_line(glyphs: list[Glyph], marks: Sequence[Glyph] = (), backwards: bool = False
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
    rtl = mostly_rtl("".join(units))
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


def _place_marks(units: list[str], boxes: list[tuple[float, float]],
                 marks: Sequence[Glyph]) -> None:
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
            if len(unit) > 2 and mostly_rtl(unit):
                units[i] = unit[::-1]


def mostly_rtl(text: str) -> bool:
    """True when `text` has Arabic/Hebrew characters, at least as many as other letters.

    Counted by code range, so Arabic digits and harakat count as RTL (unlike
    `arabic_text.is_rtl`, which goes by bidi class): a line of Arabic digits stays RTL.
    """
    rtl = ltr = 0
    for char in text:
        if "\u0590" <= char <= "\u08ff" or "\ufb1d" <= char <= "\ufefc":
            rtl += 1
        elif char.isalpha():
            ltr += 1
    return rtl > 0 and rtl >= ltr
