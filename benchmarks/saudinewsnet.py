"""SaudiNewsNet as a collection folder: one `.txt` file per article.

    python -m benchmarks.saudinewsnet OUT_DIR [--corpus-dir ../shared/corpus]

Reads the 18 ZIP files of `saudinewsnet/` under the corpus folder (each one JSON
array of articles, read with `benchmarks.common.saudinewsnet_articles`) and writes
`OUT_DIR/saudinewsnet/<date>/a<nnnnn>.txt`: the title, a blank line, the content.
Articles without content are left out (31,030 in the dataset, 30,676 with content).
Only changed files are written, so indexing a rewritten folder again is a no-op.
The data stays outside the repository: it is read from `../shared/corpus/` and
written wherever OUT_DIR points (e.g. `benchmarks/out/`, which git ignores).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path

from benchmarks.common import ROOT, DataMissing, saudinewsnet_articles, write_files

DEFAULT_CORPUS_DIR = ROOT.parent / "shared" / "corpus"


def articles_with_content(corpus_dir: Path | str = DEFAULT_CORPUS_DIR) -> Iterator[tuple[str, str]]:
    """(relative path, "title\\n\\ncontent\\n") of every article whose content is not empty."""
    for rel, text in saudinewsnet_articles(Path(corpus_dir)):
        if text.partition("\n\n")[2].strip():
            yield rel, text


def write_articles(out_dir: Path | str, corpus_dir: Path | str = DEFAULT_CORPUS_DIR) -> int:
    """Write one file per article under `out_dir`; return how many there are."""
    return len(write_files(Path(out_dir), articles_with_content(corpus_dir)))


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.saudinewsnet",
        description="Write SaudiNewsNet as one .txt file per article (title, blank line, content).",
    )
    parser.add_argument("out_dir", type=Path, help="folder to write the articles to")
    parser.add_argument(
        "--corpus-dir",
        type=Path,
        default=DEFAULT_CORPUS_DIR,
        help="folder holding saudinewsnet/*.zip (default ../shared/corpus)",
    )
    args = parser.parse_args(argv)
    try:
        count = write_articles(args.out_dir, args.corpus_dir)
    except DataMissing as exc:
        print(
            f"error: {exc} (SaudiNewsNet is read from ../shared/corpus/; pass --corpus-dir)",
            file=sys.stderr,
        )
        return 2
    print(f"{count} articles in {args.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
