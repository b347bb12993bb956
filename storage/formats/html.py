"""Read a saved web page into the blocks of its article, boilerplate left out.

    doc = extract_html(path.read_bytes(), Limits())

The bytes are decoded here (BOM, then <meta charset> or the XML declaration, then
UTF-8, then a charset-normalizer guess) and the article is found by trafilatura:
menus, headers, footers, sidebars, related-news lists, comments, scripts and styles
are left out. Each article paragraph, list item and heading is one block (headings
flagged), each table row one block with its cells joined by " | ".

Trafilatura's time and memory grow faster than the page (Arabic news markup, on 2
busy cores: 5 MB 2-6 s, 20 MB 16-32 s and 0.4-1.5 GB, 50 MB 49 s and 1 GB), so a
page whose markup without scripts, styles, comments and inline data exceeds
MAX_MARKUP_BYTES (10 MB: at most ~11 s and 0.65 GB) is refused, and so is any file
over MAX_HTML_BYTES; script-heavy pages pass (a 50 MB one reads in 1.5 s). Above
FAST_ABOVE_BYTES trafilatura runs without its backup extractors (about 2x faster).
"""

from __future__ import annotations

import codecs
import html as html_lib
import logging
import re

import charset_normalizer
import trafilatura
from lxml import etree
from trafilatura.settings import use_config

from storage.formats import Block, Extracted, ExtractError, Limits

MB = 1_000_000
MAX_HTML_BYTES = 64 * MB  # the file as stored
MAX_MARKUP_BYTES = 10 * MB  # what is left without scripts, styles, comments, inline data
FAST_ABOVE_BYTES = 2 * MB  # bigger markup: skip trafilatura's backup extractors
SNIFF_BYTES = 64 * 1024  # where a charset declaration is looked for
GUESS_BYTES = 1 * MB  # what charset-normalizer is shown

BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"))
META_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([a-z0-9_.:-]+)""", re.I)
XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([a-z0-9_.:-]+)""", re.I)
# WHATWG: these labels mean windows-1252; a UTF-16 label in ASCII-readable bytes means UTF-8
ALIASES = {"iso8859-1": "cp1252", "ascii": "cp1252", "utf-16": "utf-8", "utf-16-le": "utf-8",
           "utf-16-be": "utf-8"}
NOT_MARKUP = re.compile(
    r"<(script|style|noscript|svg|template)\b.*?</\1\s*>|<!--.*?-->|data:[^\"'\s)]{200,}",
    re.I | re.S)
TITLE = re.compile(r"<title\b[^>]*>(.*?)</title\s*>", re.I | re.S)
HEAD_END = re.compile(r"</head\s*>|<body\b", re.I)

# "Read also" boxes inside the article that trafilatura keeps as paragraphs: pruned
# before extraction (block elements whose text starts so, and short).
READ_ALSO = ("اقرأ أيض", "إقرأ أيض", "اقرا أيض", "اقرأ ايض", "إقرأ ايض", "اقرا ايض",
             "اقرأ كذلك", "إقرأ كذلك", "اقرأ المزيد", "إقرأ المزيد", "شاهد أيض", "شاهد ايض",
             "طالع أيض", "طالع ايض", "أخبار ذات صلة", "اخبار ذات صلة", "أخبار متعلقة",
             "مواضيع ذات صلة", "مقالات ذات صلة", "Read also", "Read more", "Related:")
READ_ALSO_TAGS = ("p", "div", "li", "ul", "ol", "section", "aside", "h2", "h3", "h4", "h5", "h6")
PRUNE_XPATH = "//*[{tags}][{starts}][string-length(normalize-space(.)) < 500]".format(
    tags=" or ".join(f"self::{tag}" for tag in READ_ALSO_TAGS),
    starts=" or ".join(f"starts-with(normalize-space(.), '{p}')" for p in READ_ALSO),
)
MIN_UNLINKED_SHARE = 0.1  # less text than this outside links: a menu, not an article
LINE_BREAK = "\u2028"  # stands for <lb/> (<br>) while a paragraph's text is put together
BLOCK_TAGS = {"p", "list", "item", "table", "row", "cell", "quote", "code", "div",
              "section", "body"}
LONG_LINE = 100  # mean characters per line above which <lb/> separates paragraphs
LAYOUT_CELL_CHARS = 300  # a table cell longer than this is page layout, not data

