"""Question types and answer-type spans: how often they fire, how often they hit, how fast.

    python -m benchmarks.question_words [--eval-dir ../shared/eval] [--windows 3000]

On ARCD's training half (`arcd-train.json`; the rules were written by hand, but a
figure that guides later changes is taken on data that is not reported elsewhere):
the share of questions `question_type` gives each type, and for the typed ones how
often the gold answer overlaps a span `answer_type_spans` finds for that type in the
gold paragraph (its recall), and how much of the paragraph such spans cover (a
rough cost of a false hit). Speed: µs per call of `question_type` over the questions,
and of `answer_type_spans` per type over 400-character windows of the paragraphs
(the passage windows the searcher scores), one process, warm.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

from benchmarks.common import ROOT
from retrieval.question_words import QUESTION_TYPES, answer_type_spans, question_type


def _rows(path: Path) -> list[tuple[str, str, int, str]]:
    """(question, paragraph, answer start, answer text) of a SQuAD-format file."""
    out = []
    for article in json.loads(path.read_text(encoding="utf-8"))["data"]:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                answer = qa["answers"][0]
                out.append((qa["question"], paragraph["context"], answer["answer_start"],
                            answer["text"]))
    return out


def _micros(calls: list, repeat: int = 3) -> float:
    """Mean µs per call of the zero-argument callables, best of `repeat` rounds."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        for call in calls:
            call()
        best = min(best, (time.perf_counter() - started) / len(calls))
    return best * 1e6


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.question_words")
    parser.add_argument("--eval-dir", type=Path, default=ROOT.parent / "shared" / "eval",
                        help="folder with arcd-train.json")
    parser.add_argument("--windows", type=int, default=3000, help="windows timed per type")
    args = parser.parse_args(argv)
    path = args.eval_dir / "arcd-train.json"
    if not path.is_file():
        print(f"missing: {path}", file=sys.stderr)
        return 3
    rows = _rows(path)
    types = [question_type(q) for q, *_ in rows]
    counts = Counter(types)
    print(f"{path.name}: {len(rows)} questions")
    print("| type | questions | share | gold answer inside a span | paragraph covered |")
    print("|---|---|---|---|---|")
    for qtype in QUESTION_TYPES:
        hits, covered, n = 0, [], 0
        for (q, context, start, text), t in zip(rows, types):
            if t != qtype:
                continue
            n += 1
            spans = answer_type_spans(context, qtype)
            end = start + len(text)
            hits += any(s < end and start < e for s, e in spans)
            covered.append(sum(e - s for s, e in spans) / max(len(context), 1))
        share = n / len(rows)
        recall = f"{hits / n:.2f}" if n else "—"
        cover = f"{statistics.mean(covered):.2f}" if covered else "—"
        print(f"| {qtype} | {n} | {share:.2f} | {recall} | {cover} |")
    print(f"| none | {counts[None]} | {counts[None] / len(rows):.2f} | — | — |")

    contexts = list(dict.fromkeys(c for _, c, _, _ in rows))
    windows = [c[i : i + 400] for c in contexts for i in range(0, len(c), 400)]
    windows = [w for w in windows if len(w) > 200][: args.windows]
    questions = [q for q, *_ in rows]
    print(f"\nspeed (one process, warm; {len(windows)} windows of 201–400 characters):")
    print(f"  question_type: {_micros([lambda q=q: question_type(q) for q in questions]):.1f}"
          " µs per question")
    for qtype in QUESTION_TYPES:
        per = _micros([lambda w=w: answer_type_spans(w, qtype) for w in windows])
        print(f"  answer_type_spans({qtype!r}): {per:.1f} µs per window,"
              f" {per * 50 / 1000:.2f} ms for 50 windows")
    given = argv if argv is not None else sys.argv[1:]
    print(f"\n`python -m benchmarks.question_words{''.join(f' {a}' for a in given)}`")
    return 0


if __name__ == "__main__":
    sys.exit(main())
