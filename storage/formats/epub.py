"""Read an EPUB e-book into paragraph blocks, chapter by chapter in spine order.

    doc = extract_epub(path.read_bytes(), Limits())

An EPUB is a ZIP of XHTML files: META-INF/container.xml names the package (.opf),
whose spine gives the reading order. Every chapter's text is kept (a book has no
boilerplate to remove, so no article extraction): h1-h6 as headings, paragraphs,
list items, quotes, each table row one block with cells joined by " | ". The
navigation document, <nav>, scripts and styles are left out. DRM-encrypted
chapters are refused (font obfuscation alone is fine).
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from urllib.parse import unquote

from lxml import etree
from lxml import html as lxml_html

from storage.formats import Block, Extracted, ExtractError, Limits
from storage.formats.html import LINE_BREAK, decode_html, split_paragraphs
from storage.formats.zipguard import has_member, open_zip, parse_member, read_member

KIND = "EPUB"
CONTAINER_NS = "urn:oasis:names:tc:opendocument:xmlns:container"
OPF_NS = "http://www.idpf.org/2007/opf"
DC_TITLE = "{http://purl.org/dc/elements/1.1/}title"
ENC_NS = "http://www.w3.org/2001/04/xmlenc#"
FONT_OBFUSCATION = ("http://www.idpf.org/2008/embedding", "http://ns.adobe.com/pdf/enc#RC")
XHTML_TYPES = ("application/xhtml+xml", "text/html")
XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")

HEADINGS = {f"h{level}" for level in range(1, 7)}
SKIP = {"script", "style", "nav", "rt", "rp", "head", "title", "template", "noscript", "math",
        "svg", "img", "object", "iframe"}
BLOCKS = {"p", "div", "li", "dt", "dd", "blockquote", "pre", "figcaption", "caption",
          "section", "article", "aside", "header", "footer", "main", "figure", "ul", "ol",
          "dl", "hr", "address", "center", "body", "html", "table", "tr", "td", "th",
          "tbody", "thead", "tfoot", "hgroup", "details", "summary", "fieldset"} | HEADINGS
HTML_PARSER = lxml_html.HTMLParser(no_network=True, remove_comments=True, remove_pis=True)


def _tag(el: etree._Element) -> str:
    return el.tag.rsplit("}", 1)[-1].lower() if isinstance(el.tag, str) else ""


def _text(el: etree._Element) -> str:
    """Inline text of an element, <br> as LINE_BREAK, skipped elements left out."""
    parts = [el.text or ""]
    for child in el:
        tag = _tag(child)
        if tag == "br":
            parts.append(LINE_BREAK)
        elif tag and tag not in SKIP:
            parts.append(_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _flat(el: etree._Element) -> str:
    return " ".join(_text(el).replace(LINE_BREAK, " ").split())


def _table(table: etree._Element, out: list[Block]) -> None:
    for row in table.iter("tr", "{*}tr"):
        if next(row.iterancestors("table", "{*}table"), None) is not table:
            continue  # a nested table's rows are in its cell's text
        cells = [_flat(cell) for cell in row if _tag(cell) in ("td", "th")]
        if text := " | ".join(cell for cell in cells if cell):
            out.append(Block(text))


def _blocks(container: etree._Element, out: list[Block]) -> None:
    """Blocks of an XHTML element; text between its block children makes paragraphs."""
    inline = [container.text or ""]
    for child in container:
        tag = _tag(child)
        if tag not in BLOCKS:
            if tag == "br":
                inline.append(LINE_BREAK)
            elif tag and tag not in SKIP:
                inline.append(_text(child))
            inline.append(child.tail or "")
            continue
        out.extend(Block(t) for t in split_paragraphs("".join(inline)))
        inline = [child.tail or ""]
        if tag in HEADINGS:
            if text := _flat(child):
                out.append(Block(text, None, True))
        elif tag == "table":
            _table(child, out)
        else:
            _blocks(child, out)
    out.extend(Block(t) for t in split_paragraphs("".join(inline)))


def _package_path(archive: zipfile.ZipFile) -> str:
    if not has_member(archive, "META-INF/container.xml"):
        raise ExtractError("not an EPUB: META-INF/container.xml missing")
    container = parse_member(archive, "META-INF/container.xml", KIND)
    rootfile = container.find(f".//{{{CONTAINER_NS}}}rootfile")
    path = None if rootfile is None else rootfile.get("full-path")
    if not path or not has_member(archive, path):
        raise ExtractError("not an EPUB: its package (.opf) is missing")
    return path


def _spine(opf: etree._Element, opf_path: str) -> list[str]:
    """The chapters' paths in reading order (the navigation document left out)."""
    folder = posixpath.dirname(opf_path)
    items: dict[str, tuple[str, str, str]] = {}
    for item in opf.iter(f"{{{OPF_NS}}}item"):
        href = unquote((item.get("href") or "").split("#", 1)[0])
        items[item.get("id") or ""] = (posixpath.normpath(posixpath.join(folder, href)),
                                       item.get("media-type") or "",
                                       item.get("properties") or "")
    paths: list[str] = []
    for ref in opf.iter(f"{{{OPF_NS}}}itemref"):
        path, media, properties = items.get(ref.get("idref") or "", ("", "", ""))
        if path and media in XHTML_TYPES and "nav" not in properties.split():
            if path not in paths:
                paths.append(path)
    return paths


