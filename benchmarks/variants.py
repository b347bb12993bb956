"""Spelling variants: is a paragraph found whichever way the question spells a foreign name?

    python -m benchmarks.variants [CORPUS_DIR] [EVAL_DIR] [--out benchmarks/out] [--per-spelling 40] [--misses]

Protocol (issue 6): the clusters of `variants_dev.json` (EVAL_DIR, default ../shared/eval)
are fixed, hand-checked spellings of one name each. For every SaudiNewsNet paragraph P
that contains exactly one spelling Sj of a cluster (with or without a clitic such as
و / ب / ال), a question is made of the name and 2–3 words of P, drawn at random
(seeded by P) until the question *without the name* does not put P in the top 10
(P is left out when 8 draws fail). It is then asked with the name spelled Sj (the
upper bound) and with every other spelling Si, in the whole pool of
`python -m benchmarks.quality --pooled` (SaudiNewsNet and the XQuAD-ar / ARCD
paragraphs), with spelling variants off and on. R@10: P among the first 10 paragraphs.
At most `--per-spelling` paragraphs per spelling (a fixed random sample).
`--misses` also lists every pair that the other spelling misses with variants on: where
P ranks then (first 100) and with its own spelling (variants off), so a miss reads
either as "not connected" (P not reached at all) or as ranking (P reached, below 10).

Exit status: 0 when measured, 3 (with a message, no traceback) when the data is missing.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.common import ROOT, DataMissing, check_dir, load_qa_sets
from benchmarks.quality import EXIT_NO_DATA, log, store_path, write_pool
from retrieval.analyzer import normalize, term_of
from retrieval.search import Searcher
from storage.indexer import index_collection
from storage.store import Store

CLUSTERS = "variants_dev.json"
TOP = 10
DRAWS = 8
DEEP = 100  # how far a missed paragraph's rank is looked for (--misses)
_CLITIC = r"(?:[وف]?[بلك]?(?:ال)?)"


@dataclass(frozen=True)
class Cluster:
    """One name and its spellings (normalised like the analyzer)."""

    entity: str
    spellings: tuple[str, ...]


@dataclass
class Tally:
    """R@10 counts of one cluster."""

    paragraphs: int = 0  # paragraphs with a question
    no_question: int = 0  # paragraphs left out: every draw found P without the name
    no_name: int = 0  # paragraphs that the first draw of words found without the name
    same_off: int = 0
    same_on: int = 0
    other_pairs: int = 0
    other_off: int = 0
    other_on: int = 0
    misses: list[dict] = field(default_factory=list)  # other spelling, variants on: P not in the top 10


def load_clusters(eval_dir: Path) -> list[Cluster]:
    """The clusters with SaudiNewsNet counts (the seed-only ones are for the tests)."""
    path = eval_dir / CLUSTERS
    if not path.is_file():
        raise DataMissing(f"variant clusters not found: {path}")
    rows = json.loads(path.read_text(encoding="utf-8"))
    return [
        Cluster(row["entity"], tuple(normalize(s) for s in row["spellings"]))
        for row in rows
        if row.get("paragraphs_in_saudinewsnet")
    ]


def spelling_pattern(spelling: str) -> re.Pattern[str]:
    """A spelling as a whole word (or words), an optional clitic in front."""
    return re.compile(rf"(?<!\w){_CLITIC}{re.escape(spelling)}(?!\w)")


def find_paragraphs(store: Store, clusters: list[Cluster]) -> dict[tuple[int, int], list[tuple[int, str]]]:
    """(cluster, spelling index) → (paragraph id, normalised text) of the SaudiNewsNet paragraphs
    holding that spelling and no other of its cluster."""
    patterns = [[spelling_pattern(s) for s in c.spellings] for c in clusters]
    found: dict[tuple[int, int], list[tuple[int, str]]] = {}
    rows = store.conn.execute(
        """SELECT p.id, p.text FROM paragraphs p JOIN documents d ON d.id = p.doc_id
           WHERE d.path LIKE 'saudinewsnet/%' ORDER BY p.id"""
    )
    for pid, text in rows:
        norm = normalize(text)
        for ci, cluster_patterns in enumerate(patterns):
            hits = [si for si, pattern in enumerate(cluster_patterns) if pattern.search(norm)]
            if len(hits) == 1:
                found.setdefault((ci, hits[0]), []).append((pid, norm))
    return found


def context_words(norm: str, spelling: str) -> list[str]:
    """Distinct words of a paragraph usable in a question: not the name, not stopwords."""
    name_terms = {term_of(w) for w in spelling.split()}
    words = []
    for word in re.findall(r"\w+", spelling_pattern(spelling).sub(" ", norm)):
        term = term_of(word)
        if len(word) >= 3 and term is not None and term not in name_terms and word not in words:
            words.append(word)
    return words


def found_at_10(searcher: Searcher, question: str, paragraph_id: int) -> bool:
    """Is the paragraph among the first 10 results?"""
    return any(r.paragraph_id == paragraph_id for r in searcher.search(question, top=TOP).results)


def rank_of(searcher: Searcher, question: str, paragraph_id: int) -> int | None:
    """The paragraph's rank (1-based) among the first `DEEP` results, or None."""
    results = searcher.search(question, top=DEEP).results
    return next((i + 1 for i, r in enumerate(results) if r.paragraph_id == paragraph_id), None)


