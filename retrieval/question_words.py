"""What kind of answer a question wants, and where a paragraph holds one: rules, no model.

Question words of Modern Standard Arabic and the main dialects (Levantine شو / وين /
قديش، Egyptian إيه / فين / إمتى / كام / إزاي، Gulf وش / وين / شلون، Iraqi شنو / منو /
شقد / چم، Maghrebi شنو / فين / وقتاش / قداش / شكون / كيفاش) are recognised on the
question after the analyzer's normalisation (أ إ آ → ا، ة → ه، ى → ي):

    >>> question_type("متى تبدأ زيارة لافروف؟")
    'date'
    >>> question_type("السفارة الروسية فين؟")
    'place'

`answer_type_spans` finds, in a paragraph's original text, the character spans that
look like an answer of a type (a year, a number, a place, a person's name), for the
reranker's "the answer type is near the matched words" feature:

    >>> answer_type_spans("بدأت الزيارة في 11 يوليو 2025.", "date")
    [(16, 29)]
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import cache

from retrieval.analyzer import STOPWORDS, normalize
from retrieval.stopwords import DIALECT_QUESTION_WORDS

__all__ = ["QUESTION_TYPES", "DIALECT_QUESTION_WORDS", "answer_type_spans", "question_type"]

QUESTION_TYPES = ("date", "number", "place", "person")

# --- the question ---------------------------------------------------------------------
# Every word below is written normalised (ا for أ إ آ، ه for ة، ي for ى).

_DATE_WORDS = frozenset("متي امتي ايمتي امتا ايمته امته وقتاش وقتيش".split())
_NUMBER_WORDS = frozenset("كم بكم قديش بقديش قداش بقداش كام بكام چم بچم شقد بشقد".split())
_PLACE_WORDS = frozenset("اين وين فين وينه وينها فينه فينها منين لوين لفين فاين".split())
_PERSON_WORDS = frozenset("مين منو شكون منهو منهي لمين لمن بمين ممن".split())
#: How / why / yes-no: a question word that wants no date, number, place or name.
_OTHER_WORDS = frozenset(
    "كيف ازاي كيفاش شلون اشلون وشلون لماذا ليش ليه علاش".split()
)
#: "What": the type comes from the noun after it (ما عدد → number, ما عاصمة → place).
_WHAT_WORDS = frozenset("ما ماذا ماهو ماهي شو ايش وش شنو شنهو شنوه اش ايه".split())
_WHICH_WORDS = frozenset("اي باي لاي فاي واي".split())  # أي عام، في أي مدينة، بأي سنة

_NOUN_TYPES: dict[str, str] = {}
for _type, _nouns in {
    "date": "عام سنه شهر يوم تاريخ قرن عقد وقت فتره زمن موسم موعد ساعه عصر",
    "number": "عدد نسبه مقدار مساحه طول ارتفاع عمق وزن حجم قيمه سعر عمر مجموع مبلغ متوسط "
    "معدل سرعه كميه رقم درجه تعداد مسافه",
    "place": "مدينه دوله بلد بلده مكان منطقه قاره محافظه مقاطعه ولايه جزيره عاصمه قريه "
    "حي شارع ملعب مطار ميناء جامعه موقع مقر اقليم نهر بحر جبل بحيره مسجد",
    "person": "شخص رجل امراه لاعب رئيس ملك ملكه كاتب مؤلف مولف شاعر خليفه امير نبي "
    "مخرج ممثل مغني فنان مدرب قائد زعيم وزير عالم مكتشف مخترع مؤسس زوج زوجه ابن بنت ابو ام اخ "
    "اخت والد والده جد صاحب مدير حاكم فائز بطل مكتشف مخترع مؤسس واضع مبتكر",
}.items():
    for _noun in _nouns.split():
        _NOUN_TYPES[_noun] = _type

#: Words skipped between "what" and its noun: هو / هي, "name of", superlatives.
_SKIP_AFTER_WHAT = frozenset(
    "هو هي هم اسم اكبر اصغر اكثر اقل اقدم احدث اول اخر اطول اعلي اهم افضل اشهر اغني اقرب "
    "ابعد".split()
)
#: «من» followed by these is a preposition, not "who" («من فضلك»، «من الممكن أن»).
_FROM_NOT_WHO = frozenset(
    "فضلك فضلكم فضلكو فضلكي خلال اجل ضمن حيث جهه ناحيه قبل بعد بين غير دون اول هنا هناك "
    "المفترض الممكن المتوقع الافضل المعروف الطبيعي الضروري المهم الصعب السهل المستحيل "
    "الواضح المقرر المحتمل المعقول الغريب المفروض المستغرب الجدير اللازم الاحسن".split()
)
_WHO_AFTER_FROM = frozenset("هو هي هم هما الذي التي الذين اللذان اللي يكون تكون كان كانت".split())
#: Words after which «من» is "who" in the middle of a question («هل تعرف من كتب…»).
_ASKING = frozenset(
    "تعرف تعرفي تعرفون اعرف يعرف ادري تدري اخبرني خبرني قل قلي قولي قللي اسال سالت اريد "
    "ابغي ابي بدي عايز عاوز".split()
)
_TOKEN_RE = re.compile(r"[^\W\d_]+|\d+")

def _bare(token: str) -> str:
    """A normalised token without one leading و or ف (ومتى → متى، فأين → اين)."""
    if len(token) > 2 and token[0] in "وف":
        rest = token[1:]
        if rest in _CUES:
            return rest
    return token


def _noun_type(tokens: list[str], i: int) -> str | None:
    """The type of the noun at `tokens[i]` or just after skippable words, else None.

    «ما هي الدولة الفاطمية؟» (a noun with ال and an adjective with ال) asks what
    something is, not for a place: None.
    """
    for j in range(i, min(i + 3, len(tokens))):
        token = tokens[j]
        word = token[2:] if token.startswith("ال") and len(token) > 4 else token
        if word in _NOUN_TYPES:
            after = tokens[j + 1] if j + 1 < len(tokens) else ""
            if word != token and after.startswith("ال") and after not in _WHO_AFTER_FROM:
                return None
            return _NOUN_TYPES[word]
        if token not in _SKIP_AFTER_WHAT:
            return None
    return None


def _from_type(tokens: list[str], i: int) -> tuple[bool, str | None]:
    """(decided, type) for «من» at `tokens[i]` where it may be "who"."""
    nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
    if nxt in _PLACE_WORDS:
        return True, "place"  # من أين / من وين
    if nxt in _WHICH_WORDS:
        return True, _noun_type(tokens, i + 2)  # من أي مدينة / من أي عام
    if nxt in _FROM_NOT_WHO or nxt in _CUES or not nxt:
        return False, None  # «من كم»، «من متى»: the next question word decides
    rest = tokens[i + 2 :]
    if nxt in ("هو", "هي") and 1 <= len(rest) <= 3 and not rest[0].startswith("ال"):
        if rest[0] not in _NOUN_TYPES:
            return True, None  # «من هو توماس أديسون؟» asks who someone is, not for a name
    return True, "person"  # من هو، من الذي، من كتب، من المسؤول عن


def question_type(question: str) -> str | None:
    """"date", "number", "place" or "person" when the question's words ask for one, else None.

    The first question word decides (كيف / لماذا / هل want none of the four). «من» is
    "who" at the start, after a verb of asking («هل تعرف من…») or before هو / هي /
    الذي, and "from" elsewhere; «من أين» asks for a place.

        >>> question_type("من هو مؤلف كتاب الأغاني؟"), question_type("قديش عدد سكان عمّان؟")
        ('person', 'number')
    """
    tokens = _TOKEN_RE.findall(normalize(question))
    for i, raw in enumerate(tokens):
        token = _bare(raw)
        if token in _DATE_WORDS:
            return "date"
        if token in _NUMBER_WORDS:
            return "number"
        if token in _PLACE_WORDS:
            return "place"
        if token in _PERSON_WORDS:
            return "person"
        if token in _OTHER_WORDS:
            return None
        if token in _WHAT_WORDS:
            return _noun_type(tokens, i + 1)
        if token in _WHICH_WORDS:
            kind = _noun_type(tokens, i + 1)
            if kind is not None:
                return kind
            continue
        if token == "من":
            after = tokens[i + 1] if i + 1 < len(tokens) else ""
            if i == 0 or tokens[i - 1] in _ASKING or after in _WHO_AFTER_FROM:
                decided, kind = _from_type(tokens, i)
                if decided:
                    return kind
    return None


_CUES = (
    _DATE_WORDS | _NUMBER_WORDS | _PLACE_WORDS | _PERSON_WORDS | _OTHER_WORDS | _WHAT_WORDS
    | _WHICH_WORDS | {"من"}
)

# --- the paragraph ---------------------------------------------------------------------
# The paragraph is folded letter for letter (أ إ آ → ا، ة → ه، ى → ي، Eastern digits →
# 0-9), so offsets in the folded text are offsets in the original. Only words that can
# start an answer of the type are tried: each such word is looked up in a set, and an
# anchored pattern is matched at its position (a pattern searched over the whole text
# tried every position, and took 3–4 times longer).

_FOLDS = (("أ", "ا"), ("إ", "ا"), ("آ", "ا"), ("ٱ", "ا"), ("ة", "ه"), ("ى", "ي"))
_EASTERN_DIGITS = re.compile("[٠-٩۰-۹]")
_DIGIT_FOLD = str.maketrans(
    {**{chr(0x0660 + i): str(i) for i in range(10)}, **{chr(0x06F0 + i): str(i) for i in range(10)}}
)
_PUNCTUATION = "\"'«»“”‘’()[]{}.,:;!?،؛؟…-–—/"
_PARA_TOKEN_RE = re.compile(r"[^\W_]+")
_D = "[0-9]"
_W = r"[^\W\d_]"
_END = r"(?![^\W_])"
_P = "(?:وب|ول|وك|فب|فل|[وفبل])?"  # one proclitic
_PROCLITICS = ("وب", "ول", "وك", "فب", "فل", "و", "ف", "ب", "ل")


def _fold(text: str) -> str:
    """`text` with the letters the analyzer unifies folded one for one (same length).

    Chained `str.replace` (C loops) rather than `str.translate`, which is several
    times slower on Arabic text.
    """
    for letter, plain in _FOLDS:
        if letter in text:
            text = text.replace(letter, plain)
    if _EASTERN_DIGITS.search(text):
        text = text.translate(_DIGIT_FOLD)
    return text


def _names(names: str) -> list[str]:
    """Folded names of a «|»-separated list, longest first."""
    return sorted({_fold(normalize(n.strip())) for n in names.split("|") if n.strip()},
                  key=len, reverse=True)


def _alt(names: list[str]) -> str:
    return "(?:" + "|".join(re.escape(n).replace(r"\ ", r"\s+") for n in names) + ")"


def _firsts(*lists: list[str]) -> set[str]:
    """The first words of names: what makes a token worth trying."""
    return {n.split()[0] for names in lists for n in names}


_MONTHS = _names(
    "يناير|فبراير|أبريل|إبريل|مايو|يونيو|يونيه|يوليو|يوليه|أغسطس|سبتمبر|أكتوبر|"
    "نوفمبر|ديسمبر|كانون الثاني|كانون الأول|شباط|آذار|نيسان|أيار|حزيران|تموز|أيلول|"
    "تشرين الأول|تشرين الثاني|جانفي|فيفري|أفريل|جوان|جويلية|محرم|ربيع الأول|ربيع الآخر|"
    "ربيع الثاني|جمادى الأولى|جمادى الآخرة|جمادى الثانية|ذو القعدة|ذو الحجة|ذي القعدة|"
    "ذي الحجة|شوال|رمضان|شعبان"
)
#: Month names that are also common words or names: a date only beside a number.
_MONTHS_AMBIGUOUS = _names("مارس|آب|صفر|رجب|ماي|أوت")
_WEEKDAYS = _names("الأحد|الاثنين|الإثنين|الثلاثاء|الأربعاء|الخميس|الجمعة|السبت")
_YEAR_NOUNS = _names("عام|سنة|عامي|سنتي|العام|السنة")
_PERIODS = _names("العام|الشهر|الأسبوع|السنة")
_RELATIVE = _names("الماضي|الماضية|الفائت|الفائتة|المقبل|المقبلة|القادم|القادمة|الجاري|"
                   "الحالي|المنصرم")
_DAYS_NEAR = _names("أمس|البارحة|غدا|غداً")
_DECADES = [
    f"{al}{base}{end}" for base in _names("عشرين|ثلاثين|أربعين|خمسين|ستين|سبعين|ثمانين|تسعين")
    for al in ("", "ال") for end in ("ات", "يات")
]
_ERA = (r"(?:\s*(?:هـ|ه|م|ق\.?\s?م)" + _END + r"|\s+"
        + _alt(_names("ميلادي|ميلادية|هجري|هجرية|للميلاد|للهجرة|قبل الميلاد")) + ")?")
_YEAR = rf"{_D}{{3,4}}(?!{_D}){_ERA}"
# The answer patterns below are sources, compiled on first use by `_pattern` (compiling
# them all took ~13 ms of every start, most of it for types the question does not ask).
_pattern = cache(re.compile)
_DATE_AT = (
    "|".join([
        rf"{_D}{{1,2}}[/.\-]{_D}{{1,2}}[/.\-]{_D}{{2,4}}(?!{_D})",
        rf"(?:{_D}{{1,2}}\s+)?{_P}{_alt(_MONTHS)}{_END}(?:\s+{_YEAR})?",
        rf"{_D}{{1,2}}\s+{_P}{_alt(_MONTHS_AMBIGUOUS)}{_END}(?:\s+{_YEAR})?",
        rf"{_P}{_alt(_MONTHS_AMBIGUOUS)}\s+{_YEAR}",
        rf"{_P}{_alt(_YEAR_NOUNS)}\s+{_D}+(?!{_D}){_ERA}",
        rf"{_P}القرن\s+(?:{_D}+|[IVXLC]+|{_W}+(?:\s+(?:عشر|والعشرين){_END})?)",
        rf"(?:1[0-9]{{3}}|20[0-9]{{2}}|2100)(?!{_D}){_ERA}",
        rf"{_D}{{1,4}}(?:\s*(?:هـ|ه|م|ق\.?\s?م)" + _END + r"|\s+"
        + _alt(_names("ميلادي|ميلادية|هجري|هجرية|للميلاد|للهجرة|قبل الميلاد")) + ")",
        rf"{_P}(?:يوم\s+)?{_alt(_WEEKDAYS)}{_END}",
        rf"{_P}{_alt(_PERIODS)}\s+{_alt(_RELATIVE)}{_END}",
        rf"{_P}{_alt(_DAYS_NEAR)}{_END}",
        rf"{_P}{_alt(_DECADES)}{_END}",
    ])
)
_DATE_STARTS = frozenset(
    _firsts(_MONTHS, _MONTHS_AMBIGUOUS, _WEEKDAYS, _YEAR_NOUNS, _PERIODS, _DAYS_NEAR, _DECADES)
    | {"القرن", "يوم"}
)

_NUMBER_NAMES = _names(
    "واحد|واحدة|اثنان|اثنين|اثنتان|اثنتين|ثلاث|ثلاثة|أربع|أربعة|خمس|خمسة|ست|ستة|سبع|سبعة|"
    "ثمان|ثماني|ثمانية|تسع|تسعة|عشر|عشرة|أحد عشر|اثنا عشر|اثني عشر|عشرون|عشرين|ثلاثون|"
    "ثلاثين|أربعون|أربعين|خمسون|خمسين|ستون|ستين|سبعون|سبعين|ثمانون|ثمانين|تسعون|تسعين|"
    "مئة|مائة|مئات|مئتين|مائتين|مئتان|ألف|آلاف|ألفين|ألفان|مليون|ملايين|مليونين|مليار|"
    "مليارات|بليون|نصف|ربع|ثلث|عشرات"
)
_SCALE = _alt(_names("ألف|آلاف|مليون|ملايين|مليار|مليارات|بليون|تريليون|في المئة|في المائة|"
                     "بالمئة|بالمائة"))
_NUMBER_AT = (
    rf"{_D}+(?:[.,٫٬]{_D}+)*(?:\s*[%٪]|\s+{_SCALE}{_END})?"
    rf"|{_P}(?:ال)?{_alt(_NUMBER_NAMES)}{_END}"
)
_NUMBER_STARTS = frozenset(_firsts(_NUMBER_NAMES) | {"ال" + n for n in _firsts(_NUMBER_NAMES)})

_PLACES = _names(
    "السعودية|المملكة العربية السعودية|مصر|العراق|سوريا|سورية|لبنان|الأردن|فلسطين|اليمن|عمان|"
    "سلطنة عمان|الكويت|قطر|البحرين|الإمارات|ليبيا|تونس|الجزائر|المغرب|موريتانيا|السودان|الصومال|"
    "جيبوتي|جزر القمر|إيران|تركيا|إسرائيل|روسيا|الصين|اليابان|الهند|باكستان|أفغانستان|"
    "إندونيسيا|ماليزيا|كوريا الشمالية|كوريا الجنوبية|كوريا|الولايات المتحدة|أمريكا|أميركا|"
    "كندا|المكسيك|البرازيل|الأرجنتين|بريطانيا|المملكة المتحدة|إنجلترا|انكلترا|فرنسا|ألمانيا|"
    "إيطاليا|إسبانيا|البرتغال|هولندا|بلجيكا|سويسرا|النمسا|السويد|النرويج|الدنمارك|فنلندا|"
    "بولندا|اليونان|أوكرانيا|رومانيا|المجر|التشيك|صربيا|إثيوبيا|نيجيريا|كينيا|جنوب أفريقيا|"
    "أستراليا|نيوزيلندا|الفلبين|تايلاند|فيتنام|بنغلاديش|سريلانكا|أوروبا|آسيا|أفريقيا|إفريقيا|"
    "الخليج|الشرق الأوسط|شبه الجزيرة العربية|القرم|كشمير|الشيشان|البوسنة|كوسوفو|قبرص|مالطا|"
    "الرياض|جدة|مكة|مكة المكرمة|المدينة المنورة|الدمام|الطائف|تبوك|أبها|جازان|نجران|حائل|"
    "القصيم|بريدة|الخبر|الأحساء|ينبع|القاهرة|الإسكندرية|الجيزة|بغداد|البصرة|الموصل|أربيل|"
    "دمشق|حلب|حمص|بيروت|القدس|غزة|رام الله|صنعاء|عدن|مسقط|الدوحة|المنامة|أبوظبي|"
    "أبو ظبي|دبي|الشارقة|طرابلس|بنغازي|الرباط|الدار البيضاء|مراكش|فاس|نواكشوط|الخرطوم|"
    "مقديشو|طهران|أنقرة|إسطنبول|اسطنبول|موسكو|بكين|طوكيو|سيول|بيونغيانغ|نيودلهي|مومباي|"
    "إسلام آباد|كابل|جاكرتا|كوالالمبور|واشنطن|نيويورك|لوس أنجلوس|شيكاغو|لندن|باريس|برلين|"
    "روما|مدريد|برشلونة|لشبونة|أمستردام|بروكسل|جنيف|فيينا|أثينا|كييف|وارسو|ستوكهولم|تورنتو|"
    "سيدني|ملبورن|كورسك"
)
_PLACE_CUES = _names(
    "مدينة|دولة|عاصمة|العاصمة|محافظة|منطقة|ولاية|جزيرة|قرية|بلدة|إقليم|مقاطعة|قارة|ميناء|"
    "مطار|ملعب|جامعة|حي|نهر|بحر|جبل|بحيرة|شمال|جنوب|شرق|غرب|الشمال|الجنوب|الشرق|الغرب|"
    "وسط|منتصف|شمالي|جنوبي|شرقي|غربي|الربع|المحيط|محيط|الوطن|إمارة|مملكة|جمهورية|سلطنة"
)
_PLACE_AT = rf"{_P}(?:{_alt(_PLACES)}{_END}|{_alt(_PLACE_CUES)}\s+{_W}+)"
_PLACE_STARTS = frozenset(_firsts(_PLACES, _PLACE_CUES))
_PREPOSITIONS = frozenset(("في", "الي", "من", "وفي", "والي", "ومن"))
#: Words after في / إلى / من that are no place (frequent nouns of construct phrases).
_NOT_PLACES = frozenset(_fold(normalize(w)) for w in (
    "إطار ظل حين مجال وقت عام سنة شهر يوم خلال أجل بين ضمن حال حالة أثناء إثر عدد جانب "
    "مقابل نهاية بداية منتصف أواخر أوائل مطلع أكثر أقل قبل بعد حوالي نحو كثير بعض جميع "
    "مختلف سبيل شأن مواجهة صالح طريق خارج داخل أعقاب تصريحات تصريح بيان حديث قول "
    "مرحلة ذات نفس أنحاء غضون ساعات أيام أسبوع أشهر سنوات أعوام وسط ضوء"
).split())

_NOT_NAMES = _alt(_names(
    "في|من|على|إلى|عن|أن|إن|أنه|بأن|إنه|الذي|التي|هذا|هذه|مع|قد|لا|ما|كان|كانت|هو|هي"
))
_NAME = rf"(?!{_NOT_NAMES}{_END}){_W}{{2,}}"
_BARE_NAME = rf"(?!ال){_NAME}"
_TITLES = _names(
    "الرئيس|الملك|الملكة|الأمير|الأميرة|الشيخ|الشيخة|الدكتور|الدكتورة|السيد|السيدة|الوزير|"
    "الوزيرة|وزير|وزيرة|الإمام|الخليفة|السلطان|المهندس|الأستاذ|البروفيسور|الجنرال|اللواء|"
    "العقيد|العميد|الفريق|المستشار|البابا|القس|الكاتب|الكاتبة|الشاعر|الشاعرة|الروائي|المخرج|"
    "الممثل|الممثلة|الفنان|الفنانة|المغني|المطرب|اللاعب|المدرب|القائد|الزعيم|ولي العهد|"
    "خادم الحرمين الشريفين|رئيس الوزراء|النبي|الرسول|الصحابي|المؤرخ|الفيلسوف|الحاكم|"
    "الكيميائي|الفيزيائي|الطبيب|المفكر|الملحن|المؤلف|الرحالة|الإمبراطور|القيصر|الراهب|"
    "الصحفي|الأديب|العلامة|الفقيه|القاضي|المخترع|المكتشف|المؤسس"
)
_FIRST_NAMES = _names(
    "محمد|أحمد|علي|حسن|حسين|عمر|عثمان|خالد|سلمان|فهد|فيصل|سعود|عبدالله|عبدالعزيز|عبدالرحمن|"
    "إبراهيم|يوسف|مصطفى|محمود|سعيد|ناصر|سالم|صالح|طارق|ماجد|نايف|تركي|بندر|سلطان|منصور|"
    "حمد|راشد|زايد|جمال|كمال|عادل|هشام|وليد|ياسر|فاطمة|عائشة|مريم|خديجة|زينب|نورة|سارة|"
    "جون|جورج|باراك|فلاديمير|دونالد|كيم|سيرغي|سيرجي"
)
_SAYING = _names("قال|قالت|أكد|أكدت|أعلن|أعلنت|صرح|صرحت|أضاف|أضافت|أوضح|أوضحت|ذكر|ذكرت|"
                 "أشار|أشارت|اخترع|اكتشف|أسس|فاز|فازت")
_NAME_PARTS = _names("بن|ابن|بنت")
_FAMILY = _names("أبو|أبي|أبا|آل")
_PERSON_AT = (
    rf"{_P}عبد\s*ال{_W}{{2,}}"
    rf"|{_alt(_NAME_PARTS)}\s+{_NAME}"
    rf"|{_P}{_alt(_FAMILY)}\s+{_NAME}"
    rf"|{_P}{_alt(_TITLES)}(?:\s+{_NAME}){{1,3}}"
    rf"|{_P}{_alt(_FIRST_NAMES)}{_END}(?:\s+{_BARE_NAME}){{0,2}}"
)
_NOT_AFTER_COPULA = _alt(_names(
    "عبارة|مصطلح|أحد|إحدى|أول|أكبر|أكثر|أقدم|أهم|جزء|نوع|من|في|ما|الذي|التي|أن|ان|كان"
))
#: «… هو كارل ماركس»، «عاصمتها هي ريكيافيك»: a name right after a copula.
_COPULA_AT = (
    rf"(?:و)?(?:هو|هي|هم)\s+((?!{_NOT_AFTER_COPULA}{_END}){_BARE_NAME}(?:\s+{_BARE_NAME}){{0,2}})"
)
#: «شارل فريدريك جيرهارد (بالفرنسية: Charles …)»: the words before a foreign spelling.
_FOREIGN_AT = re.compile(rf"\((?:بال{_W}+\s*:|[A-Za-z])")
_SAYING_AT = rf"{_P}{_alt(_SAYING)}\s+({_BARE_NAME}(?:\s+{_BARE_NAME})?)"
_PERSON_STARTS = frozenset(_firsts(_TITLES, _FIRST_NAMES, _NAME_PARTS, _FAMILY))
_SAYING_STARTS = frozenset(_firsts(_SAYING))
_BARE_NAME_RE = re.compile(_BARE_NAME)
_COPULAS = ("هو", "هي", "هم", "وهو", "وهي", "وهم")
_NAME_PARTS_TUPLE = tuple(_NAME_PARTS)


def _with_proclitics(words: frozenset[str]) -> frozenset[str]:
    """`words` and each of them after each proclitic: one set lookup per token."""
    return frozenset(words | {c + w for c in _PROCLITICS for w in words})


_DATE_STARTS = _with_proclitics(_DATE_STARTS)
_NUMBER_STARTS = _with_proclitics(_NUMBER_STARTS)
_PLACE_STARTS = _with_proclitics(_PLACE_STARTS)
_PERSON_STARTS = _with_proclitics(_PERSON_STARTS)
_SAYING_STARTS = _with_proclitics(_SAYING_STARTS)


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Spans sorted by start, overlapping or touching ones merged."""
    out: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            if end > out[-1][1]:
                out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


