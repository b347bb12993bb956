"""Paragraph-retrieval quality on XQuAD-ar and ARCD, per set and pooled with SaudiNewsNet.

    python -m benchmarks.quality [--eval-dir ../shared/eval] [--corpus-dir ../shared/corpus]
                                 [--pooled] [--baselines] [--sweep] [--out benchmarks/out]
                                 [--rerank both|on|off] [--offtopic FILE ...]

Protocol (issue 2, "Quality, measured"): every distinct context paragraph of XQuAD-ar
and ARCD is written as its own file; a store is built with the project's indexer and
every question is asked through the searcher `ask` uses. ARCD is measured as its two
halves, ARCD-test and ARCD-train, each alone in its own collection (the reranker learns
on ARCD-train: its rows are training figures). Every set is asked twice on the same
store: BM25 alone (`RERANK=0`) and BM25+rerank (`--rerank` picks one). A result counts
for the file it comes from. R@k: the gold file is among the first k distinct files; MRR@10 likewise
(a question that gets "no answer" counts as a miss). Answer visible@3: the gold answer
text, normalised like the analyzer normalises letters, appears inside the snippet of a
gold-file result among the first 3 results. `seeds_dev.jsonl` is asked of the seed
collection. Off-topic questions measure the no-answer rule: the held-out
`benchmarks/offtopic_test.txt` (when present) and the training `offtopic_questions.txt`
(the reranker's threshold was chosen on it), each its own row.

Pooled (`--pooled`): the paragraph files of both sets and every SaudiNewsNet article
(one file each: title, blank line, content) in one collection; each question searched
in the whole pool. Stores are cached under `--out` per analyzer version, so a second run
only re-scores (a changed k1/b only recomputes the index statistics).

Baselines (`--baselines`): rank-bm25's `BM25Okapi` itself over the same files (one
document per non-empty line, a file scores its best line), whitespace tokens with
rank-bm25's defaults (k1 1.5, b 0.75), and the project's analyzer with rank-bm25's
defaults and with the project's k1/b.

No-answer rule (`--sweep`): the run is made without the rule, and a second table shows,
for a range of coverage thresholds, the share of XQuAD-ar / ARCD / off-topic questions
that would get "no answer" (best passage under the threshold and without a phrase of
the question) and the R@1 that would remain.

Exit status: 0 when measured, 3 (with a message, no traceback) when the data is missing.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import shlex
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np

from benchmarks.common import (
    ROOT,
    DataMissing,
    QASet,
    Question,
    check_dir,
    load_qa_sets,
    load_seeds_dev,
    load_squad,
    saudinewsnet_articles,
    set_slug,
    write_files,
)
from retrieval.analyzer import ANALYZER_VERSION, analyze, normalize
from retrieval.bm25 import DEFAULT_B, DEFAULT_EPSILON, DEFAULT_K1, BM25Params
from retrieval.rerank import DEFAULT_MODEL, Reranker
from retrieval.search import DEFAULT_MIN_COVERAGE, Answer, Searcher
from storage.indexer import index_collection
from storage.store import Store

OFFTOPIC_FILE = Path(__file__).resolve().parent / "offtopic_questions.txt"
#: Held-out off-topic questions (written after the no-answer threshold was chosen on
#: OFFTOPIC_FILE): what the no-answer figures report when the file is present.
OFFTOPIC_TEST_FILE = Path(__file__).resolve().parent / "offtopic_test.txt"
#: The sets measured, each alone and pooled: ARCD's halves apart (the reranker learns
#: on ARCD-train), falling back to arcd.json whole when the halves are absent.
MEASURED_SETS = (("XQuAD-ar", "xquad.ar.json"), ("ARCD-test", "arcd-test.json"),
                 ("ARCD-train", "arcd-train.json"))
SEEDS_DIR = ROOT / "seeds"
#: Paragraph results asked for per question: enough for 10 distinct files in the pool.
SEARCH_TOP = 30
MRR_DEPTH = 10
#: Exit status when the data folder is missing (a clean, expected stop, not a crash).
EXIT_NO_DATA = 3


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- metrics


@dataclass(frozen=True)
class Hit:
    """One result as the user sees it: its file and its snippet (None for baselines)."""

    source: str
    snippet: str | None


@dataclass(frozen=True)
class Outcome:
    """What one question got."""

    rank: int | None  # 1-based rank of the first gold file among distinct files (≤ 10)
    visible: bool | None  # answer visible@3 (None when the engine has no snippets)
    no_answer: bool
    coverage: float = 0.0
    phrase: bool = False
    probability: float | None = None


class Reply(NamedTuple):
    """What an engine answered: hits in rank order and what the no-answer rule looks at."""

    hits: list[Hit]
    no_answer: bool = False  # it said "no answer"
    coverage: float = 0.0  # share of the question's idf mass in the best passage
    phrase: bool = False  # the best passage holds two question words side by side
    probability: float | None = None  # the reranker's, of its best candidate


_EDGE_PUNCT = " \t\n.,;:!?()[]{}\"'«»“”‘’،؛؟-–—…"
_SPACES = re.compile(r"\s+")


def normalize_answer(text: str) -> str:
    """Answer or snippet text for the visibility test: analyzer letters, marks gone, spaces folded."""
    return _SPACES.sub(" ", normalize(text)).strip().strip(_EDGE_PUNCT)


def judge(question: Question, reply: Reply) -> Outcome:
    """Rank of the gold file among distinct files and answer visibility in the first 3 hits."""
    hits = reply.hits
    rank = None
    seen: list[str] = []
    for hit in hits:
        if hit.source in seen:
            continue
        seen.append(hit.source)
        if hit.source in question.gold:
            rank = len(seen)
            break
        if len(seen) >= MRR_DEPTH:
            break
    visible: bool | None = None
    if all(h.snippet is not None for h in hits[:3]):
        answers = [normalize_answer(a) for a in question.answers]
        answers = [a for a in answers if a]
        visible = any(
            hit.source in question.gold and any(a in normalize_answer(hit.snippet or "") for a in answers)
            for hit in hits[:3]
        )
    return Outcome(rank, visible, reply.no_answer, reply.coverage, reply.phrase, reply.probability)


@dataclass
class Scores:
    """Aggregated metrics of one engine on one list of questions."""

    n: int
    r1: float
    r3: float
    mrr: float
    visible: float | None
    no_answer: float

    @classmethod
    def of(cls, outcomes: Sequence[Outcome]) -> Scores:
        n = len(outcomes)
        if not n:
            return cls(0, 0.0, 0.0, 0.0, None, 0.0)
        ranks = [o.rank for o in outcomes]
        vis = [o.visible for o in outcomes]
        return cls(
            n=n,
            r1=sum(r == 1 for r in ranks) / n,
            r3=sum(r is not None and r <= 3 for r in ranks) / n,
            mrr=sum(1.0 / r for r in ranks if r is not None) / n,
            visible=None if any(v is None for v in vis) else sum(bool(v) for v in vis) / n,
            no_answer=sum(o.no_answer for o in outcomes) / n,
        )


# --------------------------------------------------------------------------- engines


class Engine:
    """Something that answers a question with ranked hits."""

    label = ""
    k1 = DEFAULT_K1
    b = DEFAULT_B
    has_no_answer = True

    def ask(self, question: str) -> Reply:
        """The hits and whether the engine said "no answer"."""
        raise NotImplementedError

    def close(self) -> None:
        pass


class ProjectEngine(Engine):
    """The project itself: the indexer's store and the searcher `ask` uses."""

    def __init__(
        self,
        db_path: Path,
        folder: Path,
        params: BM25Params,
        min_coverage: float,
        variants: bool = False,
        reranker: Reranker | None = None,
    ):
        stage = "BM25+rerank" if reranker else "BM25"
        self.label = f"project {stage} ({ANALYZER_VERSION}{', variants' if variants else ''})"
        self.k1, self.b = params.k1, params.b
        started = time.perf_counter()
        report = index_collection(db_path, folder, params=params)
        log(
            f"  store {db_path.name}: {report.documents} files, {report.passages} passages"
            f" ({'rebuilt' if report.rebuilt or report.indexed else 'cached'}, "
            f"{time.perf_counter() - started:.1f} s)"
        )
        self.store = Store(db_path)
        if reranker is not None and min_coverage <= 0:  # --sweep: no no-answer rule at all
            reranker = dataclasses.replace(reranker, threshold=0.0)
        self.searcher = Searcher(
            self.store, min_coverage=min_coverage, variants=variants, explain=True,
            reranker=reranker,
        )

    def ask(self, question: str) -> Reply:
        answer: Answer = self.searcher.search(question, top=SEARCH_TOP)
        hits = [Hit(r.source, r.snippet) for r in answer.results]
        return Reply(hits, not answer.results, answer.coverage, answer.phrase, answer.probability)

    def close(self) -> None:
        self.store.close()


