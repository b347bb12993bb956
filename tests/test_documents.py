"""A collection of PDF, Word, web pages and text: indexed, asked, cited by page; bad files skipped.

Documents are made at test time by real renderers (`benchmarks.producers`: reportlab with
arabic-reshaper + python-bidi for PDF, python-docx for DOCX, HTML by hand).
"""

from __future__ import annotations

import io
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from bot.render import answer_to_console, skip_reason_ar
from retrieval.search import Searcher
from storage.formats import Limits, sandbox
from storage.formats.pdf import extract_pdf
from storage.indexer import index_collection
from storage.store import Store
from tests.conftest import ROOT

producers = pytest.importorskip("benchmarks.producers")
if (_missing := producers.available("reportlab")) is not None:
    pytest.skip(_missing, allow_module_level=True)

FACTS = [
    "افتتحت بلدية المدينة حديقة النخيل الكبرى على مساحة أربعين هكتاراً في الضاحية الشمالية.",
    "وتضم الحديقة بحيرة صناعية ومسارات للدراجات الهوائية طولها اثنا عشر كيلومتراً.",
    "وقال رئيس البلدية إن كلفة المشروع بلغت ثلاثمئة مليون ريال مولتها الحكومة بالكامل.",
    "ومن المقرر أن تستقبل الحديقة معرض الزهور الربيعي في الأسبوع الأخير من شهر مارس.",
]
FILLER = (
    "وتواصل البلدية أعمال التشجير في الأحياء القديمة ضمن خطة تمتد خمس سنوات، وتشمل زراعة "
    "آلاف الأشجار المحلية التي تتحمل الجفاف وتوفر الظل للمارة في أشهر الصيف الطويلة، كما "
    "تعمل على صيانة شبكات الري القديمة وتحويلها إلى أنظمة التنقيط الموفرة للمياه."
)


@pytest.fixture(scope="module")
def collection(tmp_path_factory) -> Path:
    """A folder with a multi-page PDF, a DOCX, a web page and a text file."""
    root = tmp_path_factory.mktemp("docs")
    corpus = root / "corpus"
    corpus.mkdir()
    paragraphs = [FACTS[0]]
    for fact in FACTS[1:]:
        paragraphs += [*[FILLER] * 6, fact]
    producers.pdf_reportlab(
        producers.Doc("تقرير الحدائق", paragraphs), corpus / "تقرير الحدائق.pdf",
        header="نشرة البلدية", footer_page_numbers=True,
    )
    producers.docx_python_docx(
        producers.Doc("محضر اجتماع المجلس", [
            "ناقش المجلس البلدي في اجتماعه الأخير تمديد ساعات عمل المكتبة العامة حتى منتصف الليل.",
        ]),
        corpus / "محضر.docx",
        table_rows=[["البند", "القرار"], ["رسوم المواقف", "إلغاء الرسوم أيام الجمعة"]],
    )
    producers.html_with_boilerplate(
        producers.Doc("مهرجان التمور", [
            "يقام مهرجان التمور السنوي في ساحة السوق القديم ويعرض فيه المزارعون "
            "ستين صنفاً من التمور.",
        ]),
        corpus / "مهرجان.html",
    )
    (corpus / "ملاحظات.txt").write_text(
        "ملاحظات\n\nتغلق المسابح العامة أبوابها للصيانة في الأسبوع الأول من شهر أكتوبر.\n",
        encoding="utf-8",
    )
    return corpus


@pytest.fixture(scope="module")
def indexed(collection: Path, tmp_path_factory):
    """(store path, report) of the collection indexed once."""
    db = tmp_path_factory.mktemp("db") / "bot.sqlite3"
    report = index_collection(db, collection)
    return db, report


def _ask(db: Path, question: str):
    store = Store(db)
    try:
        return Searcher(store, variants=True).search(question, top=3)
    finally:
        store.close()