def _refuse_drm(archive: zipfile.ZipFile, chapters: list[str]) -> None:
    if has_member(archive, "META-INF/rights.xml"):
        raise ExtractError("DRM-protected EPUB: refused")
    if not has_member(archive, "META-INF/encryption.xml"):
        return
    root = parse_member(archive, "META-INF/encryption.xml", KIND)
    for data in root.iter(f"{{{ENC_NS}}}EncryptedData"):
        method = data.find(f"{{{ENC_NS}}}EncryptionMethod")
        algorithm = "" if method is None else method.get("Algorithm") or ""
        ref = data.find(f".//{{{ENC_NS}}}CipherReference")
        uri = unquote("" if ref is None else ref.get("URI") or "")
        if algorithm not in FONT_OBFUSCATION or uri in chapters:
            raise ExtractError("DRM-protected EPUB: refused")


def _chapter_blocks(archive: zipfile.ZipFile, path: str) -> list[Block]:
    if not has_member(archive, path):
        return []  # a spine entry without its file: the book is read without it
    text, _, _ = decode_html(read_member(archive, path, KIND))
    text = XML_DECLARATION.sub("", text, count=1)
    if not text.strip():
        return []
    try:
        root = lxml_html.document_fromstring(text, parser=HTML_PARSER)
    except (etree.ParserError, ValueError):
        return []
    body = root.find(".//body")
    out: list[Block] = []
    _blocks(root if body is None else body, out)
    return out


def extract_epub(data: bytes, limits: Limits) -> Extracted:
    """Read an .epub book's chapters in spine order into heading and paragraph blocks."""
    archive = open_zip(data, KIND)
    if has_member(archive, "mimetype"):
        mimetype = read_member(archive, "mimetype", KIND).strip()
        if mimetype and mimetype != b"application/epub+zip":
            raise ExtractError(f"not an EPUB: {mimetype.decode('ascii', 'replace')}")
    opf_path = _package_path(archive)
    opf = parse_member(archive, opf_path, KIND)
    chapters = _spine(opf, opf_path)
    if not chapters:
        raise ExtractError("not an EPUB: its spine lists no chapters")
    _refuse_drm(archive, chapters)
    blocks: list[Block] = []
    missing = 0
    for path in chapters:
        missing += not has_member(archive, path)
        blocks.extend(_chapter_blocks(archive, path))
    if not blocks:
        raise ExtractError("no text in the EPUB (empty chapters, or only images)")
    title_el = opf.find(f".//{DC_TITLE}")
    title = "" if title_el is None else " ".join("".join(title_el.itertext()).split())
    result = Extracted(format="epub", blocks=blocks,
                       title=title or next((b.text for b in blocks if b.heading), ""))
    if missing:
        result.notes.append(f"{missing} chapter file(s) named in the spine are missing")
    return result
