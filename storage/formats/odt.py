"""Read an OpenDocument text file (.odt, LibreOffice Writer) into paragraph blocks.

    doc = extract_odt(path.read_bytes(), Limits())

content.xml is read with zipfile + lxml (safe parser) in document order, like the
DOCX reader: text:h headings (and paragraphs whose style chain has an outline level
or is "Title"), paragraphs, list items, each table row one block with cells joined
by " | " (covered cells skipped), then after each paragraph its text boxes and the
footnotes/endnotes it holds. Tracked deletions, comments, and generated indexes (a
table of contents repeats the headings) are left out.
"""

from __future__ import annotations

import re
import zipfile

from lxml import etree

from storage.formats import Block, Extracted, ExtractError, Limits
from storage.formats.zipguard import has_member, open_zip, parse_member, read_member

KIND = "ODT"
OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
DRAW = "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"
STYLE = "urn:oasis:names:tc:opendocument:xmlns:style:1.0"
SVG = "urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0"
DC_TITLE = "{http://purl.org/dc/elements/1.1/}title"
TEXT_MIMETYPES = (b"application/vnd.oasis.opendocument.text",
                  b"application/vnd.oasis.opendocument.text-template",
                  b"application/vnd.oasis.opendocument.text-master")
WHITESPACE = re.compile(r"\s+")
LINE_BREAK = "\u2028"  # text:line-break while a paragraph's text is put together
HEADING_NAME = re.compile(r"^(heading|عنوان)[\s_]*(20_)?[1-9]$|^(title|عنوان)$", re.IGNORECASE)


def _t(tag: str) -> str:
    return f"{{{TEXT}}}{tag}"


P, H, LIST = _t("p"), _t("h"), _t("list")
SKIP_INLINE = {_t(tag) for tag in (
    "note-citation", "tracked-changes", "change", "bookmark", "bookmark-start",
    "bookmark-end", "reference-mark", "reference-mark-start", "reference-mark-end",
    "soft-page-break", "ruby-text", "sequence-decls", "variable-decls", "user-field-decls",
)} | {f"{{{OFFICE}}}annotation", f"{{{OFFICE}}}annotation-end", f"{{{SVG}}}title",
      f"{{{SVG}}}desc", f"{{{DRAW}}}image"}
SKIP_BLOCKS = SKIP_INLINE | {_t(tag) for tag in (
    "table-of-content", "alphabetical-index", "illustration-index", "table-index",
    "object-index", "user-index",
)} | {f"{{{OFFICE}}}forms"}
CONTAINERS = {_t("section"), _t("list-item"), _t("list-header"), LIST,
              f"{{{DRAW}}}text-box", _t("note-body")}
ROW_GROUPS = {f"{{{TABLE}}}{tag}" for tag in (
    "table-header-rows", "table-rows", "table-row-group")}


class _Reader:
    def __init__(self, heading_styles: set[str]) -> None:
        self.heading_styles = heading_styles

    def para_text(self, p: etree._Element) -> tuple[str, list[etree._Element]]:
        """A paragraph's own text, and its text boxes and notes (read after it)."""
        parts: list[str] = []
        extras: list[etree._Element] = []
        self._collect(p, parts, extras)
        lines = (" ".join(line.split()) for line in "".join(parts).split(LINE_BREAK))
        return "\n".join(line for line in lines if line), extras

    def _collect(self, el: etree._Element, parts: list[str], extras: list) -> None:
        parts.append(_spaces(el.text))
        for child in el:
            tag = child.tag
            if not isinstance(tag, str) or tag in SKIP_INLINE:
                pass
            elif tag == _t("s"):
                parts.append(" ")
            elif tag == _t("tab"):
                parts.append("\t")
            elif tag == _t("line-break"):
                parts.append(LINE_BREAK)
            elif tag == _t("note"):
                body = child.find(_t("note-body"))
                if body is not None:
                    extras.append(body)
            elif tag == f"{{{DRAW}}}text-box":
                extras.append(child)
            else:
                self._collect(child, parts, extras)
            parts.append(_spaces(child.tail))

    def is_heading(self, p: etree._Element) -> bool:
        return p.tag == H or p.get(_t("style-name"), "") in self.heading_styles

    def walk(self, container: etree._Element, headings: bool = True) -> list[Block]:
        blocks: list[Block] = []
        for child in container:
            tag = child.tag
            if not isinstance(tag, str) or tag in SKIP_BLOCKS:
                continue
            if tag in (P, H):
                text, extras = self.para_text(child)
                if text:
                    blocks.append(Block(text, None, headings and self.is_heading(child)))
                for extra in extras:
                    blocks.extend(self.walk(extra, headings))
            elif tag == f"{{{TABLE}}}table":
                blocks.extend(self.table(child))
            elif tag in CONTAINERS or tag == f"{{{DRAW}}}frame":
                blocks.extend(self.walk(child, headings))
        return blocks

    def table(self, table: etree._Element) -> list[Block]:
        blocks: list[Block] = []
        for row in self._rows(table):
            cells: list[str] = []
            extras: list[etree._Element] = []
            for cell in row:
                if cell.tag != f"{{{TABLE}}}table-cell":
                    continue  # covered (merged-away) cells and anything else
                text = self.flat_text(cell, extras)
                if text:
                    cells.append(text)
            if cells:
                blocks.append(Block(" | ".join(cells)))
            for extra in extras:
                if extra.tag == _t("note-body"):
                    blocks.extend(self.walk(extra, headings=False))
        return blocks

    def _rows(self, table: etree._Element):
        for child in table:
            if child.tag == f"{{{TABLE}}}table-row":
                yield child
            elif child.tag in ROW_GROUPS:
                yield from self._rows(child)

    def flat_text(self, container: etree._Element, notes: list[etree._Element]) -> str:
        """A cell's text on one line (paragraphs, lists, nested tables, text boxes)."""
        parts: list[str] = []
        for child in container:
            tag = child.tag
            if tag in (P, H):
                text, extras = self.para_text(child)
                parts.append(text)
                for extra in extras:
                    if extra.tag == _t("note-body"):
                        notes.append(extra)
                    else:
                        parts.append(self.flat_text(extra, notes))
            elif tag == f"{{{TABLE}}}table":
                parts.extend(block.text for block in self.table(child))
            elif tag in CONTAINERS:
                parts.append(self.flat_text(child, notes))
        return " ".join(" ".join(parts).split())


