"""Split a document into numbered paragraphs and scoring passages.

A paragraph is a non-empty line (or, for PDF, Word and web pages, a block the
format's reader gives); its number is its 1-based position among the file's
non-empty lines (among its page's blocks, for PDFs). Boilerplate lines (related-news blocks, "copy link",
source lines...) are never answers. A very short heading line is indexed with
the paragraph after it. A long paragraph is scored as overlapping sentence
windows; the best window represents the paragraph.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from retrieval.analyzer import analyze, normalize

#: Bump whenever paragraphs, headings, boilerplate or windows can come out
#: differently: a stored index built with another version is rebuilt at next start.
PASSAGES_VERSION = "2"

#: Paragraphs longer than this are split into windows.
MAX_PASSAGE_CHARS = 600
#: Target size of one window (a window may exceed it by one sentence).
WINDOW_CHARS = 400

# Lines that are boilerplate by themselves (compared after normalisation, end
# punctuation removed).
_BOILERPLATE_LINES = {
    normalize(s)
    for s in (
        "أخبار ذات صلة", "اخبار متعلقة", "تم نسخ الرابط", "إعلان", "اعلان", "إقرأ أيضاً",
        "اقرأ أيضا", "اقرأ ايضا", "مقالات مشابهة", "مقالات ذات صلة", "موضوعات ذات صلة",
        "شاهد أيضا", "related news", "related articles", "read more", "advertisement",
        "share", "شارك", "طباعة", "مشاركة",
    )
}
# Markers after which a list of related headlines follows.
_RELATED_MARKERS = {
    normalize(s)
    for s in (
        "أخبار ذات صلة", "اخبار متعلقة", "إقرأ أيضاً", "اقرأ أيضا", "اقرأ ايضا",
        "مقالات مشابهة", "مقالات ذات صلة", "موضوعات ذات صلة", "شاهد أيضا", "related news",
        "related articles", "read more",
    )
}
# Lines that start with these are boilerplate (tag lines, source credits).
_BOILERPLATE_PREFIXES = tuple(
    normalize(s)
    for s in ("كلمات دلالية", "الكلمات الدلالية", "المصدر:", "المصدر :", "مصدر الخبر", "tags:", "source:")
)
_BULLET_RE = re.compile(r"^\s*[•·▪●◦\-–—*]\s+")
_SOURCE_LINE_RE = re.compile(r"^\s*\([^()]{2,80}\)\s*$")
_TRAILING_PUNCT = " \t:：.…!؟?-–—"
_SENTENCE_RE = re.compile(r"[^.!?؟…\n]+(?:[.!?؟…]+[\"'»”)]*|$)\s*")

HEADING_MAX_WORDS = 6
HEADING_MAX_CHARS = 50
HEADLINE_MAX_CHARS = 140


class Block(Protocol):
    """A paragraph as a document format gives it (storage.formats.Block)."""

    text: str
    page: int | None
    heading: bool


@dataclass(frozen=True)
class Paragraph:
    """One answerable line of a document."""

    number: int  # 1-based, counted within its page on paginated formats
    text: str
    heading: str = ""  # a short heading line indexed with this paragraph
    page: int | None = None  # 1-based page (PDF), None for formats without pages


@dataclass(frozen=True)
class Window:
    """A scoring passage: a character range [start, end) of a paragraph."""

    start: int
    end: int


_KEY_CHARS = 60  # longer than any boilerplate phrase or prefix we compare with


def _key(line: str) -> str:
    """Normalised start of a line, end punctuation removed, for matching boilerplate.

    Only the first characters are normalised: content lines are long, and a key of a
    cut line ends with a marker so it never equals a whole phrase.
    """
    text = line.strip()
    cut = len(text) > _KEY_CHARS
    key = normalize(text[:_KEY_CHARS]).strip().strip(_TRAILING_PUNCT).strip()
    return key + "\u2026cut" if cut else key


def is_boilerplate(line: str) -> bool:
    """True for a line that is page furniture rather than content."""
    key = _key(line)
    if not key:
        return True
    if key in _BOILERPLATE_LINES or key.startswith(_BOILERPLATE_PREFIXES):
        return True
    return bool(_SOURCE_LINE_RE.match(line))


def _is_heading(line: str) -> bool:
    text = line.strip()
    if len(text) > HEADING_MAX_CHARS or len(text.split()) > HEADING_MAX_WORDS:
        return False
    return not text.endswith((".", "!", "؟", "?", "…", ":"))


def _is_headline(line: str) -> bool:
    """A line that looks like a related-article link: a bullet or a short unfinished line."""
    text = line.strip()
    if _BULLET_RE.match(line):
        return True
    return len(text) <= HEADLINE_MAX_CHARS and not text.endswith((".", "»."))


def split_paragraphs(text: str) -> list[Paragraph]:
    """Return the answerable paragraphs of a document, numbered as the reader counts them."""
    return _split([(line.strip(), None, False) for line in text.splitlines() if line.strip()])


def split_blocks(blocks: Iterable[Block]) -> list[Paragraph]:
    """The answerable paragraphs of an extracted document (PDF, Word, web page).

    As `split_paragraphs`, but a block may be marked a heading by its format, and on
    paginated formats paragraphs are numbered within their page.
    """
    items = []
    for block in blocks:
        text = " ".join(block.text.split())
        if text:
            items.append((text, block.page, block.heading))
    return _split(items)


def _split(lines: list[tuple[str, int | None, bool]]) -> list[Paragraph]:
    """Paragraphs from (non-empty line, page, marked heading) items in reading order."""
    paragraphs: list[Paragraph] = []
    pending_heading = ""
    in_related = False
    number, page_of_number = 0, None
    for i, (line, page, marked_heading) in enumerate(lines):
        number = 1 if page != page_of_number else number + 1
        page_of_number = page
        if _key(line) in _RELATED_MARKERS:
            in_related, pending_heading = True, ""
            continue
        if in_related:
            if _is_headline(line):
                continue
            in_related = False
        if is_boilerplate(line):
            pending_heading = ""
            continue
        is_last = i == len(lines) - 1
        if (marked_heading or _is_heading(line)) and not is_last:
            pending_heading = f"{pending_heading} {line}".strip()
            continue
        paragraphs.append(Paragraph(number, line, pending_heading, page))
        pending_heading = ""
    return paragraphs


def _sentences(text: str) -> list[tuple[int, int]]:
    spans = [(m.start(), m.end()) for m in _SENTENCE_RE.finditer(text) if m.group().strip()]
    out: list[tuple[int, int]] = []
    for start, end in spans:
        # A "sentence" without punctuation longer than a window is cut at spaces.
        while end - start > WINDOW_CHARS:
            cut = text.rfind(" ", start, start + WINDOW_CHARS)
            if cut <= start:
                cut = start + WINDOW_CHARS
            out.append((start, cut))
            start = cut
        if end > start:
            out.append((start, end))
    return out


def split_windows(text: str) -> list[Window]:
    """Split a paragraph into overlapping sentence windows (one window if it is short)."""
    if len(text) <= MAX_PASSAGE_CHARS:
        return [Window(0, len(text))]
    sentences = _sentences(text)
    windows: list[Window] = []
    i = 0
    while i < len(sentences):
        start, end = sentences[i]
        j = i + 1
        while j < len(sentences) and sentences[j][1] - start <= WINDOW_CHARS:
            end = sentences[j][1]
            j += 1
        windows.append(Window(start, end))
        if j >= len(sentences):
            break
        # Overlap by one sentence, unless the next window would then end where this
        # one ends (the sentence after is too long to join): never nest a window.
        overlaps = j - 1 > i and sentences[j][1] - sentences[j - 1][0] <= WINDOW_CHARS
        i = j - 1 if overlaps else j
    return windows


def passage_terms(heading: str, text: str) -> list[str]:
    """The tokens a passage is scored on: its heading's, then its own."""
    return analyze(heading) + analyze(text) if heading else analyze(text)