def whitespace_tokens(text: str) -> list[str]:
    """The plainest baseline: split on whitespace, nothing else."""
    return text.split()


BASELINE_TOKENIZERS: dict[str, Callable[[str], list[str]]] = {
    "whitespace": whitespace_tokens,
    "analyzer": analyze,
}


class RankBM25Engine(Engine):
    """rank-bm25's BM25Okapi over the non-empty lines of the files; a file scores its best line.

    BM25Okapi builds the statistics (idf with its epsilon floor, lengths, average
    length); scoring reads them through an inverted index, which gives exactly
    `get_scores` (checked in the tests) without its Python loop over every document.
    """

    has_no_answer = False

    def __init__(self, folder: Path, tokenizer: str, k1: float = 1.5, b: float = 0.75):
        from rank_bm25 import BM25Okapi

        self.label = f"rank-bm25 BM25Okapi, {tokenizer} tokens"
        self.k1, self.b = k1, b
        self.tokenize = BASELINE_TOKENIZERS[tokenizer]
        started = time.perf_counter()
        sources: list[str] = []
        corpus: list[list[str]] = []
        for path in sorted(folder.rglob("*.txt")):
            rel = path.relative_to(folder).as_posix()
            for line in path.read_text(encoding="utf-8-sig").splitlines():
                if line.strip():
                    sources.append(rel)
                    corpus.append(self.tokenize(line))
        self.bm25 = BM25Okapi(corpus, k1=k1, b=b, epsilon=DEFAULT_EPSILON)
        del corpus
        self.sources = sources
        self._build_postings()
        log(f"  {self.label}: {len(sources)} lines ({time.perf_counter() - started:.1f} s)")

    def _build_postings(self) -> None:
        ids: dict[str, list[int]] = defaultdict(list)
        tfs: dict[str, list[int]] = defaultdict(list)
        for doc_id, freqs in enumerate(self.bm25.doc_freqs):
            for term, tf in freqs.items():
                ids[term].append(doc_id)
                tfs[term].append(tf)
        self.postings = {t: (np.array(ids[t], np.int64), np.array(tfs[t], np.float64)) for t in ids}
        self.doc_len = np.array(self.bm25.doc_len, np.float64)
        self.bm25.doc_freqs = []  # the memory-hungry part; postings hold the same numbers

    def scores(self, tokens: Iterable[str]) -> np.ndarray:
        """Exactly BM25Okapi.get_scores(tokens)."""
        bm = self.bm25
        score = np.zeros(len(self.doc_len))
        norm = bm.k1 * (1 - bm.b + bm.b * self.doc_len / bm.avgdl)
        for q in tokens:
            posting = self.postings.get(q)
            if posting is None:
                continue
            ids, tf = posting
            score[ids] += (bm.idf.get(q) or 0) * (tf * (bm.k1 + 1) / (tf + norm[ids]))
        return score

    def ask(self, question: str) -> Reply:
        score = self.scores(self.tokenize(question))
        candidates = np.nonzero(score > 0)[0]
        order = candidates[np.lexsort((candidates, -score[candidates]))]
        hits: list[Hit] = []
        files: set[str] = set()
        for doc_id in order:
            source = self.sources[doc_id]
            hits.append(Hit(source, None))
            files.add(source)
            if len(files) >= MRR_DEPTH:
                break
        return Reply(hits)


