"""HTML extraction: the article only, its headings, tables, encodings, titles and limits.

Pages are written here by hand, in the shape of Arabic news sites: a menu, a
breaking-news bar, the article with an inline «اقرأ أيضاً» box, a sidebar, reader
comments, a footer, scripts and styles.
"""

from __future__ import annotations

import codecs
import time
from pathlib import Path

import pytest

from storage.formats import Block, ExtractError, Limits
from storage.formats import html as html_format
from storage.formats.html import decode_html, extract_html

P1 = ("أعلنت وزارة الزراعة اليوم أن إنتاج القمح في المملكة ارتفع بنسبة عشرين في المئة "
      "مقارنة بالعام الماضي، بفضل الأمطار الغزيرة وتوسع المساحات المزروعة في الشمال.")
P2 = ("وقال المتحدث باسم الوزارة إن الحكومة ستواصل دعم المزارعين عبر القروض الميسرة "
      "وتوفير البذور المحسنة، مشيرا إلى أن الخطة تستهدف الاكتفاء الذاتي خلال خمس سنوات.")
P3 = ("وأضاف أن الصادرات الزراعية بلغت مستوى قياسيا في الربع الأخير، وأن الأسواق "
      "الخليجية استوعبت الجزء الأكبر منها، بينما تراجعت الواردات من الحبوب بشكل ملحوظ.")
P4 = ("ويرى خبراء اقتصاديون أن هذه النتائج تعكس نجاح سياسات الري الحديثة، لكنهم "
      "يحذرون من أثر موجات الجفاف المتكررة على الموسم المقبل إذا لم تتخذ إجراءات عاجلة.")
H2 = "خطة الاكتفاء الذاتي"
BOILERPLATE = [
    "الرئيسية", "الرياضة", "عاجل: انقطاع", "اقرأ أيض", "زلزال بقوة", "أسعار الذهب",
    "الأكثر قراءة", "خبر جانبي", "تعليق القارئ", "جميع الحقوق محفوظة", "اتصل بنا",
    "إعلان مزعج", "font-family", "tracking", "شارك على",
]


def news_page(charset: str = "utf-8", title: str = "ارتفاع إنتاج القمح - موقع الأخبار") -> str:
    """An Arabic news article page with the usual boilerplate around it."""
    menu = "".join(f'<li><a href="/{k}">{name}</a></li>' for k, name in enumerate(
        ["الرئيسية", "السياسة", "الاقتصاد", "الرياضة", "الثقافة", "اتصل بنا"]))
    side = "".join(f'<li><a href="/m{k}">خبر جانبي رقم {k} من الأكثر قراءة</a></li>'
                   for k in range(6))
    return f"""<!DOCTYPE html>
<html lang="ar" dir="rtl"><head><meta charset="{charset}"><title>{title}</title>
<meta property="og:title" content="ارتفاع إنتاج القمح">
<style>body {{ font-family: Tahoma; }}</style>
<script>var banner = "إعلان مزعج"; function track() {{ return "tracking"; }}</script>
</head><body>
<header class="site-header"><nav class="main-menu"><ul>{menu}</ul></nav></header>
<div class="breaking">عاجل: انقطاع الكهرباء عن أحياء في العاصمة</div>
<main><article class="post">
<h1>ارتفاع إنتاج القمح</h1>
<div class="post-body">
<p>{P1}</p>
<p><strong>اقرأ أيضاً:</strong> <a href="/q1">زلزال بقوة خمس درجات يضرب الساحل</a></p>
<p>{P2}</p>
<div class="related-box"><h4>اقرأ أيضًا</h4><ul>
  <li><a href="/q2">أسعار الذهب تتراجع في الأسواق المحلية اليوم</a></li>
  <li><a href="/q3">زلزال بقوة ثلاث درجات في الجنوب</a></li></ul></div>
<h2>{H2}</h2>
<p>{P3}</p>
<table><tr><th>المحصول</th><th>الإنتاج</th></tr><tr><td>القمح</td><td>2.5 مليون طن</td></tr>
</table>
<p>{P4}</p>
</div>
<div class="share-buttons">شارك على فيسبوك وتويتر وواتساب</div>
</article></main>
<aside class="sidebar"><h3>الأكثر قراءة</h3><ul>{side}</ul></aside>
<section id="comments" class="comments"><h3>التعليقات</h3>
<div class="comment"><p>تعليق القارئ الأول: مقال مفيد جدا، شكرا على المعلومات.</p></div>
<div class="comment"><p>تعليق القارئ الثاني: أتمنى أن تستمر هذه النتائج الجيدة.</p></div>
</section>
<footer class="site-footer"><p>جميع الحقوق محفوظة © 2024 موقع الأخبار</p>
<a href="/contact">اتصل بنا</a></footer>
<script>track();</script>
</body></html>"""


