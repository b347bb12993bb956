"""Every answer the searcher gives on the scale questions and the cold run's titles, to compare.

    python -m benchmarks.same_answers --db benchmarks/out/snn.sqlite3 --out before.jsonl
    # ... change the code ...
    python -m benchmarks.same_answers --db benchmarks/out/snn.sqlite3 --against before.jsonl

For `benchmarks/scale_questions.txt` and the cold run's titles (`benchmarks.scale
--cold`, the same seeded sample), with spelling variants on and off, the top 10 and
the second page of 3: one JSON line per answer with its results (source, paragraph,
score, snippet, highlights, other spellings), terms, coverage, phrase and whether more
exist. A speed-up must leave this file byte for byte the same. `--against` compares
with an earlier file and says where the first answer differs (exit 1).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path

from benchmarks.scale import DEFAULT_QUESTIONS, cold_titles, load_questions


def answers(db: Path, questions: list[str]) -> Iterator[str]:
    """The JSON lines, variants on then off, each question at top 10 and at 3 after 3."""
    from retrieval.search import Searcher
    from storage.store import Store

    store = Store(db)
    try:
        for variants in (True, False):
            searcher = Searcher(store, variants=variants)
            for question in questions:
                for top, offset in ((10, 0), (3, 3)):
                    answer = searcher.search(question, top=top, offset=offset)
                    line = answer.to_json()
                    line.update(
                        variants_on=variants, top=top, offset=offset, terms=answer.terms,
                        coverage=answer.coverage, phrase=answer.phrase, has_more=answer.has_more,
                        ids=[[r.passage_id, r.paragraph_id] for r in answer.results],
                    )
                    yield json.dumps(line, ensure_ascii=False)
    finally:
        store.close()


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.same_answers", description=__doc__)
    parser.add_argument("--db", type=Path, required=True, help="the store (e.g. SaudiNewsNet's)")
    parser.add_argument("--questions", type=Path, default=DEFAULT_QUESTIONS)
    parser.add_argument("--cold", type=int, default=300, help="titles, as benchmarks.scale")
    parser.add_argument("--cold-seed", type=int, default=0)
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--out", type=Path, help="write the answers here")
    group.add_argument("--against", type=Path, help="compare with answers written before")
    args = parser.parse_args(argv)
    if not args.db.is_file():
        print(f"error: store not found: {args.db}", file=sys.stderr)
        return 2
    questions = load_questions(args.questions) + cold_titles(args.db, args.cold, args.cold_seed)
    lines = list(answers(args.db, questions))
    if args.out:
        args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"{len(lines)} answers written to {args.out}")
        return 0
    before = args.against.read_text(encoding="utf-8").splitlines()
    for i, (old, new) in enumerate(zip(before, lines)):
        if old != new:
            print(f"answer {i + 1} differs:\n- {old[:300]}\n+ {new[:300]}")
            return 1
    if len(before) != len(lines):
        print(f"{len(before)} answers before, {len(lines)} now")
        return 1
    print(f"all {len(lines)} answers identical")
    return 0


if __name__ == "__main__":
    sys.exit(main())
