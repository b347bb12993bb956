"""Spelling variants of foreign names: which words of the collection a question's words may also be.

Arabic news spells a foreign name many ways: the g-sound as غ ج ق ك, long vowels
written or left out, one word or two, ى / ي / ا at the end. Words are compared as
*forms* (normalised surface words, article and a leading و removed), not as stems:
the stemmer cuts names unpredictably (بوتين → «وت», فيسبوك → «يسبوك»).

A form's *key* folds the g-letters and drops the vowel letters; the index keeps the
key of every form of the collection, so a question finds its candidates with one
indexed lookup. Two forms with the same key are variants only when one turns into
the other by g-letter swaps and by writing or omitting vowel letters — a vowel never
moves — and both have at least `MIN_LETTERS` letters. So ترمب / ترامب and
شويجو / شويغو connect, while كتب / كتاب / كاتب stay apart (كتب is too short, and
كتاب → كاتب moves the ا). Only words in at most `RARE_SHARE` of the passages take
part (question words and variants alike): names, not the common vocabulary.

Measured (docs/benchmarks.md, "Spelling variants"): these rules keep the pooled R@1 of XQuAD-ar
and ARCD at or above the exact analyzer's.

    >>> is_variant("شويجو", "شويغو"), is_variant("كتاب", "كاتب")
    (True, False)
"""

from __future__ import annotations

import re
from itertools import chain
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from retrieval.analyzer import analyze_spans, normalize, run_terms, term_of
from retrieval.locate import locate

#: Bump when `form_of`, `key_of` or `collection_forms` can change: the variant index is
#: rebuilt at the next index run that changes something (bump storage's SCHEMA_VERSION
#: too, so that an unchanged collection is rebuilt as well).
VARIANTS_VERSION = "v1"
#: Shortest form that may have variants (shorter words are ordinary vocabulary).
MIN_LETTERS = 4
#: Shortest part of a name written as two words (فيس بوك).
MIN_PART = 3
#: Only words in at most this share of the passages (and at least RARE_MIN passages
#: are always allowed) take part: names, not the common vocabulary.
RARE_SHARE = 0.003
RARE_MIN = 50
#: Endings of ordinary Arabic words (teh marbuta, feminine plural): such forms never vary.
NATIVE_ENDINGS = ("ه", "ات")
G_LETTERS = frozenset("غجقك")
VOWELS = frozenset("اويء")
_G_FOLD = str.maketrans({c: "ك" for c in G_LETTERS})
_FOLD_LETTER = {c: "ك" for c in G_LETTERS}
_ARTICLES = ("وال", "بال", "كال", "فال", "لل", "ال")
_CLITICS = frozenset("بلكف")
_WORD = re.compile(r"\w+")
_ARABIC_WORD = re.compile(r"[\u0621-\u064A]+")


def _arabic_tokens(text: str) -> Iterator[str]:
    """The normalised tokens of `text` (as the analyzer splits it) made of Arabic letters only."""
    for token in _WORD.findall(normalize(text)):
        if _ARABIC_WORD.fullmatch(token):
            yield token


def form_of(token: str) -> str:
    """A normalised Arabic token without its article or leading و (وبيونغ → بيونغ)."""
    for article in _ARTICLES:
        if token.startswith(article) and len(token) - len(article) >= MIN_PART:
            return token[len(article):]
    if token[:1] == "و" and len(token) > MIN_LETTERS:
        return token[1:]
    return token


def key_of(form: str) -> str:
    """The skeleton of a form: g-letters folded to ك, vowel letters dropped."""
    return "".join(c for c in form.translate(_G_FOLD) if c not in VOWELS)


def is_variant(a: str, b: str) -> bool:
    """True when forms `a` and `b` differ only by g-letters and inner vowel letters.

    The first and the last letter never change (an initial ا is a hamza, not a long
    vowel; a changed final vowel is grammar: accusative «ـا», nisba «ـي», كوريا / كوري),
    and vowels are never added or left out at either end; a form ending in ة or ات is
    ordinary vocabulary (زيارة / زارة), and one starting with ا only varies its
    g-letters (ارسال / ارسل stay apart).
    """
    if a == b or min(len(a), len(b)) < MIN_LETTERS:
        return False
    if a.endswith(NATIVE_ENDINGS) or b.endswith(NATIVE_ENDINGS):
        return False
    fold = _FOLD_LETTER.get  # the end letters first: most candidates differ there
    if fold(a[0], a[0]) != fold(b[0], b[0]) or fold(a[-1], a[-1]) != fold(b[-1], b[-1]):
        return False
    a, b = a.translate(_G_FOLD), b.translate(_G_FOLD)
    if len(a) == len(b):
        return a == b
    if a[0] == "ا":  # hamza-initial: verbal nouns and elatives (ارسال / ارسل), g-letters only
        return False
    longer, shorter = (a, b) if len(a) > len(b) else (b, a)
    j = 0
    for c in longer:  # the shorter form is the longer one with some inner vowels left out
        if j < len(shorter) and c == shorter[j]:
            j += 1
        elif c not in VOWELS:
            return False
    return j == len(shorter)


