"""Turn answers into what people read: console text and JSON (Telegram HTML lives beside them)."""

from __future__ import annotations

import json

from retrieval.search import Answer, Result
from storage.store import SourceInfo

NO_ANSWER = (
    "لم أجد في الوثائق ما يجيب عن هذا السؤال.\n"
    "جرّب صياغة أخرى بكلمات أدق: اسم شخص أو مكان أو حدث، مثل: متى تبدأ زيارة لافروف؟"
)
HELP = (
    "أجيب عن أسئلتك بالعربية من مجموعة الوثائق: أبحث عن الفقرات التي تجيب عن السؤال "
    "وأعرض كل واحدة مقتبسة مع اسم الملف ورقم الفقرة.\n"
    "مثال: متى تبدأ زيارة لافروف؟"
)
BOLD, RESET = "\033[1m", "\033[0m"


def highlighted(result: Result, start_mark: str, end_mark: str) -> str:
    """The snippet with each matched word wrapped in the given marks."""
    out, pos = [], 0
    for start, end in result.highlights:
        out += [result.snippet[pos:start], start_mark, result.snippet[start:end], end_mark]
        pos = end
    out.append(result.snippet[pos:])
    return "".join(out)


def answer_to_console(answer: Answer, *, color: bool = False, offset: int = 0) -> str:
    """The answer as a person reads it in a terminal."""
    if answer.error:
        return answer.error
    if not answer.results:
        return NO_ANSWER
    marks = (BOLD, RESET) if color else ("", "")
    blocks = []
    for i, result in enumerate(answer.results, start=offset + 1):
        blocks.append(
            f"{i}. «{highlighted(result, *marks)}»\n"
            f"   — {result.source}، الفقرة {result.paragraph}"
        )
    return "\n\n".join(blocks)


def answer_to_json(answer: Answer) -> str:
    """One line of JSON (UTF-8, not ASCII-escaped)."""
    return json.dumps(answer.to_json(), ensure_ascii=False)


def sources_to_console(sources: list[SourceInfo]) -> str:
    """The indexed files, one per line."""
    if not sources:
        return "لا توجد وثائق مفهرسة بعد."
    lines = [f"الوثائق المفهرسة ({len(sources)}):"]
    lines += [f"• {s.path} — {s.title} ({s.paragraphs} فقرة)" for s in sources]
    return "\n".join(lines)
