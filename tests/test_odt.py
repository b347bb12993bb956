"""ODT extraction: headings, paragraphs, lists, tables, notes, frames, and bad input.

Packages are written here as ZIPs of hand-made ODF XML; one test also has
LibreOffice (soffice) convert a python-docx document, and checks that the ODT
and DOCX readers agree on it.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import zipfile
from pathlib import Path

import docx
import pytest

from storage.formats import Block, ExtractError, Limits
from storage.formats.docx import extract_docx
from storage.formats.odt import extract_odt

NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
    'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
    'xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0"'
)
STYLES = f"""<office:document-styles {NS}><office:styles>
<style:style style:name="Heading" style:family="paragraph"/>
<style:style style:name="Heading_20_1" style:display-name="Heading 1" style:family="paragraph"
  style:parent-style-name="Heading" style:default-outline-level="1"/>
<style:style style:name="Title" style:family="paragraph" style:parent-style-name="Heading"/>
<style:style style:name="Text_20_body" style:display-name="Text body" style:family="paragraph"/>
</office:styles></office:document-styles>"""

BODY = """
<text:table-of-content><text:index-body><text:p>المقدمة ..... 1</text:p></text:index-body>
</text:table-of-content>
<text:p text:style-name="P1">تقرير الزراعة</text:p>
<text:h text:outline-level="1">المقدمة</text:h>
<text:p text:style-name="Text_20_body">ارتفع<text:s text:c="3"/>الإنتاج<text:note text:id="n1"
 text:note-class="footnote"><text:note-citation>1</text:note-citation><text:note-body>
 <text:p>المصدر: وزارة الزراعة.</text:p></text:note-body></text:note> هذا العام<text:span>
 كثيرا</text:span>.<office:annotation><text:p>تعليق المراجع</text:p></office:annotation></text:p>
<text:p>فقرة فيها إطار<draw:frame draw:name="f"><draw:text-box><text:p>نص الإطار</text:p>
</draw:text-box></draw:frame><text:tab/>وتكملة<text:line-break/>سطر ثان</text:p>
<text:list><text:list-item><text:p>البند الأول</text:p></text:list-item>
<text:list-item><text:p>البند الثاني</text:p><text:list><text:list-item><text:p>بند فرعي</text:p>
</text:list-item></text:list></text:list-item></text:list>
<table:table><table:table-header-rows><table:table-row>
<table:table-cell table:number-columns-spanned="2"><text:p>عنوان الجدول</text:p>
</table:table-cell><table:covered-table-cell/></table:table-row></table:table-header-rows>
<table:table-row><table:table-cell><text:p>القمح</text:p></table:table-cell>
<table:table-cell><text:p>200 طن</text:p></table:table-cell></table:table-row>
<table:table-row><table:table-cell/><table:table-cell/></table:table-row></table:table>
<text:section><text:p>فقرة داخل قسم</text:p></text:section>
<text:p/>
"""


def _odt(body: str = BODY, title: str | None = "عنوان الملف", extra: dict | None = None,
         mimetype: str = "application/vnd.oasis.opendocument.text") -> bytes:
    content = (f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {NS}>'
               '<office:automatic-styles><style:style style:name="P1" style:family="paragraph"'
               ' style:parent-style-name="Title"/></office:automatic-styles>'
               f"<office:body><office:text>{body}</office:text></office:body>"
               "</office:document-content>")
    meta = (f"<office:document-meta {NS}><office:meta>"
            + (f"<dc:title>{title}</dc:title>" if title is not None else "")
            + "</office:meta></office:document-meta>")
    members = {"content.xml": content, "styles.xml": STYLES, "meta.xml": meta,
               "META-INF/manifest.xml": "<manifest:manifest/>", **(extra or {})}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), mimetype)
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _read(tmp_path: Path, data: bytes):
    path = tmp_path / "doc.odt"
    path.write_bytes(data)
    return extract_odt(path.read_bytes(), Limits())


def test_blocks_in_document_order(tmp_path: Path) -> None:
    doc = _read(tmp_path, _odt())
    assert doc.blocks == [
        Block("تقرير الزراعة", None, True),  # "Title" through an automatic style
        Block("المقدمة", None, True),
        Block("ارتفع الإنتاج هذا العام كثيرا.", None, False),
        Block("المصدر: وزارة الزراعة.", None, False),
        Block("فقرة فيها إطار وتكملة\nسطر ثان", None, False),
        Block("نص الإطار", None, False),
        Block("البند الأول"), Block("البند الثاني"), Block("بند فرعي"),
        Block("عنوان الجدول"), Block("القمح | 200 طن"),
        Block("فقرة داخل قسم"),
    ]
    assert doc.format == "odt" and doc.title == "عنوان الملف"


def test_title_falls_back_to_first_heading(tmp_path: Path) -> None:
    assert _read(tmp_path, _odt(title=None)).title == "تقرير الزراعة"


def test_bad_packages(tmp_path: Path) -> None:
    with pytest.raises(ExtractError, match="damaged ODT: not a ZIP"):
        extract_odt(b"not a zip at all", Limits())
    with pytest.raises(ExtractError, match="not a text document: application/vnd.oasis"):
        extract_odt(_odt(mimetype="application/vnd.oasis.opendocument.spreadsheet"), Limits())
    with pytest.raises(ExtractError, match="ODT with embedded macros: refused"):
        extract_odt(_odt(extra={"Basic/Standard/Module1.xml": "<m/>"}), Limits())
    encrypted = _odt(extra={"META-INF/manifest.xml": "<m><manifest:encryption-data/></m>"})
    with pytest.raises(ExtractError, match=r"encrypted ODT \(password needed\)"):
        extract_odt(encrypted, Limits())
    with pytest.raises(ExtractError, match="no text in the ODT"):
        extract_odt(_odt(body="<text:p/><text:p>  </text:p>"), Limits())
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")
    with pytest.raises(ExtractError, match="content.xml missing"):
        extract_odt(buffer.getvalue(), Limits())
    with zipfile.ZipFile(buffer := io.BytesIO(), "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("content.xml", "<a/>")
        archive.writestr("Pictures/zeros.bin", bytes(20_000_000))
    with pytest.raises(ExtractError, match="refused as a possible ZIP bomb"):
        extract_odt(buffer.getvalue(), Limits())


def test_libreoffice_odt_reads_like_the_docx_it_came_from(tmp_path: Path) -> None:
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip("LibreOffice not installed: apt-get install libreoffice-writer-nogui")
    document = docx.Document()
    document.core_properties.title = "تقرير"
    document.add_heading("المقدمة", level=1)
    document.add_paragraph("ارتفع الإنتاج الزراعي هذا العام.")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).merge(table.cell(0, 1)).text = "عنوان الجدول"
    table.cell(1, 0).text, table.cell(1, 1).text = "القمح", "200 طن"
    document.add_heading("الخاتمة", level=2)
    document.add_paragraph("انتهى التقرير.")
    source = tmp_path / "report.docx"
    document.save(str(source))
    subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/lo",
                    "--convert-to", "odt", "--outdir", str(tmp_path), str(source)],
                   check=True, capture_output=True, timeout=120)
    from_odt = extract_odt((tmp_path / "report.odt").read_bytes(), Limits())
    from_docx = extract_docx(source.read_bytes(), Limits())
    assert from_odt.blocks == from_docx.blocks
    assert from_odt.blocks[0] == Block("المقدمة", None, True)
    assert from_odt.title == "تقرير"