_CONFIG = use_config()
_CONFIG.set("DEFAULT", "MIN_EXTRACTED_SIZE", "50")  # measured: fewer boilerplate leaks
logging.getLogger("trafilatura").setLevel(logging.CRITICAL)  # its reasons are ours to say


def _codec(label: bytes | str) -> str | None:
    """Python codec name for an encoding label, None when unknown."""
    text = label.decode("ascii", "ignore") if isinstance(label, bytes) else label
    try:
        name = codecs.lookup(text.strip().lower()).name
    except LookupError:
        return None
    return ALIASES.get(name, name)


def declared_encoding(data: bytes) -> str | None:
    """The encoding the page declares (XML declaration or <meta>), None if none or unknown."""
    head = data[:SNIFF_BYTES]
    match = XML_ENCODING.search(head) or META_CHARSET.search(head)
    return _codec(match.group(1)) if match else None


def decode_html(data: bytes) -> tuple[str, str, bool]:
    """The page's text, the encoding used, and whether that encoding was guessed."""
    for bom, name in BOMS:
        if data.startswith(bom):
            return data.decode(name, errors="replace"), name, False
    declared = declared_encoding(data)
    for name in (declared, "utf-8"):
        if name is None:
            continue
        try:
            return data.decode(name), name, False
        except UnicodeDecodeError:
            continue
    best = charset_normalizer.from_bytes(data[:GUESS_BYTES]).best()
    if best is not None and _codec(best.encoding):
        name = _codec(best.encoding) or "utf-8"
        return data.decode(name, errors="replace"), name, True
    name = declared or "utf-8"
    return data.decode(name, errors="replace"), name, True


