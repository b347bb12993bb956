"""Read a Word .docx file into paragraph blocks.

    doc = extract_docx(path.read_bytes(), Limits())

The body is read straight from the OOXML (zipfile + lxml with a safe parser) in
document order: paragraphs and tables interleaved, each table row one block with
its cells joined by " | " (merged cells once), content controls, hyperlinks and
tracked insertions included, tracked deletions, field codes and hidden text left
out. After each paragraph (or table row) come the text boxes anchored in it, then
the footnotes and endnotes it references; notes never referenced come after the
body. Headers and footers are not read (page furniture). A paragraph is a heading
when its outline level or its style chain says so (Heading 1-9, Title, or any
localised style with an outline level). A table of contents (a TOC content control,
or paragraphs in "toc N" styles) is left out: it repeats the headings.

python-docx is not used here: its paragraph.text leaves out text boxes, content
controls and tracked insertions, and its row.cells repeats a merged cell.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field

from lxml import etree

from storage.formats import Block, Extracted, ExtractError, Limits
from storage.formats.zipguard import has_member, open_zip, parse_member, read_member

KIND = "DOCX"
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
W_STRICT_NS = "http://purl.oclc.org/ooxml/wordprocessingml/main"
MC_NS = "http://schemas.openxmlformats.org/markup-compatibility/2006"
REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
DC_TITLE = "{http://purl.org/dc/elements/1.1/}title"
CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
HEADING_NAME = re.compile(r"^(heading|عنوان)\s*[1-9]$|^(title|عنوان)$", re.IGNORECASE)
TOC_NAME = re.compile(r"^toc( heading|\s*[1-9])$", re.IGNORECASE)
MAX_STYLE_DEPTH = 20

Ref = tuple[str, str]  # ("footnote" | "endnote", note id)


@dataclass
class _Styles:
    """What the paragraph styles of styles.xml say, by style id."""

    headings: set[str] = field(default_factory=set)
    toc: set[str] = field(default_factory=set)
    default: str | None = None


class _Reader:
    """Walks one document's XML in the namespace it uses (transitional or strict)."""

    def __init__(self, ns: str, styles: _Styles) -> None:
        self.ns = ns
        self.styles = styles
        self.skip = {self.w(t) for t in (
            "del", "moveFrom", "delText", "instrText", "rPr", "pPr", "fldData",
            "commentReference", "tblPr", "trPr", "tcPr", "sectPr", "sdtPr", "sdtEndPr",
        )} | {f"{{{MC_NS}}}Fallback"}
        self.note_refs = {self.w("footnoteReference"): "footnote",
                          self.w("endnoteReference"): "endnote"}

    def w(self, tag: str) -> str:
        return f"{{{self.ns}}}{tag}"

    def wval(self, el: etree._Element | None, attr: str = "val") -> str | None:
        return None if el is None else el.get(self.w(attr))

    # -- paragraphs -------------------------------------------------------------

    def para_text(self, p: etree._Element) -> tuple[str, list[etree._Element], list[Ref]]:
        """A paragraph's own text, the text boxes anchored in it, and the notes it references."""
        parts: list[str] = []
        boxes: list[etree._Element] = []
        refs: list[Ref] = []
        self._collect(p, parts, boxes, refs)
        return _clean("".join(parts)), boxes, refs

    def _collect(self, el: etree._Element, parts: list[str], boxes: list, refs: list) -> None:
        w = self.w
        for child in el:
            tag = child.tag
            if not isinstance(tag, str) or tag in self.skip:
                continue
            if tag == w("t"):  # entity references (never in real files) are left out
                parts.append(child.text or "")
                parts.extend(sub.tail or "" for sub in child)
            elif tag in (w("tab"), w("ptab")):
                parts.append("\t")
            elif tag in (w("br"), w("cr")):
                parts.append("\n")
            elif tag == w("noBreakHyphen"):
                parts.append("-")
            elif tag == w("txbxContent"):
                boxes.append(child)
            elif tag in self.note_refs:
                refs.append((self.note_refs[tag], self.wval(child, "id") or ""))
            elif tag == w("r") and self._hidden(child):
                continue
            else:
                self._collect(child, parts, boxes, refs)

    def _hidden(self, run: etree._Element) -> bool:
        vanish = run.find(f"{self.w('rPr')}/{self.w('vanish')}")
        return vanish is not None and self.wval(vanish) not in ("0", "false", "off")

    def _style(self, p: etree._Element) -> str:
        style = self.wval(p.find(f"{self.w('pPr')}/{self.w('pStyle')}"))
        return style or self.styles.default or ""

    def is_heading(self, p: etree._Element) -> bool:
        level = self.wval(p.find(f"{self.w('pPr')}/{self.w('outlineLvl')}"))
        if level is not None:
            return _level_is_heading(level)
        return self._style(p) in self.styles.headings

    def is_toc(self, el: etree._Element) -> bool:
        """A table-of-contents paragraph, or content control holding one."""
        if el.tag == self.w("p"):
            return self._style(el) in self.styles.toc
        gallery = el.find(f"{self.w('sdtPr')}/{self.w('docPartObj')}/{self.w('docPartGallery')}")
        return "table of contents" in (self.wval(gallery) or "").lower()

    # -- containers (body, cells, text boxes, notes) -----------------------------

    def children(self, container: etree._Element) -> Iterator[etree._Element]:
        """Block-level children, looking through content controls and custom XML."""
        w = self.w
        for child in container:
            tag = child.tag
            if not isinstance(tag, str) or tag in self.skip:
                continue
            if tag == w("sdt"):
                content = None if self.is_toc(child) else child.find(w("sdtContent"))
                if content is not None:
                    yield from self.children(content)
            elif tag in (w("customXml"), w("ins"), w("moveTo"), w("sdtContent")):
                yield from self.children(child)
            elif tag == f"{{{MC_NS}}}AlternateContent":
                choice = child.find(f"{{{MC_NS}}}Choice")
                if choice is not None:
                    yield from self.children(choice)
            else:
                yield child

    def walk(self, container: etree._Element, notes: _Notes, headings: bool = True) -> list[Block]:
        """Blocks of a container in document order, with boxes and referenced notes inline."""
        blocks: list[Block] = []
        for child in self.children(container):
            if child.tag == self.w("p"):
                if self.is_toc(child):
                    continue
                text, boxes, refs = self.para_text(child)
                if text:
                    blocks.append(Block(text, None, headings and self.is_heading(child)))
                for box in boxes:
                    blocks.extend(self.walk(box, notes, headings))
                blocks.extend(notes.take(refs, self))
            elif child.tag == self.w("tbl"):
                for row in self.children(child):
                    if row.tag != self.w("tr"):
                        continue
                    text, refs = self.row_text(row)
                    if text:
                        blocks.append(Block(text))
                    blocks.extend(notes.take(refs, self))
        return blocks

    def row_text(self, row: etree._Element) -> tuple[str, list[Ref]]:
        """One table row: non-empty cells joined with " | "; merged-away cells skipped."""
        cells: list[str] = []
        refs: list[Ref] = []
        for cell in self.children(row):
            if cell.tag != self.w("tc") or self._merged_away(cell):
                continue
            text, cell_refs = self.flat_text(cell)
            refs.extend(cell_refs)
            if text:
                cells.append(text)
        return " | ".join(cells), refs

    def _merged_away(self, cell: etree._Element) -> bool:
        tcpr = cell.find(self.w("tcPr"))
        if tcpr is None:
            return False
        vmerge = tcpr.find(self.w("vMerge"))
        if vmerge is not None and self.wval(vmerge) in (None, "continue"):
            return True
        hmerge = tcpr.find(self.w("hMerge"))
        return hmerge is not None and self.wval(hmerge) in (None, "continue")

    def flat_text(self, container: etree._Element) -> tuple[str, list[Ref]]:
        """All text of a container (a table cell) on one line: paragraphs, nested tables, boxes."""
        parts: list[str] = []
        refs: list[Ref] = []
        for child in self.children(container):
            if child.tag == self.w("p"):
                text, boxes, p_refs = self.para_text(child)
                parts.append(text)
                refs.extend(p_refs)
                for box in boxes:
                    box_text, box_refs = self.flat_text(box)
                    parts.append(box_text)
                    refs.extend(box_refs)
            elif child.tag == self.w("tbl"):
                for row in self.children(child):
                    if row.tag == self.w("tr"):
                        row_text, row_refs = self.row_text(row)
                        parts.append(row_text)
                        refs.extend(row_refs)
        return " ".join(" ".join(parts).split()), refs