_DIGITS_RE = re.compile(r"[0-9]+(?:[.,٫٬][0-9]+)*")
_LETTERS_AT = re.compile(rf"{_W}{{3,}}")


def _positions(folded: str, words: Iterable[str]) -> Iterator[int]:
    """Where each of `words` stands in `folded` as a whole token."""
    n = len(folded)
    for word in words:
        i = folded.find(word)
        while i >= 0:
            end = i + len(word)
            if (i == 0 or not folded[i - 1].isalnum()) and (end == n or not folded[end].isalnum()):
                yield i
            i = folded.find(word, i + 1)


def _hits(folded: str, starts: frozenset[str]) -> set[str]:
    """The tokens of `folded` that may start an answer (set operations run in C)."""
    return starts.intersection([t.strip(_PUNCTUATION) for t in folded.split()])


def _spans_at(folded: str, source: str, starts: frozenset[str],
              digits: bool) -> list[tuple[int, int]]:
    """Matches of the pattern `source` anchored at tokens in `starts` (and at numbers with
    `digits`)."""
    pattern = _pattern(source)
    places = list(_positions(folded, _hits(folded, starts)))
    if digits:
        places += [m.start() for m in _DIGITS_RE.finditer(folded)]
    spans = []
    for pos in places:
        found = pattern.match(folded, pos)
        if found:
            spans.append(found.span())
    return spans


