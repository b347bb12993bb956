"""Turn answers into what people read: console text and JSON (Telegram HTML lives beside them)."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from retrieval.search import Answer, Result
from retrieval.snippets import ELLIPSIS
from storage.store import SourceInfo

if TYPE_CHECKING:  # annotations only: the stats and index modules are not needed to answer
    from bot.stats import StatsSnapshot
    from storage.feedback_store import QuestionGroup, VoteResult
    from storage.indexer import DocumentRead, IndexReport
    from storage.stats_store import History

NO_ANSWER = (
    "لم أجد في الوثائق ما يجيب عن هذا السؤال.\n"
    "جرّب صياغة أخرى بكلمات أدق: اسم شخص أو مكان أو حدث، مثل: متى تبدأ زيارة لافروف؟"
)
HELP = (
    "أجيب عن أسئلتك بالعربية من مجموعة الوثائق: أبحث عن الفقرات التي تجيب عن السؤال "
    "وأعرض كل واحدة مقتبسة مع اسم الملف ورقم الفقرة.\n"
    "مثال: متى تبدأ زيارة لافروف؟"
)
_ASK_LIKE = "اكتب سؤالك بالعربية، مثل: متى تبدأ زيارة لافروف؟"
#: Replies to small talk (retrieval.small_talk): greetings get how to ask.
SMALL_TALK = {
    "salam": "وعليكم السلام ورحمة الله وبركاته! أجيب عن الأسئلة من الوثائق المفهرسة. " + _ASK_LIKE,
    "greeting": "أهلاً وسهلاً! أجيب عن الأسئلة من الوثائق المفهرسة. " + _ASK_LIKE,
    "thanks": "العفو، يسعدني أن أساعد! إن كان لديك سؤال آخر فاكتبه.",
    "goodbye": "مع السلامة! عُد متى شئت واكتب سؤالك.",
    "about": HELP,
}
BOLD, RESET = "\033[1m", "\033[0m"

PARAGRAPHS = ("فقرة واحدة", "فقرتان", "فقرات", "فقرة")
DOCUMENTS = ("وثيقة واحدة", "وثيقتان", "وثائق", "وثيقة")
PASSAGES = ("مقطع واحد", "مقطعان", "مقاطع", "مقطعاً")
PAGES = ("صفحة واحدة", "صفحتان", "صفحات", "صفحة")


def count_ar(n: int, forms: tuple[str, str, str, str]) -> str:
    """A count with the noun form Arabic grammar asks for: 1, 2, 3–10, and 0 or 11+."""
    one, two, few, many = forms
    if n == 1:
        return one
    if n == 2:
        return two
    return f"{n} {few if 3 <= n <= 10 else many}"


def highlighted(
    result: Result, start_mark: str, end_mark: str, escape: Callable[[str], str] = str
) -> str:
    """The snippet with each matched word wrapped in the given marks (text passed through `escape`)."""
    out, pos = [], 0
    for start, end in result.highlights:
        out += [
            escape(result.snippet[pos:start]), start_mark, escape(result.snippet[start:end]), end_mark
        ]
        pos = end
    out.append(escape(result.snippet[pos:]))
    return "".join(out)


def citation(result: Result) -> str:
    """Where in its file a result is: «صفحة 12، الفقرة 3», or «الفقرة 3» without pages."""
    if result.page is None:
        return f"الفقرة {result.paragraph}"
    return f"صفحة {result.page}، الفقرة {result.paragraph}"


def variants_note(result: Result) -> str:
    """«وردت أيضاً بصيغة: …» when the paragraph spells a name of the question another way, else ""."""
    return f"وردت أيضاً بصيغة: {'، '.join(result.variants)}" if result.variants else ""


def answer_to_console(answer: Answer, *, color: bool = False, offset: int = 0) -> str:
    """The answer as a person reads it in a terminal."""
    if answer.error:
        return answer.error
    if answer.small_talk:
        return small_talk_text(answer.small_talk)
    if not answer.results:
        return NO_ANSWER
    marks = (BOLD, RESET) if color else ("", "")
    blocks = []
    for i, result in enumerate(answer.results, start=offset + 1):
        note = variants_note(result)
        blocks.append(
            f"{i}. «{highlighted(result, *marks)}»\n"
            f"   — {result.source}، {citation(result)}"
            + (f"\n   ({note})" if note else "")
        )
    return "\n\n".join(blocks)


def small_talk_text(kind: str) -> str:
    """The reply to a greeting, thanks, goodbye or "who are you" (plain text)."""
    return SMALL_TALK.get(kind, SMALL_TALK["greeting"])


#: json.dumps(..., ensure_ascii=False) builds an encoder per call; one is made here once
#: (an answer holds no cycles, so the circular-reference check is skipped: same output).
_JSON = json.JSONEncoder(ensure_ascii=False, check_circular=False)


def answer_to_json(answer: Answer) -> str:
    """One line of JSON (UTF-8, not ASCII-escaped)."""
    return _JSON.encode(answer.to_json())


def _size_ar(source: SourceInfo) -> str:
    """«12 صفحة، 40 فقرة» for a PDF, «40 فقرة» otherwise."""
    paragraphs = count_ar(source.paragraphs, PARAGRAPHS)
    return paragraphs if source.pages is None else f"{count_ar(source.pages, PAGES)}، {paragraphs}"


def sources_to_console(sources: list[SourceInfo]) -> str:
    """The indexed files, one per line."""
    if not sources:
        return "لا توجد وثائق مفهرسة بعد."
    lines = [f"الوثائق المفهرسة ({len(sources)}):"]
    lines += [f"• {s.path} — {s.title} ({_size_ar(s)})" for s in sources]
    return "\n".join(lines)


# --- Telegram (HTML parse mode) ------------------------------------------------------
# Everything taken from the documents or the question goes through html.escape; a
# message never exceeds TELEGRAM_LIMIT characters (counted in UTF-16 units, as Telegram
# does): quotes are cut in the plain text, then rendered, so no cut falls inside a tag.

TELEGRAM_LIMIT = 4096
MORE_LABEL = "المزيد"
FULL_TEXT_LABEL = "النص الكامل"
SEND_FILE_LABEL = "الملف"
NO_ANSWER_HTML = html.escape(NO_ANSWER)
ASK_HINT_HTML = "اكتب سؤالك بعد الأمر، مثل: <code>/ask متى تبدأ زيارة لافروف؟</code>"
SLOW_DOWN_HTML = (
    "تمهّل قليلاً من فضلك: وصلتني أسئلة كثيرة منك في دقيقة واحدة (الحد {limit}). "
    "سأجيب عن أسئلتك الجديدة بعد قليل."
)
ADMINS_ONLY_HTML = "هذا الأمر متاح لمشرفي البوت فقط."
UPLOAD_ADMINS_ONLY_HTML = "إضافة الوثائق متاحة لمشرفي البوت فقط. إن كان لديك سؤال فاكتبه نصاً."
PRIVATE_BOT_HTML = "هذا بوت خاص، ولا يعمل في هذه المحادثة."
NOT_TEXT_HTML = "أفهم الأسئلة المكتوبة فقط. اكتب سؤالك نصاً، مثل: متى تبدأ زيارة لافروف؟"
UNKNOWN_COMMAND_HTML = "لا أعرف هذا الأمر. اكتب /help لعرض طريقة الاستخدام."
UNEXPECTED_ERROR_HTML = "عذراً، حدث خطأ غير متوقع. حاول مرة أخرى بعد قليل."
REINDEX_STARTED_HTML = "بدأت إعادة الفهرسة… سأحدّث هذه الرسالة حتى تنتهي."
REINDEX_BUSY_HTML = "إعادة الفهرسة جارية الآن. انتظر حتى تنتهي ثم أعد المحاولة."
UPLOAD_RECEIVED_HTML = "استلمت الملف، أتحقق منه وأفهرسه…"
# Button and inline answers are plain text (no HTML), at most 200 characters.
STALE_BUTTON_TEXT = "انتهت صلاحية هذا الزر. أرسل سؤالك من جديد من فضلك."
NO_MORE_TEXT = "لا توجد نتائج أخرى لهذا السؤال."
FILE_GONE_TEXT = "لم يعد هذا الملف في مجموعة الوثائق."
FILE_TOO_BIG_TEXT = "الملف أكبر مما يسمح تيليغرام بإرساله (50 ميغابايت)."
PRIVATE_BOT_TEXT = "هذا بوت خاص."
ADMINS_ONLY_TEXT = "هذا الزر لمشرفي البوت فقط."
INLINE_NO_ANSWER_TEXT = "لا شيء في الوثائق عن هذا — اضغط للمساعدة"
VOTE_UP, VOTE_DOWN = "👍", "👎"
VOTE_EXPIRED_TEXT = "لم يعد تقييم هذه الإجابة ممكناً: إنها أقدم مما نحفظ. شكراً لك على كل حال."
VOTE_FAILED_TEXT = "تعذّر تسجيل تقييمك الآن. حاول مرة أخرى بعد قليل."
_VOTE_OUTCOMES = {
    "counted": "شكراً، سجّلت تقييمك {mark}",
    "changed": "غيّرت تقييمك إلى {mark}",
    "withdrawn": "سحبت تقييمك {mark}",
}
UNANSWERED_PAGE = 10
UNANSWERED_PRIVATE_ONLY_HTML = "هذا الأمر يعمل في محادثتك الخاصة مع البوت فقط."
UNANSWERED_NOT_KEPT_HTML = "لا تُحفظ الأسئلة في هذا التشغيل (لا ملف إحصاءات)."
INLINE_SMALL_TALK_TEXT = "أهلاً! اكتب سؤالك بعد اسم البوت — اضغط للمساعدة"
USER_COMMANDS = {
    "start": "ما الذي يفعله البوت",
    "help": "طريقة السؤال في المحادثات والمجموعات",
    "sources": "الوثائق المفهرسة",
    "ask": "اطرح سؤالاً (في المجموعات: ‎/ask سؤالك)",
}
ADMIN_COMMANDS = {
    "reindex": "إعادة فهرسة مجلد الوثائق",
    "stats": "إحصاءات الفهرس والأسئلة",
    "remove": "حذف وثيقة من المجموعة: ‎/remove اسم الملف",
    "lastindex": "تقرير آخر فهرسة",
    "unanswered": "الأسئلة التي بلا إجابة أو قُيّمت 👎",
}
REMOVE_HINT_HTML = (
    "اكتب اسم الملف بعد الأمر، مثل: <code>/remove تقرير 2024.pdf</code> "
    "(الأسماء في /sources)."
)
REMOVE_YES_LABEL = "نعم، احذفها"
REMOVE_NO_LABEL = "إلغاء"
REMOVE_CANCELLED_HTML = "ألغيت الحذف، ولم يتغير شيء."
REMOVE_GONE_HTML = "لم تعد هذه الوثيقة في المجموعة."
NO_INDEX_RUN_HTML = "لم تجرِ فهرسة منذ تشغيل البوت. أرسل /reindex لإجرائها الآن."
_STAGES = {"reading": "قراءة الملفات", "indexing": "فهرسة الملفات", "postings": "كتابة الفهرس"}
_REASONS = (  # the indexer's reasons for skipping a file, in Arabic
    ("too large", "كبير جداً"),
    ("unreadable", "تعذّرت قراءته"),
    ("binary file", "ملف ثنائي وليس نصاً"),
    ("not valid UTF-8", "ليس بترميز UTF-8"),
    ("empty", "فارغ"),
    ("broken link", "رابط معطوب"),
    ("link pointing outside the collection", "رابط يشير إلى خارج المجموعة"),
    ("not a regular file", "ليس ملفاً عادياً"),
    ("linked folder", "مجلد مرتبط لا أتبعه (ملفاته مفهرسة في مكانها)"),
)
# Reasons of the document readers (storage.formats), recognised by a word they contain,
# most specific first.
_READER_REASONS = (
    ("ZIP bomb", "يتمدد عند فكّه إلى حجم هائل (قد يكون قنبلة ZIP): مرفوض"),
    ("ZIP members", "فيه ملفات داخلية أكثر من الحد: مرفوض"),
    ("password needed", "الملف محمي بكلمة مرور"),
    ("DRM", "كتاب محمي بإدارة الحقوق الرقمية (DRM): مرفوض"),
    ("macro", "ملف بوحدات ماكرو: مرفوض"),
    (".doc", "صيغة Word قديمة (‎.doc): احفظه بصيغة ‎.docx"),
    ("RTF", "صيغة RTF غير مدعومة: احفظه بصيغة ‎.docx"),
    ("presentations", "العروض التقديمية غير مدعومة: صدّره بصيغة PDF"),
    ("spreadsheets", "جداول البيانات غير مدعومة"),
    ("unsupported", "صيغة غير مدعومة"),
    ("content is", "محتواه لا يطابق امتداده"),
    ("no text layer", "صفحاته مصوّرة بلا نص، وقراءتها تحتاج التعرف الضوئي على الحروف "
     "(ثبّت tesseract-ocr وtesseract-ocr-ara)"),
    ("OCR of a page took longer", "استغرق التعرف الضوئي على إحدى صفحاته وقتاً أطول من الحد"),
    ("OCR failed", "تعذّر التعرف الضوئي على حروفه"),
    ("too many pages", "صفحاته أكثر من الحد"),
    ("PDF has no pages", "ملف PDF بلا صفحات"),
    ("HTML page too large", "صفحة الويب كبيرة جداً"),
    ("no article text", "لم أجد في الصفحة نص مقال"),
    ("no text", "لم أجد فيه نصاً"),
    ("took longer", "استغرقت قراءته وقتاً أطول من الحد"),
    ("needs more than", "تحتاج قراءته ذاكرة أكثر من الحد"),
    ("nested too deeply", "بنيته متداخلة أكثر من الحد"),
    ("damaged", "الملف تالف أو ناقص"),
    ("not a", "الملف تالف أو ليس بالصيغة التي يقولها امتداده"),
    ("cannot be parsed", "الملف تالف أو ليس بالصيغة التي يقولها امتداده"),
    ("the reader crashed", "تعذّرت قراءته (قد يكون تالفاً)"),
    ("could not be read", "تعذّرت قراءته (قد يكون تالفاً)"),
)
_NAME_CHARS = 120


def tg_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def _esc(text: str) -> str:
    return html.escape(text, quote=False)


def _short(text: str, limit: int = _NAME_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + ELLIPSIS


def _cut(result: Result, chars: int) -> Result:
    """The result with its snippet cut to about `chars` characters, between words, plus «…»."""
    text = result.snippet
    if chars >= len(text):
        return result
    cut = text[: max(chars, 0)]
    space = cut.rfind(" ")
    if space > len(cut) - 30:
        cut = cut[:space]
    cut = cut.rstrip()
    keep = [(s, e) for s, e in result.highlights if e <= len(cut)]
    return replace(result, snippet=(cut + " " + ELLIPSIS) if cut else ELLIPSIS, highlights=keep)


def quote_html(result: Result, budget: int | None = None) -> str:
    """The snippet escaped, matched words in <b>, cut so that it takes at most `budget`."""
    full = highlighted(result, "<b>", "</b>", _esc)
    if budget is None or tg_len(full) <= budget:
        return full
    best, lo, hi = _esc(ELLIPSIS), 0, len(result.snippet) - 1
    while lo <= hi:  # the longest cut that fits
        mid = (lo + hi) // 2
        candidate = highlighted(_cut(result, mid), "<b>", "</b>", _esc)
        if tg_len(candidate) <= budget:
            best, lo = candidate, mid + 1
        else:
            hi = mid - 1
    return best


def source_html(result: Result, number: int | None = None) -> str:
    """`N. <code>file</code> — «صفحة G، الفقرة P»` («الفقرة P» for formats without pages)."""
    prefix = f"{number}. " if number is not None else ""
    return f"{prefix}<code>{_esc(_short(result.source))}</code> — «{citation(result)}»"


def _blocks(results: list[Result], first: int, limit: int) -> str | None:
    """The results as quote + source blocks within `limit`, or None when they cannot fit."""
    sources = [
        source_html(r, n) + (f"\n<i>{_esc(variants_note(r))}</i>" if r.variants else "")
        for n, r in enumerate(results, start=first)
    ]
    fixed = sum(tg_len(f"<blockquote></blockquote>\n{s}") for s in sources) + 2 * (len(results) - 1)
    available = limit - fixed
    if available < 60 * len(results):
        return None
    quotes = [quote_html(r) for r in results]
    sizes = [tg_len(q) for q in quotes]
    budgets = [0] * len(results)
    for k, i in enumerate(sorted(range(len(results)), key=sizes.__getitem__)):
        budgets[i] = min(sizes[i], available // (len(results) - k))  # fair share, shortest first
        available -= budgets[i]
    text = "\n\n".join(
        f"<blockquote>{q if b >= size else quote_html(r, b)}</blockquote>\n{s}"
        for r, q, size, b, s in zip(results, quotes, sizes, budgets, sources)
    )
    return text if tg_len(text) <= limit else None


def answer_to_html(answer: Answer, *, offset: int = 0, limit: int = TELEGRAM_LIMIT) -> str:
    """The answer as one Telegram HTML message: each result quoted with its source."""
    if answer.error:
        return _esc(answer.error)
    if answer.small_talk:
        return _esc(small_talk_text(answer.small_talk))
    results = list(answer.results)
    while results:
        text = _blocks(results, offset + 1, limit)
        if text is not None:
            return text
        results.pop()
    return NO_ANSWER_HTML


def small_talk_html(kind: str) -> str:
    """The reply to small talk as Telegram HTML."""
    return _esc(small_talk_text(kind))


def result_to_html(result: Result, limit: int = TELEGRAM_LIMIT) -> str:
    """One result (chosen from inline mode): the quoted snippet and its source."""
    return _blocks([result], 1, limit) or source_html(result)


def paragraph_to_html(result: Result, limit: int = TELEGRAM_LIMIT) -> str:
    """The whole paragraph of a result, cut with «…» if it would not fit."""
    head = source_html(result)
    whole = replace(result, snippet=result.text, highlights=[])
    budget = limit - tg_len(f"{head}\n<blockquote></blockquote>")
    return f"{head}\n<blockquote>{quote_html(whole, budget)}</blockquote>"


def file_caption(result: Result) -> str:
    """The caption of a source file sent to a reader: where the quoted paragraph is."""
    return _short(f"{result.source} — {citation(result)}", 1000)


def plain_snippet(result: Result, chars: int = 200) -> str:
    """The snippet as plain text (inline-mode descriptions)."""
    return _short(result.snippet, chars)


def inline_title(result: Result) -> str:
    """Title of an inline result: file and paragraph."""
    return f"{_short(result.source, 80)} — {citation(result)}"


def _lines_within(head: list[str], items: list[str], limit: int) -> str:
    """`head` then as many `items` as fit in `limit`, then «… و N أخرى»."""
    lines = list(head)
    for i, item in enumerate(items):
        rest = len(items) - i - 1
        tail = f"\n… و{rest} أخرى" if rest else ""
        if tg_len("\n".join(lines + [item]) + tail) > limit:
            lines.append(f"… و{len(items) - i} أخرى")
            break
        lines.append(item)
    return "\n".join(lines)


def help_html(username: str, *, admin: bool = False, feedback: bool = True) -> str:
    """/start and /help: what the bot does and how to ask, everywhere (`feedback`: 👍 / 👎)."""
    bot = f"@{_esc(username)}" if username else "اسم البوت"
    lines = [
        _esc(HELP),
        "",
        "<b>في محادثة خاصة:</b> اكتب سؤالك مباشرة.",
        (
            f"<b>في المجموعات:</b> اكتب <code>/ask سؤالك</code>، أو اذكرني ({bot}) في رسالتك، "
            "أو ردّ على إحدى رسائلي. لا أقرأ غير ذلك."
        ),
        f"<b>في القنوات:</b> إن كنت مشرفاً في القناة أجيب عن منشور يبدأ بـ /ask أو يذكرني ({bot}).",
        f"<b>في أي محادثة:</b> اكتب {bot} ثم سؤالك واختر فقرة لإرسالها.",
        "",
        "تحت كل إجابة: «المزيد» لنتائج أخرى، و«النص الكامل» للفقرة كاملة"
        + (f"، و{VOTE_UP} / {VOTE_DOWN} لتقول هل أفادتك الإجابة." if feedback else "."),
        "/sources — الوثائق المفهرسة",
    ]
    if admin:
        lines += [
            "",
            "<b>للمشرفين:</b>",
            "/reindex — إعادة فهرسة مجلد الوثائق",
            "/stats — إحصاءات الفهرس والأسئلة",
            "/remove اسم الملف — حذف وثيقة من المجموعة (بعد التأكيد)",
            "/lastindex — تقرير آخر فهرسة",
            f"/unanswered — الأسئلة التي بلا إجابة أو قُيّمت {VOTE_DOWN}: ما ينقص الوثائق",
            (
                "أرسل ملف PDF أو Word ‏(‎.docx) أو صفحة ويب (‎.html) أو كتاباً (‎.epub أو ‎.odt) "
                "أو نصاً (‎.txt أو ‎.md) "
                "في هذه المحادثة لإضافته إلى الوثائق؛ "
                "ولاستبدال ملف موجود بالاسم نفسه اكتب في التعليق «استبدال»."
            ),
        ]
    return "\n".join(lines)


def sources_to_html(sources: list[SourceInfo], limit: int = TELEGRAM_LIMIT) -> str:
    """/sources: the indexed files with their titles and paragraph counts."""
    if not sources:
        return "لا توجد وثائق مفهرسة بعد."
    items = [
        f"• <code>{_esc(_short(s.path))}</code> — {_esc(_short(s.title, 150))} ({_size_ar(s)})"
        for s in sources
    ]
    return _lines_within([f"<b>الوثائق المفهرسة ({len(sources)}):</b>"], items, limit)


def skip_reason_ar(reason: str) -> str:
    """The indexer's reason for skipping a file, in Arabic (unknown reasons as they are)."""
    for english, arabic in _REASONS:
        if reason.startswith(english):
            numbers = re.findall(r"\d+", reason[len(english):])
            if english == "too large" and len(numbers) == 2:
                return f"{arabic} ({numbers[0]} بايت، والحد {numbers[1]})"
            if english == "not valid UTF-8" and numbers:
                return f"{arabic} (عند البايت {numbers[0]})"
            return arabic
    for word, arabic in _READER_REASONS:
        if word in reason:
            numbers = re.findall(r"\d+", reason)
            if word == "too many pages" and len(numbers) == 2:
                return f"{arabic} ({numbers[0]} صفحة، والحد {numbers[1]})"
            return arabic
    return reason