# --------------------------------------------------------------------------- runs


@dataclass
class Row:
    """One line of the table."""

    setting: str
    engine: str
    k1: float
    b: float
    questions: str
    scores: Scores
    note: str = ""


@dataclass
class Run:
    """Everything measured in one invocation."""

    rows: list[Row] = field(default_factory=list)
    details: dict[str, list[dict]] = field(default_factory=dict)


def run_questions(engine: Engine, questions: Sequence[Question]) -> list[Outcome]:
    outcomes = []
    started = time.perf_counter()
    for i, q in enumerate(questions, start=1):
        outcomes.append(judge(q, engine.ask(q.text)))
        if i % 500 == 0:
            log(f"    {i}/{len(questions)} questions ({time.perf_counter() - started:.0f} s)")
    return outcomes


def offtopic_questions(path: Path = OFFTOPIC_FILE, name: str = "off-topic") -> list[Question]:
    """The off-topic questions: one a line; blank lines and lines starting with # ignored."""
    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
    return [
        Question(name, line.strip(), frozenset(), ())
        for line in lines
        if line.strip() and not line.lstrip().startswith("#")
    ]


def default_offtopic_files() -> list[Path]:
    """The held-out off-topic file when present, and the training one (shown apart)."""
    return [p for p in (OFFTOPIC_TEST_FILE, OFFTOPIC_FILE) if p.is_file()]


