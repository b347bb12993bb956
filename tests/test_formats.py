"""Format detection by content, and reading a hostile file in a killable child process."""

from __future__ import annotations

import io
import os
import time
import zipfile

import pytest

from storage.formats import Block, Extracted, ExtractError, Limits, detect, sniff
from storage.formats import sandbox
from tests.hostile_readers import hostile


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


DOCX = _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})
ODT = _zip({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<x/>"})
EPUB = _zip({"mimetype": b"application/epub+zip", "META-INF/container.xml": b"<x/>"})


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "pdf"),
        (b"\xef\xbb\xbf  %PDF-1.4", "pdf"),  # junk before the header, as readers allow
        (DOCX, "docx"),
        (ODT, "odt"),
        (EPUB, "epub"),
        (_zip({"a.txt": b"x"}), "zip"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 50, "ole"),
        (b"\x89PNG\r\n\x1a\n", "image"),
        (b"\xff\xd8\xff\xe0", "image"),
        ("<!DOCTYPE html><html dir='rtl'><p>نص</p></html>".encode(), "html"),
        ("\ufeff<html><body>نص</body></html>".encode(), "html"),
        ("نص عربي عادي".encode(), "text"),
        ("# عنوان\n\n<b>نص</b>".encode(), "text"),  # markdown with a tag is still text
        (b"abc\x00\x01", "binary"),
    ],
)
def test_detect_reads_the_content_not_the_name(data, kind):
    assert detect(data) == kind


@pytest.mark.parametrize(
    ("name", "data", "fmt"),
    [
        ("تقرير.PDF", b"%PDF-1.7\n", "pdf"),
        ("a.docx", DOCX, "docx"),
        ("a.htm", "<html><p>نص</p></html>".encode(), "html"),
        ("fragment.html", "<p>فقرة</p>".encode(), "html"),  # a saved fragment, no <html>
        ("notes.md", "نص".encode(), "text"),
        ("broken.docx", b"PK\x03\x04garbage", "docx"),  # the DOCX reader says what is wrong
    ],
)
def test_sniff_accepts_a_file_that_is_what_its_name_says(name, data, fmt):
    assert sniff(name, data) == fmt


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("report.pdf", "نص عادي".encode(), "content is plain text, not what .pdf says"),
        ("report.pdf", DOCX, "content is a Word document, not what .pdf says"),
        ("letter.docx", b"%PDF-1.4\n", "content is a PDF, not what .docx says"),
        ("page.html", b"\x89PNG\r\n\x1a\n", "content is an image, not what .html says"),
        ("page.html", "بلا وسوم".encode(), "content is plain text, not what .html says"),
        ("notes.txt", b"%PDF-1.4\n", "content is a PDF, not what .txt says"),
        ("notes.txt", b"a\x00b", "binary file"),
        ("old.doc", b"\xd0\xcf\x11\xe0", "old Word format (.doc): save it as .docx"),
        ("macro.docm", DOCX, "macro-enabled Word file (.docm): refused; save it as .docx"),
        ("book.epub", DOCX, "content is a Word document, not what .epub says"),
    ],
)
def test_sniff_refuses_a_file_that_is_not_what_its_name_says(name, data, reason):
    with pytest.raises(ExtractError) as info:
        sniff(name, data)
    assert str(info.value) == reason


# --- the child process ------------------------------------------------------------------

FAST = Limits(seconds=3, memory_mb=512)


def test_a_document_comes_back_from_the_child():
    doc = sandbox.extract_isolated("text", "سطر أول\nسطر ثان".encode(), FAST)
    assert isinstance(doc, Extracted)
    assert doc.blocks == [Block("سطر أول"), Block("سطر ثان")]


def test_a_reader_error_comes_back_as_its_reason():
    with pytest.raises(ExtractError, match="not valid UTF-8"):
        sandbox.extract_isolated("text", b"\xff\xfe\xfa", FAST)
    with pytest.raises(ExtractError, match="unsupported format"):
        sandbox.extract_isolated("nonsense", b"x", FAST)


def _children() -> set[int]:
    """Live child processes of this test process (zombies aside)."""
    me, found = os.getpid(), set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == me and fields[0] != "Z":
            found.add(int(pid))
    return found


@pytest.mark.parametrize(
    ("fmt", "reason"),
    [
        ("test-sleep", "reading took longer than 1 s (limit): stopped"),
        ("test-memory", "needs more than 256 MB of memory to read (limit)"),
        ("test-crash", "the reader crashed (signal 11)"),
        ("test-recursion", "structure nested too deeply to read"),
    ],
)
def test_a_hostile_file_is_stopped_with_a_reason_and_leaves_no_process(fmt, reason):
    before = _children()
    started = time.monotonic()
    with pytest.raises(ExtractError) as info:
        sandbox.extract_isolated(fmt, b"", Limits(seconds=1, memory_mb=256), hostile)
    assert str(info.value).startswith(reason)
    assert time.monotonic() - started < 10
    reader = sandbox._current
    assert _children() <= before | ({reader.proc.pid} if reader else set())
    # ...and the next file is read as if nothing had happened.
    assert sandbox.extract_isolated("text", "نص".encode(), FAST).blocks == [Block("نص")]


def test_pages_read_by_ocr_do_not_count_against_the_files_time_limit():
    limits = Limits(seconds=1, ocr_page_seconds=1, memory_mb=512)
    doc = sandbox.extract_isolated("test-slow-pages", b"", limits, hostile)  # 3 s in all
    assert doc.ocr_pages == 6 and doc.blocks == [Block("قرئت كل الصفحات", 1)]


def test_the_reader_process_is_kept_between_files_and_renewed():
    sandbox.extract_isolated("text", "نص".encode(), FAST)
    first = sandbox._current
    sandbox.extract_isolated("text", "نص آخر".encode(), FAST)
    assert sandbox._current is first
    first.files = sandbox.FILES_PER_READER
    sandbox.extract_isolated("text", "نص".encode(), FAST)
    assert sandbox._current is not first and first.proc.poll() is not None
