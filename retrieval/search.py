"""Answer a question from an index: BM25 over passages, one result per paragraph.

The index is anything with the `IndexReader` methods (the SQLite store implements
them); this module knows nothing of SQL.

    searcher = Searcher(store)
    answer = searcher.search("متى تبدأ زيارة لافروف؟", top=3)
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from retrieval.analyzer import analyze, has_words
from retrieval.bm25 import BM25Params, CollectionStats, idf, raw_idf
from retrieval.passages import passage_terms
from retrieval.rerank import Candidate as RerankCandidate
from retrieval.rerank import Reranker, Scored
from retrieval.snippets import make_snippet
from retrieval.topk import GroupPostings, group_postings, rank_paragraphs, score_terms
from retrieval.variants import Candidate, Expansion, expand, question_keys, rare_cap

__all__ = ["Answer", "QuestionError", "Result", "Searcher", "check_question", "score_terms"]

MAX_QUESTION_CHARS = 1000
#: "No answer" when the best passage covers less than this share of the question's
#: idf mass and holds no phrase of the question (two of its words side by side). Chosen
#: with `python -m benchmarks.quality --sweep` (and `--pooled --sweep`): the lowest
#: round value that refuses at least 90 % of the off-topic questions in a collection of
#: one set's paragraphs; docs/benchmarks.md (section 2) says what it costs on real questions.
DEFAULT_MIN_COVERAGE = 0.30


class QuestionError(ValueError):
    """The question cannot be searched; `code` says why, `str()` is for the reader."""

    MESSAGES = {
        "empty": "السؤال فارغ. اكتب سؤالك بالعربية، مثل: متى تبدأ زيارة لافروف؟",
        "too_long": f"السؤال طويل جداً (الحد {MAX_QUESTION_CHARS} حرف). اختصره في جملة أو جملتين.",
        "no_words": "لم أجد في السؤال كلمات أبحث بها. اكتب سؤالك بالكلمات، مثل: من هي وزيرة خارجية كوريا الشمالية؟",
    }

    def __init__(self, code: str):
        super().__init__(self.MESSAGES[code])
        self.code = code


class Snapshot(Protocol):
    stats: CollectionStats
    params: BM25Params
    lengths: np.ndarray
    paragraph_of: np.ndarray


class IndexReader(Protocol):
    """What the searcher needs from an index."""

    def read(self) -> AbstractContextManager[Any]:
        """A consistent, thread-safe view of one generation of the index."""
        ...
    def snapshot(self) -> Snapshot: ...
    def postings(self, terms: Iterable[str]) -> dict[str, Any]: ...
    def variant_forms(self, keys: Iterable[str]) -> dict[str, list[Candidate]]: ...
    def passages(self, passage_ids: Iterable[int]) -> dict[int, Any]: ...


@dataclass(frozen=True)
class Result:
    """One answering paragraph."""

    source: str
    paragraph: int
    score: float
    text: str
    snippet: str
    highlights: list[tuple[int, int]]
    passage_id: int
    paragraph_id: int
    variants: list[str] = field(default_factory=list)  # spellings matched other than the question's
    page: int | None = None  # 1-based page (PDF); `paragraph` is then counted within the page

    def to_json(self) -> dict[str, Any]:
        """The public JSON shape of a result ("variants" only when a variant spelling matched)."""
        out = {
            "source": self.source,
            "page": self.page,
            "paragraph": self.paragraph,
            "score": self.score,
            "text": self.text,
            "snippet": self.snippet,
            "highlights": [list(h) for h in self.highlights],
        }
        if self.variants:
            out["variants"] = list(self.variants)
        return out


@dataclass
class Answer:
    """What a question gets: results (maybe none), or an error when it was unusable."""

    query: str
    results: list[Result] = field(default_factory=list)
    error: str | None = None
    terms: list[str] = field(default_factory=list)
    coverage: float = 0.0
    phrase: bool = False  # the best passage holds two question words side by side (if tested)
    has_more: bool = False
    probability: float | None = None  # reranker's P(the best answers) (None: BM25 order)
    small_talk: str | None = None  # a greeting, thanks… (retrieval.small_talk): not searched

    def to_json(self) -> dict[str, Any]:
        """The public JSON shape of an answer ("small_talk" only for small talk)."""
        out = {
            "query": self.query,
            "results": [r.to_json() for r in self.results],
            "error": self.error,
        }
        if self.small_talk:
            out["small_talk"] = self.small_talk
        return out


def check_question(question: str) -> str:
    """Return the question stripped, or raise QuestionError when it cannot be searched."""
    text = (question or "").strip()
    if not text:
        raise QuestionError("empty")
    if len(text) > MAX_QUESTION_CHARS:
        raise QuestionError("too_long")
    if not has_words(text):
        raise QuestionError("no_words")
    return text


class Searcher:
    """BM25Okapi search over an index, exact to rank-bm25's scores; optionally reranked.

    With a `reranker` (retrieval/rerank.py) the first `reranker.depth` BM25 paragraphs
    are reordered by it (the rest follow in BM25 order, so pages stay consistent);
    "no answer" follows the model file's `no_answer_rule`: the coverage / phrase rule of
    BM25 order ("coverage", shipped) or the no-answer model's probability under
    `reranker.threshold` ("model").
    """

    def __init__(
        self,
        index: IndexReader,
        *,
        min_coverage: float = DEFAULT_MIN_COVERAGE,
        prune: bool = True,
        variants: bool = False,
        explain: bool = False,
        reranker: Reranker | None = None,
    ):
        self.index = index
        self.reranker = reranker
        self.min_coverage = min_coverage
        self.prune = prune  # exact either way; False scores every posting (for comparison)
        self.variants = variants  # also match other spellings of foreign names (not BM25Okapi then)
        # Also run the phrase test when the coverage alone answers (for threshold sweeps);
        # otherwise `Answer.phrase` is only computed for a weak best passage.
        self.explain = explain

    def _postings(
        self, text: str, terms: list[str], snap: Snapshot
    ) -> tuple[Expansion, dict[str, Any], dict[str, GroupPostings]]:
        """Postings of the question's terms and, with variants on, its terms' spelling groups."""
        postings = self.index.postings(terms)
        if not self.variants:
            return Expansion(), postings, {}
        # Only rare terms take part (Expansion.rare_only): look up the keys of those alone.
        cap = rare_cap(snap.stats.n_passages)
        rare = {t for t in terms if t not in postings or postings[t].df <= cap}
        if not rare:
            return Expansion(), postings, {}
        expansion = expand(text, self.index.variant_forms(question_keys(text, rare)))
        postings = {**postings, **self.index.postings(sorted(expansion.terms() - postings.keys()))}
        expansion = expansion.rare_only({t: p.df for t, p in postings.items()}, snap.stats.n_passages)
        groups = {
            t: group_postings([(t,), *members], snap, postings)
            for t, members in expansion.members.items()
        }
        return expansion, postings, groups

    def search(self, question: str, top: int = 3, offset: int = 0) -> Answer:
        """Top `top` paragraphs after the first `offset`, or an Answer with `error` set."""
        try:
            text = check_question(question)
        except QuestionError as exc:
            return Answer(query=question, error=str(exc))
        terms = analyze(text)
        answer = Answer(query=question, terms=terms)
        if not terms:
            return answer
        with self.index.read():
            snap = self.index.snapshot()
            expansion, postings, groups = self._postings(text, terms, snap)
            depth = max(offset + top, self.reranker.depth) if self.reranker else offset + top
            ranked, answer.has_more = rank_paragraphs(
                terms, snap, postings, depth, prune=self.prune, groups=groups
            )
            if not ranked:
                return answer
            weights = _term_weights(terms, snap, postings)
            if self.reranker is not None:
                return self._reranked(
                    answer, text, (offset, top), ranked, weights, snap, postings, groups, expansion
                )
            best = ranked[0][0]
            answer.coverage = _coverage(best, weights, postings, groups)
            if answer.coverage < self.min_coverage or self.explain:
                rec = self.index.passages([best])[best]
                window = passage_terms(rec.heading, rec.paragraph_text[rec.start : rec.end])
                answer.phrase = has_phrase(terms, window, expansion.aliases())
            if answer.coverage < self.min_coverage and not answer.phrase:
                answer.has_more = False
                return answer
            chosen = ranked[offset : offset + top]
            records = self.index.passages(pid for pid, _ in chosen)
        _add_results(answer, [(pid, score, None) for pid, score in chosen], records, weights,
                     postings, expansion)
        return answer

    def _reranked(
        self,
        answer: Answer,
        text: str,
        page: tuple[int, int],
        ranked: list[tuple[int, float]],
        weights: dict[str, float],
        snap: Snapshot,
        postings: dict[str, Any],
        groups: dict[str, GroupPostings],
        expansion: Expansion,
    ) -> Answer:
        """Stage 2 (inside the read): reorder the first candidates, decide, build results."""
        reranker = self.reranker
        assert reranker is not None
        offset, top = page
        records = self.index.passages(pid for pid, _ in ranked)  # one query for all
        head = ranked[: reranker.depth]
        candidates = [
            RerankCandidate(pid, score, rec.heading, rec.paragraph_text[rec.start : rec.end],
                            rec.paragraph_number, float(snap.lengths[pid]))
            for pid, score in head
            for rec in (records[pid],)
        ]
        aliases = expansion.aliases()
        ranking = reranker.rerank(
            text, answer.terms, weights, candidates, snap.params, snap.stats.avgdl,
            unseen=frozenset(t for t in weights if t not in postings and t not in groups),
            aliases=aliases,
        )
        tail = [Scored(pid, score, 0.0, None) for pid, score in ranked[reranker.depth :]]
        order = ranking.order + tail
        answer.probability = ranking.probability
        # Today's signals, on BM25's best passage as without the reranker.
        best = ranked[0][0]
        answer.coverage = _coverage(best, weights, postings, groups)
        if answer.coverage < self.min_coverage or self.explain:
            rec = records[best]
            window = passage_terms(rec.heading, rec.paragraph_text[rec.start : rec.end])
            answer.phrase = has_phrase(answer.terms, window, aliases)
        if reranker.no_answer_rule == "model":
            refused = answer.probability < reranker.threshold
        else:  # "coverage": the same decision as BM25 order (see Reranker.no_answer_rule)
            refused = answer.coverage < self.min_coverage and not answer.phrase
        if refused:
            answer.has_more = False
            return answer
        answer.has_more = answer.has_more or len(order) > offset + top
        # The quote is cut around the best passage, as in BM25 order: centred on the
        # reranker's best window (Scored.window) instead, answer visible@3 on ARCD-train was
        # 0.773 against 0.775, and one seed question lost its answer (docs/benchmarks.md §1).
        chosen = [(s.passage_id, s.score, None) for s in order[offset : offset + top]]
        _add_results(answer, chosen, records, weights, postings, expansion)
        return answer


def _add_results(
    answer: Answer,
    chosen: list[tuple[int, float, tuple[int, int] | None]],
    records: dict[int, Any],
    weights: dict[str, float],
    postings: dict[str, Any],
    expansion: Expansion,
) -> None:
    """Append a Result with its snippet for each (passage id, score, snippet focus or None).

    Without a focus the snippet prefers the passage that scored best.
    """
    snippet_weights = {t: w for t, w in weights.items() if t in postings}
    for t, members in expansion.members.items():
        for variant in {v for member in members for v in member} - snippet_weights.keys():
            snippet_weights[variant] = weights[t]
    for pid, score, focus in chosen:
        rec = records[pid]
        snippet = make_snippet(
            rec.paragraph_text, snippet_weights, focus=focus or (rec.start, rec.end)
        )
        answer.results.append(
            Result(
                source=rec.source,
                paragraph=rec.paragraph_number,
                score=float(score),
                text=rec.paragraph_text,
                snippet=snippet.text,
                highlights=snippet.highlights,
                passage_id=pid,
                paragraph_id=rec.paragraph_id,
                variants=expansion.spellings_in(rec.paragraph_text, exclude=answer.terms),
                page=rec.page,
            )
        )


def _term_weights(terms: list[str], snap: Snapshot, postings: dict[str, Any]) -> dict[str, float]:
    """idf of each distinct query term; a term the index lacks weighs as a term seen nowhere."""
    unseen = raw_idf(snap.stats.n_passages, 0)
    return {
        t: idf(snap.stats, postings[t].df, snap.params) if t in postings else unseen
        for t in dict.fromkeys(terms)
    }


def has_phrase(terms: list[str], passage: list[str], aliases: dict[str, str] | None = None) -> bool:
    """True when two question terms next to each other stand next to each other in the passage.

    Either order counts («وزيرة الخارجية» / «الخارجية وزيرة» after stopwords); a repeated
    term is no phrase; `aliases` maps another spelling's term to the question's.
    """
    pairs = {frozenset(pair) for pair in zip(terms, terms[1:]) if pair[0] != pair[1]}
    if not pairs:
        return False
    if aliases:
        passage = [aliases.get(t, t) for t in passage]
    return any(frozenset(pair) in pairs for pair in zip(passage, passage[1:]))


def _coverage(
    passage_id: int,
    weights: dict[str, float],
    postings: dict[str, Any],
    groups: dict[str, GroupPostings],
) -> float:
    """Share of the question's idf mass that the passage contains (a variant counts for its term)."""
    total = sum(weights.values())
    if total <= 0:
        return 1.0
    covered = 0.0
    for term, weight in weights.items():
        p = groups.get(term) or postings.get(term)
        if p is not None:
            i = np.searchsorted(p.ids, passage_id)
            if i < len(p.ids) and p.ids[i] == passage_id:
                covered += weight
    return covered / total