def progress_html(stage: str, done: int, total: int) -> str:
    """The progress message of a running reindex."""
    name = _STAGES.get(stage, stage)
    counter = f" ({done}/{total})" if total else ""
    return f"إعادة الفهرسة جارية… {_esc(name)}{counter}"


def report_to_html(report: IndexReport, limit: int = TELEGRAM_LIMIT) -> str:
    """The end of a reindex: files, passages, skipped files with reasons, seconds."""
    head = [
        f"<b>اكتملت إعادة الفهرسة</b> في {report.seconds:.1f} ثانية.",
        (
            f"الملفات: {len(report.indexed)} مفهرسة أو محدّثة، {report.unchanged} دون تغيير، "
            f"{len(report.removed)} محذوفة."
        ),
        (
            f"الفهرس الآن: {count_ar(report.documents, DOCUMENTS)}، "
            f"{count_ar(report.paragraphs, PARAGRAPHS)}، {count_ar(report.passages, PASSAGES)}."
        ),
    ]
    if report.pdf_pages:
        ocr = (
            f"، منها {count_ar(report.ocr_pages, PAGES)} بالتعرف الضوئي في "
            f"{report.ocr_seconds:.0f} ثانية" if report.ocr_pages else ""
        )
        head.append(f"صفحات PDF المقروءة: {report.pdf_pages}{ocr}.")
    if report.rebuilt:
        head.append("(أعيد بناء الفهرس كاملاً.)")
    if not report.changed:
        head.append("لم يتغير شيء في المجموعة.")
    if not report.skipped:
        return "\n".join(head + ["الملفات المتخطاة: لا شيء."])
    items = [
        f"• <code>{_esc(_short(p))}</code>: {_esc(skip_reason_ar(r))}" for p, r in report.skipped
    ]
    return _lines_within(head + [f"<b>الملفات المتخطاة ({len(report.skipped)}):</b>"], items, limit)


