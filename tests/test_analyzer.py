"""The Arabic analyzer: normalisation rule by rule, tokenisation, spans.

Stems are a tuning knob, so these tests compare spellings through `analyze` (both
sides get the same stemmer) and check `normalize` only for the letter rules the
issue fixes.
"""

from __future__ import annotations

import random
from pathlib import Path

import pyarabic.araby as araby
import pytest

from retrieval.analyzer import analyze, analyze_spans, has_words, normalize
from retrieval.search import Searcher
from storage.indexer import index_collection
from storage.store import Store

SEEDS = Path(__file__).resolve().parent.parent / "seeds"

CONTROLS = {
    "zero width space": "\u200b",
    "zero width non-joiner": "\u200c",
    "zero width joiner": "\u200d",
    "left-to-right mark": "\u200e",
    "right-to-left mark": "\u200f",
    "arabic letter mark": "\u061c",
    "LRE": "\u202a",
    "RLE": "\u202b",
    "PDF": "\u202c",
    "LRO": "\u202d",
    "RLO": "\u202e",
    "LRI": "\u2066",
    "RLI": "\u2067",
    "FSI": "\u2068",
    "PDI": "\u2069",
    "word joiner": "\u2060",
    "byte order mark": "\ufeff",
    "soft hyphen": "\u00ad",
}


# --- normalisation, one rule at a time ----------------------------------------------


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("كَتَبَ", "كتب"),  # fatha
        ("مُحَمَّدٌ", "محمد"),  # damma, shadda, fatha, dammatan
        ("كِتَابًا", "كتابا"),  # kasra, fathatan
        ("بِسْمِ", "بسم"),  # sukun
        ("هٰذا", "هذا"),  # superscript (dagger) alef
    ],
    ids=["fatha", "shadda-tanwin", "kasra-fathatan", "sukun", "dagger-alef"],
)
def test_tashkeel_is_stripped(raw, expected):
    assert normalize(raw) == expected
    assert analyze(raw) == analyze(expected)


@pytest.mark.parametrize("raw", ["كـتاب", "كـــــتاب", "ـكتابـ"])
def test_tatweel_is_stripped(raw):
    assert normalize(raw) == "كتاب"
    assert analyze(raw) == analyze("كتاب")


@pytest.mark.parametrize("alef", ["أ", "إ", "آ", "ٱ"])
def test_alef_forms_become_bare_alef(alef):
    assert normalize(alef) == "ا"
    word = f"{alef}حمد"
    assert normalize(word) == "احمد"
    assert analyze(word) == analyze("احمد")


def test_teh_marbuta_becomes_heh():
    assert normalize("ة") == "ه"
    assert normalize("مدرسة") == "مدرسه"
    assert analyze("المدرسة") == analyze("المدرسه")


def test_alef_maqsura_becomes_yeh_not_alef():
    assert normalize("ى") == "ي"
    assert normalize("مستشفى") == "مستشفي"
    assert analyze("مستشفى") == analyze("مستشفي")
    # pyarabic's normalize_alef maps ى to ا: the analyzer must not be built on it.
    assert araby.normalize_alef("مستشفى") == "مستشفا"
    assert normalize("مستشفى") != araby.normalize_alef("مستشفى")


@pytest.mark.parametrize("persian, arabic", [("ی", "ي"), ("ک", "ك"), ("ە", "ه")])
def test_persian_letters_become_arabic(persian, arabic):
    assert normalize(persian) == arabic


def test_seed_002_persian_spelling_analyses_like_arabic():
    text = (SEEDS / "002_a0e9d82ca56d1e7c.txt").read_text(encoding="utf-8")
    assert "کوریا الشمالیة" in text  # the seed's tag line really has the Persian letters
    assert analyze("کوریا الشمالیة") == analyze("كوريا الشمالية")
    assert len(analyze("كوريا الشمالية")) == 2


@pytest.mark.parametrize("name", list(CONTROLS))
def test_control_characters_are_removed_and_do_not_split_a_word(name):
    char = CONTROLS[name]
    assert normalize(char) == ""
    word = f"كتا{char}ب"
    assert normalize(word) == "كتاب"
    assert analyze(word) == analyze("كتاب")
    assert len(analyze(word)) == 1
    # At a word edge it disappears as well.
    assert analyze(f"{char}كتاب{char} {char}قلم") == analyze("كتاب قلم")


def test_zwnj_inside_a_word_keeps_one_token():
    assert len(analyze("مي\u200cخواهم")) == 1
    spans = [s for s in analyze_spans("مي\u200cخواهم") if s[2]]
    assert [(s[0], s[1]) for s in spans] == [(0, 8)]


@pytest.mark.parametrize(
    "digits", ["٠١٢٣٤٥٦٧٨٩", "۰۱۲۳۴۵۶۷۸۹"], ids=["arabic-indic", "persian"]
)
def test_eastern_digits_become_ascii(digits):
    assert normalize(digits) == "0123456789"
    assert analyze(f"في {digits[1]}{digits[1]} يوليو") == analyze("في 11 يوليو")


@pytest.mark.parametrize("mark", list("،؛؟«»“”"))
def test_arabic_punctuation_separates_tokens(mark):
    joined = analyze(f"سلام{mark}كتاب")
    assert joined == analyze("سلام كتاب")
    assert len(joined) == 2


def test_latin_is_lowercased():
    assert normalize("Lavrov LAVROV") == "lavrov lavrov"
    assert analyze("Lavrov LAVROV lavrov OpenAI") == ["lavrov"] * 3 + ["openai"]


@pytest.mark.parametrize("word", ["في", "من", "على", "إلى", "الى", "عن", "هذا", "التي"])
def test_stopwords_are_dropped(word):
    assert analyze(word) == []
    assert analyze(f"{word} الكتاب") == analyze("الكتاب")


