"""DOCX extraction: paragraphs, headings, tables, notes, text boxes, and every bad input.

Documents are built here with python-docx, with raw OOXML added where python-docx
has no API (footnotes, text boxes, tracked changes), then read back from tmp_path.
"""

from __future__ import annotations

import io
import struct
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import docx
import pytest
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml import parse_xml

from storage.formats import Block, ExtractError, Limits
from storage.formats.docx import extract_docx

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NSDECL = (
    f'xmlns:w="{W}" '
    'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
    'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
    'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
    'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" '
    'xmlns:v="urn:schemas-microsoft-com:vml"'
)
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def _save(document: docx.document.Document, tmp_path: Path, name: str = "doc.docx") -> Path:
    path = tmp_path / name
    document.save(str(path))
    return path


def _read(path: Path):
    return extract_docx(path.read_bytes(), Limits())


def _texts(path: Path) -> list[str]:
    return [block.text for block in _read(path).blocks]


def _add_xml(document: docx.document.Document, xml: str) -> None:
    """Append a raw body element (w:p or w:tbl) before the section properties."""
    body = document.element.body
    body.insert(len(body) - 1, parse_xml(xml))


def _rewrite(path: Path, change: Callable[[dict[str, bytes]], None]) -> None:
    """Rewrite the package's members through `change` (a dict name -> bytes)."""
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    change(members)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def _add_part(members: dict[str, bytes], name: str, xml: str, rel_type: str, ctype: str) -> None:
    members[f"word/{name}"] = xml.encode("utf-8")
    rels = members["word/_rels/document.xml.rels"].decode()
    rels = rels.replace(
        "</Relationships>",
        f'<Relationship Id="rIdX{name[:4]}" Type="{REL}/{rel_type}" Target="{name}"/>'
        "</Relationships>")
    members["word/_rels/document.xml.rels"] = rels.encode()
    types = members["[Content_Types].xml"].decode()
    types = types.replace(
        "</Types>",
        f'<Override PartName="/word/{name}" ContentType="application/'
        f'vnd.openxmlformats-officedocument.wordprocessingml.{ctype}+xml"/></Types>')
    members["[Content_Types].xml"] = types.encode()


# -- body: paragraphs, headings, tables ---------------------------------------