def remove_confirm_html(source: SourceInfo) -> str:
    """The question an admin answers before a document leaves the collection."""
    return (
        f"هل تريد حذف <code>{_esc(_short(source.path))}</code> ({_size_ar(source)}) "
        "من المجموعة؟ سيُنقل الملف إلى مجلد المحذوفات بجانب الفهرس، ولن تظهر فقراته في الإجابات."
    )


def remove_not_found_html(name: str, similar: list[SourceInfo]) -> str:
    """/remove with a name that is no indexed file (and the files whose path contains it)."""
    text = f"لا توجد في المجموعة وثيقة باسم <code>{_esc(_short(name))}</code>."
    if similar:
        text += "\nهل تقصد:\n" + "\n".join(f"• <code>{_esc(_short(s.path))}</code>" for s in similar)
    return text


def removed_html(source: str, report: IndexReport) -> str:
    """A document taken out of the collection, and the index after it."""
    return (
        f"حذفت <code>{_esc(_short(source))}</code> من المجموعة (نُقل إلى مجلد المحذوفات).\n"
        f"الفهرس الآن: {count_ar(report.documents, DOCUMENTS)}، "
        f"{count_ar(report.passages, PASSAGES)}."
    )


def reindex_failed_html(reason: str) -> str:
    """A reindex that could not run."""
    return f"تعذّرت إعادة الفهرسة: {_esc(_short(reason, 500))}"