def _place_spans(folded: str) -> list[tuple[int, int]]:
    spans = _spans_at(folded, _PLACE_AT, _PLACE_STARTS, digits=False)
    for pos in _positions(folded, _PREPOSITIONS):
        space = folded.find(" ", pos)
        found = _LETTERS_AT.match(folded, space + 1) if space > 0 else None
        if found is None or (found.end() < len(folded) and folded[found.end()].isalnum()):
            continue
        word = found.group()
        if not word.startswith(("ال", "وال")) and word not in STOPWORDS and word not in _NOT_PLACES:
            spans.append(found.span())
    return spans + _named_spans(folded)


def _person_spans(folded: str) -> list[tuple[int, int]]:
    spans = []
    person_at, saying_at = _pattern(_PERSON_AT), _pattern(_SAYING_AT)
    hits = set(_hits(folded, _PERSON_STARTS))
    if "عبد" in folded:
        hits.update(t for t in _PARA_TOKEN_RE.findall(folded) if t.startswith(("عبد", "وعبد")))
    for pos in _positions(folded, hits):
        found = person_at.match(folded, pos)
        if found is None:
            continue
        start = found.start()
        if folded.startswith(_NAME_PARTS_TUPLE, pos) and pos > 1:
            space = folded.rfind(" ", 0, pos - 1)
            if _BARE_NAME_RE.fullmatch(folded, space + 1, pos - 1):
                start = space + 1  # محمد بن سلمان: the name before «بن» too
        spans.append((start, found.end()))
    for pos in _positions(folded, _hits(folded, _SAYING_STARTS)):
        found = saying_at.match(folded, pos)
        if found:
            spans.append(found.span(1))
    return spans + _named_spans(folded)


