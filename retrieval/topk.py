"""Exact top-k paragraphs under BM25Okapi, exhaustive or with MaxScore-style pruning.

Pruning (term at a time, exact): terms are taken by decreasing upper bound of their
contribution, idf × (k1+1) × max_tf / (max_tf + k1 × (1 − b + b × min_len / avgdl)).
Passages are collected from the postings of each term while a passage containing
none of the terms so far could still reach the k-th best paragraph score seen so
far. Once the bounds of the remaining terms add up to less than that score, a new
passage cannot enter the top k, and the remaining (common, long) postings are only
looked up for the passages already collected — by binary search when they are few,
by one masked pass otherwise — instead of being scored in full.
Scores of the passages returned are the full BM25Okapi scores.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from retrieval.bm25 import idf

Ranked = list[tuple[int, float]]


@dataclass(frozen=True)
class GroupPostings:
    """A question term with spelling variants: each passage's best contribution of the group."""

    ids: np.ndarray
    scores: np.ndarray


def group_postings(members: list[tuple[str, ...]], snap: Any, postings: dict[str, Any]) -> GroupPostings:
    """Contribution of a question term and its spelling variants to each passage: the best member, once.

    `members[0]` is the question term itself. A member is one term, or two terms that
    must both occur (a name written as two words; the smaller frequency counts). The
    group scores as one BM25 term: every member weighs the idf of all the passages
    that hold any member, so a paragraph ranks the same whichever spelling the
    question uses (the spelling it writes gains nothing over the others).
    """
    hits: list[tuple[np.ndarray, np.ndarray]] = []
    for member in members:
        if any(t not in postings for t in member):
            continue
        ids, tfs = postings[member[0]].ids, postings[member[0]].tfs
        for term in member[1:]:
            p = postings[term]
            ids, i, j = np.intersect1d(ids, p.ids, assume_unique=True, return_indices=True)
            tfs = np.minimum(tfs[i], p.tfs[j])
        if len(ids):
            hits.append((ids, tfs))
    if not hits:
        return GroupPostings(np.empty(0, np.int64), np.empty(0))
    norms = length_norms(snap)
    if len(hits) == 1:  # one member in the index: its passages, ascending, each once
        ids, tfs = hits[0]
        ids = ids.astype(np.int64, copy=False)
        weight = idf(snap.stats, len(ids), snap.params)
        return GroupPostings(ids, _scores(weight, tfs, norms[ids], snap.params))
    ids = np.concatenate([i for i, _ in hits]).astype(np.int64, copy=False)
    tfs = np.concatenate([t for _, t in hits])
    order = np.argsort(ids, kind="stable")
    ids, tfs = ids[order], tfs[order]
    first = np.ones(len(ids), bool)
    first[1:] = ids[1:] != ids[:-1]
    starts = np.flatnonzero(first)
    weight = idf(snap.stats, len(starts), snap.params)
    scores = _scores(weight, tfs, norms[ids], snap.params)
    return GroupPostings(ids[starts], np.maximum.reduceat(scores, starts))  # best member


_NORMS: tuple[Any, ...] = ()  # (lengths, avgdl, k1, b, norms) of the last snapshot seen


def length_norms(snap: Any) -> np.ndarray:
    """k1 × (1 − b + b × dl / avgdl) of every passage, computed once per snapshot.

    The same expression as `retrieval.bm25.term_scores` evaluates on the gathered
    lengths, element by element, so the scores are bit for bit the same.
    """
    global _NORMS
    params, avgdl = snap.params, snap.stats.avgdl
    cached = _NORMS
    if cached and cached[0] is snap.lengths and cached[1:4] == (avgdl, params.k1, params.b):
        return cached[4]
    norms = params.k1 * (1.0 - params.b + params.b * snap.lengths / avgdl)
    _NORMS = (snap.lengths, avgdl, params.k1, params.b, norms)
    return norms