def test_every_format_is_indexed_with_its_details(indexed):
    db, report = indexed
    assert report.skipped == []
    assert set(report.indexed) == {"ملاحظات.txt", "محضر.docx", "مهرجان.html", "تقرير الحدائق.pdf"}
    pdf = report.read["تقرير الحدائق.pdf"]
    assert pdf.format == "pdf" and pdf.pages and pdf.pages >= 3 and pdf.ocr_pages == 0
    assert report.read["محضر.docx"].format == "docx" and report.read["محضر.docx"].pages is None
    assert report.pdf_pages == pdf.pages
    assert f"PDF pages read: {pdf.pages}, by OCR: 0" in report.summary()
    assert sandbox._current is None  # the reader process ended with the run: no memory held


@pytest.mark.parametrize(
    ("question", "source", "phrase"),
    [
        ("متى يستقبل معرض الزهور الربيعي في الحديقة؟", "تقرير الحدائق.pdf", "الأسبوع الأخير"),
        ("كم بلغت كلفة مشروع الحديقة؟", "تقرير الحدائق.pdf", "ثلاثمئة مليون"),
        ("ما قرار المجلس بشأن رسوم المواقف؟", "محضر.docx", "إلغاء الرسوم أيام الجمعة"),
        ("كم صنفاً من التمور يعرض في مهرجان التمور؟", "مهرجان.html", "ستين صنفاً"),
        ("متى تغلق المسابح العامة للصيانة؟", "ملاحظات.txt", "الأسبوع الأول"),
    ],
)
def test_each_document_answers_its_question_first(indexed, question, source, phrase):
    db, _ = indexed
    first = _ask(db, question).results[0]
    assert first.source == source and phrase in first.text


def test_a_pdf_answer_cites_the_page_its_paragraph_is_on(indexed, collection):
    db, _ = indexed
    blocks = extract_pdf((collection / "تقرير الحدائق.pdf").read_bytes(), Limits()).blocks
    page_of = {fact: next(b.page for b in blocks if fact[:30] in b.text) for fact in FACTS}
    assert page_of[FACTS[0]] == 1 and page_of[FACTS[3]] > 1  # the facts lie on several pages
    for fact, question in [
        (FACTS[0], "على أي مساحة افتتحت حديقة النخيل الكبرى؟"),
        (FACTS[3], "متى يستقبل معرض الزهور الربيعي في الحديقة؟"),
    ]:
        answer = _ask(db, question)
        first = answer.results[0]
        assert first.page == page_of[fact]
        on_page = [b for b in blocks if b.page == first.page]
        assert on_page[first.paragraph - 1].text == first.text  # counted within the page
        assert first.to_json()["page"] == first.page
        assert f"تقرير الحدائق.pdf، صفحة {first.page}، الفقرة {first.paragraph}" in (
            answer_to_console(answer)
        )


def test_running_header_and_page_numbers_are_not_paragraphs(indexed):
    db, _ = indexed
    conn = sqlite3.connect(db)
    texts = [row[0] for row in conn.execute(
        "SELECT p.text FROM paragraphs p JOIN documents d ON d.id = p.doc_id WHERE d.format = 'pdf'"
    )]
    conn.close()
    assert texts and not any("نشرة البلدية" in t or t.strip().isdigit() for t in texts)
    assert sum(FILLER[:40] in t for t in texts) == 18  # one paragraph each, not one per line


def test_docx_table_rows_and_web_page_boilerplate(indexed):
    db, _ = indexed
    conn = sqlite3.connect(db)
    texts = {row[0] for row in conn.execute("SELECT text FROM paragraphs")}
    conn.close()
    assert "رسوم المواقف | إلغاء الرسوم أيام الجمعة" in texts
    assert not any("اقرأ أيضاً" in t or "جميع الحقوق محفوظة" in t for t in texts)


# --- bad files ----------------------------------------------------------------------------


EMPTY_STREAM = b"<< /Length 0 >>\nstream\n\nendstream"