def upload_refused_html(reason: str) -> str:
    """An upload that was not accepted, with the reason."""
    return f"لم أقبل الملف: {_esc(reason)}"


def upload_saved_html(name: str, replaced: bool, report: IndexReport) -> str:
    """An upload saved into the collection and indexed (or skipped by the indexer)."""
    action = "استبدلت الملف" if replaced else "حفظت الملف"
    skipped = dict(report.skipped).get(name)
    if skipped is not None:
        return (
            f"{action} <code>{_esc(name)}</code> لكن الفهرسة تخطته: "
            f"{_esc(skip_reason_ar(skipped))}."
        )
    lines = [f"{action} <code>{_esc(name)}</code> وفهرسته."]
    read = report.read.get(name)
    if read is not None:
        lines.append(f"قرأت منه {document_read_ar(read)}.")
    lines.append(
        f"الفهرس الآن: {count_ar(report.documents, DOCUMENTS)}، "
        f"{count_ar(report.passages, PASSAGES)}."
    )
    return "\n".join(lines)


def document_read_ar(read: DocumentRead) -> str:
    """«12 صفحة و40 فقرة (3 صفحات بالتعرف الضوئي في 14 ثانية)» — what one file gave."""
    text = count_ar(read.paragraphs, PARAGRAPHS)
    if read.pages is not None:
        text = f"{count_ar(read.pages, PAGES)} و{text}"
    if read.ocr_pages:
        text += (
            f" ({count_ar(read.ocr_pages, PAGES)} بالتعرف الضوئي على الحروف"
            f" في {read.ocr_seconds:.0f} ثانية)"
        )
    return text


