"""Time a fresh index of a collection and its peak memory, nothing else.

    python -m benchmarks.index_only --corpus benchmarks/out/gen1m --db benchmarks/out/gen1m.sqlite3

The same measurement as `benchmarks.scale` makes before its engines run: `python -m bot
index` in its own process on a new store; peak RSS summed over the indexer and its
analysis workers (sampled every 0.2 s). Prints the load average before and after:
on a shared machine the time depends on it.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from benchmarks.scale import BenchmarkError, build_index


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.index_only", description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, required=True, help="collection folder to index")
    parser.add_argument("--db", type=Path, required=True, help="store to build (replaced)")
    args = parser.parse_args(argv)
    if not args.corpus.is_dir():
        print(f"error: collection folder not found: {args.corpus}", file=sys.stderr)
        return 2
    before = os.getloadavg()
    try:
        index = build_index(args.corpus, args.db)
    except BenchmarkError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    after = os.getloadavg()
    c = index.counts
    print(
        f"index: {index.seconds:.1f} s, peak RSS {index.peak_rss_mb:.0f} MB (all its processes); "
        f"{c.get('paragraphs', 0):,} paragraphs, {c.get('passages', 0):,} passages; "
        f"load average {before[0]:.2f} before, {after[0]:.2f} after"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