class _Notes:
    """Footnotes and endnotes by id, handed out once each where first referenced."""

    def __init__(self, notes: dict[Ref, etree._Element]) -> None:
        self.pending = notes

    def take(self, refs: list[Ref], reader: _Reader) -> list[Block]:
        blocks: list[Block] = []
        for ref in refs:
            note = self.pending.pop(ref, None)
            if note is not None:
                blocks.extend(reader.walk(note, self, headings=False))
        return blocks

    def rest(self, reader: _Reader) -> list[Block]:
        blocks: list[Block] = []
        while self.pending:
            ref = next(iter(self.pending))
            blocks.extend(self.take([ref], reader))
        return blocks


def _clean(text: str) -> str:
    lines = (" ".join(line.split()) for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def _level_is_heading(level: str) -> bool:
    return level.isdigit() and int(level) < 9


def _rels(archive: zipfile.ZipFile, part: str) -> dict[str, str]:
    """Relationship type suffix -> target path in the package, for `part` ("" = package)."""
    folder, name = posixpath.split(part)
    rels_name = posixpath.join(folder, "_rels", f"{name}.rels")
    if not has_member(archive, rels_name):
        return {}
    root = parse_member(archive, rels_name, KIND)
    found: dict[str, str] = {}
    for rel in root.iter(f"{{{REL_NS}}}Relationship"):
        kind = (rel.get("Type") or "").rsplit("/", 1)[-1]
        target = rel.get("Target") or ""
        if rel.get("TargetMode") == "External" or not target or kind in found:
            continue
        path = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
        found[kind] = posixpath.normpath(path)
    return found


def _refuse_non_docx(data: bytes) -> None:
    if data.startswith(CFB_MAGIC):
        if "EncryptionInfo".encode("utf-16-le") in data:
            raise ExtractError("encrypted DOCX (password needed)")
        raise ExtractError("legacy Word .doc file (not DOCX): save it as .docx to index it")


def _refuse_macros(archive: zipfile.ZipFile) -> None:
    names = archive.namelist()
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        raise ExtractError("macro-enabled Word file (.docm): refused")
    if has_member(archive, "[Content_Types].xml"):
        types = read_member(archive, "[Content_Types].xml", KIND)
        if b"macroenabled" in types.lower():
            raise ExtractError("macro-enabled Word file (.docm): refused")


def _paragraph_styles(archive: zipfile.ZipFile, path: str | None, ns: str) -> _Styles:
    """Heading and table-of-contents style ids, and the default paragraph style id."""
    if not path or not has_member(archive, path):
        return _Styles()
    root = parse_member(archive, path, KIND)
    w = f"{{{ns}}}"
    styles: dict[str, tuple[str, str | None, str | None]] = {}
    default = None
    for style in root.iter(f"{w}style"):
        if style.get(f"{w}type") not in (None, "paragraph"):
            continue
        sid = style.get(f"{w}styleId") or ""
        name_el = style.find(f"{w}name")
        based = style.find(f"{w}basedOn")
        level = style.find(f"{w}pPr/{w}outlineLvl")
        styles[sid] = (
            "" if name_el is None else (name_el.get(f"{w}val") or ""),
            None if based is None else based.get(f"{w}val"),
            None if level is None else level.get(f"{w}val"),
        )
        if style.get(f"{w}default") in ("1", "true", "on"):
            default = sid
    return _Styles(
        headings={sid for sid in styles if _style_is_heading(sid, styles)},
        toc={sid for sid, (name, _, _) in styles.items() if TOC_NAME.match(name.strip())},
        default=default,
    )


def _style_is_heading(sid: str, styles: dict[str, tuple]) -> bool:
    seen: set[str] = set()
    current: str | None = sid
    while current is not None and current in styles and current not in seen:
        if len(seen) >= MAX_STYLE_DEPTH:
            break
        seen.add(current)
        name, based, level = styles[current]
        if level is not None:
            return _level_is_heading(level)
        if HEADING_NAME.match(name.strip()):
            return True
        current = based
    return False


def _notes(archive: zipfile.ZipFile, rels: dict[str, str], ns: str) -> dict:
    notes: dict[Ref, etree._Element] = {}
    for kind, fallback in (("footnote", "word/footnotes.xml"), ("endnote", "word/endnotes.xml")):
        path = rels.get(f"{kind}s", fallback)
        if not has_member(archive, path):
            continue
        root = parse_member(archive, path, KIND)
        for note in root.iter(f"{{{ns}}}{kind}"):
            if note.get(f"{{{ns}}}type") in (None, "normal"):
                notes[(kind, note.get(f"{{{ns}}}id") or "")] = note
    return notes


def _core_title(archive: zipfile.ZipFile, package_rels: dict[str, str]) -> str:
    path = package_rels.get("core-properties", "docProps/core.xml")
    if not has_member(archive, path):
        return ""
    try:
        root = parse_member(archive, path, KIND)
    except ExtractError:
        return ""  # a damaged core.xml loses the title, not the document
    title = root.find(DC_TITLE)
    return "" if title is None else " ".join("".join(title.itertext()).split())


def extract_docx(data: bytes, limits: Limits) -> Extracted:
    """Read a .docx file's paragraphs, tables, text boxes and notes in reading order."""
    _refuse_non_docx(data)
    archive = open_zip(data, KIND)
    _refuse_macros(archive)
    package_rels = _rels(archive, "")
    main = package_rels.get("officeDocument", "word/document.xml")
    if not has_member(archive, main):
        main = "word/document.xml"
    if not has_member(archive, main):
        raise ExtractError("not a Word document: word/document.xml missing")
    root = parse_member(archive, main, KIND)
    ns = etree.QName(root).namespace or W_NS
    if ns not in (W_NS, W_STRICT_NS):
        raise ExtractError(f"not a Word document: {main} is not WordprocessingML")
    body = root.find(f"{{{ns}}}body")
    if body is None:
        raise ExtractError("no text in the DOCX (the document has no body)")
    rels = _rels(archive, main)
    styles_path = rels.get("styles", "word/styles.xml")
    reader = _Reader(ns, _paragraph_styles(archive, styles_path, ns))
    notes = _Notes(_notes(archive, rels, ns))
    blocks = reader.walk(body, notes)
    blocks.extend(notes.rest(reader))
    if not blocks:
        raise ExtractError("no text in the DOCX (empty document, or only images)")
    result = Extracted(format="docx", blocks=blocks)
    result.title = _core_title(archive, package_rels) or next(
        (block.text for block in blocks if block.heading), "")
    if body.find(f".//{{{ns}}}altChunk") is not None:
        result.notes.append("embedded altChunk content not read")
    return result