def make_question(off: Searcher, pid: int, norm: str, spelling: str) -> tuple[list[str] | None, bool]:
    """2–3 words of the paragraph that do not find it without the name (None after DRAWS
    tries), and whether the first draw alone found it (the no-name baseline)."""
    words = context_words(norm, spelling)
    rng = random.Random(pid)
    first_found = False
    for draw in range(DRAWS):
        k = 2 + draw % 2
        if len(words) < k:
            break
        chosen = rng.sample(words, k)
        if not found_at_10(off, " ".join(chosen), pid):
            return chosen, first_found
        first_found = first_found or draw == 0
    return None, first_found


def run(store: Store, clusters: list[Cluster], per_spelling: int) -> list[Tally]:
    """Ask every question of every cluster; one tally per cluster."""
    off, on = Searcher(store), Searcher(store, variants=True)
    found = find_paragraphs(store, clusters)
    tallies = []
    for ci, cluster in enumerate(clusters):
        tally = Tally()
        for sj, spelling in enumerate(cluster.spellings):
            paragraphs = found.get((ci, sj), [])
            if len(paragraphs) > per_spelling:
                paragraphs = random.Random(f"{cluster.entity}/{sj}").sample(paragraphs, per_spelling)
            for pid, norm in paragraphs:
                words, first_found = make_question(off, pid, norm, spelling)
                tally.no_name += first_found
                if words is None:
                    tally.no_question += 1
                    continue
                rest = " ".join(words)
                tally.paragraphs += 1
                tally.same_off += found_at_10(off, f"{spelling} {rest}", pid)
                tally.same_on += found_at_10(on, f"{spelling} {rest}", pid)
                for si, other in enumerate(cluster.spellings):
                    if si == sj:
                        continue
                    question = f"{other} {rest}"
                    hit_off, hit_on = found_at_10(off, question, pid), found_at_10(on, question, pid)
                    tally.other_pairs += 1
                    tally.other_off += hit_off
                    tally.other_on += hit_on
                    if not hit_on:
                        tally.misses.append({
                            "paragraph_id": pid, "written": spelling, "question": question,
                            "rank_on": rank_of(on, question, pid),
                            "rank_same_off": rank_of(off, f"{spelling} {rest}", pid),
                        })
        log(f"  {cluster.entity}: {tally.paragraphs} paragraphs")
        tallies.append(tally)
    return tallies


def _share(n: int, d: int) -> str:
    return f"{n / d:.3f}" if d else "—"


def table(clusters: list[Cluster], tallies: list[Tally]) -> str:
    """The docs/benchmarks.md table: one row per cluster and the total."""
    lines = [
        "| cluster | paragraphs (left out) | no-name R@10, first draw | same spelling R@10 off / on "
        "| other spelling R@10 off | other spelling R@10 on | ratio on / same off |",
        "|---|---|---|---|---|---|---|",
    ]
    total = Tally()
    for cluster, t in zip(clusters, tallies):
        for name in ("paragraphs", "no_question", "no_name", "same_off", "same_on", "other_pairs", "other_off", "other_on"):
            setattr(total, name, getattr(total, name) + getattr(t, name))
        lines.append(_row(f"{cluster.entity} ({' / '.join(cluster.spellings)})", t))
    lines.append(_row("**all**", total))
    return "\n".join(lines)


