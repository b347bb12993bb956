"""EPUB extraction: chapters in spine order, their blocks, the title, and bad packages.

Books are written here as ZIPs of hand-made XHTML and OPF.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from storage.formats import Block, ExtractError, Limits
from storage.formats.epub import extract_epub

CONTAINER = """<?xml version="1.0"?><container version="1.0"
 xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>
 <rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>
 </rootfiles></container>"""


def _opf(title: str | None, spine: list[str]) -> str:
    items = {
        "nav": ('nav.xhtml', ' properties="nav"'),
        "one": ("text/one.xhtml", ""),
        "two": ("text/chapter%202.xhtml", ""),
        "css": ("style.css", ""),
    }
    manifest = "".join(
        f'<item id="{key}" href="{href}" media-type="'
        f'{"text/css" if key == "css" else "application/xhtml+xml"}"{props}/>'
        for key, (href, props) in items.items())
    meta = f"<dc:title>{title}</dc:title>" if title is not None else ""
    return (f'<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0">'
            f'<metadata xmlns:dc="http://purl.org/dc/elements/1.1/">{meta}</metadata>'
            f"<manifest>{manifest}</manifest><spine>"
            + "".join(f'<itemref idref="{ref}"/>' for ref in spine) + "</spine></package>")


def _xhtml(body: str) -> str:
    return ('<?xml version="1.0" encoding="utf-8"?><!DOCTYPE html><html '
            'xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops">'
            f"<head><title>عنوان الصفحة</title><style>p {{ margin: 0 }}</style></head>"
            f"<body>{body}</body></html>")


CHAPTER_ONE = _xhtml("""<section epub:type="chapter"><h1>الفصل الأول</h1>
<p>كان&nbsp;يا ما كان في قديم الزمان <span>تاجر</span> يسافر بين المدن.</p>
<p>على قدر أهل العزم تأتي العزائم<br/>وتأتي على قدر الكرام المكارم</p>
<ul><li>الأمانة</li><li>الصبر</li></ul>
<table><tr><th>المدينة</th><th>المسافة</th></tr><tr><td>بغداد</td><td>500 كم</td></tr></table>
<p><ruby>كتاب<rt>kitāb</rt></ruby> قديم</p>
<script>alert("x")</script>
<aside epub:type="footnote"><p>حاشية: التاجر هو البطل.</p></aside></section>""")
CHAPTER_TWO = _xhtml("<h2>الفصل الثاني</h2><div>نص في عنصر div مباشرة</div><p>النهاية.</p>")
NAV = _xhtml('<nav epub:type="toc"><ol><li><a href="text/one.xhtml">الفصل الأول</a></li>'
             "</ol></nav>")


def _epub(title: str | None = "رحلة التاجر", spine: list[str] | None = None,
          extra: dict[str, str | bytes] | None = None, drop: tuple[str, ...] = ()) -> bytes:
    members: dict[str, str | bytes] = {
        "META-INF/container.xml": CONTAINER,
        "OEBPS/content.opf": _opf(title, spine or ["nav", "two", "one"]),
        "OEBPS/nav.xhtml": NAV,
        "OEBPS/text/one.xhtml": CHAPTER_ONE,
        "OEBPS/text/chapter 2.xhtml": CHAPTER_TWO,
        "OEBPS/style.css": "p { margin: 0 }",
        **(extra or {}),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip")
        for name, data in members.items():
            if name not in drop:
                archive.writestr(name, data)
    return buffer.getvalue()


def _read(tmp_path: Path, data: bytes):
    path = tmp_path / "book.epub"
    path.write_bytes(data)
    return extract_epub(path.read_bytes(), Limits())


def test_chapters_in_spine_order(tmp_path: Path) -> None:
    doc = _read(tmp_path, _epub())
    assert doc.blocks == [
        Block("الفصل الثاني", None, True),
        Block("نص في عنصر div مباشرة"),
        Block("النهاية."),
        Block("الفصل الأول", None, True),
        Block("كان يا ما كان في قديم الزمان تاجر يسافر بين المدن."),
        Block("على قدر أهل العزم تأتي العزائم\nوتأتي على قدر الكرام المكارم"),
        Block("الأمانة"), Block("الصبر"),
        Block("المدينة | المسافة"), Block("بغداد | 500 كم"),
        Block("كتاب قديم"),
        Block("حاشية: التاجر هو البطل."),
    ]
    assert doc.format == "epub" and doc.title == "رحلة التاجر" and doc.notes == []


def test_title_falls_back_to_first_heading_and_missing_chapter_is_noted(tmp_path: Path) -> None:
    doc = _read(tmp_path, _epub(title=None, drop=("OEBPS/text/chapter 2.xhtml",)))
    assert doc.title == "الفصل الأول"
    assert doc.notes == ["1 chapter file(s) named in the spine are missing"]


def test_font_obfuscation_is_fine_but_encrypted_chapters_are_refused(tmp_path: Path) -> None:
    def encryption(algorithm: str, uri: str) -> str:
        return ('<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container" '
                'xmlns:enc="http://www.w3.org/2001/04/xmlenc#"><enc:EncryptedData>'
                f'<enc:EncryptionMethod Algorithm="{algorithm}"/><enc:CipherData>'
                f'<enc:CipherReference URI="{uri}"/></enc:CipherData></enc:EncryptedData>'
                "</encryption>")

    fonts = encryption("http://www.idpf.org/2008/embedding", "OEBPS/fonts/amiri.ttf")
    assert _read(tmp_path, _epub(extra={"META-INF/encryption.xml": fonts})).blocks
    aes = encryption("http://www.w3.org/2001/04/xmlenc#aes128-cbc", "OEBPS/text/one.xhtml")
    with pytest.raises(ExtractError, match="DRM-protected EPUB: refused"):
        _read(tmp_path, _epub(extra={"META-INF/encryption.xml": aes}))


def test_bad_packages(tmp_path: Path) -> None:
    with pytest.raises(ExtractError, match="damaged EPUB: not a ZIP"):
        extract_epub(b"<html>not a book</html>", Limits())
    with pytest.raises(ExtractError, match="container.xml missing"):
        _read(tmp_path, _epub(drop=("META-INF/container.xml",)))
    with pytest.raises(ExtractError, match="spine lists no chapters"):
        _read(tmp_path, _epub(spine=["css"]))
    with pytest.raises(ExtractError, match="no text in the EPUB"):
        _read(tmp_path, _epub(extra={"OEBPS/text/one.xhtml": _xhtml("<p> </p>"),
                                     "OEBPS/text/chapter 2.xhtml": _xhtml("<img src='a'/>")}))
    bomb = _epub(extra={"OEBPS/images/zeros.bin": bytes(20_000_000)})
    with pytest.raises(ExtractError, match="refused as a possible ZIP bomb"):
        _read(tmp_path, bomb)
