"""The fast path of matched words: exactly what analysing the whole text gives."""

from __future__ import annotations

import random

import pytest

from retrieval.analyzer import analyze, analyze_spans, normalize, run_terms
from retrieval.locate import locate
from retrieval.snippets import matched_spans
from retrieval.variants import form_of

TEXTS = [
    "وقالت وزارة الدفاعِ الروسية إن الرئيس بوتين التقى ترامب في موسكو.",
    "أعلنت وزارةُ الصحة تسجيل 12 إصابة جديدة بفيروس كورونا، و٣ وفيات في الرياض.",
    "«الهلال» يواجه النصر — مباراة كأس السوبر على ملعب لوفتس رود في London اليوم",
    "التـــطرف والإرهاب: استراتيجية جديدة (5 سنوات) لبريطانيا… ومؤتمر في جدة",
    "كوريا الشمالية\u200c وبيونغ يانغ وبيونجيانج؛ ولترمب ولترامب رأي آخر؟",
    "شارك 30 طالباً وطالبةً في المسابقة، وحصلت الطالبة على المركز الأول.",
    "",
    "؟؟؟ ... !!!",
]


def _expected(text: str, terms: set[str]) -> list[tuple[int, int, str]]:
    return [(s, e, t) for s, e, t in analyze_spans(text) if t is not None and t in terms]


def _located(text: str, terms: set[str]) -> list[tuple[int, int, str]]:
    runs = locate(text, terms)
    if runs is None:  # outside Windows-1256 (٣, emoji): callers analyse the whole text
        return _expected(text, terms)
    return [(s, e, t) for s, e in runs for t in run_terms(text[s:e]) if t in terms]


@pytest.mark.parametrize("text", TEXTS)
def test_runs_found_give_the_words_of_a_full_analysis(text: str):
    terms = set(analyze(text))
    rng = random.Random(len(text))
    for size in (1, 2, 3, len(terms)):
        chosen = set(rng.sample(sorted(terms), min(size, len(terms))))
        chosen |= {"زار", "ملك", "xyz", "12"}  # short parts of words, Latin, digits, absent
        assert _located(text, chosen) == _expected(text, chosen)
        assert matched_spans(text, dict.fromkeys(chosen, 1.0)) == _expected(text, chosen)


def test_marks_inside_words_map_back_to_the_text():
    text = "وقالتُ وزَارةُ الدّفاع"
    runs = locate(text, ["زار", "دفاع"])
    assert [text[s:e] for s, e in runs] == ["وزَارةُ", "الدّفاع"]


def test_forms_are_found_where_a_full_scan_finds_them():
    text = TEXTS[4]
    forms = {"بيونغ", "بيونجيانج", "ترمب", "ترامب"}
    runs = locate(text, forms)
    found = [form_of(normalize(text[s:e])) for s, e in runs for _ in run_terms(text[s:e])]
    full = [form_of(normalize(text[s:e])) for s, e, t in analyze_spans(text) if t]
    assert [f for f in found if f in forms] == [f for f in full if f in forms]


def test_text_outside_the_codec_falls_back():
    assert locate("مرحبا \U0001F600 بكم", ["رحب"]) is None
    assert locate("قال ﻻ", ["لا"]) is None  # a ligature: not in Windows-1256
    # ... and the snippet's words are still those of a full analysis.
    text = "الرئيس 🇸🇦 يزور جدة"
    assert matched_spans(text, {"رئيس": 1.0, "جده": 1.0}) == _expected(text, {"رئيس", "جده"})


def test_random_texts_with_marks_variants_and_punctuation():
    rng = random.Random(7)
    pool = list("ابتثجحخدذرزسشصضطظعغفقكلمنهوي") * 3 + list("أإآةىئؤء") + list("ًٌٍَُِّْـ")
    pool += list("aBc19") + [" "] * 12 + list("،.؛«»-\u200c\u200f")
    for _ in range(400):
        text = "".join(rng.choice(pool) for _ in range(rng.randint(0, 80)))
        norm = normalize(text)
        terms = set(analyze(text))
        needles = set(rng.sample(sorted(terms), min(3, len(terms))))
        for _ in range(2):  # arbitrary parts of the normalised text, word or not
            i = rng.randint(0, max(0, len(norm) - 1))
            needles.add(norm[i : i + rng.randint(1, 4)].strip())
        needles.discard("")
        assert locate(text, needles) is not None
        assert _located(text, needles) == _expected(text, needles), text