def test_paragraphs_headings_and_tables_in_document_order(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_paragraph("التقرير السنوي للوزارة", style="Title")
    document.add_heading("المقدمة", level=1)
    document.add_paragraph("ارتفع الإنتاج الزراعي هذا العام.")
    document.add_paragraph("")  # empty: dropped
    document.add_paragraph("   ")  # blank: dropped
    table = document.add_table(rows=3, cols=2)
    for row, (a, b) in zip(table.rows, [("المحصول", "الإنتاج"), ("", ""), ("القمح", "٢٠٠ طن")]):
        row.cells[0].text, row.cells[1].text = a, b
    document.add_heading("الخاتمة", level=2)
    para = document.add_paragraph("الجملة الأولى ")
    para.add_run("والجملة الثانية").bold = True
    path = _save(document, tmp_path)

    assert _read(path).blocks == [
        Block("التقرير السنوي للوزارة", None, True),
        Block("المقدمة", None, True),
        Block("ارتفع الإنتاج الزراعي هذا العام.", None, False),
        Block("المحصول | الإنتاج", None, False),
        Block("القمح | ٢٠٠ طن", None, False),
        Block("الخاتمة", None, True),
        Block("الجملة الأولى والجملة الثانية", None, False),
    ]
    doc = _read(path)
    assert doc.format == "docx" and doc.pages is None
    assert doc.title == "التقرير السنوي للوزارة"  # no core title: the first heading


def test_merged_cells_are_not_repeated(tmp_path: Path) -> None:
    document = docx.Document()
    table = document.add_table(rows=3, cols=3)
    table.cell(0, 0).merge(table.cell(0, 2)).text = "عنوان الجدول"
    table.cell(1, 0).merge(table.cell(2, 0)).text = "المنطقة"
    table.cell(1, 1).text, table.cell(1, 2).text = "الرياض", "٥"
    table.cell(2, 1).text, table.cell(2, 2).text = "جدة", "٧"
    path = _save(document, tmp_path)
    # python-docx's own row.cells repeats a merged cell in every grid column it spans
    assert [c.text for c in docx.Document(str(path)).tables[0].rows[0].cells].count(
        "عنوان الجدول") == 3
    assert _texts(path) == ["عنوان الجدول", "المنطقة | الرياض | ٥", "جدة | ٧"]


def test_nested_table_and_multi_paragraph_cell_stay_in_their_row(tmp_path: Path) -> None:
    document = docx.Document()
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "السطر الأول"
    table.cell(0, 0).add_paragraph("السطر الثاني")
    inner = table.cell(0, 1).add_table(rows=1, cols=2)
    inner.cell(0, 0).text, inner.cell(0, 1).text = "داخلي أ", "داخلي ب"
    document.add_paragraph("بعد الجدول")
    path = _save(document, tmp_path)
    assert _texts(path) == ["السطر الأول السطر الثاني | داخلي أ | داخلي ب", "بعد الجدول"]


def test_localised_and_derived_heading_styles(tmp_path: Path) -> None:
    document = docx.Document()
    arabic = document.styles.add_style("عنوان المستوى الأول", WD_STYLE_TYPE.PARAGRAPH)
    arabic.element.get_or_add_pPr().append(parse_xml(f'<w:outlineLvl {NSDECL} w:val="0"/>'))
    derived = document.styles.add_style("My Section", WD_STYLE_TYPE.PARAGRAPH)
    derived.base_style = document.styles["Heading 2"]
    body_level = document.styles.add_style("Body Level", WD_STYLE_TYPE.PARAGRAPH)
    body_level.base_style = document.styles["Heading 3"]
    body_level.element.get_or_add_pPr().append(parse_xml(f'<w:outlineLvl {NSDECL} w:val="9"/>'))
    document.add_paragraph("عنوان بنمط معرب", style=arabic)
    document.add_paragraph("عنوان بنمط مشتق", style=derived)
    document.add_paragraph("نص عادي بمستوى المتن", style=body_level)
    _add_xml(document, f'<w:p {NSDECL}><w:pPr><w:outlineLvl w:val="1"/></w:pPr>'
                       '<w:r><w:t>عنوان بمستوى مباشر</w:t></w:r></w:p>')
    document.add_paragraph("فقرة عادية")
    path = _save(document, tmp_path)
    assert [(b.text, b.heading) for b in _read(path).blocks] == [
        ("عنوان بنمط معرب", True),
        ("عنوان بنمط مشتق", True),
        ("نص عادي بمستوى المتن", False),
        ("عنوان بمستوى مباشر", True),
        ("فقرة عادية", False),
    ]


def test_table_of_contents_is_left_out(tmp_path: Path) -> None:
    document = docx.Document()
    _add_xml(document, f"""<w:sdt {NSDECL}><w:sdtPr><w:docPartObj>
      <w:docPartGallery w:val="Table of Contents"/><w:docPartUnique/></w:docPartObj></w:sdtPr>
      <w:sdtContent><w:p><w:r><w:t>المقدمة</w:t></w:r><w:r><w:tab/><w:t>1</w:t></w:r></w:p>
      </w:sdtContent></w:sdt>""")
    toc = document.styles.add_style("toc 2", WD_STYLE_TYPE.PARAGRAPH)
    document.add_paragraph("الخاتمة\t2", style=toc)
    document.add_heading("المقدمة", level=1)
    document.add_paragraph("نص المقدمة.")
    assert _texts(_save(document, tmp_path)) == ["المقدمة", "نص المقدمة."]


def test_core_title_wins_and_no_heading_means_no_title(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_heading("عنوان داخلي", level=1)
    document.core_properties.title = "عنوان الملف الرسمي"
    assert _read(_save(document, tmp_path, "a.docx")).title == "عنوان الملف الرسمي"
    plain = docx.Document()
    plain.core_properties.title = ""
    plain.add_paragraph("فقرة بلا عنوان")
    assert _read(_save(plain, tmp_path, "b.docx")).title == ""


def test_revisions_fields_hidden_text_links_and_controls(tmp_path: Path) -> None:
    document = docx.Document()
    _add_xml(document, f"""<w:p {NSDECL}>
      <w:r><w:t xml:space="preserve">قال </w:t></w:r>
      <w:ins w:id="1" w:author="a"><w:r><w:t xml:space="preserve">الوزير </w:t></w:r></w:ins>
      <w:del w:id="2" w:author="a"><w:r><w:delText>المحذوف </w:delText></w:r></w:del>
      <w:r><w:fldChar w:fldCharType="begin"/></w:r>
      <w:r><w:instrText>PAGE \\* MERGEFORMAT</w:instrText></w:r>
      <w:r><w:fldChar w:fldCharType="separate"/></w:r>
      <w:r><w:t xml:space="preserve">إن </w:t></w:r>
      <w:r><w:fldChar w:fldCharType="end"/></w:r>
      <w:r><w:rPr><w:vanish/></w:rPr><w:t>مخفي</w:t></w:r>
      <w:hyperlink r:id="rId99" xmlns:r="{REL}"><w:r><w:t xml:space="preserve">الخطة </w:t></w:r>
      </w:hyperlink>
      <w:sdt><w:sdtContent><w:r><w:t>نجحت</w:t></w:r></w:sdtContent></w:sdt>
      <w:r><w:br/><w:t>سطر ثان</w:t><w:tab/><w:t>بعد مسافة</w:t></w:r>
    </w:p>""")
    _add_xml(document, f"""<w:sdt {NSDECL}><w:sdtPr><w:alias w:val="x"/></w:sdtPr>
      <w:sdtContent><w:p><w:r><w:t>فقرة داخل عنصر تحكم</w:t></w:r></w:p></w:sdtContent></w:sdt>""")
    path = _save(document, tmp_path)
    assert _texts(path) == ["قال الوزير إن الخطة نجحت\nسطر ثان بعد مسافة",
                            "فقرة داخل عنصر تحكم"]


# -- footnotes, endnotes, text boxes ------------------------------------------

FOOTNOTES = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:footnotes {NSDECL}>
  <w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:t>SEPARATOR</w:t></w:r></w:p></w:footnote>
  <w:footnote w:type="continuationSeparator" w:id="0"><w:p><w:r><w:separator/></w:r></w:p>
  </w:footnote>
  <w:footnote w:id="1"><w:p><w:r><w:footnoteRef/></w:r>
    <w:r><w:t xml:space="preserve"> المصدر: تقرير البنك الدولي.</w:t></w:r></w:p></w:footnote>
  <w:footnote w:id="2"><w:p><w:r><w:t>حاشية لم يشر إليها أحد.</w:t></w:r></w:p></w:footnote>
</w:footnotes>"""

ENDNOTES = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:endnotes {NSDECL}>
  <w:endnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:endnote>
  <w:endnote w:id="1"><w:p><w:r><w:endnoteRef/></w:r><w:r><w:t>تعليق ختامي أول.</w:t></w:r>
  </w:p><w:p><w:r><w:t>فقرته الثانية.</w:t></w:r></w:p></w:endnote>
</w:endnotes>"""


def test_footnotes_and_endnotes_follow_the_paragraph_that_cites_them(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_paragraph("فقرة أولى.")
    _add_xml(document, f"""<w:p {NSDECL}><w:r><w:t>نما الاقتصاد بنسبة ٣٪</w:t></w:r>
      <w:r><w:rPr><w:rStyle w:val="FootnoteReference"/></w:rPr>
      <w:footnoteReference w:id="1"/></w:r><w:r><w:t xml:space="preserve"> هذا العام.</w:t></w:r>
      </w:p>""")
    _add_xml(document, f"""<w:tbl {NSDECL}><w:tr><w:tc><w:p><w:r><w:t>خلية</w:t></w:r>
      <w:r><w:endnoteReference w:id="1"/></w:r></w:p></w:tc>
      <w:tc><w:p><w:r><w:t>أخرى</w:t></w:r></w:p></w:tc></w:tr></w:tbl>""")
    document.add_paragraph("الفقرة الأخيرة.")
    path = _save(document, tmp_path)

    def add_notes(members: dict[str, bytes]) -> None:
        _add_part(members, "footnotes.xml", FOOTNOTES, "footnotes", "footnotes")
        _add_part(members, "endnotes.xml", ENDNOTES, "endnotes", "endnotes")

    _rewrite(path, add_notes)
    assert _texts(path) == [
        "فقرة أولى.",
        "نما الاقتصاد بنسبة ٣٪ هذا العام.",
        "المصدر: تقرير البنك الدولي.",
        "خلية | أخرى",
        "تعليق ختامي أول.",
        "فقرته الثانية.",
        "الفقرة الأخيرة.",
        "حاشية لم يشر إليها أحد.",  # never referenced: after the body
    ]


def test_text_box_read_once_after_its_paragraph(tmp_path: Path) -> None:
    box = '<w:txbxContent><w:p><w:r><w:t>نص داخل مربع النص</w:t></w:r></w:p></w:txbxContent>'
    document = docx.Document()
    _add_xml(document, f"""<w:p {NSDECL}><w:r><w:t xml:space="preserve">فقرة فيها مربع </w:t>
      </w:r><w:r><mc:AlternateContent>
        <mc:Choice Requires="wps"><w:drawing><wp:anchor><a:graphic><a:graphicData>
          <wps:wsp><wps:txbx>{box}</wps:txbx></wps:wsp>
        </a:graphicData></a:graphic></wp:anchor></w:drawing></mc:Choice>
        <mc:Fallback><w:pict><v:shape><v:textbox>{box}</v:textbox></v:shape></w:pict>
        </mc:Fallback></mc:AlternateContent></w:r><w:r><w:t>نصي.</w:t></w:r></w:p>""")
    _add_xml(document, f"""<w:p {NSDECL}><w:r><w:pict><v:shape><v:textbox><w:txbxContent>
      <w:p><w:r><w:t>مربع قديم بصيغة VML</w:t></w:r></w:p></w:txbxContent></v:textbox></v:shape>
      </w:pict></w:r></w:p>""")
    path = _save(document, tmp_path)
    # python-docx's paragraph.text leaves text boxes out entirely
    assert "مربع النص" not in docx.Document(str(path)).paragraphs[0].text
    assert _texts(path) == ["فقرة فيها مربع نصي.", "نص داخل مربع النص", "مربع قديم بصيغة VML"]


# -- bad input ------------------------------------------------------------------


def _minimal_docx(tmp_path: Path) -> Path:
    document = docx.Document()
    document.add_paragraph("نص قصير")
    return _save(document, tmp_path)


def test_not_a_zip_and_damaged_zip(tmp_path: Path) -> None:
    with pytest.raises(ExtractError, match="damaged DOCX: not a ZIP"):
        extract_docx("مجرد نص وليس ملف وورد".encode(), Limits())
    data = _minimal_docx(tmp_path).read_bytes()
    with pytest.raises(ExtractError, match="damaged DOCX"):
        extract_docx(data[: len(data) // 2], Limits())


def test_corrupted_member_is_damaged(tmp_path: Path) -> None:
    path = _minimal_docx(tmp_path)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("word/document.xml")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    data[start + 10: start + 40] = b"\x00" * 30  # flip compressed bytes of document.xml
    with pytest.raises(ExtractError, match="damaged DOCX: word/document.xml"):
        extract_docx(bytes(data), Limits())


def _patch_declared_size(data: bytes, name: str, size: int) -> bytes:
    """Rewrite the uncompressed size that the central directory declares for `name`."""
    out = bytearray(data)
    at = out.find(b"PK\x01\x02")
    while at != -1:
        name_len = struct.unpack_from("<H", out, at + 28)[0]
        if out[at + 46: at + 46 + name_len] == name.encode():
            struct.pack_into("<I", out, at + 24, size)
            return bytes(out)
        at = out.find(b"PK\x01\x02", at + 4)
    raise AssertionError(f"{name} not in the central directory")


def test_declared_size_over_limit_is_refused_before_reading(tmp_path: Path) -> None:
    data = _minimal_docx(tmp_path).read_bytes()
    lying = _patch_declared_size(data, "word/document.xml", 300_000_000)
    with pytest.raises(ExtractError, match=r"DOCX expands to 30\d MB \(limit 200 MB\): "
                                           "refused as a possible ZIP bomb"):
        extract_docx(lying, Limits())


def test_header_declaring_less_than_the_member_holds_is_damaged(tmp_path: Path) -> None:
    data = _minimal_docx(tmp_path).read_bytes()
    lying = _patch_declared_size(data, "word/document.xml", 100)
    with pytest.raises(ExtractError, match="damaged DOCX: word/document.xml"):
        extract_docx(lying, Limits())


def test_highly_compressed_member_is_refused(tmp_path: Path) -> None:
    path = _minimal_docx(tmp_path)
    started = time.monotonic()
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/media/zeros.bin", bytes(30_000_000))  # ~1000x
    with pytest.raises(ExtractError, match=r"member word/media/zeros.bin expands \d+x to 30 MB"):
        extract_docx(path.read_bytes(), Limits())
    assert time.monotonic() - started < 5


def test_macro_enabled_files_are_refused(tmp_path: Path) -> None:
    path = _minimal_docx(tmp_path)

    def add_vba(members: dict[str, bytes]) -> None:
        members["word/vbaProject.bin"] = b"\xd0\xcf\x11\xe0 fake vba"

    _rewrite(path, add_vba)
    with pytest.raises(ExtractError, match=r"macro-enabled Word file \(\.docm\): refused"):
        extract_docx(path.read_bytes(), Limits())

    path = _minimal_docx(tmp_path)

    def macro_type(members: dict[str, bytes]) -> None:
        members["[Content_Types].xml"] = members["[Content_Types].xml"].replace(
            b"wordprocessingml.document.main+xml", b"ms-word.document.macroEnabled.main+xml")

    _rewrite(path, macro_type)
    with pytest.raises(ExtractError, match="macro-enabled"):
        extract_docx(path.read_bytes(), Limits())


def test_zip_without_document_xml(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(ExtractError, match="word/document.xml missing"):
        extract_docx(buffer.getvalue(), Limits())


def test_empty_document_has_no_text(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_paragraph("")
    document.add_table(rows=2, cols=2)
    with pytest.raises(ExtractError, match="no text"):
        _read(_save(document, tmp_path))


def test_legacy_doc_and_encrypted_docx(tmp_path: Path) -> None:
    cfb = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
    with pytest.raises(ExtractError, match=r"legacy Word \.doc"):
        extract_docx(cfb + b"WordDocument", Limits())
    with pytest.raises(ExtractError, match=r"encrypted DOCX \(password needed\)"):
        extract_docx(cfb + "EncryptionInfo".encode("utf-16-le"), Limits())


def test_external_entities_are_not_resolved(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET-CONTENT", encoding="utf-8")
    path = _minimal_docx(tmp_path)

    def xxe(members: dict[str, bytes]) -> None:
        members["word/document.xml"] = (
            f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "{secret.as_uri()}">'
            '<!ENTITY a "ههههههههههه"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
            '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
            f'<w:document {NSDECL}><w:body><w:p><w:r><w:t>قبل &x; &c; بعد</w:t></w:r></w:p>'
            '</w:body></w:document>').encode()

    _rewrite(path, xxe)
    texts = _texts(path)
    assert "SECRET" not in " ".join(texts)
    assert "ههههه" not in " ".join(texts)
    assert texts == ["قبل بعد"]


def test_malformed_xml_is_damaged(tmp_path: Path) -> None:
    path = _minimal_docx(tmp_path)

    def break_xml(members: dict[str, bytes]) -> None:
        members["word/document.xml"] = members["word/document.xml"][:-40]

    _rewrite(path, break_xml)
    with pytest.raises(ExtractError, match="damaged DOCX: word/document.xml is not well-formed"):
        _read(path)
