"""Paragraphs, headings, boilerplate and windows, on all five seeds and on small cases."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from retrieval.analyzer import analyze
from retrieval.passages import MAX_PASSAGE_CHARS, Paragraph, split_paragraphs, split_windows
from retrieval.search import Searcher

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
SEED_FILES = sorted(p.name for p in SEEDS.glob("*.txt"))

#: Paragraph numbers (1-based among non-empty lines) that are answers, per seed.
EXPECTED_NUMBERS = {
    "000_83998fafb468cc7d.txt": [1, 4, 5, 6, 7, 8, 9, 14, 15, 16, 17, 18],
    "001_29605565af34d15c.txt": [2, 4, 5, 6, 8, 9, 11, 12, 13, 15, 16, 17, 18, 19, 20],
    "002_a0e9d82ca56d1e7c.txt": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 16, 17, 18, 19, 20, 21],
    "003_4d407a0bed6a0682.txt": [1, 2, 3, 4, 5],
    "004_52c5d7abb1d2cf35.txt": [1, 2],
}

#: Non-empty line numbers that are page furniture: never a paragraph, never a heading.
BOILERPLATE = {
    # أخبار ذات صلة + a related headline; أخبار ذات صلة + three related headlines
    "000_83998fafb468cc7d.txt": [2, 3, 10, 11, 12, 13],
    # تم نسخ الرابط
    "001_29605565af34d15c.txt": [21],
    # المصدر, كلمات دلالية, إقرأ أيضاً + headline, إعلان, مقالات مشابهة + ten bullets
    "002_a0e9d82ca56d1e7c.txt": [12, 13, 14, 15, 22, 23, *range(24, 34)],
    # (فرانس برس، العربي الجديد), Related News
    "003_4d407a0bed6a0682.txt": [6, 7],
    "004_52c5d7abb1d2cf35.txt": [],
}

#: Words that occur only in boilerplate lines of the seeds: nothing may answer with them.
BOILERPLATE_ONLY_WORDS = [
    "OpenAI", "Related", "News", "فاغنر", "فيروس", "البحرينية", "جواز", "نسخ", "الرابط",
    "تكتيكي", "يفزع", "الاستخبارات", "ذخيرتها", "لندن",
]


def _lines(name: str) -> list[str]:
    text = (SEEDS / name).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip()]


def _paragraphs(name: str) -> list[Paragraph]:
    return split_paragraphs((SEEDS / name).read_text(encoding="utf-8"))


def test_there_are_five_seeds():
    assert SEED_FILES == sorted(EXPECTED_NUMBERS)


@pytest.mark.parametrize("name", SEED_FILES)
def test_paragraph_numbers_are_positions_among_non_empty_lines(name):
    lines = _lines(name)
    paragraphs = _paragraphs(name)
    assert [p.number for p in paragraphs] == EXPECTED_NUMBERS[name]
    for p in paragraphs:
        assert p.text == lines[p.number - 1]


@pytest.mark.parametrize("name", SEED_FILES)
def test_boilerplate_lines_never_become_paragraphs_or_headings(name):
    lines = _lines(name)
    paragraphs = _paragraphs(name)
    numbers = {p.number for p in paragraphs}
    texts = {p.text for p in paragraphs}
    headings = " ".join(p.heading for p in paragraphs)
    for number in BOILERPLATE[name]:
        line = lines[number - 1]
        assert number not in numbers, line
        assert line not in texts, line
        assert line not in headings, line


def test_boilerplate_lines_are_the_expected_ones():
    """The line numbers above really are the furniture the issue lists."""
    assert _lines("000_83998fafb468cc7d.txt")[1] == "أخبار ذات صلة"
    assert _lines("000_83998fafb468cc7d.txt")[9] == "أخبار ذات صلة"
    assert _lines("001_29605565af34d15c.txt")[20] == "تم نسخ الرابط"
    lines_002 = _lines("002_a0e9d82ca56d1e7c.txt")
    assert lines_002[11].startswith("المصدر")
    assert lines_002[12].startswith("كلمات دلالية")
    assert lines_002[13].startswith("إقرأ أيضاً")
    assert lines_002[21] == "إعلان"
    assert lines_002[22] == "مقالات مشابهة"
    assert all(line.startswith("•") for line in lines_002[23:33])
    assert _lines("003_4d407a0bed6a0682.txt")[5:7] == ["(فرانس برس، العربي الجديد)", "Related News"]


def test_headings_are_indexed_with_the_next_paragraph_which_keeps_its_number():
    paragraphs = {p.number: p for p in _paragraphs("001_29605565af34d15c.txt")}
    lavrov = paragraphs[8]
    assert lavrov.text.startswith("زيارة لافروف، التي تبدأ في 11 يوليو")
    assert lavrov.heading == "زيارة “لافروف”"
    assert 7 not in paragraphs  # the heading line itself is not an answer
    assert paragraphs[15].heading == "زيارة منتظرة"
    assert 14 not in paragraphs
    assert paragraphs[15].text.startswith("وأفادت وسائل الإعلام الرسمية")


def test_headings_are_in_the_store_and_scored_with_their_paragraph(
    shared_seed_store, passage_tokens
):
    rows = shared_seed_store.conn.execute(
        """SELECT p.number, p.heading, s.id FROM paragraphs p
           JOIN documents d ON d.id = p.doc_id JOIN passages s ON s.paragraph_id = p.id
           WHERE d.path = '001_29605565af34d15c.txt' AND p.number IN (8, 15)"""
    ).fetchall()
    headings = {number: heading for number, heading, _ in rows}
    assert headings == {8: "زيارة “لافروف”", 15: "زيارة منتظرة"}
    ids, tokens = passage_tokens(shared_seed_store.path)
    by_id = dict(zip(ids, tokens))
    for number, heading, passage_id in rows:
        assert by_id[passage_id][: len(analyze(heading))] == analyze(heading)
        assert shared_seed_store.snapshot().lengths[passage_id] == len(by_id[passage_id])


@pytest.mark.parametrize(
    "text, expected",
    [
        # heading + paragraph
        ("عنوان قصير\nهذه فقرة كاملة تنتهي بنقطة.", [(2, "عنوان قصير")]),
        # two heading lines in a row are both kept, joined
        ("القسم الأول\nعنوان فرعي\nهذه فقرة كاملة.", [(3, "القسم الأول عنوان فرعي")]),
        # a short last line is a paragraph, not a heading of nothing
        ("هذه فقرة كاملة تنتهي بنقطة.\nخاتمة قصيرة", [(1, ""), (2, "")]),
        # blank lines do not count
        ("\n\n  \nعنوان\n\n\nفقرة أولى.\n\nفقرة ثانية.\n", [(2, "عنوان"), (3, "")]),
        # a heading followed by boilerplate is dropped with it
        ("عنوان\nإعلان\nفقرة أولى.", [(3, "")]),
        # a short sentence that ends with a full stop is a paragraph
        ("نعم.\nفقرة ثانية.", [(1, ""), (2, "")]),
    ],
)
def test_heading_rules(text, expected):
    assert [(p.number, p.heading) for p in split_paragraphs(text)] == expected


@pytest.mark.parametrize(
    "line",
    [
        "أخبار ذات صلة", "تم نسخ الرابط", "إعلان", "إقرأ أيضاً:", "اقرأ أيضا", "مقالات مشابهة",
        "كلمات دلالية: روسيا كوريا", "المصدر: وكالات", "Related News", "(رويترز)",
        "(فرانس برس، العربي الجديد)",
    ],
)
def test_boilerplate_lines_are_dropped(line):
    text = f"فقرة أولى طويلة بما يكفي لتكون جواباً عن سؤال.\n{line}\nفقرة ثانية تنتهي بنقطة."
    paragraphs = split_paragraphs(text)
    assert [p.number for p in paragraphs] == [1, 3]
    assert all(line not in p.heading for p in paragraphs)


def test_related_headlines_block_ends_at_a_real_paragraph():
    text = (
        "فقرة أولى طويلة بما يكفي لتكون جواباً عن سؤال.\n"
        "أخبار ذات صلة\n"
        "عنوان خبر مرتبط أول\n"
        "• عنوان خبر مرتبط ثان\n"
        "وهذه فقرة حقيقية من متن المقال تعود بعد قائمة الأخبار المرتبطة وتنتهي بنقطة.\n"
    )
    assert [p.number for p in split_paragraphs(text)] == [1, 5]


def test_boilerplate_words_do_not_answer(shared_seed_store):
    terms = {row[0] for row in shared_seed_store.conn.execute("SELECT term FROM terms")}
    searcher = Searcher(shared_seed_store, min_coverage=0.0)
    for word in BOILERPLATE_ONLY_WORDS:
        assert analyze(word), word
        assert not set(analyze(word)) & terms, word
        assert searcher.search(word).results == [], word


# --- windows ------------------------------------------------------------------------


def _check_windows(text: str) -> None:
    windows = split_windows(text)
    assert windows
    assert windows[0].start == 0
    assert windows[-1].end == len(text)
    for w in windows:
        assert 0 <= w.start < w.end <= len(text)
        assert w.end - w.start <= MAX_PASSAGE_CHARS
    for a, b in zip(windows, windows[1:]):
        assert a.start < b.start  # moving forward
        assert b.start <= a.end  # no gap: every character is in some window


def _seed_004_long_paragraph() -> str:
    (long,) = [p.text for p in _paragraphs("004_52c5d7abb1d2cf35.txt") if len(p.text) > 600]
    return long


def test_seed_004_long_paragraph_is_split_into_overlapping_windows():
    text = _seed_004_long_paragraph()
    assert len(text) == 2084
    windows = split_windows(text)
    assert len(windows) >= 4
    _check_windows(text)
    assert any(b.start < a.end for a, b in zip(windows, windows[1:]))  # they overlap
    for w in windows:  # windows start and end at word boundaries
        assert w.start == 0 or not re.match(r"\w\w", text[w.start - 1 : w.start + 1])
        assert w.end == len(text) or not re.match(r"\w\w", text[w.end - 1 : w.end + 1])


def test_no_window_is_contained_in_another():
    windows = split_windows(_seed_004_long_paragraph())
    for a, b in zip(windows, windows[1:]):
        assert not (a.start <= b.start and b.end <= a.end), (a, b)


@pytest.mark.parametrize("name", SEED_FILES)
def test_windows_cover_every_seed_paragraph(name):
    for p in _paragraphs(name):
        _check_windows(p.text)
        if len(p.text) <= MAX_PASSAGE_CHARS:
            assert [(w.start, w.end) for w in split_windows(p.text)] == [(0, len(p.text))]


@pytest.mark.parametrize(
    "text",
    [
        " ".join(["كلمة"] * 400),  # long, no sentence punctuation: cut at spaces
        "ب" * 1500,  # no spaces at all: hard cuts
        ("جملة قصيرة. " * 120).strip(),
        ("هذه جملة متوسطة الطول عن زيارة الوزير إلى العاصمة؟ " * 40).strip(),
        "جملة أولى. " + "ك" * 900 + " جملة أخيرة.",
    ],
    ids=["no-punctuation", "no-spaces", "short-sentences", "question-marks", "giant-word"],
)
def test_windows_cover_long_synthetic_paragraphs(text):
    _check_windows(text)


def test_search_never_returns_a_paragraph_twice(shared_seed_store):
    searcher = Searcher(shared_seed_store, min_coverage=0.0)
    long_words = analyze(_seed_004_long_paragraph())
    questions = [
        "كوريا الشمالية روسيا",
        "لافروف كيم كورسك الحرب أوكرانيا الجنود",
        " ".join(long_words[:40]),
        " ".join(long_words[-40:]),
        "الصواريخ الباليستية كورسك",
    ]
    for question in questions:
        answer = searcher.search(question, top=50)
        assert answer.results
        keys = [(r.source, r.paragraph) for r in answer.results]
        assert len(keys) == len(set(keys)), question
        assert len({r.paragraph_id for r in answer.results}) == len(keys)