def collection_forms(text: str) -> set[str]:
    """The forms of a text that the variant index keeps (Arabic, not stopwords, ≥ 3 letters).

    Splits on whitespace first (fast) and caches each chunk's forms: a chunk holds the
    same tokens as the analyzer finds there (punctuation separates them after `normalize`).
    """
    cache = _FORMS_CACHE
    if len(cache) >= _FORMS_CACHE_MAX:
        cache.clear()
    chunks = set(text.split())
    for chunk in [c for c in chunks if c not in cache]:
        kept = (_kept_form(token) for token in _WORD.findall(normalize(chunk)))
        cache[chunk] = tuple(form for form in kept if form is not None)
    return set(chain.from_iterable(map(cache.__getitem__, chunks)))


def document_forms(paragraphs: Iterable[tuple]) -> set[str]:
    """The forms of a document's indexed paragraphs, (number, heading, text, ...) each."""
    return collection_forms("\n".join(f"{p[1]}\n{p[2]}" for p in paragraphs))


def run_forms(run: str) -> tuple[str, ...]:
    """The kept forms of one raw run of word characters (`retrieval.analyzer.word_runs`).

    The indexer's workers already split every paragraph into runs: the forms of a
    document are the union of its runs' forms, equal to `document_forms`.
    """
    kept = (_kept_form(token) for token in _WORD.findall(normalize(run)))
    return tuple(form for form in kept if form is not None)


def _kept_form(token: str) -> str | None:
    """The form of a normalised token when the variant index keeps it, else None."""
    if len(token) < MIN_PART or not _ARABIC_WORD.fullmatch(token) or term_of(token) is None:
        return None
    form = form_of(token)
    return form if len(form) >= MIN_PART else None


# whitespace-separated chunk → its kept forms: indexing meets the same words again and again.
_FORMS_CACHE: dict[str, tuple[str, ...]] = {}
_FORMS_CACHE_MAX = 2_000_000


# --------------------------------------------------------------------------- questions

#: A group member: one term, or the two terms of a name written as two words.
Member = tuple[str, ...]


class Candidate(NamedTuple):
    """A form of the collection found under a key: its index term (a tuple: lookups make many)."""

    form: str
    term: str


@dataclass
class Expansion:
    """The variant members of each question term, and the forms they stand for."""

    members: dict[str, list[Member]] = field(default_factory=dict)
    forms: dict[str, set[str]] = field(default_factory=dict)  # variant term → matched forms
    asked: set[str] = field(default_factory=set)  # the question's own forms (not "other spellings")

    def add(self, term: str, member: Member, forms: Iterable[str]) -> None:
        """Let `member` also count for the question term `term`."""
        if member == (term,):
            return
        group = self.members.setdefault(term, [])
        if member not in group:
            group.append(member)
        for t, f in zip(member, forms):
            self.forms.setdefault(t, set()).add(f)

    def rare_only(self, df: dict[str, int], n_passages: int) -> Expansion:
        """The expansion without the question terms and members that are too common."""
        cap = rare_cap(n_passages)
        out = Expansion(asked=self.asked)
        for term, members in self.members.items():
            if df.get(term, 0) > cap:
                continue
            kept = [m for m in members if all(df.get(t, 0) <= cap for t in m)]
            if kept:
                out.members[term] = kept
        kept_terms = out.terms()
        out.forms = {t: forms for t, forms in self.forms.items() if t in kept_terms}
        return out

    def terms(self) -> set[str]:
        """Every index term a member uses."""
        return {t for group in self.members.values() for member in group for t in member}

    def aliases(self) -> dict[str, str]:
        """Each one-word member's term → the question term it spells."""
        return {m[0]: t for t, group in self.members.items() for m in group if len(m) == 1}

    def spellings_in(self, text: str, exclude: Iterable[str] = ()) -> list[str]:
        """The other spellings that occur in `text` (terms in `exclude` left out), in order.

        The question's own spelling behind a proclitic (لفيروس for فيروس) is not another
        spelling.
        """
        out: list[str] = []
        if not self.forms:
            return out
        skip = set(exclude)
        runs = locate(text, {form for forms in self.forms.values() for form in forms})
        if runs is None:  # a character the fast path lacks: every word
            spans = analyze_spans(text)
        else:  # only the words whose text holds one of the forms (retrieval/locate.py)
            spans = [(s, e, t) for s, e in runs for t in run_terms(text[s:e])]
        for start, end, term in spans:
            if term in self.forms and term not in skip:
                form = form_of(normalize(text[start:end]))
                own = not self.asked.isdisjoint(_single_forms(form))
                if form in self.forms[term] and form not in out and not own:
                    out.append(form)
        return out