def _scores(weight: float, tfs: np.ndarray, norms: np.ndarray, params: Any) -> np.ndarray:
    """`term_scores` from precomputed length norms (`length_norms`)."""
    tf = tfs.astype(np.float64)
    return weight * (tf * (params.k1 + 1.0) / (tf + norms))


def _contributions(term: str, snap: Any, postings: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    p = postings[term]
    weight = idf(snap.stats, p.df, snap.params)
    return p.ids, _scores(weight, p.tfs, length_norms(snap)[p.ids], snap.params)


def score_terms(
    terms: list[str], snap: Any, postings: dict[str, Any], groups: dict[str, GroupPostings] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """BM25Okapi scores of every passage that contains a query term: (ids, scores).

    A term in `groups` scores its group's contributions instead of its own postings.
    """
    parts_ids, parts_scores = [], []
    for term, count in Counter(terms).items():
        if groups and term in groups:
            ids, contribution = groups[term].ids, groups[term].scores
        elif term in postings:
            ids, contribution = _contributions(term, snap, postings)
        else:
            continue
        parts_ids.append(ids)
        parts_scores.append(contribution * count if count > 1 else contribution)
    if not parts_ids:
        return np.empty(0, np.int64), np.empty(0)
    unique_ids, inverse = np.unique(np.concatenate(parts_ids), return_inverse=True)
    scores = np.bincount(inverse, weights=np.concatenate(parts_scores))
    return unique_ids.astype(np.int64), scores


def top_paragraphs(
    ids: np.ndarray, scores: np.ndarray, paragraph_of: np.ndarray, want: int
) -> tuple[Ranked, bool]:
    """Best passage of each of the first `want` paragraphs, by score then passage id.

    Returns the ranking and whether more paragraphs with a positive score exist.
    """
    n = len(ids)
    m = min(n, max(4 * want, 32))
    while True:
        if m < n:
            threshold = np.partition(scores, n - m)[n - m]
            cand = np.nonzero(scores >= threshold)[0]  # keeps every tie at the boundary
        else:
            cand = np.arange(n)
        order = cand[np.lexsort((ids[cand], -scores[cand]))]
        ranked: Ranked = []
        seen: set[int] = set()
        for i in order:
            if scores[i] <= 0:
                break
            para = int(paragraph_of[ids[i]])
            if para in seen:
                continue
            seen.add(para)
            ranked.append((int(ids[i]), float(scores[i])))
            if len(ranked) > want:
                return ranked[:want], True
        if m >= n:
            return ranked, False
        m = min(n, m * 4)


def _kth_paragraph_score(ids: np.ndarray, scores: np.ndarray, paragraph_of: np.ndarray, k: int) -> float:
    """The k-th largest paragraph score (a paragraph scores its best passage), or 0.

    Only the best 4k passages are sorted: if they hold k distinct paragraphs, the k-th
    of them is exact; otherwise 0 is returned, which only means "do not prune yet".
    """
    m = min(len(ids), 4 * k)
    if m < k:
        return 0.0
    top = np.argpartition(scores, len(scores) - m)[len(scores) - m :]
    top = top[np.argsort(-scores[top], kind="stable")]
    _, first = np.unique(paragraph_of[ids[top]], return_index=True)
    if len(first) < k:
        return 0.0
    return float(np.sort(scores[top[first]])[len(first) - k])


def rank_paragraphs(
    terms: list[str],
    snap: Any,
    postings: dict[str, Any],
    want: int,
    *,
    prune: bool = True,
    groups: dict[str, GroupPostings] | None = None,
) -> tuple[Ranked, bool]:
    """Exact best passage of each of the first `want` paragraphs, and whether more exist.

    A term in `groups` scores its group's contributions (spelling variants) instead of
    its own postings.
    """
    params, stats = snap.params, snap.stats
    avgdl = stats.avgdl
    items: list[tuple[float, str, int, np.ndarray, Callable[[Any], np.ndarray]]] = []
    for term, count in Counter(terms).items():
        if groups and term in groups:
            group = groups[term]
            if not len(group.ids):
                continue
            if group.scores.min() < 0:  # floored idfs of tiny collections, as below
                prune = False
            bound = count * float(group.scores.max())
            items.append((bound, term, count, group.ids, _group_scorer(group)))
            continue
        p = postings.get(term)
        if p is None:
            continue
        weight = idf(stats, p.df, params)
        if weight < 0:  # only in tiny collections; the bounds below assume weights >= 0
            prune = False
        norm = params.k1 * (1.0 - params.b + params.b * p.min_len / avgdl)
        bound = count * weight * p.max_tf * (params.k1 + 1.0) / (p.max_tf + norm)
        items.append((bound, term, count, p.ids, _term_scorer(p, weight, snap)))
    if not items:
        return [], False
    if not prune:
        ids, scores = score_terms(terms, snap, postings, groups)
        return top_paragraphs(ids, scores, snap.paragraph_of, want)

    items.sort(key=lambda item: (-item[0], item[1]))
    remaining = np.cumsum([item[0] for item in items][::-1])[::-1]  # bound of terms j..end
    k = want + 1  # one more than asked, to know whether more exist
    with _DENSE.use(len(snap.lengths)) as (acc, seen):
        parts: list[np.ndarray] = []  # the collected passages, each once
        try:
            ids = np.empty(0, np.int64)
            collecting = True
            for j, (_, _, count, term_ids, scorer) in enumerate(items):
                if collecting and j > 0 and len(ids) >= k:
                    # The k-th paragraph score is at most the best passage score: while the
                    # terms left could reach that, there is no need to compute it.
                    scores = acc[ids]
                    collecting = remaining[j] >= scores.max() or (
                        remaining[j] >= _kth_paragraph_score(ids, scores, snap.paragraph_of, k)
                    )
                if collecting:
                    new = term_ids[~seen[term_ids]]
                    seen[new] = True
                    parts.append(new)
                    ids = np.concatenate(parts).astype(np.int64, copy=False)
                    hits, contribution = term_ids, scorer(None)
                elif len(ids) * 16 < len(term_ids):  # few passages to look up: binary search
                    pos = np.searchsorted(term_ids, ids)
                    pos[pos == len(term_ids)] = 0
                    found = term_ids[pos] == ids
                    hits, contribution = ids[found], scorer(pos[found])
                else:  # many: one pass over the postings with the membership mask
                    found = seen[term_ids]
                    hits, contribution = term_ids[found], scorer(found)
                acc[hits] += contribution * count if count > 1 else contribution
            return top_paragraphs(ids, acc[ids], snap.paragraph_of, want)
        finally:
            for part in parts:  # leave the arrays zeroed for the next search
                acc[part] = 0.0
                seen[part] = False


def _term_scorer(p: Any, weight: float, snap: Any) -> Callable[[Any], np.ndarray]:
    """Contributions of a term at some positions of its postings (None: all of them)."""

    norms = length_norms(snap)

    def scorer(at: Any) -> np.ndarray:
        ids, tfs = (p.ids, p.tfs) if at is None else (p.ids[at], p.tfs[at])
        return _scores(weight, tfs, norms[ids], snap.params)

    return scorer


def _group_scorer(group: GroupPostings) -> Callable[[Any], np.ndarray]:
    """Contributions of a group at some positions of its passages (None: all of them)."""
    return lambda at: group.scores if at is None else group.scores[at]


class _DenseArrays:
    """A score accumulator and a membership mask over all passage ids, reused by searches.

    Adding a term's contributions is then one indexed add (a term's passage ids are
    distinct), with no sorting; only the passages touched are reset afterwards.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._acc = np.zeros(0)
        self._seen = np.zeros(0, bool)

    @contextmanager
    def use(self, size: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        with self._lock:
            if len(self._acc) < size:
                self._acc = np.zeros(size)
                self._seen = np.zeros(size, bool)
            yield self._acc, self._seen


_DENSE = _DenseArrays()