def offtopic_sets(paths: Sequence[Path]) -> list[Question]:
    """Off-topic questions of several files, each file its own row: «off-topic (held-out)»
    for offtopic_test.txt, «off-topic (train)» for offtopic_questions.txt."""
    names = {OFFTOPIC_TEST_FILE.name: "held-out", OFFTOPIC_FILE.name: "train"}
    return [
        q for p in paths for q in offtopic_questions(p, f"off-topic ({names.get(p.name, p.stem)})")
    ]


def measured_sets(eval_dir: Path, pool_sets: Sequence[QASet]) -> list[QASet]:
    """XQuAD-ar, ARCD-test and ARCD-train (arcd.json whole when its halves are absent).

    Each keeps its own files (its collection when measured alone); `regold` maps its
    questions onto the pool's files.
    """
    sets = []
    for name, fname in MEASURED_SETS:
        if (eval_dir / fname).is_file():
            sets.append(load_squad(eval_dir / fname, name))
    if not any(s.name.startswith("ARCD") for s in sets):
        sets += [s for s in pool_sets if s.name == "ARCD"]
    return sets


def regold(qa_set: QASet, pool_sets: Sequence[QASet]) -> QASet:
    """The set with its questions' gold files renamed to the pool's files of the same text."""
    pool_file = {text: rel for s in pool_sets for rel, text in s.files.items()}
    questions = [
        Question(q.set_name, q.text,
                 frozenset(pool_file.get(qa_set.files[g], g) for g in q.gold), q.answers)
        for q in qa_set.questions
    ]
    return QASet(qa_set.name, qa_set.files, questions)


def evaluate(
    run: Run,
    setting: str,
    engine: Engine,
    sets: Sequence[QASet],
    offtopic: Sequence[Question],
    gold_prefix: str = "",
) -> None:
    """Ask every question of `sets` (and the off-topic ones) and add rows to `run`."""
    for qa_set in sets:
        log(f"  {qa_set.name}: {len(qa_set.questions)} questions")
        questions = [
            Question(q.set_name, q.text, frozenset(gold_prefix + g for g in q.gold), q.answers)
            for q in qa_set.questions
        ]
        outcomes = run_questions(engine, questions)
        run.rows.append(Row(setting, engine.label, engine.k1, engine.b, qa_set.name, Scores.of(outcomes)))
        run.details[f"{setting}|{engine.label}|{qa_set.name}"] = [
            {"q": q.text, "rank": o.rank, "visible": o.visible, "no_answer": o.no_answer,
             "coverage": round(o.coverage, 4), "phrase": o.phrase, "p": _round(o.probability)}
            for q, o in zip(questions, outcomes)
        ]
    if not engine.has_no_answer:
        return
    for name, questions in _offtopic_groups(offtopic):
        outcomes = run_questions(engine, questions)
        run.rows.append(Row(setting, engine.label, engine.k1, engine.b, name, Scores.of(outcomes)))
        run.details[f"{setting}|{engine.label}|{name}"] = [
            {"q": q.text, "no_answer": o.no_answer, "coverage": round(o.coverage, 4),
             "phrase": o.phrase, "p": _round(o.probability)}
            for q, o in zip(questions, outcomes)
        ]


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _offtopic_groups(offtopic: Sequence[Question]) -> list[tuple[str, list[Question]]]:
    """Off-topic questions by file: the name each table row shows ("off-topic …")."""
    groups: dict[str, list[Question]] = {}
    for q in offtopic:
        groups.setdefault(q.set_name, []).append(q)
    return list(groups.items())