def _pdf(page_extra: bytes = b"", contents: bytes = EMPTY_STREAM) -> bytes:
    """A one-page PDF written by hand: `page_extra` in its page dictionary, its `contents`."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R " + page_extra
        + b" >>",
        contents,
    ]
    out, offsets = b"%PDF-1.7\n", []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    return out + b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)


def _bomb_stream() -> bytes:
    """A content stream of 1 GB of zeros, 1 MB compressed."""
    import zlib

    packer = zlib.compressobj(9)
    data = b"".join(packer.compress(bytes(1 << 24)) for _ in range(64)) + packer.flush()
    return b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (len(data), data)


def _bad_files(good_pdf: bytes, good_docx: bytes) -> dict[str, bytes]:
    """A hostile or broken file of each kind the issue lists, by name."""
    from pypdf import PdfReader, PdfWriter

    out: dict[str, bytes] = {}
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(good_pdf)))
    writer.encrypt("سر", algorithm="AES-256")
    buffer = io.BytesIO()
    writer.write(buffer)
    out["encrypted.pdf"] = buffer.getvalue()
    out["truncated.pdf"] = good_pdf[: len(good_pdf) // 3]
    out["garbage.pdf"] = b"%PDF-1.7\n" + bytes(range(256)) * 64
    buffer = io.BytesIO()
    PdfWriter().write(buffer)
    out["zero-pages.pdf"] = buffer.getvalue()
    writer = PdfWriter()
    for _ in range(3000):
        writer.add_blank_page(595, 842)
    buffer = io.BytesIO()
    writer.write(buffer)
    out["3000-pages.pdf"] = buffer.getvalue()
    out["not-a-pdf.pdf"] = "نص عادي باسم ملف PDF".encode()
    out["nested.pdf"] = _pdf(b"/Deep " + b"[" * 1_000_000 + b"]" * 1_000_000)
    out["bomb.pdf"] = _pdf(contents=_bomb_stream())
    buffer = io.BytesIO(good_docx)
    with zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/media/zeros.bin", bytes(30_000_000))
    out["bomb.docx"] = buffer.getvalue()
    buffer = io.BytesIO(good_docx)
    with zipfile.ZipFile(buffer, "a") as archive:
        archive.writestr("word/vbaProject.bin", b"\x00macro")
    out["macro.docx"] = buffer.getvalue()
    paragraph = ("<p>" + "نص " * 400 + "</p>").encode()
    out["big.html"] = b"<html><body>" + paragraph * 5000 + b"</body></html>"
    out["old.doc"] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512)
    return out


def test_bad_files_are_skipped_with_their_reason_and_nothing_else_changes(collection, tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(collection, corpus)
    db = tmp_path / "bot.sqlite3"
    index_collection(db, corpus)
    before = _documents(db)
    bad = _bad_files(
        (corpus / "تقرير الحدائق.pdf").read_bytes(), (corpus / "محضر.docx").read_bytes()
    )
    for name, data in bad.items():
        (corpus / name).write_bytes(data)
    report = index_collection(db, corpus, limits=Limits(max_pages=2000))
    reasons = dict(report.skipped)
    assert set(reasons) == set(bad), reasons
    expected = {
        "encrypted.pdf": "encrypted PDF (password needed)",
        "truncated.pdf": "damaged PDF",
        "garbage.pdf": "damaged PDF",
        "zero-pages.pdf": "PDF has no pages",
        "3000-pages.pdf": "too many pages (3000, limit 2000)",
        "not-a-pdf.pdf": "content is plain text, not what .pdf says",
        "nested.pdf": "no text",  # a million nested arrays: read, and found empty
        "bomb.pdf": "",  # 1 GB when inflated: stopped at the memory limit, whatever it says
        "bomb.docx": "ZIP bomb",
        "macro.docx": "macro-enabled Word file",
        "big.html": "HTML page too large",
        "old.doc": "old Word format (.doc): save it as .docx",
    }
    for name, reason in expected.items():
        assert reason in reasons[name], (name, reasons[name])
        assert skip_reason_ar(reasons[name]) != reasons[name], reasons[name]  # said in Arabic
    assert report.indexed == [] and report.removed == []
    assert _documents(db) == before


def test_a_pdf_replaced_by_a_damaged_copy_leaves_the_index(collection, tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(collection, corpus)
    db = tmp_path / "bot.sqlite3"
    index_collection(db, corpus)
    pdf = corpus / "تقرير الحدائق.pdf"
    pdf.write_bytes(pdf.read_bytes()[:2000])
    report = index_collection(db, corpus)
    assert "damaged PDF" in dict(report.skipped)["تقرير الحدائق.pdf"]
    assert "تقرير الحدائق.pdf" not in _documents(db)
    results = _ask(db, "كم بلغت كلفة مشروع الحديقة؟").results
    assert all(r.source != "تقرير الحدائق.pdf" for r in results)


def _documents(db: Path) -> dict[str, tuple]:
    conn = sqlite3.connect(db)
    try:
        return {
            row[0]: row[1:]
            for row in conn.execute(
                "SELECT path, sha256, paragraphs, passages, format FROM documents"
            )
        }
    finally:
        conn.close()


# --- kill -9 in the middle of reading documents ----------------------------------------------


def _reader_processes() -> list[int]:
    """Live reader processes (`python -m storage.formats.sandbox`) on this machine."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if b"storage.formats.sandbox" in f.read():
                    with open(f"/proc/{pid}/stat") as s:
                        if s.read().rsplit(")", 1)[1].split()[0] != "Z":
                            found.append(int(pid))
        except OSError:
            continue
    return found


