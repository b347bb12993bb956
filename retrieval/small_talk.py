"""Greetings, thanks and goodbyes: messages that want a friendly word, not a search.

Strict: the whole message must be small talk (its words, after the analyzer's letter
normalisation, all belong to the phrases below, fillers such as يا / أخي / جزيلاً
allowed), so a greeting followed by a question is still searched:

    >>> small_talk("السلام عليكم"), small_talk("شكراً جزيلاً 🌹"), small_talk("مع السلامة")
    ('salam', 'thanks', 'goodbye')
    >>> small_talk("السلام عليكم، متى تبدأ زيارة لافروف؟") is None
    True

Kinds: "salam" (السلام عليكم, answered with وعليكم السلام), "greeting" (مرحبا، أهلاً،
صباح الخير، كيف حالك، ممكن سؤال…), "thanks", "goodbye", "about" (من أنت؟ / شو بتعمل؟).
The replies are in bot/render.py with the bot's other wording.
"""

from __future__ import annotations

import re

from retrieval.analyzer import normalize

__all__ = ["KINDS", "small_talk"]

KINDS = ("salam", "greeting", "thanks", "goodbye", "about")

_PHRASES = {
    "salam": """
        السلام عليكم | سلام عليكم | السلام عليكم ورحمة الله | السلام عليكم ورحمة الله وبركاته
        | سلام عليكم ورحمة الله وبركاته | السلام عليكم ورحمه الله وبركاته | السلام عليكم جميعا
        | سلام عليكم جميعا | السلام | سلام | salam | salam alaikum | assalamu alaikum
    """,
    "greeting": """
        وعليكم السلام | وعليكم السلام ورحمة الله | وعليكم السلام ورحمة الله وبركاته
        | عليكم السلام | مرحبا | مرحبتين | مراحب | مرحبا بك | مرحبا بيك | هلا | هلا والله
        | هلا وغلا | هلا بيك | أهلا | أهلين | أهلا وسهلا | أهلا بك | أهلا بيك | يا هلا | هاي
        | هلو | هالو | صباح الخير | صباح النور | صباحو | صباح الورد | صباح الفل | مساء الخير
        | مساء النور | مسا الخير | مساء الورد | يسعد صباحك | يسعد مساك | تحية | تحياتي
        | كيف حالك | كيف الحال | كيف حالكم | كيفك | كيفكم | شلونك | شلونكم | وشلونك
        | إزيك | ازيك | عامل إيه | عامل ايه | أخبارك | أخبارك إيه | شو أخبارك | ايش أخبارك
        | إيش أخبارك | وش أخبارك | شخبارك | كي داير | كيداير | لاباس | لا باس | لاباس عليك
        | سلامات | الحمد لله | الحمد لله بخير | بخير | ممكن سؤال | عندي سؤال | سؤال
        | ممكن أسألك | ممكن أسألك سؤال | عندي استفسار | ممكن استفسار | hi | hello | hey
        | good morning
    """,
    "thanks": """
        شكرا | شكرا جزيلا | شكرا لك | شكرا ليك | شكرا إلك | شكرا لكم | ألف شكر | الف شكر
        | مشكور | مشكورة | مشكورين | تسلم | تسلمي | تسلم إيدك | تسلم ايدك | تسلم يدك | يسلمو
        | يسلموا | يسلمو إيديك | يعطيك العافية | الله يعطيك العافية | يعطيك ألف عافية
        | جزاك الله خيرا | جزاك الله خير | جزاكم الله خيرا | جزاكم الله خير | الله يجزاك خير
        | الله يجزيك خير | بارك الله فيك | بارك الله فيكم | الله يبارك فيك | ممنون | ممنونك
        | متشكر | متشكرة | متشكرين | مرسي | ميرسي | merci | thanks | thank you | thx | ty
        | أحسنت | الله يخليك | الله يسعدك | كفيت ووفيت | ما قصرت | ما قصرت والله
        | على المعلومة | على المعلومات | على الإفادة | على المساعدة | على مساعدتك | على الرد
        | على ردك | على الجواب | على الإجابة | عالمعلومة | للمساعدة
    """,
    "goodbye": """
        مع السلامة | مع السلامه | في أمان الله | بأمان الله | الله معك | إلى اللقاء | الى اللقاء
        | باي | باي باي | يلا باي | bye | bye bye | goodbye | وداعا | تصبح على خير
        | تصبحون على خير | تصبحي على خير | أشوفك | نشوفك | نشوفك على خير | في رعاية الله
        | أستودعك الله | بالسلامة
    """,
    "about": """
        من أنت | مين أنت | مين انت | منو أنت | منو انت | شكون نتا | شو أنت | ايش أنت | إيش أنت
        | وش أنت | من تكون | شو بتعمل | ماذا تفعل | ماذا تستطيع أن تفعل | شو بتقدر تعمل
        | ايش تسوي | وش تسوي | ماذا يمكنك أن تفعل | ما عملك | ما وظيفتك | كيف أستخدمك
        | كيف استعملك | شو وظيفتك | ايش وظيفتك
    """,
}
#: Words that may stand anywhere in small talk without changing its kind.
_FILLERS = """
    يا أخي اخوي أخوي أختي حبيبي حبيبتي صديقي عزيزي الغالي غالي بوت البوت
    جزيلا كثير كتير كثيرا برشا بزاف واجد جدا والله وبركاته جميعا يا جماعة الجميع شباب
    مرة ثانية بجد ok okay
"""

_LETTERS = re.compile(r"[^\W\d_]+|\d+")
_REPEATS = re.compile(r"(.)\1+")
_MAX_WORDS = 12


def _key(word: str) -> str:
    """A word with repeated letters collapsed (شكراااا، الله → one form each), lowercased."""
    return _REPEATS.sub(r"\1", word.lower())


def _words(text: str) -> list[str]:
    return [_key(w) for w in _LETTERS.findall(normalize(text))]


_KIND_OF: dict[tuple[str, ...], str] = {}
for _kind, _text in _PHRASES.items():
    for _phrase in _text.split("|"):
        _words_of = tuple(_words(_phrase))
        if _words_of:
            _KIND_OF.setdefault(_words_of, _kind)
_FILLER_WORDS = frozenset(_words(_FILLERS))
_LONGEST = max(len(p) for p in _KIND_OF)
_PRIORITY = {"thanks": 0, "goodbye": 1, "about": 2, "salam": 3, "greeting": 4}


def small_talk(message: str) -> str | None:
    """The kind of small talk `message` is (one of `KINDS`), or None when it is anything else.

    A message of several kinds takes the most specific: thanks, then goodbye, then "who
    are you", then a salam, then another greeting («مرحبا، شكراً» is thanks). A message
    with any other word, a digit, or more than 12 words is None.
    """
    words = _words(message or "")
    if not words or len(words) > _MAX_WORDS:
        return None
    kinds: set[str] = set()
    i = 0
    while i < len(words):
        for size in range(min(_LONGEST, len(words) - i), 0, -1):
            phrase = tuple(words[i : i + size])
            kind = _KIND_OF.get(phrase)
            if kind is None and phrase[0].startswith("و") and len(phrase[0]) > 2:
                kind = _KIND_OF.get((phrase[0][1:], *phrase[1:]))  # وشكرا
            if kind is not None:
                kinds.add(kind)
                i += size
                break
        else:
            if words[i] not in _FILLER_WORDS:
                return None
            i += 1
    return min(kinds, key=_PRIORITY.__getitem__) if kinds else None
