"""Repair Arabic text taken out of PDFs: glyph forms, reading order, invisible marks.

    fold_forms("ﻻ ﺷﻲﺀ")                  # "لا شيء": presentation forms → base letters
    clean("كـــتاب\u00ad")                # "كتاب": kashida, soft hyphen, controls dropped
    looks_reversed("تلاقو ةرازو عافدلا")  # True: the words read backwards
    visual_to_logical(list("COVID-19 ماع 2020 يف"), rtl=True)  # units drawn left to right
                                          # → "في 2020 عام COVID-19" (as a list)
    repair_line("ﺏﺎﺘﻜﻟﺍ")                 # "الكتاب": reversed when it reads backwards, folded
    join_lines(["inter-", "national"])    # "international"

All functions are pure and small. The PDF extractor orders glyphs by their position
(`visual_to_logical`); `repair_line` is the fallback for text that comes as a string
without positions (and what the library benchmark applies to each library's raw output).

Direction signal (`reversal_score`): how often each letter starts vs ends an Arabic
word. The table `EDGE_LOG_ODDS` is log(P(word starts with c) / P(word ends with c)),
learned on the contexts of ARCD's train split (19,897 words); a word read backwards
swaps its first and last letter, so the score of a line is the sum over its words of
edge(last) - edge(first). Measured on held-out text (arcd-test, XQuAD-ar), deciding
"forward or backward" right for 5-word groups 98.6-98.9 %, 8-word groups 99.7 %, 12-word
groups 99.9 %; re-measure with `python -m benchmarks.pdf_libraries --direction`.
Presentation forms add a near-certain signal: an initial-form glyph at the end of a
word (or a final form at its start) means the glyphs were written in visual order.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

#: log(P(first letter) / P(last letter)) of Arabic words (ARCD train contexts, add-one).
EDGE_LOG_ODDS: dict[str, float] = {
    "ة": -8.15, "ى": -6.61, "ء": -5.52, "ئ": -2.56, "ن": -2.25, "ر": -1.84, "ض": -1.68,
    "ي": -1.65, "د": -1.51, "ؤ": -1.1, "ز": -1.02, "ه": -0.66, "ث": -0.57, "ل": -0.5,
    "ظ": -0.41, "ت": -0.24, "ط": -0.24, "ق": 0.05, "ذ": 0.07, "ص": 0.09, "س": 0.33,
    "م": 0.56, "ب": 0.71, "خ": 0.81, "ك": 0.86, "ج": 0.94, "ع": 0.95, "غ": 0.97,
    "ا": 1.14, "ح": 1.25, "ش": 1.25, "و": 1.53, "ف": 1.6, "أ": 3.95, "آ": 4.62, "إ": 6.14,
}
#: Weight of one word whose presentation-form shapes show its glyph order.
FORM_WEIGHT = 4.0
#: A line's own evidence overrides the page's majority only beyond this score.
LINE_CONFIDENT = 3.0

_PRESENTATION = re.compile("[\ufb50-\ufdff\ufe70-\ufefe]+")
_INVISIBLE = re.compile(
    "[\u0640\u00ad\u200b\u200e\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff\u061c\u0002]"
)
_ARABIC_WORD = re.compile("[\u0621-\u065f\u0670-\u06d3\ufb50-\ufdff\ufe70-\ufefe]+")
_MARKS = re.compile("[\u064b-\u065f\u0670\u06d6-\u06ed]")
#: Pairs swapped in right-to-left runs: bidi-mirrored brackets, and the curly quotes,
#: which every producer measured (Chromium, LibreOffice, XeTeX, reportlab) writes
#: swapped in Arabic text.
_PAIRS = ("()", "[]", "{}", "<>", "«»", "‹›", "“”")
_MIRROR = str.maketrans("".join(p[0] + p[1] for p in _PAIRS),
                        "".join(p[1] + p[0] for p in _PAIRS))


def _fold_run(match: re.Match[str]) -> str:
    out = []
    for char in match.group():
        folded = unicodedata.normalize("NFKC", char)
        if folded[:1] == " " and len(folded) > 1:  # isolated harakat: "ً" not " ً"
            folded = folded[1:]
        out.append(folded)
    return "".join(out)


def fold_forms(text: str) -> str:
    """Replace Arabic presentation forms (U+FB50–FDFF, U+FE70–FEFE) with base letters.

    NFKC, applied to those characters only (other text is left as it is): lam-alef
    ligatures become two letters in reading order («ﻻ» → «لا»).
    """
    return _PRESENTATION.sub(_fold_run, text)


def clean(text: str) -> str:
    """Fold presentation forms, drop kashida, soft hyphens and zero-width/bidi controls."""
    return _INVISIBLE.sub("", fold_forms(text))


def _shape(char: str) -> str:
    """"initial", "medial", "final", "isolated" for a presentation form, else ""."""
    decomposition = unicodedata.decomposition(char)
    if decomposition.startswith("<"):
        return decomposition[1:decomposition.index(">")]
    return ""


def reversal_score(text: str) -> float:
    """Evidence that `text` is Arabic written backwards: > 0 backwards, < 0 forwards.

    Sums, over Arabic words of two letters or more, edge(last) - edge(first) from
    `EDGE_LOG_ODDS`, plus ±`FORM_WEIGHT` for a word whose presentation forms show
    the glyph order (a final form first / initial form last means backwards).
    """
    score = 0.0
    for word in _ARABIC_WORD.findall(text):
        first, last = _shape(word[0]), _shape(word[-1])
        if len(word) >= 2 and (first == "final" or last == "initial"):
            score += FORM_WEIGHT
        elif len(word) >= 2 and (first == "initial" or last == "final"):
            score -= FORM_WEIGHT
        letters = _MARKS.sub("", clean(word))
        if len(letters) >= 2:
            score += EDGE_LOG_ODDS.get(letters[-1], 0.0) - EDGE_LOG_ODDS.get(letters[0], 0.0)
    return score


def looks_reversed(text: str) -> bool:
    """True when the Arabic words of `text` read better backwards."""
    return reversal_score(text) > 0


_KINDS: dict[str, str] = {}


def _kind(unit: str) -> str:
    """Bidi kind of one unit: "R" (Arabic/Hebrew), "L" (Latin...), "N" (number), "" other."""
    kind = _KINDS.get(unit)
    if kind is None:
        kind = _unit_kind(unit)
        if len(_KINDS) < 10_000:
            _KINDS[unit] = kind
    return kind


def _unit_kind(unit: str) -> str:
    for char in unit:
        bidi = unicodedata.bidirectional(char)
        if bidi in ("R", "AL"):
            return "R"
        if bidi == "L":
            return "L"
        if bidi in ("EN", "AN"):
            return "N"
    return ""


def _ltr_runs(units: Sequence[str], kinds: Sequence[str]) -> list[tuple[int, int]]:
    """Spans [start, end) of left-to-right runs (Latin, numbers) in a visual line.

    Neutrals between two L/number units belong to the run, except whitespace between
    two numbers with no Latin in the run (in RTL text "10 20" are two runs, as the
    bidi algorithm lays them out).
    """
    runs: list[tuple[int, int]] = []
    i, n = 0, len(units)
    while i < n:
        if kinds[i] not in ("L", "N"):
            i += 1
            continue
        start, end, has_latin = i, i + 1, kinds[i] == "L"
        j = i + 1
        while j < n and kinds[j] != "R":
            if kinds[j] in ("L", "N"):
                between = "".join(units[end:j])
                if not has_latin and kinds[j] == "N" and between.strip() != between:
                    break
                if kinds[j] == "L" and not has_latin and between.strip() != between:
                    break
                has_latin = has_latin or kinds[j] == "L"
                end = j + 1
            j += 1
        runs.append((start, end))
        i = end
    return runs


def _rtl_to_logical(units: Sequence[str]) -> list[str]:
    """Visual → logical for an RTL run: reverse, keeping LTR runs in their order."""
    kinds = [_kind(u) for u in units]
    segments: list[list[str]] = []
    last = 0
    for start, end in _ltr_runs(units, kinds):
        segments.extend([u.translate(_MIRROR)] for u in units[last:start])
        segments.append(list(units[start:end]))
        last = end
    segments.extend([u.translate(_MIRROR)] for u in units[last:])
    return [unit for segment in reversed(segments) for unit in segment]


def visual_to_logical(units: Sequence[str], rtl: bool) -> list[str]:
    """Reading order of a line's units given left to right (a unit is a glyph's text).

    `rtl`: the line's base direction. An RTL line is reversed except its runs of Latin
    and digits, which keep their left-to-right order; brackets are mirrored. In an LTR
    line only the Arabic runs (with any numbers inside them) are reversed. A unit is
    never split: a ligature glyph's «لا» stays «لا».
    """
    if rtl:
        return _rtl_to_logical(units)
    kinds = [_kind(u) for u in units]
    out: list[str] = []
    i, n = 0, len(units)
    while i < n:
        if kinds[i] != "R":
            out.append(units[i])
            i += 1
            continue
        end = j = i + 1
        while j < n and kinds[j] != "L":
            if kinds[j] == "R":
                end = j + 1
            j += 1
        out.extend(_rtl_to_logical(units[i:end]))
        i = end
    return out


def is_rtl(text: str) -> bool:
    """True when `text` has at least as many Arabic/Hebrew letters as Latin ones (and some)."""
    rtl = ltr = 0
    for char in text:
        bidi = unicodedata.bidirectional(char)
        if bidi in ("R", "AL"):
            rtl += 1
        elif bidi == "L":
            ltr += 1
    return rtl > 0 and rtl >= ltr


def balance_pairs(text: str) -> str:
    """Swap brackets and quotes of a pair that all come closing-first («)كلمة(» → «(كلمة)»).

    Some producers write a mirrored glyph's Unicode (XeTeX), others the glyph's own
    (Chromium); after reordering, a line whose every pair is backwards is swapped back.
    """
    for opening, closing in _PAIRS:
        first_close = text.find(closing)
        if first_close < 0 or text.count(opening) != text.count(closing):
            continue
        first_open = text.find(opening)
        if first_open < 0 or first_close < first_open:
            text = text.translate(str.maketrans(opening + closing, closing + opening))
    return text


def _glyph_units(text: str) -> list[str]:
    """Split a visual string into units: a letter with its marks.

    In a visual (reversed) string an Arabic mark stands before its letter; other
    combining marks (Latin accents) after theirs.
    """
    units: list[str] = []
    pending = ""
    for char in text:
        if _MARKS.match(char):
            pending += char
        elif unicodedata.combining(char) and units:
            units[-1] += char
        else:
            units.append(char + pending)
            pending = ""
    if pending:
        units.append(pending)
    return units


def reverse_visual(text: str) -> str:
    """Put a visual-order (left-to-right glyph order) RTL line into reading order."""
    units = _glyph_units(text)
    return balance_pairs("".join(visual_to_logical(units, rtl=is_rtl(text))))


def repair_line(text: str, backwards: bool | None = None) -> str:
    """One extracted line → clean logical text; `backwards` None means decide from the text.

    The order is fixed on the glyphs before folding, so a lam-alef ligature written
    backwards comes out as «لا», not «ال».
    """
    if backwards is None:
        backwards = looks_reversed(text)
    if backwards:
        text = reverse_visual(text)
    return " ".join(clean(text).split())


def repair_text(text: str) -> str:
    """Repair every line of `text`: lines without clear evidence follow the majority."""
    lines = text.splitlines()
    scores = [reversal_score(line) for line in lines]
    majority = sum(scores) > 0
    out = []
    for line, score in zip(lines, scores):
        backwards = score > 0 if abs(score) >= LINE_CONFIDENT else majority
        out.append(repair_line(line, backwards))
    return "\n".join(out)


_LATIN_HYPHEN_END = re.compile(r"[A-Za-z\u00c0-\u024f0-9][-\u2010]$")
_LATIN_START = re.compile(r"^[a-z\u00df-\u024f]")
_KEEP_HYPHEN_START = re.compile(r"^[A-Z0-9]")


def join_lines(lines: Sequence[str]) -> str:
    """Join the lines of one paragraph: a space between lines, no space at a split word.

    A word is taken as split only where a line ends with a hyphen right after a Latin
    letter and the next line starts with a lower-case Latin letter (the hyphen goes),
    where it ends with a soft hyphen (which goes), or with a hyphen after a Latin letter
    or digit before a capital or digit ("COVID-" "19": the hyphen stays). Arabic words
    are not joined across lines.
    """
    out = ""
    for line in lines:
        line = line.strip()
        if not line:
            continue
        if not out:
            out = line
        elif out.endswith("\u00ad"):
            out = out[:-1] + line
        elif _LATIN_HYPHEN_END.search(out) and _LATIN_START.match(line):
            out = out[:-1] + line
        elif _LATIN_HYPHEN_END.search(out) and _KEEP_HYPHEN_START.match(line):
            out = out + line  # a compound split at its own hyphen: "COVID-" "19"
        else:
            out = out + " " + line
    return out