def misses_table(clusters: list[Cluster], tallies: list[Tally]) -> str:
    """Every pair the other spelling misses with variants on, and where P ranks."""
    lines = [
        f"| cluster | paragraph | P writes | question | rank of P, variants on (first {DEEP}) "
        "| rank with P's spelling, off |",
        "|---|---|---|---|---|---|",
    ]
    for cluster, t in zip(clusters, tallies):
        for m in t.misses:
            lines.append(
                f"| {cluster.entity} | {m['paragraph_id']} | {m['written']} | {m['question']} "
                f"| {m['rank_on'] or '—'} | {m['rank_same_off'] or '—'} |"
            )
    return "\n".join(lines)


def _row(label: str, t: Tally) -> str:
    same = t.same_off / t.paragraphs if t.paragraphs else 0.0
    other = t.other_on / t.other_pairs if t.other_pairs else 0.0
    ratio = f"{other / same:.0%}" if same else "—"
    return (
        f"| {label} | {t.paragraphs} ({t.no_question}) | "
        f"{_share(t.no_name, t.paragraphs + t.no_question)} | "
        f"{_share(t.same_off, t.paragraphs)} / {_share(t.same_on, t.paragraphs)} | "
        f"{_share(t.other_off, t.other_pairs)} | {_share(t.other_on, t.other_pairs)} | {ratio} |"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.variants",
        description="R@10 of questions that spell a foreign name another way (issue 6).",
    )
    parser.add_argument("corpus_dir", nargs="?", type=Path, default=ROOT.parent / "shared" / "corpus",
                        help="folder with saudinewsnet/*.zip (default ../shared/corpus)")
    parser.add_argument("eval_dir", nargs="?", type=Path, default=ROOT.parent / "shared" / "eval",
                        help="folder with variants_dev.json, xquad.ar.json, arcd.json (default ../shared/eval)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out",
                        help="work folder shared with benchmarks.quality (default benchmarks/out)")
    parser.add_argument("--per-spelling", type=int, default=40,
                        help="at most this many paragraphs per spelling (default 40)")
    parser.add_argument("--misses", action="store_true",
                        help="also list every pair the other spelling misses, with P's ranks")
    return parser


def main(argv: list[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):
        stream.reconfigure(encoding="utf-8")  # type: ignore[union-attr]
    args = build_parser().parse_args(argv)
    started = time.perf_counter()
    try:
        check_dir(args.eval_dir, "evaluation data")
        clusters = load_clusters(args.eval_dir)
        folder = write_pool(load_qa_sets(args.eval_dir), args.corpus_dir, args.out)
    except DataMissing as exc:
        print(
            f"benchmark data missing: {exc}\n"
            "The variants benchmark needs variants_dev.json, xquad.ar.json and arcd.json "
            "(EVAL_DIR) and the SaudiNewsNet ZIP files (CORPUS_DIR). Nothing was measured.",
            file=sys.stderr,
        )
        return EXIT_NO_DATA
    db = store_path(args.out, "pool")
    index_collection(db, folder)
    store = Store(db)
    try:
        tallies = run(store, clusters, args.per_spelling)
    finally:
        store.close()
    print(table(clusters, tallies))
    if args.misses:
        print("\n" + misses_table(clusters, tallies))
    command = "python -m benchmarks.variants " + " ".join(sys.argv[1:] if argv is None else argv)
    print(f"\n`{command.strip()}` ({time.perf_counter() - started:.0f} s)")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "variants.json").write_text(
        json.dumps(
            {"command": command, "clusters": [
                {"entity": c.entity, **t.__dict__} for c, t in zip(clusters, tallies)
            ]},
            ensure_ascii=False, indent=1,
        ),
        encoding="utf-8",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