EXPECTED = [
    Block("ارتفاع إنتاج القمح", None, True),
    Block(P1), Block(P2), Block(H2, None, True), Block(P3),
    Block("المحصول | الإنتاج"), Block("القمح | 2.5 مليون طن"), Block(P4),
]


def _extract(tmp_path: Path, data: bytes, name: str = "page.html"):
    path = tmp_path / name
    path.write_bytes(data)
    return extract_html(path.read_bytes(), Limits())


def test_article_blocks_without_boilerplate(tmp_path: Path) -> None:
    doc = _extract(tmp_path, news_page().encode("utf-8"))
    assert doc.blocks == EXPECTED
    text = "\n".join(block.text for block in doc.blocks)
    leaked = [phrase for phrase in BOILERPLATE if phrase in text]
    assert leaked == []
    assert doc.format == "html" and doc.pages is None and doc.notes == []


def test_title_suffix_removed_else_title_else_first_heading(tmp_path: Path) -> None:
    assert _extract(tmp_path, news_page().encode()).title == "ارتفاع إنتاج القمح"
    page = news_page(title="تقرير الزراعة السنوي").replace(
        '<meta property="og:title" content="ارتفاع إنتاج القمح">', "")
    titled = _extract(tmp_path, page.encode())
    assert titled.title == "تقرير الزراعة السنوي"
    # A title the article text does not hold is searched too, as the heading of the first
    # paragraph (a .txt file's first line is indexed the same way).
    assert titled.blocks[0] == Block("تقرير الزراعة السنوي", None, True)
    untitled = news_page().replace("<title>ارتفاع إنتاج القمح - موقع الأخبار</title>", "")
    untitled = untitled.replace('<meta property="og:title" content="ارتفاع إنتاج القمح">', "")
    assert _extract(tmp_path, untitled.replace("<h1>", "<h1 class='t'>").encode()).title == (
        "ارتفاع إنتاج القمح")
    bare = f"<html><body><p>{P1}</p><p>{P2}</p></body></html>"
    assert _extract(tmp_path, bare.encode()).title == ""


@pytest.mark.parametrize("declaration", [
    '<meta charset="windows-1256">',
    '<meta http-equiv="Content-Type" content="text/html; charset=windows-1256">',
    '<meta charset="cp1256">',
])
def test_windows_1256_page_with_declared_charset(tmp_path: Path, declaration: str) -> None:
    page = news_page().replace('<meta charset="utf-8">', declaration)
    data = page.encode("cp1256")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # really not UTF-8
    doc = _extract(tmp_path, data)
    assert doc.blocks == EXPECTED
    assert doc.title == "ارتفاع إنتاج القمح"
    assert doc.notes == []


def test_windows_1256_page_without_declaration_is_guessed(tmp_path: Path) -> None:
    page = news_page().replace('<meta charset="utf-8">', "")
    doc = _extract(tmp_path, page.encode("cp1256"))
    assert doc.blocks == EXPECTED
    assert doc.notes == ["no usable charset declared; read as cp1256"]


def test_wrong_declaration_falls_back_to_utf8(tmp_path: Path) -> None:
    page = news_page().replace('<meta charset="utf-8">', '<meta charset="windows-1256">')
    text, encoding, guessed = decode_html(page.encode("utf-8"))
    assert encoding == "cp1256" and not guessed  # every byte is valid cp1256 ...
    page = news_page().replace('<meta charset="utf-8">', '<meta charset="iso-8859-6">')
    text, encoding, guessed = decode_html(page.encode("utf-8"))
    assert (encoding, guessed) == ("utf-8", False)  # ... but not valid ISO-8859-6
    assert P1 in text