def test_stopwords_written_with_marks_or_variants_are_dropped_too():
    assert analyze("فِي مِنْ عَلَى إِلَى") == []


# --- tokenisation ---------------------------------------------------------------------


def test_tokens_keep_order_and_duplicates():
    assert analyze("كتاب كتاب كتاب") == analyze("كتاب") * 3
    first, second = analyze("لافروف"), analyze("بيونغيانغ")
    assert analyze("لافروف بيونغيانغ") == first + second
    assert analyze("بيونغيانغ لافروف") == second + first


def test_analysis_is_compositional_over_whitespace():
    lines = [
        line
        for path in sorted(SEEDS.glob("*.txt"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    for a, b in zip(lines, lines[1:]):
        assert analyze(f"{a} {b}") == analyze(a) + analyze(b)
        assert analyze(f"{a}\n{b}") == analyze(a) + analyze(b)


@pytest.mark.parametrize(
    "text", ["", "   ", "🙂🙂", "؟؟؟", "... !!! ،،", "«»“”", "___", "\u200f\u200c"]
)
def test_texts_without_words(text):
    assert analyze(text) == []
    assert not has_words(text)


@pytest.mark.parametrize("text", ["كتاب", "11", "٣", "Lavrov", "🙂 زيارة"])
def test_texts_with_words(text):
    assert has_words(text)


def test_documents_and_questions_are_analysed_identically(
    tmp_path, seed_dir, write_corpus, passage_tokens
):
    """A document written with marks, tatweel, Persian letters, Indic digits and controls
    is found by a plain question, and a plain document by a question written that way."""
    fancy = "وَصَلَ وَزِيـــرُ الخَارِجِيَّةِ إلى کوریا الشمالیة في ١١ يوليو لِلِقَاءِ تشوي\u200c سون."
    plain = "بحث الوفد مع نظيره التعاون في مجال المستشفيات ومصانع الجرارات الزراعية."
    write_corpus(seed_dir, {"fancy.txt": fancy, "plain.txt": plain})
    db = tmp_path / "db.sqlite3"
    index_collection(db, seed_dir)
    ids, tokens = passage_tokens(db)
    plain_fancy = "وصل وزير الخارجية الى كوريا الشمالية في 11 يوليو للقاء تشوي سون."
    assert analyze(plain_fancy) in tokens  # the index holds exactly the plain spelling's terms
    store = Store(db)
    try:
        searcher = Searcher(store)
        answer = searcher.search("متى وصل وزير الخارجية الى كوريا الشمالية في 11 يوليو؟")
        assert [r.source for r in answer.results][:1] == ["fancy.txt"]
        answer = searcher.search("مَصَانِعُ الجَرَّارَاتِ الزِّرَاعِيَّةِ وَالمُسْتَشْفَيَات؟")
        assert [r.source for r in answer.results][:1] == ["plain.txt"]
    finally:
        store.close()


# --- analyze_spans: the same terms as analyze(), with offsets into the original --------

_PIECES = [
    "كتاب", "المدرسة", "وزيرة", "الشمالية", "کوریا", "لافروف", "مستشفى", "أحمد", "إلى",
    "في", "من", "على", "آمن", "ٱلكتاب", "Lavrov", "WORLD", "x_y", "___", "11", "١٢", "۴۵",
    "2024", "🙂", "👍🏽", "🇸🇦", "،", "؛", "؟", "«", "»", "“", "”", ".", "...", "(", ")", "-",
    ":", "©", "%", "٪", "\n", "\t",
]
_MARKS = ["\u064e", "\u064f", "\u0650", "\u0651", "\u0652", "\u064b", "\u0670", "\u0640"]


def _random_text(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(0, 25)):
        piece = rng.choice(_PIECES)
        if rng.random() < 0.3:  # a mark or a control inside the piece
            pos = rng.randint(0, len(piece))
            extra = rng.choice(_MARKS + list(CONTROLS.values()))
            piece = piece[:pos] + extra + piece[pos:]
        parts.append(piece)
        parts.append(rng.choice([" ", " ", " ", "", "  ", "\u200f ", "، "]))
    return "".join(parts)


def _check_spans(text: str) -> None:
    spans = analyze_spans(text)
    assert [t for _, _, t in spans if t is not None] == analyze(text)
    previous = (0, 0)
    for start, end, term in spans:
        assert 0 <= start < end <= len(text)
        # In order and not overlapping (several terms of one run share its span).
        assert (start, end) == previous or start >= previous[1]
        previous = (start, end)
        if term is not None:
            # The span is the word in the original text: analysing it alone gives its term.
            assert term in analyze(text[start:end])
    # Nothing outside the spans carries a word.
    outside = list(text)
    for start, end, _ in spans:
        outside[start:end] = " " * (end - start)
    assert analyze("".join(outside)) == []


def test_spans_match_analyze_on_every_seed_line():
    for path in sorted(SEEDS.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        _check_spans(text)
        for line in text.splitlines():
            _check_spans(line)


def test_spans_match_analyze_on_random_mixes():
    rng = random.Random(20240711)
    for _ in range(1500):
        _check_spans(_random_text(rng))


def test_span_offsets_point_at_the_original_words():
    text = "قالت وَزيــرة الخارجية\u200c: «زيارة لافروف» تبدأ في ١١ يوليو 🙂 OK"
    words = {text[s:e]: t for s, e, t in analyze_spans(text)}
    assert words["وَزيــرة"] == analyze("وزيرة")[0]
    assert words["١١"] == "11"
    assert words["OK"] == "ok"
    assert words["في"] is None  # a stopword keeps its span, without a term
