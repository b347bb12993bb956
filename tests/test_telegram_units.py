"""The pieces under the Telegram handlers: HTML rendering, the question limiter,
statistics, upload checks and the documented configuration."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from bot import render
from bot.ratelimit import QuestionLimiter
from bot.settings import Settings
from bot.stats import QuestionStats, percentile
from bot.uploads import UploadError, check_content, check_name, save_upload, wants_replace
from retrieval.search import Answer, Result
from storage.indexer import IndexReport
from storage.store import SourceInfo
from tests.test_telegram_handlers import check_html

ROOT = Path(__file__).resolve().parent.parent


def result(
    snippet: str, source: str = "a.txt", paragraph: int = 1, highlights=(), text=None
) -> Result:
    return Result(
        source,
        paragraph,
        1.0,
        text if text is not None else snippet,
        snippet,
        list(highlights),
        1,
        1,
    )


# --- rendering ------------------------------------------------------------------------------


def test_highlights_are_bold_and_everything_else_escaped():
    r = result("a<b & لافروف>", highlights=[(6, 12)])
    assert render.quote_html(r) == "a&lt;b &amp; <b>لافروف</b>&gt;"
    assert render.highlighted(r, "[", "]") == "a<b & [لافروف]>"  # the console is unchanged


def test_answer_fits_4096_whatever_the_snippets_and_names():
    results = [
        result(" ".join(["&<>&"] * 80), source="a&b.txt", paragraph=i, highlights=[(0, 4)])
        for i in range(1, 11)
    ]
    text = render.answer_to_html(Answer("q", results))
    plain = check_html(text)
    assert plain.count("الفقرة") == 10 and plain.count("…") == 10
    assert render.tg_len(text) <= 4096
    # absurd file names: names are shortened, and results that cannot fit are left out
    long_name = "<&>" * 200 + ".txt"
    results = [r.__class__(**{**r.__dict__, "source": long_name}) for r in results]
    text = render.answer_to_html(Answer("q", results))
    plain = check_html(text)
    assert 3 <= plain.count("الفقرة") < 10 and render.tg_len(text) <= 4096


def test_length_counts_utf16_units():
    emoji = "😀" * 1500  # 3000 UTF-16 units
    text = render.answer_to_html(Answer("q", [result(emoji), result(emoji, paragraph=2)]))
    assert render.tg_len(text) <= 4096 and len(text) < render.tg_len(text)
    check_html(text)


def test_cut_never_splits_a_highlight_or_an_entity():
    r = result(
        "كلمة " * 50 + "&&&& لافروف " * 40,
        highlights=[(250 + 12 * i + 5, 250 + 12 * i + 11) for i in range(40)],
    )
    for budget in range(10, 700, 37):
        html = render.quote_html(r, budget)
        assert render.tg_len(html) <= max(budget, 1)
        check_html(f"<blockquote>{html}</blockquote>")


def test_whole_paragraph_is_cut_to_fit():
    r = result("snippet", text="نص طويل & <وسم> " * 2000)
    text = render.paragraph_to_html(r)
    assert render.tg_len(text) <= 4096 and check_html(text).endswith("…")


def test_no_answer_and_error_messages():
    assert render.answer_to_html(Answer("q")) == render.NO_ANSWER_HTML
    assert render.answer_to_html(Answer("q", error="<خطأ>")) == "&lt;خطأ&gt;"


def test_sources_list_is_trimmed_with_a_count():
    sources = [SourceInfo(f"dir/<ملف {i}>.txt", "عنوان & " * 20, i) for i in range(400)]
    text = render.sources_to_html(sources)
    plain = check_html(text)
    assert plain.startswith("الوثائق المفهرسة (400):") and plain.rstrip().endswith("أخرى")
    assert "<ملف 0>.txt" in plain


def test_sources_give_pages_for_a_pdf_and_citations_name_the_page():
    plain = check_html(render.sources_to_html([
        SourceInfo("تقرير.pdf", "التقرير السنوي", 40, pages=12),
        SourceInfo("ملاحظات.txt", "ملاحظات", 3),
    ]))
    assert "تقرير.pdf — التقرير السنوي (12 صفحة، 40 فقرة)" in plain
    assert "ملاحظات.txt — ملاحظات (3 فقرات)" in plain
    result = Result("تقرير.pdf", 3, 1.0, "نص", "نص", [], 1, 1, page=12)
    assert render.citation(result) == "صفحة 12، الفقرة 3"
    assert "«صفحة 12، الفقرة 3»" in render.source_html(result)
    assert render.inline_title(result) == "تقرير.pdf — صفحة 12، الفقرة 3"
    assert render.citation(Result("a.txt", 3, 1.0, "نص", "نص", [], 1, 1)) == "الفقرة 3"


def test_report_lists_skipped_files_with_arabic_reasons():
    report = IndexReport(
        indexed=["a.txt"],
        unchanged=2,
        skipped=[
            ("big.txt", "too large (30000000 bytes, limit 20971520)"),
            ("bad.txt", "not valid UTF-8 (byte 3)"),
            ("e.md", "empty"),
            ("bin.txt", "binary file"),
            ("odd.txt", "something new"),
        ]
        + [(f"x{i}.txt", "empty") for i in range(300)],
        documents=3,
        paragraphs=10,
        passages=12,
        seconds=1.25,
    )
    text = render.report_to_html(report)
    plain = check_html(text)
    assert "1.2 ثانية" in plain or "1.3 ثانية" in plain
    assert "3 وثائق" in plain and "12 مقطعاً" in plain and "الملفات المتخطاة (305)" in plain
    assert "كبير جداً (30000000 بايت، والحد 20971520)" in plain
    assert (
        "ليس بترميز UTF-8 (عند البايت 3)" in plain and "فارغ" in plain and "something new" in plain
    )
    assert plain.rstrip().endswith("أخرى")


def test_progress_and_stats_texts():
    assert render.progress_html("indexing", 3, 10) == "إعادة الفهرسة جارية… فهرسة الملفات (3/10)"
    stats = QuestionStats()
    text = render.stats_to_html({"documents": 2, "passages": 9}, stats.snapshot())
    assert "الأسئلة منذ التشغيل: 0" in text and "—" in text


# --- limiter and statistics -----------------------------------------------------------------


def test_limiter_warns_once_then_drops_until_the_window_frees():
    now = [0.0]
    limiter = QuestionLimiter(2, clock=lambda: now[0])
    assert [limiter.check("u") for _ in range(5)] == ["ok", "ok", "warn", "drop", "drop"]
    assert limiter.check("v") == "ok"
    now[0] = 59.0
    assert limiter.check("u") == "drop"
    now[0] = 60.0
    assert limiter.check("u") == "ok"
    assert limiter.check("u") == "ok" and limiter.check("u") == "warn"


def test_limiter_memory_is_bounded():
    now = [0.0]
    limiter = QuestionLimiter(1, clock=lambda: now[0], max_keys=10)
    for key in range(10):
        limiter.check(key)
    now[0] = 100.0
    limiter.check("new")
    assert len(limiter._times) == 1


def test_stats_percentiles():
    assert percentile([], 50) is None
    assert percentile([3, 1, 2], 50) == 2 and percentile(list(range(1, 101)), 95) == 95
    stats = QuestionStats()
    for i in range(1, 21):
        stats.record(i / 1000, answered=i % 4 != 0)
    snap = stats.snapshot()
    assert snap.questions == 20 and snap.unanswered == 5 and snap.unanswered_share == 0.25
    assert snap.p50 == 0.010 and snap.p95 == 0.019


# --- uploads --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["تقرير 2024.txt", "notes_v2.md", "A-b (1).TXT"])
def test_safe_names_pass(name):
    assert check_name(name) == name


@pytest.mark.parametrize(
    ("name", "code"),
    [
        (None, "no_name"),
        ("", "no_name"),
        ("../x.txt", "unsafe_name"),
        ("a/../../x.txt", "unsafe_name"),
        ("..", "unsafe_name"),
        ("x..txt", "unsafe_name"),
        ("/abs.txt", "unsafe_name"),
        ("a\\b.txt", "unsafe_name"),
        (".env.txt", "unsafe_name"),
        ("a\x00.txt", "unsafe_name"),
        ("new\nline.txt", "unsafe_name"),
        ("x" * 120 + ".txt", "long_name"),
        ("x.exe", "extension"),
        ("x.txt.exe", "extension"),
        ("txt", "extension"),
    ],
)
def test_unsafe_names_are_refused(name, code):
    with pytest.raises(UploadError) as info:
        check_name(name)
    assert info.value.code == code and str(info.value)


def test_content_checks():
    check_content("a.txt", "\ufeffنص".encode())
    check_content("a.pdf", b"%PDF-1.7\n...")  # whether it reads is the indexer's to say
    for name, data, code in [
        ("a.txt", b"\xff\xfe", "encoding"),
        ("a.md", b"a\x00b", "binary"),
        ("a.txt", b" \n", "empty"),
        ("a.txt", b"%PDF-1.7\n", "mismatch"),
        ("a.pdf", "نص".encode(), "mismatch"),
        ("a.docx", b"%PDF-1.7\n", "mismatch"),
        ("a.html", b"\x89PNG\r\n\x1a\n", "mismatch"),
    ]:
        with pytest.raises(UploadError) as info:
            check_content(name, data)
        assert info.value.code == code, name


def test_save_refuses_to_overwrite_unless_asked(tmp_path: Path):
    path, replaced = save_upload(tmp_path, "a.txt", b"one", replace=False)
    assert path == tmp_path / "a.txt" and not replaced
    with pytest.raises(UploadError) as info:
        save_upload(tmp_path, "a.txt", b"two", replace=False)
    assert info.value.code == "exists" and path.read_bytes() == b"one"
    assert save_upload(tmp_path, "a.txt", b"two", replace=True) == (path, True)
    assert path.read_bytes() == b"two"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]  # no temporary files left
    assert (
        wants_replace("استبدال") and wants_replace("please REPLACE it") and not wants_replace(None)
    )


# --- configuration --------------------------------------------------------------------------


def test_env_example_documents_every_setting_and_leaves_the_token_empty():
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    names = {
        line.split("=", 1)[0] for line in text.splitlines() if line and not line.startswith("#")
    }
    assert names == {f.name.upper() for f in fields(Settings)}
    settings = Settings.load(env={}, dotenv=ROOT / ".env.example")
    assert not settings.telegram_enabled and settings.questions_per_minute == 20
    assert settings.max_upload_bytes == 20 * 1024 * 1024 and settings.webhook_port == 8443


@pytest.mark.parametrize(
    ("n", "expected"),
    [(1, "فقرة واحدة"), (2, "فقرتان"), (3, "3 فقرات"), (10, "10 فقرات"), (11, "11 فقرة"), (0, "0 فقرة")],
)
def test_counts_use_the_arabic_noun_forms(n, expected):
    assert render.count_ar(n, render.PARAGRAPHS) == expected