def store_path(out: Path, name: str) -> Path:
    """Where the cached store of a collection lives: keyed by the analyzer version."""
    version = re.sub(r"[^A-Za-z0-9_.-]+", "_", ANALYZER_VERSION)
    return out / "stores" / f"{name}-{version}.sqlite3"


def run_benchmark(
    eval_dir: Path,
    corpus_dir: Path,
    out: Path,
    *,
    pooled: bool = False,
    baselines: bool = False,
    params: BM25Params | None = None,
    min_coverage: float = DEFAULT_MIN_COVERAGE,
    variants: bool = False,
    limit: int | None = None,
    seeds_dir: Path = SEEDS_DIR,
    offtopic_files: Sequence[Path] | None = None,
    rerank: str = "both",
    model: Path = DEFAULT_MODEL,
) -> Run:
    """Measure; raises DataMissing before any work when a data folder is absent.

    `rerank`: "both" (BM25 alone, then BM25+rerank, on the same stores), "on" or "off".
    """
    params = params or BM25Params()
    pool_sets = load_qa_sets(eval_dir)
    sets = measured_sets(eval_dir, pool_sets)
    if pooled:
        check_dir(corpus_dir / "saudinewsnet", "SaudiNewsNet corpus")
    if limit:
        for qa_set in sets:
            qa_set.questions = qa_set.questions[:limit]
    seeds_dev = load_seeds_dev(eval_dir)
    offtopic = offtopic_sets(default_offtopic_files() if offtopic_files is None else offtopic_files)
    rerankers: list[Reranker | None] = []
    if rerank in ("both", "off"):
        rerankers.append(None)
    if rerank in ("both", "on"):
        rerankers.append(Reranker.load(model))
    run = Run()
    work = out / "work"

    if not pooled:
        for qa_set in sets:
            folder = work / "sets" / set_slug(qa_set.name)
            write_files(folder, qa_set.files)
            db = store_path(out, set_slug(qa_set.name))
            makers = _engines(db, folder, params, min_coverage, baselines, variants, rerankers)
            for make in makers:
                engine = make()
                log(f"{qa_set.name} alone — {engine.label}")
                evaluate(run, f"{qa_set.name} alone", engine, [qa_set], offtopic)
                engine.close()
    else:
        folder = write_pool(pool_sets, corpus_dir, out)
        pooled_sets = [regold(s, pool_sets) for s in sets]
        makers = _engines(
            store_path(out, "pool"), folder, params, min_coverage, baselines, variants, rerankers
        )
        for make in makers:
            engine = make()
            log(f"pooled — {engine.label}")
            evaluate(run, "pooled", engine, pooled_sets, offtopic)
            engine.close()

    if seeds_dev and seeds_dir.is_dir():
        for reranker in rerankers:
            engine = ProjectEngine(
                store_path(out, "seeds"), seeds_dir, params, min_coverage, variants, reranker
            )
            outcomes = run_questions(engine, seeds_dev)
            engine.close()
            scores = Scores.of(outcomes)
            right = sum(o.rank == 1 for o in outcomes)
            run.rows.append(
                Row("seeds/", engine.label, params.k1, params.b, "seeds_dev", scores,
                    note=f"right file first {right}/{len(outcomes)}")
            )
            run.details[f"seeds|{engine.label}|seeds_dev"] = [
                {"q": q.text, "rank": o.rank, "visible": o.visible, "no_answer": o.no_answer}
                for q, o in zip(seeds_dev, outcomes)
            ]
    return run


def write_pool(sets: Sequence[QASet], corpus_dir: Path, out: Path) -> Path:
    """Write the pooled collection (the sets' paragraphs and SaudiNewsNet) under `out`; its folder."""
    folder = out / "work" / "pool"
    log(f"writing the pool under {folder} …")
    files = (item for qa_set in sets for item in qa_set.files.items())
    written = write_files(folder, _chain(files, saudinewsnet_articles(corpus_dir)))
    log(f"  {len(written)} files")
    return folder


def _chain(*iterables: Iterable[tuple[str, str]]) -> Iterable[tuple[str, str]]:
    for iterable in iterables:
        yield from iterable