CHAT_TYPES_AR = {"private": "خاصة", "group": "مجموعات", "supergroup": "مجموعات", "channel": "قنوات"}


def _ms(seconds: float | None, about: str = "") -> str:
    return "—" if seconds is None else f"{about}{seconds * 1000:.0f} ملّي ثانية"


def _by_chat_type(counts: dict[str, int]) -> str:
    """«خاصة 12، مجموعات 3» (group and supergroup counted together)."""
    named: dict[str, int] = {}
    for chat_type, n in counts.items():
        name = CHAT_TYPES_AR.get(chat_type, chat_type)
        named[name] = named.get(name, 0) + n
    return "، ".join(f"{_esc(name)} {n}" for name, n in named.items()) or "—"


def stats_to_html(
    counts: dict[str, int], stats: StatsSnapshot, history: History | None = None
) -> str:
    """/stats: the index, the questions since the bot started and since the first day kept."""
    from storage.stats_store import BUCKET_ERROR  # here: answering never needs the stats store

    lines = [
        "<b>الإحصاءات</b>",
        f"الوثائق: {counts.get('documents', 0)}",
        f"الفقرات: {counts.get('paragraphs', 0)}",
        f"المقاطع: {counts.get('passages', 0)}",
        "",
        f"الأسئلة منذ التشغيل: {stats.questions}",
        f"بلا إجابة: {stats.unanswered_share:.0%} ({stats.unanswered})",
        f"زمن الإجابة: الوسيط {_ms(stats.p50)}، والمئين 95 {_ms(stats.p95)}",
        f"حسب نوع المحادثة: {_by_chat_type(stats.by_chat_type)}",
        f"التقييمات: {VOTE_UP} {stats.up}، {VOTE_DOWN} {stats.down}",
    ]
    if history is None:
        return "\n".join(lines)
    first = history.first_day or history.since[:10]
    lines += [
        "",
        f"الأسئلة منذ أول يوم ({first}): {history.questions}",
        f"أيام فيها أسئلة: {history.days}",
        f"بلا إجابة: {history.unanswered_share:.0%} ({history.unanswered})",
        f"زمن الإجابة: الوسيط {_ms(history.p50, 'نحو ')}، والمئين 95 {_ms(history.p95, 'نحو ')}"
        f" (بدقة ±{BUCKET_ERROR:.0%})",
        f"حسب نوع المحادثة: {_by_chat_type(history.by_chat_type)}",
        f"التقييمات: {VOTE_UP} {history.up}، {VOTE_DOWN} {history.down}",
    ]
    if history.lost is not None:
        lines.append(
            f"⚠️ ضاع ما سُجّل قبل {history.lost.at} (UTC): كان ملف الإحصاءات تالفاً فنُقل إلى"
            f" <code>{_esc(history.lost.moved_to)}</code> وبدأ العدّ من جديد."
        )
    return "\n".join(lines)