def _spaces(text: str | None) -> str:
    """ODF text: any run of white space, newlines included, is one space."""
    return WHITESPACE.sub(" ", text or "")


def _heading_styles(roots: list[etree._Element]) -> set[str]:
    """Paragraph style names whose chain has an outline level or a heading/title name."""
    styles: dict[str, tuple[str | None, str, str | None]] = {}
    for root in roots:
        for style in root.iter(f"{{{STYLE}}}style"):
            if style.get(f"{{{STYLE}}}family") != "paragraph":
                continue
            name = style.get(f"{{{STYLE}}}name") or ""
            styles[name] = (style.get(f"{{{STYLE}}}parent-style-name"),
                            style.get(f"{{{STYLE}}}display-name") or name,
                            style.get(f"{{{STYLE}}}default-outline-level"))
    found: set[str] = set()
    for name in styles:
        current: str | None = name
        seen: set[str] = set()
        while current in styles and current not in seen and len(seen) < 20:
            seen.add(current)
            parent, display, level = styles[current]
            if level or HEADING_NAME.match(display.strip()) or HEADING_NAME.match(current):
                found.add(name)
                break
            current = parent
    return found


def _check_package(archive: zipfile.ZipFile) -> None:
    if has_member(archive, "mimetype"):
        mimetype = read_member(archive, "mimetype", KIND).strip()
        if mimetype and mimetype not in TEXT_MIMETYPES:
            raise ExtractError(f"not a text document: {mimetype.decode('ascii', 'replace')}")
    if has_member(archive, "META-INF/manifest.xml"):
        if b"encryption-data" in read_member(archive, "META-INF/manifest.xml", KIND):
            raise ExtractError("encrypted ODT (password needed)")
    if any(name.startswith(("Basic/", "Scripts/")) and name.endswith((".xml", ".js", ".py"))
           and not name.endswith(("script-lc.xml", "script-lb.xml", "dialog-lc.xml",
                                  "dialog-lb.xml"))
           for name in archive.namelist()):
        raise ExtractError("ODT with embedded macros: refused")
    if not has_member(archive, "content.xml"):
        raise ExtractError("not an ODT: content.xml missing")


def extract_odt(data: bytes, limits: Limits) -> Extracted:
    """Read an .odt file's headings, paragraphs, lists, tables, text boxes and notes."""
    archive = open_zip(data, KIND)
    _check_package(archive)
    content = parse_member(archive, "content.xml", KIND)
    text = content.find(f"{{{OFFICE}}}body/{{{OFFICE}}}text")
    if text is None:
        raise ExtractError("not a text document: content.xml has no office:text")
    roots = [content]
    if has_member(archive, "styles.xml"):
        roots.append(parse_member(archive, "styles.xml", KIND))
    blocks = _Reader(_heading_styles(roots)).walk(text)
    if not blocks:
        raise ExtractError("no text in the ODT (empty document, or only images)")
    title = ""
    if has_member(archive, "meta.xml"):
        try:
            found = parse_member(archive, "meta.xml", KIND).find(f".//{DC_TITLE}")
        except ExtractError:
            found = None  # a damaged meta.xml loses the title, not the document
        title = "" if found is None else " ".join("".join(found.itertext()).split())
    title = title or next((block.text for block in blocks if block.heading), "")
    return Extracted(format="odt", blocks=blocks, title=title)
