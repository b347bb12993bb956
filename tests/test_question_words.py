"""Question types (MSA and dialects) and answer-type spans in paragraphs."""

from __future__ import annotations

import doctest

import pytest

from retrieval import question_words
from retrieval.analyzer import analyze, normalize
from retrieval.question_words import (
    DIALECT_QUESTION_WORDS,
    QUESTION_TYPES,
    answer_type_spans,
    question_type,
)


@pytest.mark.parametrize(
    "question, expected",
    [
        # MSA
        ("متى تبدأ زيارة لافروف إلى كوريا الشمالية؟", "date"),
        ("في أي عام تأسست جامعة القاهرة؟", "date"),
        ("بأي سنة انتهت الحرب؟", "date"),
        ("ما هو تاريخ توقيع الاتفاق؟", "date"),
        ("كم صاروخاً أرسل كيم إلى روسيا؟", "number"),
        ("ما عدد سكان مصر؟", "number"),
        ("ما هي نسبة البطالة في الأردن؟", "number"),
        ("أين عقد لقاء لافروف وروبيو؟", "place"),
        ("في أي مدينة ولد المتنبي؟", "place"),
        ("ما هي عاصمة أستراليا؟", "place"),
        ("ما هي أكبر دولة في أفريقيا؟", "place"),
        ("من أين جاء الوفد؟", "place"),
        ("من أي مدينة انطلقت الرحلة؟", "place"),
        ("من هي وزيرة خارجية كوريا الشمالية؟", "person"),
        ("من الذي اكتشف البنسلين؟", "person"),
        ("من كتب رواية موسم الهجرة إلى الشمال؟", "person"),
        ("من المسؤول عن الهجوم؟", "person"),
        ("ومن هو رئيس الوزراء؟", "person"),
        ("هل تعرف من كتب هذه الرواية؟", "person"),
        ("أي لاعب سجل هدف الفوز؟", "person"),
        # dialects
        ("إمتى بتبدأ زيارة لافروف؟", "date"),
        ("امتى الماتش؟", "date"),
        ("وقتاش بدا رمضان؟", "date"),
        ("قديش عدد سكان عمّان؟", "number"),
        ("كام صاروخ بعت كيم لروسيا؟", "number"),
        ("چم صاروخ دزّ كيم؟", "number"),
        ("شقد عمره؟", "number"),
        ("السفارة الروسية فين؟", "place"),
        ("وين صار لقاء لافروف وروبيو؟", "place"),
        ("لوين رايح الوفد؟", "place"),
        ("وش الدولة اللي فازت بالبطولة؟", "place"),
        ("مين وزيرة خارجية كوريا الشمالية؟", "person"),
        ("منو رئيس العراق؟", "person"),
        ("شكون ربح البطولة؟", "person"),
        ("شو اسم رئيس فرنسا؟", "person"),
        # no date / number / place / person
        ("كيف أطبخ الكبسة؟", None),
        ("ازاي أحجز تذكرة؟", None),
        ("ليش تأخرت الطائرة؟", None),
        ("ماذا قال بيسكوف عن الزيارة؟", None),
        ("ما الذي أعلنته هيئة النقل الجوي؟", None),
        ("هل سافر الوفد أمس؟", None),
        ("الزيارة الشاملة", None),
        ("", None),
    ],
)
def test_question_type(question, expected):
    assert question_type(question) == expected


@pytest.mark.parametrize(
    "question, expected",
    [
        ("متى خرج من السجن؟", "date"),  # «من» mid-sentence is "from"
        ("كم عدد الطلاب القادمين من الخارج؟", "number"),
        ("ماذا قال الوزير من على المنبر؟", None),
        ("من فضلك متى يفتح المتحف؟", "date"),  # «من فضلك» is no "who"
        ("من الممكن أن تخبرني بموعد الرحلة؟", None),
        ("من بين اللاعبين", None),
        ("من كم محافظة يتكون العراق؟", "number"),  # «من كم»: كم decides
        ("من متى كان المغرب عضواً في الأمم المتحدة؟", "date"),
        ("من هو توماس أديسون؟", None),  # who someone is: a description, not a name
        ("من هو زوج ليزا؟", "person"),
        ("ما هي الدولة الفاطمية؟", None),  # what something is, not which country
        ("ما هي الدولة التي فازت؟", "place"),
    ],
)
def test_min_as_a_preposition_is_not_who(question, expected):
    assert question_type(question) == expected


def test_question_type_reads_text_the_analyzer_normalises():
    """Hamza forms, ة / ه and ى / ي at the end, diacritics and tatweel give the same type."""
    for plain, variant in [
        ("اين", "أين"), ("متي", "متى"), ("امتي", "إمتى"), ("ما هي عاصمه", "ما هيَ عاصمةُ"),
        ("ما عدد", "مـا عـدد"),
    ]:
        assert question_type(plain + " الوفد") == question_type(variant + " الوفد") is not None


def test_dialect_question_words_are_never_content_words():
    """Each dialect question word is dropped by the analyzer, as typed and with its spellings."""
    for word in DIALECT_QUESTION_WORDS:
        assert analyze(word) == [], word
        assert analyze(f"{word}؟") == [], word
    assert analyze("وين لقاء لافروف؟") == analyze("لقاء لافروف")
    assert analyze("شو اللي قاله بيسكوف عشان الزيارة") == analyze("قاله بيسكوف الزيارة")
    assert analyze("إمتى بتبدأ زيارة لافروف") == analyze("امتي بتبدأ زياره لافروف")
    assert analyze("مين وزيرة خارجية كوريا") == analyze("وزيرة خارجية كوريا")


