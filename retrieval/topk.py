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
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from retrieval.bm25 import idf, term_scores

Ranked = list[tuple[int, float]]


def score_terms(terms: list[str], snap: Any, postings: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """BM25Okapi scores of every passage that contains a query term: (ids, scores)."""
    parts_ids, parts_scores = [], []
    avgdl = snap.stats.avgdl
    for term, count in Counter(terms).items():
        p = postings.get(term)
        if p is None:
            continue
        weight = idf(snap.stats, p.df, snap.params)
        contribution = term_scores(weight, p.tfs, snap.lengths[p.ids], avgdl, snap.params)
        parts_ids.append(p.ids)
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
    terms: list[str], snap: Any, postings: dict[str, Any], want: int, *, prune: bool = True
) -> tuple[Ranked, bool]:
    """Exact best passage of each of the first `want` paragraphs, and whether more exist."""
    params, stats = snap.params, snap.stats
    avgdl = stats.avgdl
    items = []
    for term, count in Counter(terms).items():
        p = postings.get(term)
        if p is None:
            continue
        weight = idf(stats, p.df, params)
        if weight < 0:  # only in tiny collections; the bounds below assume weights >= 0
            prune = False
        norm = params.k1 * (1.0 - params.b + params.b * p.min_len / avgdl)
        bound = count * weight * p.max_tf * (params.k1 + 1.0) / (p.max_tf + norm)
        items.append((bound, term, count, p, weight))
    if not items:
        return [], False
    if not prune:
        ids, scores = score_terms(terms, snap, postings)
        return top_paragraphs(ids, scores, snap.paragraph_of, want)

    items.sort(key=lambda item: (-item[0], item[1]))
    remaining = np.cumsum([item[0] for item in items][::-1])[::-1]  # bound of terms j..end
    k = want + 1  # one more than asked, to know whether more exist
    with _DENSE.use(len(snap.lengths)) as (acc, seen):
        parts: list[np.ndarray] = []  # the collected passages, each once
        try:
            ids = np.empty(0, np.int64)
            collecting = True
            for j, (_, _, count, p, weight) in enumerate(items):
                if collecting and j > 0 and len(ids) >= k:
                    theta = _kth_paragraph_score(ids, acc[ids], snap.paragraph_of, k)
                    collecting = remaining[j] >= theta
                if collecting:
                    new = p.ids[~seen[p.ids]]
                    seen[new] = True
                    parts.append(new)
                    ids = np.concatenate(parts).astype(np.int64)
                    hits, tfs = p.ids, p.tfs
                elif len(ids) * 16 < len(p.ids):  # few passages to look up: binary search
                    pos = np.searchsorted(p.ids, ids)
                    pos[pos == len(p.ids)] = 0
                    found = p.ids[pos] == ids
                    hits, tfs = ids[found], p.tfs[pos[found]]
                else:  # many: one pass over the postings with the membership mask
                    found = seen[p.ids]
                    hits, tfs = p.ids[found], p.tfs[found]
                contribution = term_scores(weight, tfs, snap.lengths[hits], avgdl, params)
                acc[hits] += contribution * count if count > 1 else contribution
            return top_paragraphs(ids, acc[ids], snap.paragraph_of, want)
        finally:
            for part in parts:  # leave the arrays zeroed for the next search
                acc[part] = 0.0
                seen[part] = False


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
