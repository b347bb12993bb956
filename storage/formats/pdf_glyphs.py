"""PDFium's glyphs of a text page, fast: box, baseline, font size, pen x, word number.

    glyphs = upright(read_glyphs(textpage), page.get_rotation(), width, height)

Used by `storage.formats.pdf`; the glyphs are laid out by `pdf_lines` and `pdf_layout`.
"""

from __future__ import annotations

import ctypes
import re
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pypdfium2

#: The font size is read for one glyph in this many (it is compared per line).
SIZE_EVERY = 8

# One glyph: (text, x0, x1, y0, y1, baseline, font size, pen x, word number, index in
# the text page); tuples, as a 500-page PDF has about a million glyphs.
Glyph = tuple[str, float, float, float, float, float, float, float, int, int]

_SPACES = frozenset("\u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
                    "\u200a\u202f\u205f\u3000")
_NOT_TEXT = re.compile(r"[\ufffd\ue000-\uf8ff\x00-\x08\x0e-\x1f]")


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


def read_glyphs(textpage: pypdfium2.PdfTextPage) -> list[Glyph]:
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
