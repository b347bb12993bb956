"""The reranker's output before and after a change: record it once, check it after, time it.

    python -m benchmarks.rerank_parity record OUT.pickle [--snn DB] [--pool DB] [--arcd N]
    python -m benchmarks.rerank_parity check OUT.pickle

`record` asks the questions of benchmarks/scale_questions.txt and the article titles of
the SaudiNewsNet store (`--snn`, each once) there, and `--arcd` ARCD-train questions
against the pooled store (`--pool`), variants and the reranker on, and saves every
`Reranker.rerank` call's inputs with `features()`'s matrix, the order and probabilities.
`check` (after the change) recomputes each with the code as it is now and fails unless
the matrices agree to 1e-12 and the order and probabilities are the same; it prints the
time `features()` and `rerank()` take per call, each input once (cold: first sight of the
candidates' words in this process), then again (warm).
"""

from __future__ import annotations

import argparse
import json
import pickle
import sqlite3
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.common import ROOT
from retrieval import rerank
from retrieval.search import Searcher
from storage.store import Store

OUT = ROOT / "benchmarks" / "out"
SNN = OUT / "snn.sqlite3"
POOL = OUT / "stores" / "pool-ar-light10-v3.sqlite3"
ARCD_TRAIN = Path("/work/shared/eval/arcd-train.json")


def _capture(db: Path, questions: list[str]) -> list[dict]:
    """Every rerank() call's keyword inputs while `questions` are asked of `db`."""
    model = rerank.Reranker.load()
    calls: list[dict] = []
    original = rerank.Reranker.rerank

    def spy(self, question, terms, weights, candidates, params, avgdl, **kw):
        calls.append(dict(question=question, terms=list(terms), weights=dict(weights),
                          candidates=list(candidates), params=params, avgdl=avgdl, **kw))
        return original(self, question, terms, weights, candidates, params, avgdl, **kw)

    rerank.Reranker.rerank = spy  # type: ignore[method-assign]
    try:
        searcher = Searcher(Store(db), variants=True, reranker=model)
        for q in questions:
            searcher.search(q, top=10)
    finally:
        rerank.Reranker.rerank = original  # type: ignore[method-assign]
    return calls


def _run(call: dict) -> tuple[np.ndarray, list, list, list[float], float]:
    model = rerank.load_default()
    args = (call["question"], call["terms"], call["weights"], call["candidates"],
            call["params"], call["avgdl"])
    kw = {"unseen": call["unseen"], "aliases": call["aliases"]}
    x, windows = rerank.features(*args, **kw, extra=True)
    ranking = model.rerank(*args, **kw)
    return (x, windows, [(s.passage_id, s.window) for s in ranking.order],
            [s.probability for s in ranking.order], ranking.probability)


def record(out: Path, snn: Path, pool: Path, arcd: int) -> int:
    """Capture the calls and save them with today's outputs."""
    scale = [q.strip() for q in (ROOT / "benchmarks" / "scale_questions.txt")
             .read_text(encoding="utf-8").splitlines() if q.strip()]
    with sqlite3.connect(f"file:{snn}?mode=ro", uri=True) as conn:
        titles = [t for (t,) in conn.execute("SELECT title FROM documents ORDER BY path")
                  if t and t.strip()][:400]
    data = json.loads(ARCD_TRAIN.read_text(encoding="utf-8"))["data"]
    train = [qa["question"] for art in data for p in art["paragraphs"] for qa in p["qas"]][:arcd]
    calls = _capture(snn, scale + titles) + _capture(pool, train)
    results = [_run(c) for c in calls]
    out.write_bytes(pickle.dumps({"calls": calls, "results": results}))
    print(f"{len(calls)} rerank calls recorded in {out}")
    return 0


def check(path: Path) -> int:
    """Recompute every recorded call; 1 if any output differs. Prints the times."""
    saved = pickle.loads(path.read_bytes())
    calls, results = saved["calls"], saved["results"]
    model = rerank.load_default()
    assert model is not None
    for name, fn in (("features", lambda c: rerank.features(*_args(c), **_kw(c))),
                     ("rerank", lambda c: model.rerank(*_args(c), **_kw(c)))):
        for label in ("first", "again"):
            started = time.perf_counter()
            for c in calls:
                fn(c)
            ms = (time.perf_counter() - started) * 1e3 / len(calls)
            print(f"{name} {label}: {ms:.3f} ms a call")
    bad = 0
    for call, (x0, w0, o0, p0, a0) in zip(calls, results):
        x, w, o, p, a = _run(call)
        if x.shape != x0.shape or not np.allclose(x, x0, rtol=0, atol=1e-12) or w != w0 \
                or o != o0 or not np.allclose(p, p0, rtol=0, atol=1e-12) \
                or abs(a - a0) > 1e-12:
            bad += 1
            if bad <= 3:
                print(f"differs: {call['question']!r}", file=sys.stderr)
    print(f"{len(calls)} calls, {bad} differ")
    return 1 if bad else 0


def _args(c: dict) -> tuple:
    return (c["question"], c["terms"], c["weights"], c["candidates"], c["params"], c["avgdl"])


def _kw(c: dict) -> dict:
    return {"unseen": c["unseen"], "aliases": c["aliases"]}


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.rerank_parity",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("mode", choices=("record", "check"))
    parser.add_argument("file", type=Path, help="the recorded calls (a pickle)")
    parser.add_argument("--snn", type=Path, default=SNN, help="the SaudiNewsNet store")
    parser.add_argument("--pool", type=Path, default=POOL, help="the pooled quality store")
    parser.add_argument("--arcd", type=int, default=300, help="ARCD-train questions (pool)")
    args = parser.parse_args(argv)
    if args.mode == "record":
        return record(args.file, args.snn, args.pool, args.arcd)
    return check(args.file)


if __name__ == "__main__":
    sys.exit(main())