def test_a_killed_run_over_pdfs_leaves_the_old_index_and_no_reader_behind(collection, tmp_path):
    """kill -9 a reindex of new PDFs at random moments: the old index answers as before."""
    corpus = tmp_path / "corpus"
    shutil.copytree(collection, corpus)
    db = tmp_path / "data" / "bot.sqlite3"
    index_collection(db, corpus)
    question = "كم بلغت كلفة مشروع الحديقة؟"
    expected = [(r.source, r.page, r.paragraph, r.score) for r in _ask(db, question).results]
    baseline = db.read_bytes()
    rng = random.Random(13)
    for i in range(12):  # real work for the next run: new PDFs to read
        paragraphs = [" ".join(rng.sample(FILLER.split(), 25)) + f" رقم {i}" for _ in range(30)]
        producers.pdf_reportlab(producers.Doc(f"ملحق {i}", paragraphs), corpus / f"ملحق {i}.pdf")
    env = {**os.environ, "DATABASE_PATH": str(db), "CORPUS_DIR": str(corpus)}
    command = [sys.executable, "-m", "bot", "index", str(corpus)]
    began = time.monotonic()
    probe = tmp_path / "probe" / "bot.sqlite3"
    subprocess.run(command, cwd=ROOT, env={**env, "DATABASE_PATH": str(probe)}, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    duration = time.monotonic() - began
    kills = 0
    while kills < 5:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(rng.uniform(0.3, 0.9) * duration)
        process.send_signal(signal.SIGKILL)
        process.wait()
        conn = sqlite3.connect(db)
        documents = conn.execute("SELECT count(*) FROM documents").fetchone()[0]
        conn.close()
        if documents > 4:  # it committed before the kill: put the old index back
            for side in ("-wal", "-shm"):
                Path(f"{db}{side}").unlink(missing_ok=True)
            db.write_bytes(baseline)
            continue
        answers = [(r.source, r.page, r.paragraph, r.score) for r in _ask(db, question).results]
        assert answers == expected
        kills += 1
    deadline = time.monotonic() + 5  # reader processes notice their parent is gone
    while _reader_processes() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _reader_processes() == []
