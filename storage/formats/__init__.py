"""Read a collection file of any supported format into blocks of text with their page.

    doc = extract(Path("التقرير.pdf"))      # ExtractError(reason) when it cannot be read
    for block in doc.blocks:
        block.text, block.page, block.heading

One small extractor per format (`text`, `pdf`, `docx`, `html`, ...) behind one
interface. The format is decided by the file's content (`sniff`), and a file whose
content is not what its extension says is refused with that reason. The indexer
never sees formats: it gets an `Extracted` document or an `ExtractError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class ExtractError(Exception):
    """A file cannot be read as a document; `str()` is the reason shown in the index report."""


@dataclass(frozen=True)
class Block:
    """One paragraph of a document, as its layout gives it.

    `page` is the 1-based page for paginated formats (PDF), None otherwise. `heading`
    is True when the format says so (a DOCX heading style, an HTML <h2>); otherwise
    the passage splitter decides from the text, as for plain text.
    """

    text: str
    page: int | None = None
    heading: bool = False


@dataclass
class Extracted:
    """A document read from a file: its blocks in reading order, and what reading it took."""

    format: str  # "text", "pdf", "docx", "html", ...
    blocks: list[Block]
    title: str = ""  # the document's own title (HTML <title>, PDF metadata), "" if none
    pages: int | None = None  # pages in the file, for paginated formats
    ocr_pages: int = 0  # pages read by OCR
    ocr_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)  # short English remarks for the report


@dataclass(frozen=True)
class Limits:
    """What one file may cost to read (set from the bot's settings)."""

    max_bytes: int = 100 * 1024 * 1024  # a larger PDF, Word file... is skipped (scans are big)
    max_pages: int = 2000  # a PDF with more pages is skipped with that reason
    ocr: bool = True  # read pages without a text layer with Tesseract (when installed)
    ocr_page_seconds: float = 60.0  # one page's OCR is stopped after this long
    ocr_dpi: int = 200  # measured: as good as 300 dpi from 9 pt up, 20 % faster (ocr.py)
    ocr_workers: int = 1  # pages of one PDF read by Tesseract at once (the indexer sets it)
    seconds: float = 600.0  # reading one file is stopped after this (OCR'd pages not counted)
    memory_mb: int = 1536  # ... or when it needs more memory than this


#: File name endings the collection reads, and the format each one promises.
FORMATS_BY_SUFFIX = {
    ".txt": "text", ".md": "text",
    ".pdf": "pdf",
    ".docx": "docx",
    ".html": "html", ".htm": "html",
    ".odt": "odt",
    ".epub": "epub",
}
#: Endings people will drop into the folder that we cannot read, with what to do instead.
UNSUPPORTED_SUFFIXES = {
    ".doc": "old Word format (.doc): save it as .docx",
    ".docm": "macro-enabled Word file (.docm): refused; save it as .docx",
    ".rtf": "RTF is not supported: save it as .docx",
    ".pptx": "presentations are not supported: export it as PDF",
    ".ppt": "presentations are not supported: export it as PDF",
    ".xlsx": "spreadsheets are not supported",
    ".xls": "spreadsheets are not supported",
}
_NAMES = {
    "text": "plain text", "pdf": "a PDF", "docx": "a Word document", "html": "a web page",
    "odt": "an OpenDocument text", "epub": "an EPUB book", "zip": "a ZIP archive",
    "ole": "an old Office file (.doc/.xls/.ppt)", "image": "an image", "binary": "binary data",
    "not-utf8": "text that is not UTF-8",
}
_IMAGE_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"II*\x00", b"MM\x00*", b"RIFF")
_HTML_START = ("<!doctype html", "<html", "<head", "<body", "<?xml")


def suffix_format(name: str) -> str | None:
    """The format a file name promises by its ending, or None when we do not read it."""
    dot = name.rfind(".")
    return FORMATS_BY_SUFFIX.get(name[dot:].lower()) if dot >= 0 else None


def unsupported_reason(name: str) -> str | None:
    """Why a document people commonly have is not read (.doc, .rtf...), or None."""
    dot = name.rfind(".")
    return UNSUPPORTED_SUFFIXES.get(name[dot:].lower()) if dot >= 0 else None


def detect(data: bytes) -> str:
    """What the bytes are, by their content (magic bytes, ZIP members, markup)."""
    if b"%PDF-" in data[:1024]:
        return "pdf"
    if data[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return _zip_kind(data)
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return "ole"
    if data.startswith(_IMAGE_MAGIC):
        return "image"
    head = data[:4096]
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "binary"
    start = head[:1024].decode("utf-8", "ignore").lstrip("\ufeff \t\r\n")[:16].lower()
    if start.startswith(_HTML_START) and "<html" in head.decode("latin-1").lower():
        return "html"
    return "text"


def _zip_kind(data: bytes) -> str:
    """docx, odt, epub or zip, from the archive's members (without extracting any)."""
    import io
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "word/document.xml" in names:
                return "docx"
            if "mimetype" in names and archive.getinfo("mimetype").file_size < 100:
                mimetype = archive.read("mimetype").strip()
                if mimetype == b"application/vnd.oasis.opendocument.text":
                    return "odt"
                if mimetype == b"application/epub+zip":
                    return "epub"
    except (zipfile.BadZipFile, OSError, ValueError):
        pass  # a damaged archive: the format's own reader says what is wrong
    return "zip"


def sniff(name: str, data: bytes) -> str:
    """The format of file `name` with content `data`; ExtractError when they disagree."""
    promised = suffix_format(name)
    if promised is None:
        raise ExtractError(unsupported_reason(name) or "unsupported file type")
    actual = detect(data)
    if promised == actual:
        return actual
    if promised == "text" and actual == "binary":
        raise ExtractError("binary file")
    if promised == "html" and actual == "text" and b"<" in data[:65536]:
        return "html"  # a fragment without <html>, or markup after a long preamble
    if promised in ("docx", "odt", "epub") and actual == "zip":
        return promised  # a damaged archive: the format's reader gives the reason
    suffix = name[name.rfind("."):]
    raise ExtractError(f"content is {_NAMES.get(actual, actual)}, not what {suffix} says")


def extract(fmt: str, data: bytes, limits: Limits) -> Extracted:
    """Read `data` of format `fmt` (from `sniff`) into blocks; ExtractError when it cannot."""
    if fmt == "text":
        return Extracted("text", [Block(line) for line in decode_text(data).splitlines()])
    reader = _reader(fmt)
    return reader(data, limits)


def _reader(fmt: str):
    """The extractor function of a format (imported only when a file needs it)."""
    if fmt == "pdf":
        from storage.formats.pdf import extract_pdf
        return extract_pdf
    if fmt == "docx":
        from storage.formats.docx import extract_docx
        return extract_docx
    if fmt == "html":
        from storage.formats.html import extract_html
        return extract_html
    if fmt == "odt":
        from storage.formats.odt import extract_odt
        return extract_odt
    if fmt == "epub":
        from storage.formats.epub import extract_epub
        return extract_epub
    raise ExtractError(f"unsupported format {fmt}")


def decode_text(data: bytes) -> str:
    """A plain-text file's text: UTF-8 (BOM allowed), not binary, not empty."""
    if b"\x00" in data:
        raise ExtractError("binary file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ExtractError(f"not valid UTF-8 (byte {exc.start})") from None
    if not text.strip():
        raise ExtractError("empty")
    return text
