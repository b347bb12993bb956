"""Okapi BM25 exactly as rank-bm25's `BM25Okapi` computes it.

rank-bm25 (v0.2.2):
    idf(t)  = ln(N - df + 0.5) - ln(df + 0.5); negative idfs are replaced by
              epsilon * average_idf, the average of the raw idfs of the whole vocabulary
    score   = sum over query tokens q (duplicates count again) of
              idf(q) * tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl))
    avgdl   = total tokens / N
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: Defaults picked by measurement on the pooled benchmark (docs/benchmarks.md, section 1).
DEFAULT_K1 = 0.9
DEFAULT_B = 0.2
DEFAULT_EPSILON = 0.25


@dataclass(frozen=True)
class BM25Params:
    """The BM25Okapi parameters an index is scored with."""

    k1: float = DEFAULT_K1
    b: float = DEFAULT_B
    epsilon: float = DEFAULT_EPSILON


@dataclass(frozen=True)
class CollectionStats:
    """Everything BM25 needs besides the postings: N, average length, average idf."""

    n_passages: int
    total_length: int
    idf_sum: float
    vocabulary_size: int

    @property
    def avgdl(self) -> float:
        return self.total_length / self.n_passages if self.n_passages else 0.0

    @property
    def average_idf(self) -> float:
        return self.idf_sum / self.vocabulary_size if self.vocabulary_size else 0.0


def raw_idf(n_passages: int, df: int) -> float:
    """rank-bm25's idf before the floor: ln(N - df + 0.5) - ln(df + 0.5)."""
    return math.log(n_passages - df + 0.5) - math.log(df + 0.5)


def idf_sum(n_passages: int, dfs: np.ndarray) -> float:
    """Sum of the raw idfs of a whole vocabulary, given its document frequencies."""
    dfs = np.asarray(dfs, dtype=np.float64)
    return float(np.sum(np.log(n_passages - dfs + 0.5) - np.log(dfs + 0.5)))


def idf(stats: CollectionStats, df: int, params: BM25Params) -> float:
    """idf of a term present in `df` passages, with rank-bm25's floor for negative values."""
    value = raw_idf(stats.n_passages, df)
    if value < 0:
        return params.epsilon * stats.average_idf
    return value


def term_scores(
    idf_value: float, tfs: np.ndarray, lengths: np.ndarray, avgdl: float, params: BM25Params
) -> np.ndarray:
    """Contribution of one query token to each passage of its postings."""
    tf = tfs.astype(np.float64)
    norm = params.k1 * (1.0 - params.b + params.b * lengths / avgdl)
    return idf_value * (tf * (params.k1 + 1.0) / (tf + norm))
