"""What a reader's vote and an unanswered question are made of, before they reach the file.

    key = question_key(salt, "متى تبدأ زيارة لافروف؟")   # equal analyzed words, equal key
    row = answer_row(salt, question, answer, "private", now, store_question=True)
    voter_key(salt, user_id)                             # stands for the reader, one-way

The salt is made once per stats file (storage/stats_store.py) and never logged, so the
hashes cannot be matched against a list of user ids or questions without that file.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from retrieval.analyzer import analyze
from retrieval.search import Answer
from storage.feedback_store import AnswerRow

#: Hex digits kept of a hash: 64 bits, no collision in any realistic number of readers.
HASH_CHARS = 16


def _hash(salt: bytes, kind: str, value: str) -> str:
    return hmac.new(salt, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:HASH_CHARS]


def analyzed_form(question: str) -> str:
    """The question's index terms joined by spaces: what makes two questions equal."""
    return " ".join(analyze(question))


def question_key(salt: bytes, question: str) -> str:
    """A salted hash of the question's analyzed form (equal forms, equal keys)."""
    return _hash(salt, "q", analyzed_form(question))


def voter_key(salt: bytes, user_id: int) -> str:
    """A salted hash of a Telegram user id: one vote per reader, the id never stored."""
    return _hash(salt, "u", str(user_id))


def new_answer_id() -> str:
    """A random id for an answer, short enough for callback data (12 characters)."""
    return secrets.token_urlsafe(9)


def answer_row(
    salt: bytes,
    question: str,
    answer: Answer,
    chat_type: str,
    now: float,
    *,
    store_question: bool,
    answer_id: str | None = None,
) -> AnswerRow:
    """The row the stats file keeps for an answer sent (or a question with no answer)."""
    return AnswerRow(
        id=answer_id or new_answer_id(),
        at=now,
        chat_type=str(chat_type),
        question_key=question_key(salt, question),
        question=question.strip() if store_question else None,
        answered=bool(answer.results),
        shown=tuple((r.source, r.page, r.paragraph) for r in answer.results),
    )