def vote_label(value: int, count: int) -> str:
    """«👍» or «👍 3»: a vote button with the votes it has."""
    mark = VOTE_UP if value > 0 else VOTE_DOWN
    return f"{mark} {count}" if count else mark


def vote_answer_text(result: VoteResult) -> str:
    """The short answer to a 👍 / 👎 press: counted, changed or withdrawn."""
    mark = VOTE_UP if result.vote > 0 else VOTE_DOWN
    return _VOTE_OUTCOMES[result.outcome].format(mark=mark)


def _utc(at: float) -> str:
    return datetime.fromtimestamp(at, timezone.utc).strftime("%Y-%m-%d %H:%M")


def unanswered_html(
    groups: list[QuestionGroup],
    total: int,
    offset: int,
    days: int,
    *,
    texts_kept: bool,
    limit: int = TELEGRAM_LIMIT,
) -> str:
    """/unanswered: equal questions that got no answer or a 👎, with counts and last time."""
    if not total:
        return f"لا أسئلة بلا إجابة أو بتقييم {VOTE_DOWN} في آخر {days} يوماً."
    head = [
        f"<b>أسئلة بلا إجابة أو بتقييم {VOTE_DOWN}</b> (آخر {days} يوماً، الأحدث أولاً؛"
        f" {offset + 1}–{offset + len(groups)} من {total}):"
    ]
    if not texts_kept:
        head.append(
            "نصوص الأسئلة لا تُحفظ (STORE_QUESTIONS=0): الأسئلة المتساوية مجمّعة ببصمة كلماتها."
        )
    items = []
    for n, g in enumerate(groups, start=offset + 1):
        what = (
            f"«{_esc(_short(g.question, 300))}»" if g.question
            else f"سؤال بلا نص محفوظ (بصمة <code>{_esc(g.key[:8])}</code>)"
        )
        items.append(
            f"{n}. {what}\n    {g.count} مرة: بلا إجابة {g.no_answer}، {VOTE_DOWN} {g.down}"
            f" — آخرها {_utc(g.last)} (UTC)"
        )
    return _lines_within(head, items, limit)


def admin_error_html(where: str, detail: str) -> str:
    """The short note admins get when an update fails (`detail`: the error, secrets removed)."""
    return f"⚠️ خطأ أثناء معالجة {_esc(where)}:\n<code>{_esc(_short(detail, 300))}</code>"