def _text(el: etree._Element) -> str:
    """An element's text, inline tags dropped, <lb/> as LINE_BREAK."""
    parts = [el.text or ""]
    for child in el:
        if child.tag == "lb":
            parts.append(LINE_BREAK)
        elif isinstance(child.tag, str):
            parts.append(_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def split_paragraphs(raw: str) -> list[str]:
    """Split a paragraph's text into blocks: at newlines (a fallback extractor's paragraph
    joins), at two or more <lb/> in a row, and at every <lb/> between long lines (text laid
    out with <br> for paragraphs); a <lb/> between short lines (verse, an address) stays."""
    out: list[str] = []
    for piece in raw.split("\n"):
        for chunk in re.split(rf"{LINE_BREAK}\s*(?:{LINE_BREAK}\s*)+", piece):
            lines = [" ".join(line.split()) for line in chunk.split(LINE_BREAK)]
            lines = [line for line in lines if line]
            if not lines:
                continue
            if sum(map(len, lines)) >= LONG_LINE * len(lines):
                out.extend(lines)
            else:
                out.append("\n".join(lines))
    return out


def _flat(el: etree._Element) -> str:
    return " ".join(_text(el).replace(LINE_BREAK, " ").split())


def _is_layout_cell(cell: etree._Element) -> bool:
    blocks = sum(1 for sub in cell if sub.tag in BLOCK_TAGS)
    return blocks >= 2 or len(_flat(cell)) > LAYOUT_CELL_CHARS


def _table(table: etree._Element, out: list[Block]) -> None:
    """One block per row, cells joined with " | "; a layout table's long cells read as text."""
    for row in table.iter("row"):
        if next(row.iterancestors("table"), None) is not table:
            continue  # a nested table's rows are already in its cell's text
        cells = [cell for cell in row if cell.tag == "cell"]
        if any(_is_layout_cell(cell) for cell in cells):
            for cell in cells:
                _blocks(cell, out)
            continue
        text = " | ".join(t for t in (_flat(cell) for cell in cells) if t)
        if text:
            out.append(Block(text))


def _blocks(container: etree._Element, out: list[Block]) -> None:
    """Blocks of an element of trafilatura's XML body (p, head, list/item, table/row/cell,
    quote, ...); text and inline elements between its blocks make paragraphs of their own."""
    inline = [container.text or ""]
    for child in container:
        tag = child.tag
        if isinstance(tag, str) and tag not in BLOCK_TAGS | {"head", "graphic", "lb"}:
            inline.extend((_text(child), child.tail or ""))
            continue
        if tag == "lb":
            inline.extend((LINE_BREAK, child.tail or ""))
            continue
        out.extend(Block(t) for t in split_paragraphs("".join(inline)))
        inline = [child.tail or ""]
        if tag == "head":
            if text := _flat(child):
                out.append(Block(text, None, True))
        elif tag == "table":
            _table(child, out)
        elif tag in BLOCK_TAGS:
            if any(sub.tag in BLOCK_TAGS or sub.tag == "head" for sub in child):
                _blocks(child, out)
            else:
                out.extend(Block(t) for t in split_paragraphs(_text(child)))
    out.extend(Block(t) for t in split_paragraphs("".join(inline)))


def _body_blocks(body: etree._Element) -> list[Block]:
    """All blocks of trafilatura's result; its root may be <body> or the element it chose."""
    holder = etree.Element("body")
    holder.append(body)
    out: list[Block] = []
    _blocks(holder, out)
    return out


def _only_links(body: etree._Element, blocks: list[Block]) -> bool:
    """Whether the text is (nearly) all link texts: a menu or a link list, not an article."""
    total = sum(len("".join(block.text.split())) for block in blocks)
    links = sum(len("".join("".join(ref.itertext()).split())) for ref in body.iter("ref"))
    return total - links < MIN_UNLINKED_SHARE * total


def _raw_title(text: str) -> str:
    match = TITLE.search(text, 0, GUESS_BYTES)
    return " ".join(html_lib.unescape(match.group(1)).split()) if match else ""


def _meta_title(text: str) -> str:
    """Trafilatura's title from the page's <head> only (og:title, or <title> less its site)."""
    end = HEAD_END.search(text, 0, GUESS_BYTES)
    if end is None:
        return ""
    try:
        meta = trafilatura.extract_metadata(text[: end.start()] + "</head><body></body></html>",
                                            extensive=False)
    except Exception:  # noqa: BLE001 - metadata is optional; its parser's errors are many
        return ""
    return " ".join((meta.title or "").split()) if meta is not None else ""


def _title(text: str, blocks: list[Block]) -> str:
    raw, meta = _raw_title(text), _meta_title(text)
    if raw and meta and meta != raw and meta in raw:
        return meta  # "<title>Article - Site</title>" -> "Article"
    return raw or meta or next((block.text for block in blocks if block.heading), "")


def _markup_size(text: str) -> int:
    return len(NOT_MARKUP.sub("", text).encode("utf-8", errors="replace"))


def extract_html(data: bytes, limits: Limits) -> Extracted:
    """Read a web page's article text (boilerplate left out) into blocks."""
    if len(data) > MAX_HTML_BYTES:
        raise ExtractError(f"HTML page too large ({len(data) / MB:.1f} MB, "
                           f"limit {MAX_HTML_BYTES // MB} MB)")
    text, encoding, guessed = decode_html(data)
    markup = _markup_size(text)
    if markup > MAX_MARKUP_BYTES:
        raise ExtractError(f"HTML page too large ({markup / MB:.1f} MB of markup without scripts"
                           f" and styles, limit {MAX_MARKUP_BYTES // MB} MB)")
    fast = markup > FAST_ABOVE_BYTES
    try:
        doc = trafilatura.bare_extraction(
            text, fast=fast, include_comments=False, include_tables=True,
            include_images=False, with_metadata=False,
            include_links=True,  # <ref> only tells a menu from an article (_only_links)
            prune_xpath=PRUNE_XPATH, config=_CONFIG)
    except (ValueError, TypeError, etree.LxmlError) as exc:
        raise ExtractError(f"HTML page cannot be parsed ({exc})") from exc
    body = doc.body if doc is not None else None
    blocks = _body_blocks(body) if body is not None else []
    if not blocks or _only_links(body, blocks):
        raise ExtractError("no article text found in the page")
    title = _title(text, blocks)
    if title and not any(title in block.text for block in blocks[:3]):
        blocks.insert(0, Block(title, None, True))  # the headline is searched too, as in .txt
    result = Extracted(format="html", blocks=blocks, title=title)
    if guessed:
        result.notes.append(f"no usable charset declared; read as {encoding}")
    if fast:
        result.notes.append(f"large page ({markup / MB:.1f} MB of markup): fast extraction")
    return result