def test_bom_wins_over_meta(tmp_path: Path) -> None:
    page = news_page().replace('<meta charset="utf-8">', '<meta charset="windows-1256">')
    assert _extract(tmp_path, codecs.BOM_UTF8 + page.encode("utf-8")).blocks == EXPECTED
    assert _extract(tmp_path, page.encode("utf-16")).blocks == EXPECTED  # BOM included


def test_br_separated_paragraphs_and_verse(tmp_path: Path) -> None:
    verse = "على قدر أهل العزم تأتي العزائم<br>وتأتي على قدر الكرام المكارم"
    page = (f"<html><head><title>ت</title></head><body><div class='nav'><a href='/'>الرئيسية"
            f"</a></div><div class='text'>{P1}<br><br>{P2}<br>{P3}<br><br>{verse}</div>"
            "</body></html>")
    assert [b.text for b in _extract(tmp_path, page.encode()).blocks] == [
        P1, P2, P3, "على قدر أهل العزم تأتي العزائم\nوتأتي على قدر الكرام المكارم"]


def test_layout_tables_lists_and_quotes(tmp_path: Path) -> None:
    page = f"""<html><head><title>ت</title></head><body><table><tr>
      <td class="menu"><a href="/">الرئيسية</a> <a href="/s">الرياضة</a></td>
      <td class="main"><h1>عنوان المقال</h1><p>{P1}</p><p>{P2}</p>
      <blockquote>{P3}</blockquote><p>{P4}</p></td></tr></table></body></html>"""
    blocks = _extract(tmp_path, page.encode()).blocks
    # a layout table's long cell is read as text, not joined into one row
    assert blocks[-5:] == [Block("عنوان المقال", None, True), Block(P1), Block(P2), Block(P3),
                           Block(P4)]
    page = news_page().replace(f"<p>{P4}</p>", "<ul><li>البند الأول من الخطة</li>"
                               "<li>البند الثاني <b>المهم</b> من <a href='/x'>الخطة</a></li></ul>"
                               f"<blockquote><p>{P4}</p></blockquote>")
    assert _extract(tmp_path, page.encode()).blocks == EXPECTED[:-1] + [
        Block("البند الأول من الخطة"), Block("البند الثاني المهم من الخطة"), Block(P4)]


def test_no_article_text(tmp_path: Path) -> None:
    menu_only = ("<html><head><title>الرئيسية</title></head><body><nav><a href='/'>الرئيسية"
                 "</a><a href='/a'>من نحن</a></nav></body></html>")
    for data in [menu_only.encode(), b"", b"\x00\x01\x02\xff" * 100,
                 b"<html><body><script>var x = 1;</script></body></html>"]:
        with pytest.raises(ExtractError, match="no article text found in the page"):
            _extract(tmp_path, data)


def test_too_large_pages_are_refused_fast(tmp_path: Path) -> None:
    started = time.monotonic()
    with pytest.raises(ExtractError, match=r"HTML page too large \(6\d\.\d MB, limit 64 MB\)"):
        extract_html(b" " * (html_format.MAX_HTML_BYTES + 1), Limits())
    paragraph = f"<p>{P1}</p>\n"
    huge = news_page().replace(f"<p>{P4}</p>", paragraph * (11_000_000 // len(paragraph.encode())))
    with pytest.raises(ExtractError, match=r"HTML page too large \(1\d\.\d MB of markup .*"
                                           r"limit 10 MB\)"):
        extract_html(huge.encode(), Limits())
    assert time.monotonic() - started < 10


def test_script_bloat_does_not_count_against_the_limit(tmp_path: Path) -> None:
    blob = "<script>var data = '" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY" * 500_000 + "';</script>"
    page = news_page().replace("</body>", blob + "</body>")
    assert len(page) > 15_000_000
    started = time.monotonic()
    assert _extract(tmp_path, page.encode()).blocks == EXPECTED
    assert time.monotonic() - started < 10


def test_large_page_uses_fast_mode_with_a_note(monkeypatch: pytest.MonkeyPatch,
                                               tmp_path: Path) -> None:
    monkeypatch.setattr(html_format, "FAST_ABOVE_BYTES", 1000)
    doc = _extract(tmp_path, news_page().encode())
    assert doc.blocks == EXPECTED
    assert len(doc.notes) == 1 and doc.notes[0].endswith("fast extraction")
