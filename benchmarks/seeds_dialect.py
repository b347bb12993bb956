"""The seed questions asked in dialect: is the right file still first?

    python -m benchmarks.seeds_dialect [--eval-dir ../shared/eval] [--seeds-dir seeds]

`benchmarks/seeds_dialect.jsonl` holds a dialect rewrite (Levantine, Egyptian, Gulf,
Maghrebi, Iraqi) of each question of `seeds_dev.jsonl`, written for issue 15, with the
same gold file and answer phrase. Both sets are asked of a fresh store of `seeds/`
through `QAService.ask`, as the bot asks (spelling variants and the reranker on, as by
default; `--no-rerank` for BM25 order); each
line shows the question type `retrieval.question_words` reads, the rank of the gold
file and whether the answer phrase is in a gold snippet among the first 3.
Exit status: 0 when measured, 3 when `seeds/` or the dialect file is missing.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import ROOT
from bot.service import QAService
from retrieval.analyzer import normalize
from retrieval.question_words import question_type

DIALECT_FILE = Path(__file__).resolve().parent / "seeds_dialect.jsonl"


def load(path: Path) -> list[dict]:
    """The rows (q, source, answer[, dialect]) of a JSON-lines question file."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def ask_all(service: QAService, rows: list[dict]) -> list[tuple[dict, int | None, bool]]:
    """(row, 1-based rank of the gold file or None, answer visible in a gold snippet@3)."""
    out = []
    for row in rows:
        answer = service.ask(row["q"], top=10)
        sources = list(dict.fromkeys(r.source for r in answer.results))
        rank = sources.index(row["source"]) + 1 if row["source"] in sources else None
        visible = any(
            r.source == row["source"] and normalize(row["answer"]) in normalize(r.snippet)
            for r in answer.results[:3]
        )
        out.append((row, rank, visible))
    return out


def report(name: str, outcomes: list[tuple[dict, int | None, bool]]) -> str:
    """One line per question, then `right file first x/n, answer visible@3 y/n`."""
    lines = [f"{name}:"]
    for row, rank, visible in outcomes:
        tag = f" [{row['dialect']}]" if "dialect" in row else ""
        lines.append(
            f"  rank {rank if rank else '-':>2}  visible {'yes' if visible else 'no ':3}  "
            f"type {question_type(row['q']) or '-':6}  {row['q']}{tag}"
        )
    first = sum(rank == 1 for _, rank, _ in outcomes)
    seen = sum(v for _, _, v in outcomes)
    n = len(outcomes)
    lines.append(f"  right file first {first}/{n}, answer visible@3 {seen}/{n}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.seeds_dialect", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--eval-dir", type=Path, default=ROOT.parent / "shared" / "eval",
                        help="folder with seeds_dev.jsonl (the MSA questions; optional)")
    parser.add_argument("--seeds-dir", type=Path, default=ROOT / "seeds", help="the seed articles")
    parser.add_argument("--dialect", type=Path, default=DIALECT_FILE, help="the dialect questions")
    parser.add_argument("--no-rerank", action="store_true",
                        help="BM25 order (as RERANK=0; default: reranked, as the bot asks)")
    args = parser.parse_args(argv)
    if not args.seeds_dir.is_dir() or not args.dialect.is_file():
        print(f"missing: {args.seeds_dir} or {args.dialect}", file=sys.stderr)
        return 3
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        service = QAService(
            Path(tmp) / "seeds.sqlite3", args.seeds_dir, variants=True, rerank=not args.no_rerank
        )
        try:
            service.ensure_index()
            msa = args.eval_dir / "seeds_dev.jsonl"
            if msa.is_file():
                print(report("seeds_dev.jsonl (MSA)", ask_all(service, load(msa))))
            print(report(f"{args.dialect.name} (dialect)", ask_all(service, load(args.dialect))))
        finally:
            service.close()
    given = argv if argv is not None else sys.argv[1:]
    command = "python -m benchmarks.seeds_dialect" + "".join(f" {a}" for a in given)
    print(f"\n`{command}` ({time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