@pytest.mark.parametrize("word", ["متين", "شي", "مو", "دي", "جم"])
def test_dialect_words_that_are_also_content_words_stay_searchable(word):
    """متين (solid), شي (Xi), مو (Mo), دي (de Mistura), جم (many) are no stopwords."""
    assert analyze(word) != []


def test_misspellings_the_analyzer_already_unifies_stay_unified():
    """ة / ه at word end, ى / ي, a missing hamza: one term each (ظ / ض is not unified)."""
    assert analyze("مدرسة") == analyze("مدرسه")
    assert analyze("مستشفى") == analyze("مستشفي")
    assert analyze("أين الإمارات") == analyze("اين الامارات")
    assert analyze("آذار") == analyze("اذار")
    assert analyze("ظهر") != analyze("ضهر")  # different words in MSA: kept apart


def _found(text: str, qtype: str) -> list[str]:
    return [text[a:b] for a, b in answer_type_spans(text, qtype)]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("بدأت الزيارة في 11 يوليو 2025.", ["11 يوليو 2025"]),
        ("وقع الاتفاق العام الفائت في بيونغيانغ", ["العام الفائت"]),
        ("ولد سنة 1990 في عمان", ["سنة 1990"]),
        ("في ٢٠١٥ م انتهت", ["٢٠١٥ م"]),
        ("تأسست عام 1357 هـ.", ["عام 1357 هـ"]),
        ("في القرن التاسع عشر", ["القرن التاسع عشر"]),
        ("في 3 آذار وصل، وفي تشرين الثاني عاد", ["3 آذار", "تشرين الثاني"]),
        ("يوم الخميس المقبل", ["يوم الخميس"]),
        ("في الثمانينيات", ["الثمانينيات"]),
        ("في 12/07/2015 صدر", ["12/07/2015"]),
        ("استوطنها في 874م.", ["874م"]),
        ("في 2800 قبل الميلاد", ["2800 قبل الميلاد"]),
        ("مارس الرياضة طويلاً", []),  # مارس = "practised" without a number beside it
        ("وصل في 3 مارس", ["3 مارس"]),
        ("بلغ عدد الزوار 300 زائر", []),  # 300 is no year
    ],
)
def test_date_spans(text, expected):
    assert _found(text, "date") == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("أرسل 300 صاروخ", ["300"]),
        ("بقيمة 1.5 مليون دولار", ["1.5 مليون"]),
        ("بنسبة 25% تقريباً", ["25%"]),
        ("قتل ثلاثة جنود", ["ثلاثة"]),
        ("وصل ١٢ ألف", ["١٢ ألف"]),
        ("وصل الوفد", []),
    ],
)
def test_number_spans(text, expected):
    assert _found(text, "number") == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("عقد اللقاء في كوالالمبور أمس", ["كوالالمبور"]),
        ("سافر إلى موسكو", ["موسكو"]),
        ("وصل إلى العاصمة الماليزية", ["العاصمة الماليزية"]),
        ("زار مدينة كورسك الروسية", ["مدينة كورسك"]),
        ("وصل الوفد إلى المملكة العربية السعودية", ["المملكة العربية السعودية"]),
        ("في إطار الزيارة", []),
        ("في الحرب ضد أوكرانيا", ["أوكرانيا"]),
        ("تقع في الجنوب الغربي من القارة", ["الجنوب الغربي"]),
    ],
)
def test_place_spans(text, expected):
    assert _found(text, "place") == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("وقال الرئيس فلاديمير بوتين إن", ["الرئيس فلاديمير بوتين"]),
        ("استقبل محمد بن سلمان الوفد", ["محمد بن سلمان"]),
        ("وقال بيسكوف إن الزيارة", ["بيسكوف"]),
        ("كتب عبد الرحمن منيف الرواية", ["عبد الرحمن"]),
        ("وقالت الوزارة إن", []),
        ("الأب الروحي للنظرية هو كارل ماركس، ويعد", ["كارل ماركس"]),
        ("اكتشفه عام 1850 شارل جيرهارد (بالفرنسية: Charles)", ["شارل جيرهارد"]),
        ("وصل الوفد", []),
    ],
)
def test_person_spans(text, expected):
    assert _found(text, "person") == expected


def test_spans_point_into_the_original_text_with_hamza_and_eastern_digits():
    text = "وفي ٣ أيار ٢٠١٥ وصل السيّد"
    (start, end), = answer_type_spans(text, "date")
    assert text[start:end] == "٣ أيار ٢٠١٥"


def test_unknown_type_is_a_value_error():
    with pytest.raises(ValueError):
        answer_type_spans("نص", "colour")


def test_every_type_runs_on_hostile_text():
    text = "\u200f" * 5 + "٣" * 200 + "عبد" * 50 + " في " * 30 + "🙂" + "\x00"
    for qtype in QUESTION_TYPES:
        for start, end in answer_type_spans(text, qtype):
            assert 0 <= start < end <= len(text)


def test_module_examples():
    assert doctest.testmod(question_words).failed == 0


def test_normalised_question_words_match_analyzer_normalisation():
    """The word lists are written normalised: normalising them changes nothing."""
    for words in (question_words._DATE_WORDS, question_words._PLACE_WORDS,
                  question_words._PERSON_WORDS, question_words._NUMBER_WORDS):
        assert {normalize(w) for w in words} == set(words)
