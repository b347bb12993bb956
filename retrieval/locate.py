"""Find the runs of word characters that may hold some terms, without analysing the rest.

A word's index term, and its spelling form (retrieval/variants.py), is a contiguous part
of the word's normalised text: light stemming and `form_of` only cut affixes. So only
a run of word characters (`word_runs`) whose normalised text contains a term can
yield it. Arabic text fits in one byte per character in Windows-1256: the text is
encoded once, normalised with a byte table built from `normalize` itself, and the terms
are found with `bytes.find` (C speed); only the runs around them are then analysed,
exactly as `analyze_spans` would. When the text or a term has a character that
Windows-1256 lacks, or whose normalised form is not one such character, `locate`
returns None and callers analyse the whole text.

    >>> runs = locate("وقالت وزارة الدفاع", ["زار"])
    >>> runs, "وقالت وزارة الدفاع"[runs[0][0]:runs[0][1]]
    ([(6, 11)], 'وزارة')
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from retrieval.analyzer import _DELETE, normalize

CODEC = "cp1256"
_SPAN_CHAR = re.compile("[\\w" + re.escape(_DELETE) + "]")  # the analyzer's word characters


def _tables() -> tuple[bytes, bytes, bytes, bytes]:
    """Byte tables: normalised byte, run mask (a/space), deleted bytes, unusable bytes."""
    norm, mask = bytearray(range(256)), bytearray(b" " * 256)
    deleted, unusable = bytearray(), bytearray()
    for b in range(256):
        try:
            ch = bytes([b]).decode(CODEC)
        except UnicodeDecodeError:
            unusable.append(b)
            continue
        if _SPAN_CHAR.fullmatch(ch):
            mask[b] = ord("a")
        out = normalize(ch)
        if out == "":
            deleted.append(b)
            continue
        try:
            encoded = out.encode(CODEC)
        except UnicodeEncodeError:
            encoded = b""
        if len(encoded) != 1 or len(out) != 1:
            unusable.append(b)  # normalises to several characters, or to one outside the codec
        else:
            norm[b] = encoded[0]
    return bytes(norm), bytes(mask), bytes(deleted), bytes(unusable)


_NORM, _MASK, _DELETED, _UNUSABLE = _tables()
_DELETED_RE = re.compile(b"[" + re.escape(_DELETED) + b"]") if _DELETED else None
_UNUSABLE_RE = re.compile(b"[" + re.escape(_UNUSABLE) + b"]") if _UNUSABLE else None


def locate(text: str, needles: Iterable[str]) -> list[tuple[int, int]] | None:
    """(start, end) of every word run of `text` whose normalised text contains a needle.

    Needles are normalised already (terms, forms). In text order, each run once; a
    superset of the runs that yield a needle as a term or a form. None when the fast
    path does not apply (a character outside Windows-1256): analyse the whole text then.
    """
    try:
        raw = text.encode(CODEC)
        keys = [_encoded(n) for n in needles]
    except UnicodeEncodeError:
        return None
    if _UNUSABLE_RE is not None and _UNUSABLE_RE.search(raw):
        return None
    normalised = raw.translate(_NORM, _DELETED)
    gone = [m.start() for m in _DELETED_RE.finditer(raw)] if _DELETED_RE is not None else []
    mask = raw.translate(_MASK)
    starts: set[int] = set()
    for key in keys:
        if not key:
            continue
        at = normalised.find(key)
        while at >= 0:
            pos = _original(at, gone) if gone else at
            starts.add(mask.rfind(b" ", 0, pos) + 1)
            at = normalised.find(key, at + 1)
    runs = []
    for start in sorted(starts):
        end = mask.find(b" ", start)
        end = len(raw) if end < 0 else end
        if end > start:
            runs.append((start, end))
    return runs


def _encoded(needle: str) -> bytes:
    """The needle in Windows-1256 (kept: the same terms are looked for in every result)."""
    key = _ENCODED.get(needle)
    if key is None:
        if len(_ENCODED) >= _ENCODED_MAX:
            _ENCODED.clear()
        key = _ENCODED[needle] = needle.encode(CODEC)  # may raise UnicodeEncodeError
    return key


_ENCODED: dict[str, bytes] = {}
_ENCODED_MAX = 100_000


def _original(pos: int, gone: list[int]) -> int:
    """The position in the text of the `pos`-th character that normalisation kept."""
    for deleted in gone:  # sorted; each deleted character at or before it moves it on
        if deleted > pos:
            break
        pos += 1
    return pos
