"""What the reranker adds to a question's time: the same questions, warm, BM25 alone and reranked.

    python -m benchmarks.rerank_cost STORE [--questions benchmarks/scale_questions.txt]
                                           [--depths 10,20,30] [--rounds 3]

One process, one store (e.g. the pooled store `benchmarks.quality --pooled` caches under
`benchmarks/out/stores/`). Every question is asked once by each searcher to warm the
caches, then `--rounds` times by each in turn (BM25, then reranked, question by
question), top 3, spelling variants on as the bot asks. Printed per depth: p50 / p95 of
each searcher and of the added time (reranked minus BM25, paired per question).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from benchmarks.common import ROOT
from retrieval.rerank import Reranker
from retrieval.search import Searcher
from storage.store import Store

DEFAULT_QUESTIONS = ROOT / "benchmarks" / "scale_questions.txt"


def measure(store: Store, questions: list[str], depth: int | None, rounds: int) -> dict[str, float]:
    """p50 / p95 in ms of BM25, reranked and the paired difference."""
    model = Reranker.load()
    if depth is not None:
        model = replace(model, depth=depth)
    plain = Searcher(store, variants=True)
    reranked = Searcher(store, variants=True, reranker=model)
    for searcher in (plain, reranked):
        for q in questions:
            searcher.search(q, top=3)
    a, b = [], []
    for _ in range(rounds):
        for q in questions:
            started = time.perf_counter()
            plain.search(q, top=3)
            a.append(time.perf_counter() - started)
            started = time.perf_counter()
            reranked.search(q, top=3)
            b.append(time.perf_counter() - started)
    ta, tb = np.array(a) * 1e3, np.array(b) * 1e3
    out = {"depth": float(model.depth), "n": float(len(ta))}
    for name, values in (("bm25", ta), ("rerank", tb), ("added", tb - ta)):
        out[f"{name}_p50"] = float(np.percentile(values, 50))
        out[f"{name}_p95"] = float(np.percentile(values, 95))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.rerank_cost",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("store", type=Path, help="an index (SQLite store) to ask")
    parser.add_argument("--questions", type=Path, default=DEFAULT_QUESTIONS,
                        help="one question a line (default benchmarks/scale_questions.txt)")
    parser.add_argument("--depths", default="", help="comma-separated depths (default the model's)")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds (default 3)")
    args = parser.parse_args(argv)
    if not args.store.is_file() or not args.questions.is_file():
        print(f"missing: {args.store} or {args.questions}", file=sys.stderr)
        return 2
    questions = [q.strip() for q in args.questions.read_text(encoding="utf-8").splitlines()
                 if q.strip()]
    store = Store(args.store)
    try:
        depths = [int(d) for d in args.depths.split(",") if d] or [None]
        for depth in depths:
            r = measure(store, questions, depth, args.rounds)
            print(f"depth {r['depth']:.0f}: BM25 p50 {r['bm25_p50']:.2f} p95 {r['bm25_p95']:.2f} ms"
                  f" | reranked p50 {r['rerank_p50']:.2f} p95 {r['rerank_p95']:.2f} ms"
                  f" | added p50 {r['added_p50']:.2f} p95 {r['added_p95']:.2f} ms"
                  f" ({r['n']:.0f} timings)")
    finally:
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