def _named_spans(folded: str) -> list[tuple[int, int]]:
    """Names after a copula (هو / هي) and before a foreign spelling in parentheses."""
    spans = []
    copula_at = _pattern(_COPULA_AT)
    for pos in _positions(folded, _COPULAS):
        found = copula_at.match(folded, pos)
        if found:
            spans.append(found.span(1))
    paren = folded.find("(")
    while paren > 0:
        if _FOREIGN_AT.match(folded, paren):
            end = paren
            while end > 0 and folded[end - 1] == " ":
                end -= 1
            start = word_end = end
            for _ in range(3):  # up to three words before it, each a bare name
                space = folded.rfind(" ", 0, word_end) + 1
                if not _BARE_NAME_RE.fullmatch(folded, space, word_end):
                    break
                start, word_end = space, space - 1
                if word_end <= 0:
                    break
            if start < end:
                spans.append((start, end))
        paren = folded.find("(", paren + 1)
    return spans


def answer_type_spans(text: str, qtype: str) -> list[tuple[int, int]]:
    """[start, end) spans of `text` that look like an answer of `qtype`, sorted, merged.

    `qtype` is one of `QUESTION_TYPES`; anything else raises ValueError. Dates: years
    1000–2100, day + month (Gregorian, Levantine, Maghrebi and Hijri names), عام / سنة +
    number, centuries, weekdays, «العام الماضي». Numbers: digits (with % or ألف / مليون)
    and number words. Places: countries and big cities, مدينة / دولة / عاصمة + a word, a
    word without «ال» after في / إلى / من. Persons: عبد / أبو / بن / ابن + a word, titles
    (الرئيس، الملك، الشيخ، الدكتور…) and common first names with the words after them,
    the words after «قال» and similar verbs.

        >>> answer_type_spans("وقال الرئيس فلاديمير بوتين إن", "person")
        [(5, 26)]
    """
    folded = _fold(text)
    if qtype == "date":
        spans = _spans_at(folded, _DATE_AT, _DATE_STARTS, digits=True)
    elif qtype == "number":
        spans = _spans_at(folded, _NUMBER_AT, _NUMBER_STARTS, digits=True)
    elif qtype == "place":
        spans = _place_spans(folded)
    elif qtype == "person":
        spans = _person_spans(folded)
    else:
        raise ValueError(f"unknown answer type {qtype!r}; expected one of {QUESTION_TYPES}")
    return _merged(spans)