def _engines(
    db: Path,
    folder: Path,
    params: BM25Params,
    min_coverage: float,
    baselines: bool,
    variants: bool,
    rerankers: Sequence[Reranker | None] = (None,),
) -> list[Callable[[], Engine]]:
    """Engine factories: each is built only when its turn comes, so one is in memory at a time."""
    makers: list[Callable[[], Engine]] = [
        (lambda r=r: ProjectEngine(db, folder, params, min_coverage, variants, r))
        for r in rerankers
    ]
    if baselines:
        makers += [
            lambda: RankBM25Engine(folder, "whitespace", 1.5, 0.75),
            lambda: RankBM25Engine(folder, "analyzer", 1.5, 0.75),
            lambda: RankBM25Engine(folder, "analyzer", params.k1, params.b),
        ]
    return makers


# --------------------------------------------------------------------------- output


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def markdown_table(rows: Sequence[Row]) -> str:
    """The table docs/benchmarks.md shows."""
    lines = [
        "| setting | engine | k1 / b | questions | n | R@1 | R@3 | MRR@10 | visible@3 | no answer |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        s = row.scores
        if row.questions.startswith("off-topic"):
            cells = ["—"] * 4
        else:
            cells = [_fmt(s.r1), _fmt(s.r3), _fmt(s.mrr), _fmt(s.visible)]
        no_answer = _fmt(s.no_answer) if row.engine.startswith("project") else "—"
        questions = row.questions + (f" ({row.note})" if row.note else "")
        lines.append(
            f"| {row.setting} | {row.engine} | {row.k1:g} / {row.b:g} | {questions} | {s.n} | "
            + " | ".join(cells)
            + f" | {no_answer} |"
        )
    return "\n".join(lines)


SWEEP_THRESHOLDS = (0.0, 0.1, 0.15, 0.2, 0.22, 0.24, 0.25, 0.26, 0.28, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7)


def _refused(outcome: dict, threshold: float) -> bool:
    """Whether the no-answer rule at `threshold` refuses a question of a run without it."""
    return outcome["coverage"] < threshold and not outcome["phrase"]


#: Probability thresholds of the reranked sweep.
SWEEP_PROBABILITIES = (0.0, 0.01, 0.02, 0.03, 0.05, 0.07, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5)


def _refused_p(outcome: dict, threshold: float) -> bool:
    """Whether the reranker at probability `threshold` refuses a question of a run without it."""
    return (outcome.get("p") or 0.0) < threshold


def sweep_table(
    run: Run, thresholds: Sequence[float] = SWEEP_THRESHOLDS, *, reranked: bool = False
) -> str:
    """No-answer shares and R@1 had the coverage threshold been t (from a run with threshold 0).

    A question gets "no answer" at threshold t exactly when its best passage covers
    less than t of its idf mass and holds no phrase of it, so one run without the rule
    gives every threshold. With `reranked`, the BM25+rerank engine's rows instead, and
    t is the least probability of its best candidate.
    """
    groups: dict[str, list[dict]] = {}
    for key, outcomes in run.details.items():
        setting, engine, questions = key.split("|") if key.count("|") == 2 else ("", "", "")
        if setting != "seeds" and engine.startswith("project") and ("rerank" in engine) == reranked:
            groups[f"{questions} ({setting})"] = outcomes
    names = list(groups)
    refused = _refused_p if reranked else _refused
    header = f"| {'min probability' if reranked else 'min coverage'} | "
    header += " | ".join(f"no answer {n}" for n in names)
    header += " | " + " | ".join(f"R@1 {n}" for n in names if not n.startswith("off-topic")) + " |"
    lines = [header, "|" + "---|" * (1 + len(names) + sum(not n.startswith("off-topic") for n in names))]
    for t in thresholds:
        cells = [f"{t:g}"]
        cells += [_fmt(sum(refused(o, t) for o in groups[n]) / max(1, len(groups[n])))
                  for n in names]
        cells += [
            _fmt(sum(o["rank"] == 1 and not refused(o, t) for o in groups[n])
                 / max(1, len(groups[n])))
            for n in names if not n.startswith("off-topic")
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.quality",
        description="Paragraph-retrieval quality on XQuAD-ar and ARCD (issue 2 protocol).",
    )
    parser.add_argument("--eval-dir", type=Path, default=ROOT.parent / "shared" / "eval",
                        help="folder with xquad.ar.json, arcd.json, seeds_dev.jsonl (default ../shared/eval)")
    parser.add_argument("--corpus-dir", type=Path, default=ROOT.parent / "shared" / "corpus",
                        help="folder with saudinewsnet/*.zip (default ../shared/corpus; --pooled only)")
    parser.add_argument("--pooled", action="store_true",
                        help="one collection: both sets' paragraphs and every SaudiNewsNet article")
    parser.add_argument("--baselines", action="store_true",
                        help="also measure rank-bm25 BM25Okapi baselines over the same files")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out",
                        help="work folder: collection files, cached stores, results (default benchmarks/out)")
    parser.add_argument("--k1", type=float, default=DEFAULT_K1, help=f"BM25 k1 (default {DEFAULT_K1})")
    parser.add_argument("--b", type=float, default=DEFAULT_B, help=f"BM25 b (default {DEFAULT_B})")
    parser.add_argument("--min-coverage", type=float, default=DEFAULT_MIN_COVERAGE,
                        help=f"no-answer threshold (default {DEFAULT_MIN_COVERAGE})")
    parser.add_argument("--sweep", action="store_true",
                        help="run without the no-answer rule and print what each threshold would give")
    parser.add_argument("--variants", action="store_true",
                        help="ask with spelling variants of foreign names matched (retrieval/variants.py)")
    parser.add_argument("--limit", type=int, default=None, help="first N questions of each set only")
    parser.add_argument("--offtopic", type=Path, action="append", default=None,
                        help="off-topic questions file, one row each (repeatable; default "
                        "benchmarks/offtopic_test.txt when present, and offtopic_questions.txt)")
    parser.add_argument("--rerank", choices=("both", "on", "off"), default="both",
                        help="BM25 alone and BM25+rerank on the same stores (default), or one")
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL, help=argparse.SUPPRESS)
    parser.add_argument("--seeds-dir", type=Path, default=SEEDS_DIR, help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):
        stream.reconfigure(encoding="utf-8")  # type: ignore[union-attr]
    args = build_parser().parse_args(argv)
    started = time.perf_counter()
    try:
        run = run_benchmark(
            args.eval_dir,
            args.corpus_dir,
            args.out,
            pooled=args.pooled,
            baselines=args.baselines,
            params=BM25Params(args.k1, args.b, DEFAULT_EPSILON),
            min_coverage=0.0 if args.sweep else args.min_coverage,
            variants=args.variants,
            limit=args.limit,
            seeds_dir=args.seeds_dir,
            offtopic_files=args.offtopic,
            rerank=args.rerank,
            model=args.model,
        )
    except DataMissing as exc:
        print(
            f"benchmark data missing: {exc}\n"
            "The quality benchmark needs the evaluation sets (xquad.ar.json, arcd.json, "
            "seeds_dev.jsonl) and, for --pooled, the SaudiNewsNet ZIP files; point "
            "--eval-dir / --corpus-dir at them. Nothing was measured.",
            file=sys.stderr,
        )
        return EXIT_NO_DATA
    command = "python -m benchmarks.quality " + " ".join(
        shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv)
    )
    print(markdown_table(run.rows))
    if args.sweep:
        print("\nNo-answer rule (coverage of the question's idf mass by the best passage, no phrase):\n")
        print(sweep_table(run))
        if args.rerank != "off":
            print("\nNo-answer rule with the reranker (P(answered) of its best candidate):\n")
            print(sweep_table(run, SWEEP_PROBABILITIES, reranked=True))
    print(f"\n`{command.strip()}` ({time.perf_counter() - started:.0f} s)")
    args.out.mkdir(parents=True, exist_ok=True)
    name = "quality-pooled.json" if args.pooled else "quality.json"
    (args.out / name).write_text(
        json.dumps(
            {"command": command, "rows": [_row_json(r) for r in run.rows], "details": run.details},
            ensure_ascii=False,
            indent=1,
        ),
        encoding="utf-8",
    )
    return 0


def _row_json(row: Row) -> dict:
    return {
        "setting": row.setting, "engine": row.engine, "k1": row.k1, "b": row.b,
        "questions": row.questions, "note": row.note, **row.scores.__dict__,
    }


__all__ = ["RankBM25Engine", "judge", "main", "markdown_table", "run_benchmark"]

if __name__ == "__main__":
    sys.exit(main())