def _question_tokens(text: str) -> list[tuple[str, str]]:
    """(form, index term) of the question's Arabic words that are not stopwords, in order."""
    out = []
    for token in _arabic_tokens(text):
        term = term_of(token)
        if term is not None:
            out.append((form_of(token), term))
    return out


def _single_forms(form: str) -> list[str]:
    """The form and, after a proclitic ب ل ك ف, the form without it."""
    forms = [form]
    if form[:1] in _CLITICS and len(form) > MIN_LETTERS:
        forms.append(form[1:])
    return forms


def _splits(form: str) -> Iterator[tuple[str, str]]:
    """Every cut of a form into two parts of at least `MIN_PART` letters."""
    for i in range(MIN_PART, len(form) - MIN_PART + 1):
        yield form[:i], form[i:]


def rare_cap(n_passages: int) -> float:
    """The most passages a term may be in and still take part in variants (names, not vocabulary)."""
    return max(RARE_MIN, RARE_SHARE * n_passages)


def question_keys(text: str, rare: Collection[str] | None = None) -> set[str]:
    """The keys to look up for a question: its words, adjacent pairs joined, long words cut.

    With `rare` (the question's index terms rare enough to vary, `rare_cap`), only the
    keys that can give those terms a variant: `Expansion.rare_only` drops the rest anyway.
    """
    tokens = _question_tokens(text)
    pairs = list(zip(tokens, tokens[1:]))
    if rare is not None:
        pairs = [(a, b) for a, b in pairs if a[1] in rare or b[1] in rare]
        tokens = [(form, term) for form, term in tokens if term in rare]
    keys = {key_of(f) for form, _ in tokens for f in _single_forms(form)}
    keys |= {key_of(f + b) for (a, _), (b, _) in pairs for f in _single_forms(a)}
    firsts = {key_of(a) for form, _ in tokens for a, _ in _splits(form)}
    # the collection's words may carry a proclitic (لترمب, لبيونغ يانغ): their keys start with it
    keys |= {c + k for k in keys | firsts for c in _CLITICS}
    keys |= firsts | {key_of(b) for form, _ in tokens for _, b in _splits(form)}
    return keys


def expand(text: str, found: dict[str, list[Candidate]]) -> Expansion:
    """The variants of the question's terms among `found` (key → the collection's forms).

    A word reaches the variants of its form; two adjacent words reach a form that writes
    them as one word (it then counts for both); a word reaches two words that write
    it in two parts, both of which must occur (a two-term member). A proclitic ب ل ك ف
    hides nothing: the question's word is also read without it (_single_forms), and
    the collection's forms are also found behind one (لترمب, «لبيونغ يانغ»).
    """
    tokens = _question_tokens(text)
    out = Expansion(asked={f for form, _ in tokens for f in _single_forms(form)})

    def variants(form: str) -> list[Candidate]:
        key = key_of(form)
        kept = [c for c in found.get(key, []) if c.form == form or is_variant(form, c.form)]
        for clitic in _CLITICS:  # the form written with a proclitic (لترمب for ترامب)
            kept += [
                c for c in found.get(clitic + key, [])
                if c.form[0] == clitic and len(c.form) > MIN_LETTERS
                and (c.form[1:] == form or is_variant(form, c.form[1:]))
            ]
        return kept

    def parts(form: str, first: bool = False) -> list[Candidate]:
        """The part as written, or with other g-letters (the first part also after a proclitic)."""
        key, folded, n = key_of(form), form.translate(_G_FOLD), len(form)
        # g-letter folding keeps lengths: compare only forms of the part's length.
        kept = [
            c for c in found.get(key, []) if len(c.form) == n and c.form.translate(_G_FOLD) == folded
        ]
        for clitic in _CLITICS if first else ():
            kept += [
                c for c in found.get(clitic + key, [])
                if len(c.form) == n + 1 and c.form[0] == clitic
                and c.form[1:].translate(_G_FOLD) == folded
            ]
        return kept

    for form, term in tokens:
        for f in _single_forms(form):
            for c in variants(f):
                if c.form != f:
                    out.add(term, (c.term,), [c.form])
        for a, b in _splits(form):
            for ca in parts(a, first=True):
                for cb in parts(b):
                    out.add(term, (ca.term, cb.term), [ca.form, cb.form])
    for (a, ta), (b, tb) in zip(tokens, tokens[1:]):
        for f in _single_forms(a):  # «لبيونغ يانغ» also reaches بيونجيانج
            for c in variants(f + b):
                out.add(ta, (c.term,), [c.form])
                out.add(tb, (c.term,), [c.form])
    return out
