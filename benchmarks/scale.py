"""Benchmark at scale: this project against rank-bm25 and its peers, one table.

    python -m benchmarks.saudinewsnet benchmarks/out/snn
    python -m benchmarks.scale --corpus benchmarks/out/snn/saudinewsnet

    python -m benchmarks.generate_corpus benchmarks/out/gen1m --paragraphs 1000000
    python -m benchmarks.scale --corpus benchmarks/out/gen1m --limit-questions rank-bm25=40

What it does, in order:

1. Indexes the collection with the project's own command, `python -m bot index DIR`
   (DATABASE_PATH set to `--db`, a fresh store), and measures its wall time and the
   peak RSS of its processes (the indexer and its analysis workers, summed). Then adds
   one file to the collection and indexes, removes it and indexes — both timed — and
   checks that the top-10 scores of the first `--parity` questions equal the full
   build's afterwards.
2. Runs every engine in a process of its own on the same questions (one per line of
   `--questions`), top 10: it times each question after every question has been asked
   once (*warm*; p50, p95 and mean per question), *start* — from launching a new
   process to its first answer (Python start, imports, opening or building the index,
   the first question) — and *memory*, the peak RSS of that process.
   - `ours`: `retrieval.search.Searcher` over `storage.store.Store`, `search(q, top=10)`
     (whole answers: best passage per paragraph, snippets); `ours-variants` the same
     with spelling-variant matching on (`VARIANTS=1`); `ours-rerank` that and the
     second stage (retrieval/rerank.py), as the bot runs by default (`RERANK=1`).
   - `cli`: `python -m bot ask --json --top 10` in batch mode (the bot's settings, so
     variants on): every question written
     to its stdin twice; per question = the gap between answer lines in the second pass.
   - `rank-bm25`, `rank-bm25-rs`: `BM25Okapi` (k1, b, epsilon from the index) over the
     passages' token lists, re-analysed from the stored texts exactly as the indexer
     does (heading terms, then the window's); start includes that analysis and the build.
   - `bm25s` (method "robertson", float32) and `fts5` (SQLite FTS5 over the same
     tokens, its own bm25): built once beforehand and saved; start opens the saved
     index. Their scores differ from BM25Okapi's, so they are not parity-checked.
   Engines that are not installed are skipped and the report says so.
3. *Cold, long questions* (`--cold N`, default 300; 0 to skip): N SaudiNewsNet-style
   article titles of the store (`documents.title`, distinct, a seeded sample:
   `--cold-seed`), each asked once: `cli` in a fresh `python -m bot ask --json` batch
   process per repeat (`--cold-repeat`, medians reported) — its SQLite page cache and
   the program's own caches start empty, the OS file cache is left as it is; first a
   probe question with no match (it opens the store and loads its arrays: *start*),
   then every title written to its stdin once, per question = the gap between answer
   lines. `ours-variants`, `ours-rerank` and `rank-bm25-rs` (when among `--engines`)
   answer the same titles once each in a process of their own, for comparison in the same run.
   `--rerank 0|1` sets RERANK for the bot's processes (harmless where the setting
   does not exist).
4. Parity: for the first `--parity` questions, the project's top-10 scores (best
   passage per paragraph, and raw passages) must equal those of rank-bm25's
   `BM25Okapi` (and rank-bm25-rs) over the same tokens, |difference| <= 1e-9, as
   sorted lists (ties may be ordered differently).

Exit status: 0 when done and parity held (and the update was exact), 1 when not or a step broke,
2 when the collection folder or the questions file is missing.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import shlex
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "benchmarks" / "out"
DEFAULT_QUESTIONS = ROOT / "benchmarks" / "scale_questions.txt"
ENGINES = (
    "ours", "ours-variants", "ours-rerank", "cli", "rank-bm25", "rank-bm25-rs", "bm25s", "fts5",
)
DEFAULT_ENGINES = ENGINES
PARITY_REFERENCES = ("rank-bm25", "rank-bm25-rs")  # BM25Okapi: the same scores as ours
#: Python modules an engine needs, and how to get them.
MODULES = {"rank-bm25": "rank_bm25", "rank-bm25-rs": "rank_bm25_rs", "bm25s": "bm25s"}
TOLERANCE = 1e-9
TOP = 10
#: Engines of the cold run (titles asked once each), in the order of its table.
COLD_ENGINES = ("cli", "ours-variants", "ours-rerank", "rank-bm25-rs")
#: The cold run's first question: it matches nothing (it opens the store, loads its arrays).
PROBE = "benchmarkprobe"


class BenchmarkError(RuntimeError):
    """A step of the benchmark failed (the message says which and why)."""


# ---------------------------------------------------------------------------
# measuring child processes


@dataclass
class Measured:
    """A finished child process: wall seconds, peak RSS, exit status, output."""

    started_at: float  # time.time() just before it was launched
    seconds: float
    peak_rss_mb: float
    returncode: int
    stdout: str
    stderr: str


def run_measured(
    cmd: Sequence[str], env: dict[str, str] | None = None, cwd: Path = ROOT
) -> Measured:
    """Run `cmd` to the end; peak RSS is its own (wait4) or, if larger, its process tree's."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started_at, t0 = time.time(), time.perf_counter()
        proc = subprocess.Popen(
            list(cmd), stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env, cwd=cwd
        )
        tree_peak = _TreePeak(proc.pid)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t0
        tree_peak.stop()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Measured(
            started_at,
            seconds,
            max(usage.ru_maxrss / 1024, tree_peak.mb),
            proc.returncode,
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
        )


class _TreePeak(threading.Thread):
    """Samples the summed RSS of a process and all its descendants (the index workers)."""

    def __init__(self, pid: int, every: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.pid, self.every, self.mb = pid, every, 0.0
        self._done = threading.Event()
        self.start()

    def run(self) -> None:
        while not self._done.wait(self.every):
            self.mb = max(self.mb, _tree_rss_kb(self.pid) / 1024)

    def stop(self) -> None:
        self._done.set()
        self.join()


def _tree_rss_kb(root: int) -> int:
    """Summed VmRSS of `root` and its descendants, from /proc (0 where there is none)."""
    parent, rss = {}, {}
    for entry in Path("/proc").iterdir() if Path("/proc").is_dir() else ():
        if not entry.name.isdigit():
            continue
        try:
            fields = dict(
                line.split(":", 1) for line in (entry / "status").read_text().splitlines()
            )
        except (OSError, ValueError):
            continue
        pid = int(entry.name)
        parent[pid] = int(fields.get("PPid", "0"))
        rss[pid] = int(fields.get("VmRSS", "0 kB").split()[0])
    total = 0
    for pid in rss:
        walk = pid
        while walk and walk != root:
            walk = parent.get(walk, 0)
        if walk == root:
            total += rss[pid]
    return total


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


# ---------------------------------------------------------------------------
# the parent: index, run each engine, print the table


@dataclass
class IndexResult:
    seconds: float
    peak_rss_mb: float
    counts: dict[str, int]
    reused: bool = False


@dataclass
class EngineResult:
    engine: str
    questions: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    start_s: float = 0.0
    peak_rss_mb: float = 0.0
    notes: list[str] = field(default_factory=list)
    parity: list[dict[str, list[float]]] = field(default_factory=list)

    def percentile(self, q: float) -> float:
        values = sorted(self.latencies_ms)
        if not values:
            return float("nan")
        # nearest rank, as for a latency SLO
        rank = max(1, min(len(values), round(q / 100 * len(values) + 0.5)))
        return values[rank - 1]

    @property
    def mean_ms(self) -> float:
        return (
            sum(self.latencies_ms) / len(self.latencies_ms) if self.latencies_ms else float("nan")
        )


def load_questions(path: Path) -> list[str]:
    """Non-empty lines of the questions file."""
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def has_documents(corpus: Path) -> bool:
    """True when the folder holds at least one file the indexer reads."""
    for _dirpath, _dirnames, filenames in os.walk(corpus):
        if any(name.lower().endswith((".txt", ".md")) for name in filenames):
            return True
    return False


def _remove_store(db: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)


def build_index(corpus: Path, db: Path) -> IndexResult:
    """A fresh store at `db` from `corpus`, built by `python -m bot index` in its own process."""
    _remove_store(db)
    db.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DATABASE_PATH": str(db)}
    m = run_measured([sys.executable, "-m", "bot", "index", str(corpus)], env=env)
    if m.returncode != 0:
        raise BenchmarkError(
            f"indexing failed (exit {m.returncode}) after {m.seconds:.1f} s, "
            f"peak RSS {m.peak_rss_mb:.0f} MB:\n{_tail(m.stderr or m.stdout)}"
        )
    return IndexResult(m.seconds, m.peak_rss_mb, store_counts(db))


UPDATE_FILE = "zz-benchmark-one-file-update.txt"


@dataclass
class UpdateResult:
    """Adding then removing one file of an indexed collection, each a `bot index` run."""

    add_seconds: float
    remove_seconds: float
    same_scores: int  # questions whose top-10 scores afterwards equal those of the full build
    questions: int


def _top_scores_in_process(db: Path, questions: Sequence[str]) -> list[list[float]]:
    from retrieval.search import Searcher
    from storage.store import Store

    store = Store(db)
    try:
        searcher = Searcher(store, min_coverage=0.0)
        return [[r.score for r in searcher.search(q, top=TOP).results] for q in questions]
    finally:
        store.close()


def time_one_file_update(corpus: Path, db: Path, questions: Sequence[str]) -> UpdateResult:
    """Add one file to the collection and index, remove it and index: both timed; then
    check the scores equal the full build's (the update path must be exact)."""
    before = _top_scores_in_process(db, questions)
    first = min(p for p in corpus.rglob("*.txt") if p.name != UPDATE_FILE)
    lines = [line for line in first.read_text(encoding="utf-8").splitlines() if line.strip()]
    added = corpus / UPDATE_FILE
    env = {**os.environ, "DATABASE_PATH": str(db)}
    timings = []
    try:
        added.write_text("\n".join(reversed(lines)) + "\n", encoding="utf-8")
        for _ in range(2):
            m = run_measured([sys.executable, "-m", "bot", "index", str(corpus)], env=env)
            if m.returncode != 0:
                raise BenchmarkError(f"update failed (exit {m.returncode}):\n{_tail(m.stderr)}")
            timings.append(m.seconds)
            added.unlink(missing_ok=True)
    finally:
        added.unlink(missing_ok=True)
    after = _top_scores_in_process(db, questions)
    same = sum(a == b for a, b in zip(after, before))
    return UpdateResult(timings[0], timings[1], same, len(questions))


def store_counts(db: Path) -> dict[str, int]:
    """Documents, paragraphs, passages, terms and tokens of a built store."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    finally:
        conn.close()
    keys = ("documents", "paragraphs", "passages", "terms", "total_length")
    return {k: int(meta.get(k, 0)) for k in keys}


def engine_available(engine: str) -> str | None:
    """Why an engine cannot run here, or None when it can."""
    module = MODULES.get(engine)
    if module and importlib.util.find_spec(module) is None:
        return f"not installed (pip install {engine})"
    if engine == "fts5":
        try:
            sqlite3.connect(":memory:").execute("CREATE VIRTUAL TABLE t USING fts5(x)")
        except sqlite3.OperationalError:
            return "this SQLite has no FTS5"
    return None


def _worker_cmd(action: str, engine: str, db: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "benchmarks.scale",
        "_worker",
        action,
        engine,
        "--db",
        str(db),
        *extra,
    ]


def prepare_engine(engine: str, db: Path, rebuild: bool) -> str | None:
    """Build and save the index of an engine that keeps one on disk; a note on its build."""
    if engine not in ("bm25s", "fts5"):
        return None
    if not rebuild and _engine_index_path(engine, db).exists():
        return "saved index reused"
    m = run_measured(_worker_cmd("build", engine, db))
    if m.returncode != 0:
        raise BenchmarkError(f"{engine}: build failed (exit {m.returncode}):\n{_tail(m.stderr)}")
    return f"build {m.seconds:.1f} s, {m.peak_rss_mb:.0f} MB"


def run_engine(
    engine: str,
    db: Path,
    questions_file: Path,
    limit: int | None,
    parity: int,
    once: bool = False,
) -> EngineResult:
    """Run one engine in its own process and collect its measurements.

    `once`: the cold run — a probe question, then every question once, each timed.
    """
    if engine == "cli":
        questions = load_questions(questions_file)[: limit or None]
        return run_cli_cold(db, questions) if once else run_cli(db, questions)
    with tempfile.TemporaryDirectory(prefix="scale-") as tmp:
        result_path = Path(tmp, "result.json")
        extra = ["--questions", str(questions_file), "--result", str(result_path)]
        extra += ["--parity", str(parity)] + (["--limit", str(limit)] if limit else [])
        extra += ["--once"] if once else []
        m = run_measured(_worker_cmd("serve", engine, db, *extra))
        if m.returncode != 0 or not result_path.exists():
            raise BenchmarkError(f"{engine}: failed (exit {m.returncode}):\n{_tail(m.stderr)}")
        data = json.loads(result_path.read_text(encoding="utf-8"))
    return EngineResult(
        engine=engine,
        questions=len(data["latencies_ms"]),
        latencies_ms=data["latencies_ms"],
        start_s=data["first_answer_at"] - m.started_at,
        peak_rss_mb=m.peak_rss_mb,
        notes=data.get("notes", []),
        parity=data.get("parity", []),
    )


class _BatchBot:
    """`python -m bot ask --json --top TOP` in batch mode on `db`: questions in, answers out.

    `first` asks one question and returns when it is answered (the process's *start*);
    `timed` writes every question at once from a thread (pipelined, so the process never
    waits for input) and times the gaps between answer lines.
    """

    def __init__(self, db: Path, err):
        self.err = err
        self.started_at = time.time()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "ask", "--json", "--top", str(TOP)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err,
            env={**os.environ, "DATABASE_PATH": str(db)}, cwd=ROOT, text=True,
            encoding="utf-8", bufsize=1,
        )

    def read_answer(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            self.err.seek(0)
            raise BenchmarkError(f"cli: bot ask stopped early:\n{_tail(self.err.read().decode())}")
        return json.loads(line)

    def _write(self, lines: list[str]) -> threading.Thread:
        def write() -> None:
            self.proc.stdin.write("".join(q + "\n" for q in lines))
            self.proc.stdin.flush()

        thread = threading.Thread(target=write, daemon=True)
        thread.start()
        return thread

    def first(self, question: str) -> float:
        """Ask `question`; the seconds from launch to its answer."""
        self._write([question]).join()
        self.read_answer()
        return time.time() - self.started_at

    def untimed(self, questions: list[str]) -> None:
        """Ask `questions` without timing them (a warm-up pass)."""
        self._write(questions).join()
        for _ in questions:
            self.read_answer()

    def timed(self, questions: list[str]) -> tuple[list[float], int, float]:
        """Per-question ms (gaps between answer lines), how many answered, total ms."""
        t0 = time.perf_counter()
        writer = self._write(questions)
        latencies, last, answered = [], t0, 0
        for _ in questions:
            answer = self.read_answer()
            now = time.perf_counter()
            latencies.append((now - last) * 1000)
            last = now
            answered += bool(answer.get("results"))
        writer.join()
        return latencies, answered, (last - t0) * 1000

    def close(self) -> float:
        """End the process; its peak RSS in MB."""
        if not self.proc.stdin.closed:
            self.proc.stdin.close()
        self.proc.stdout.read()
        _, status, usage = os.wait4(self.proc.pid, 0)
        self.proc.returncode = os.waitstatus_to_exitcode(status)
        return usage.ru_maxrss / 1024


def run_cli(db: Path, questions: list[str]) -> EngineResult:
    """`python -m bot ask --json` in batch mode: a first question, a warm pass, a timed pass."""
    with tempfile.TemporaryFile() as err:
        bot = _BatchBot(db, err)
        try:
            start = bot.first(questions[0])
            bot.untimed(questions[1:])
            latencies, answered, total = bot.timed(questions)
        finally:
            peak = bot.close()
    return EngineResult(
        engine="cli",
        questions=len(questions),
        latencies_ms=latencies,
        start_s=start,
        peak_rss_mb=peak,
        notes=[
            f"{total / len(questions):.2f} ms per question (total/n)",
            f"answered {answered}/{len(questions)}",
        ],
    )


def run_cli_cold(db: Path, questions: list[str]) -> EngineResult:
    """`python -m bot ask --json` batch in a fresh process: a probe, then each question once.

    Start = launch to the probe's answer (it matches nothing: imports, opening the
    store, loading its arrays); per question = the gap between answer lines while
    every question is written to stdin once (pipelined, so the process never waits).
    """
    with tempfile.TemporaryFile() as err:
        bot = _BatchBot(db, err)
        try:
            start = bot.first(PROBE)
            latencies, answered, _ = bot.timed(questions)
        finally:
            peak = bot.close()
    return EngineResult(
        engine="cli",
        questions=len(questions),
        latencies_ms=latencies,
        start_s=start,
        peak_rss_mb=peak,
        notes=[f"answered {answered}/{len(questions)}"],
    )


def cold_titles(db: Path, n: int, seed: int) -> list[str]:
    """A seeded sample of `n` distinct article titles of the store (all of them when fewer)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT title FROM documents ORDER BY path").fetchall()
    finally:
        conn.close()
    titles = list(dict.fromkeys(" ".join((t or "").split()) for (t,) in rows))
    titles = [t for t in titles if t]
    return random.Random(seed).sample(titles, min(n, len(titles)))


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def render_cold_table(runs: list[EngineResult]) -> str:
    """The cold run's table: every run, medians of repeated runs, ratios to rank-bm25-rs."""
    ref = next((r for r in runs if r.engine == "rank-bm25-rs"), None)
    head = (
        "| engine | questions | p50 ms | p95 ms | mean ms | start s | memory MB "
        "| p50 vs rank-bm25-rs | mean vs rank-bm25-rs | notes |\n"
        "|---|---|---|---|---|---|---|---|---|---|"
    )
    rows = []

    def row(name: str, n: int, p50: float, p95: float, mean: float, start: float, mb: float,
            notes: str) -> None:
        ratios = [_ratio(p50, ref.percentile(50)), _ratio(mean, ref.mean_ms)] if ref else ["–"] * 2
        rows.append(
            f"| {name} | {n} | {_fmt(p50, 2)} | {_fmt(p95, 2)} | {_fmt(mean, 2)} "
            f"| {_fmt(start, 2)} | {_fmt(mb, 0)} | {' | '.join(ratios)} | {notes} |"
        )

    for engine in COLD_ENGINES:
        mine = [r for r in runs if r.engine == engine]
        for i, r in enumerate(mine, 1):
            name = f"{engine} (run {i})" if len(mine) > 1 else engine
            row(name, r.questions, r.percentile(50), r.percentile(95), r.mean_ms, r.start_s,
                r.peak_rss_mb, "; ".join(r.notes))
        if len(mine) > 1:
            row(
                f"**{engine}, median of {len(mine)}**",
                mine[0].questions,
                _median([r.percentile(50) for r in mine]),
                _median([r.percentile(95) for r in mine]),
                _median([r.mean_ms for r in mine]),
                _median([r.start_s for r in mine]),
                _median([r.peak_rss_mb for r in mine]),
                "median of the runs above, figure by figure",
            )
    return "\n".join([head, *rows])


def run_cold(args: argparse.Namespace, db: Path) -> tuple[list[EngineResult], list[str]]:
    """The cold run: each engine of COLD_ENGINES in --engines answers the titles once."""
    engines = [e for e in COLD_ENGINES if e in args.engines and engine_available(e) is None]
    if args.cold <= 0 or not engines:
        return [], []
    titles = cold_titles(db, args.cold, args.cold_seed)
    runs: list[EngineResult] = []
    with tempfile.TemporaryDirectory(prefix="scale-cold-") as tmp:
        path = Path(tmp, "titles.txt")
        path.write_text("\n".join(titles) + "\n", encoding="utf-8")
        for engine in engines:
            repeats = max(1, args.cold_repeat) if engine == "cli" else 1
            for i in range(repeats):
                print(f"cold run: {engine} ({i + 1}/{repeats}) …", file=sys.stderr, flush=True)
                runs.append(run_engine(engine, db, path, None, 0, once=True))
    return runs, titles


def check_parity(ours: EngineResult, reference: EngineResult) -> dict[str, tuple[int, int]]:
    """(passed, checked) for paragraph and passage top-10 score lists."""
    out = {}
    n = min(len(ours.parity), len(reference.parity))
    for level in ("paragraph", "passage"):
        passed = 0
        for a, b in zip(ours.parity[:n], reference.parity[:n]):
            x, y = a[level], b[level]
            passed += len(x) == len(y) and all(abs(u - v) <= TOLERANCE for u, v in zip(x, y))
        out[level] = (passed, n)
    return out


def _fmt(value: float, digits: int = 1) -> str:
    if value != value:  # nan
        return "–"
    return f"{value:,.{digits}f}"


def _ratio(value: float, base: float) -> str:
    if not base or value != value or base != base:
        return "–"
    r = value / base
    return f"×{r:.2f}" if r < 10 else f"×{r:,.0f}"


def render_table(results: list[EngineResult]) -> str:
    """The markdown table, ratios against `ours`."""
    base = next((r for r in results if r.engine == "ours"), None)
    head = (
        "| engine | questions | p50 ms | p95 ms | mean ms | start s | memory MB "
        "| p50 vs ours | p95 vs ours | start vs ours | memory vs ours | notes |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|"
    )
    rows = []
    for r in results:
        p50, p95 = r.percentile(50), r.percentile(95)
        ratios = ["–"] * 4
        if base is not None:
            ratios = [
                _ratio(p50, base.percentile(50)),
                _ratio(p95, base.percentile(95)),
                _ratio(r.start_s, base.start_s),
                _ratio(r.peak_rss_mb, base.peak_rss_mb),
            ]
        digits = 2 if p95 < 100 else 0
        rows.append(
            f"| {r.engine} | {r.questions} | {_fmt(p50, digits)} | {_fmt(p95, digits)} "
            f"| {_fmt(r.mean_ms, digits)} | {_fmt(r.start_s, 2)} | {_fmt(r.peak_rss_mb, 0)} "
            f"| {' | '.join(ratios)} | {'; '.join(r.notes)} |"
        )
    return "\n".join([head, *rows])


def _parse_limits(text: str) -> dict[str, int]:
    limits = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        engine, sep, number = part.partition("=")
        if not sep or engine not in ENGINES or not number.isdigit() or int(number) < 1:
            raise argparse.ArgumentTypeError(f"expected ENGINE=N with a known engine, not {part!r}")
        limits[engine] = int(number)
    return limits


def _parse_engines(text: str) -> list[str]:
    engines = [e.strip() for e in text.split(",") if e.strip()]
    unknown = [e for e in engines if e not in ENGINES]
    if unknown or not engines:
        raise argparse.ArgumentTypeError(
            f"unknown engine(s) {unknown}; choose from {','.join(ENGINES)}"
        )
    return engines


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.scale",
        description="Index a collection and compare this project with rank-bm25 and peers.",
    )
    parser.add_argument("--corpus", type=Path, required=True, help="collection folder to index")
    parser.add_argument(
        "--db",
        type=Path,
        default=None,
        help="store to build (replaced; default benchmarks/out/<corpus name>.sqlite3)",
    )
    parser.add_argument(
        "--questions", type=Path, default=DEFAULT_QUESTIONS, help="one question a line"
    )
    parser.add_argument(
        "--engines",
        type=_parse_engines,
        default=list(DEFAULT_ENGINES),
        help=f"comma-separated, from {','.join(ENGINES)} (default all)",
    )
    parser.add_argument(
        "--parity", type=int, default=50, help="questions checked for parity (default 50)"
    )
    parser.add_argument(
        "--limit-questions",
        type=_parse_limits,
        default={},
        help="ENGINE=N[,ENGINE=N]: slow engines answer only the first N questions (said in the table)",
    )
    parser.add_argument(
        "--skip-index", action="store_true", help="reuse the store at --db as it is"
    )
    parser.add_argument(
        "--cold", type=int, default=300, metavar="N",
        help="cold run: N article titles of the store, each asked once (default 300; 0: none)",
    )
    parser.add_argument("--cold-seed", type=int, default=0, help="seed of the titles' sample")
    parser.add_argument(
        "--cold-repeat", type=int, default=1, metavar="R",
        help="fresh `bot ask` processes of the cold run (medians reported; default 1)",
    )
    parser.add_argument(
        "--no-warm", action="store_true", help="skip the warm table (only the cold run)"
    )
    parser.add_argument(
        "--rerank", choices=("0", "1"), default=None,
        help="RERANK for the bot's processes (stage 1 only or with the reranker)",
    )
    parser.add_argument(
        "--output", type=Path, default=None, help="also write the report to this file"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["_worker"]:
        return worker_main(argv[1:])
    args = build_parser().parse_args(argv)
    saved = os.environ.get("RERANK")
    if args.rerank is not None:  # inherited by every process the benchmark starts
        os.environ["RERANK"] = args.rerank
    try:
        return _run(args, argv)
    finally:
        if saved is None:
            os.environ.pop("RERANK", None)
        else:
            os.environ["RERANK"] = saved


def _run(args: argparse.Namespace, argv: list[str]) -> int:
    """The benchmark with parsed arguments; returns the exit status."""
    corpus: Path = args.corpus
    if not corpus.is_dir() or not has_documents(corpus):
        print(
            f"error: collection folder not found or empty: {corpus}\n"
            "make one first, e.g. `python -m benchmarks.saudinewsnet benchmarks/out/saudinewsnet` "
            "(needs ../shared/corpus/saudinewsnet/*.zip) or `python -m benchmarks.generate_corpus`",
            file=sys.stderr,
        )
        return 2
    if not args.questions.is_file():
        print(f"error: questions file not found: {args.questions}", file=sys.stderr)
        return 2
    questions = load_questions(args.questions)
    if not questions:
        print(f"error: no questions in {args.questions}", file=sys.stderr)
        return 2
    db: Path = args.db or OUT_DIR / f"{corpus.resolve().name}.sqlite3"
    command = "python -m benchmarks.scale " + " ".join(shlex.quote(a) for a in argv)
    load_before = os.getloadavg()
    lines: list[str] = []

    def say(text: str = "") -> None:
        print(text, flush=True)
        lines.append(text)

    try:
        if args.skip_index:
            if not db.exists():
                print(f"error: --skip-index but no store at {db}", file=sys.stderr)
                return 2
            index = IndexResult(float("nan"), float("nan"), store_counts(db), reused=True)
        else:
            print(f"indexing {corpus} into {db} …", file=sys.stderr, flush=True)
            index = build_index(corpus, db)
            print("adding and removing one file …", file=sys.stderr, flush=True)
            update = time_one_file_update(corpus, db, questions[: args.parity])
        results: list[EngineResult] = []
        skipped: list[str] = []
        for engine in [] if args.no_warm else args.engines:
            why = engine_available(engine)
            if why:
                skipped.append(f"{engine}: {why}")
                continue
            print(f"running {engine} …", file=sys.stderr, flush=True)
            note = prepare_engine(engine, db, rebuild=not args.skip_index)
            result = run_engine(
                engine, db, args.questions, args.limit_questions.get(engine), args.parity
            )
            if note:
                result.notes.insert(0, note)
            limit = args.limit_questions.get(engine)
            if limit and limit < len(questions):
                result.notes.insert(0, f"only the first {result.questions} questions")
            results.append(result)
        cold, titles = run_cold(args, db)
    except BenchmarkError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1

    c = index.counts
    say(f"command: `{command}`")
    say(
        f"collection: {corpus} — {c['documents']:,} files, {c['paragraphs']:,} paragraphs, "
        f"{c['passages']:,} passages, {c['terms']:,} terms, {c['total_length']:,} tokens; "
        f"{len(questions)} questions, top {TOP}"
    )
    if index.reused:
        say(f"index: reused {db} (not timed)")
        ok = True
    else:
        say(
            f"index (`python -m bot index`, fresh store): {index.seconds:.1f} s, "
            f"peak RSS {index.peak_rss_mb:.0f} MB (all its processes)"
        )
        say(
            f"one-file update (`python -m bot index`, whole process): add {update.add_seconds:.1f} s, "
            f"remove {update.remove_seconds:.1f} s; top-{TOP} scores afterwards equal to the "
            f"full build's: {update.same_scores}/{update.questions}"
        )
        ok = update.same_scores == update.questions
    load_after = os.getloadavg()
    say(
        f"machine: {os.cpu_count()} cores; load average {load_before[0]:.2f} before, "
        f"{load_after[0]:.2f} after (other processes share it)"
    )
    if results:
        say()
        say(render_table(results))
    if cold:
        say()
        say(
            f"cold, long questions: {len(titles)} article titles of the store (seed "
            f"{args.cold_seed}, {statistics.mean(map(len, titles)):.0f} characters on average), "
            "each asked once in a fresh process after a probe question; OS file cache as it "
            f"was; RERANK={os.environ.get('RERANK', '(unset)')}"
        )
        say()
        say(render_cold_table(cold))
    say()
    for engine in skipped:
        say(f"skipped {engine}")
    ours = next((r for r in results if r.engine == "ours"), None)
    references = [r for r in results if r.engine in PARITY_REFERENCES]
    if (ours is None or not references) and not args.no_warm:
        say("parity: not checked (needs ours and rank-bm25 or rank-bm25-rs)")
    for ref in references:
        counts = check_parity(ours, ref) if ours is not None else {}
        parts = [f"{level} top-{TOP} {p}/{n} pass" for level, (p, n) in counts.items()]
        with_hits = sum(bool(x["passage"]) for x in ref.parity)
        say(
            f"parity with {ref.engine} BM25Okapi (|Δscore| ≤ {TOLERANCE:g}, first questions, "
            f"{with_hits} with matches): " + ", ".join(parts)
        )
        ok &= all(p == n for p, n in counts.values())
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0 if ok else 1


# ---------------------------------------------------------------------------
# the worker: one engine in its own process (`python -m benchmarks.scale _worker ...`)


def _engine_index_path(engine: str, db: Path) -> Path:
    """Where bm25s and FTS5 keep their saved index, next to the store."""
    return db.with_name(f"{db.name}.{engine}")


def _top_scores(scores, k: int = TOP) -> list[float]:
    """The k largest positive scores, descending."""
    import numpy as np

    scores = scores[scores > 0]
    if len(scores) > k:
        scores = scores[np.argpartition(-scores, k - 1)[:k]]
    return sorted((float(s) for s in scores), reverse=True)


class _StoreTokens:
    """Passage ids, their paragraphs and token lists, re-analysed from the store's texts."""

    def __init__(self, db: Path):
        import numpy as np

        from retrieval.passages import passage_terms
        from storage.store import Store

        started = time.perf_counter()
        store = Store(db)
        try:
            with store.read():
                snap = store.snapshot()
                ids, tokens = [], []
                rows = store.conn.execute(
                    """SELECT s.id, s.start, s.end, p.heading, p.text FROM passages s
                       JOIN paragraphs p ON p.id = s.paragraph_id ORDER BY s.id"""
                )
                for pid, start, end, heading, text in rows:
                    ids.append(pid)
                    tokens.append(passage_terms(heading, text[start:end]))
        finally:
            store.close()
        self.params = snap.params
        self.ids = np.array(ids, dtype=np.int64)
        self.paragraphs = snap.paragraph_of[self.ids].astype(np.int64)
        self.tokens = tokens
        self.seconds = time.perf_counter() - started


class _Ours:
    """The project: Searcher over Store, whole answers as the bot gives them.

    `variants`: spelling-variant matching on (the bot's default; no longer BM25Okapi's
    exact scores, so it is not parity-checked); `rerank`: the shipped second stage too.
    """

    def __init__(self, db: Path, variants: bool = False, rerank: bool = False):
        from retrieval.rerank import RerankModelError, load_default
        from retrieval.search import Searcher
        from storage.store import Store

        reranker = load_default() if rerank else None
        if rerank and reranker is None:
            raise RerankModelError("the reranker model did not load (see the warning above)")
        self.store = Store(db)
        self.searcher = Searcher(self.store, variants=variants, reranker=reranker)
        self.notes: list[str] = []

    def ask(self, question: str):
        return self.searcher.search(question, top=TOP)

    def parity(self, question: str, _raw) -> dict[str, list[float]]:
        import numpy as np

        from retrieval.analyzer import analyze
        from retrieval.search import Searcher, score_terms

        answer = Searcher(self.store, min_coverage=0.0).search(question, top=TOP)
        terms = analyze(question.strip())
        with self.store.read():
            snap = self.store.snapshot()
            _ids, scores = score_terms(terms, snap, self.store.postings(terms))
        return {
            "paragraph": sorted((r.score for r in answer.results), reverse=True),
            "passage": _top_scores(np.asarray(scores)),
        }


class _Okapi:
    """rank-bm25's BM25Okapi (or rank-bm25-rs's) over the store's passage tokens."""

    def __init__(self, db: Path, module: str):
        import importlib

        okapi = importlib.import_module(module).BM25Okapi
        data = _StoreTokens(db)
        started = time.perf_counter()
        p = data.params
        self.model = okapi(data.tokens, k1=p.k1, b=p.b, epsilon=p.epsilon)
        build = time.perf_counter() - started
        self.paragraphs = data.paragraphs
        self.notes = [f"start = analyse {data.seconds:.1f} s + build {build:.1f} s"]
        del data

    def ask(self, question: str):
        import numpy as np

        from retrieval.analyzer import analyze

        scores = np.asarray(self.model.get_scores(analyze(question.strip())), dtype=np.float64)
        k = min(TOP, len(scores))
        top = np.argpartition(-scores, k - 1)[:k] if k else scores[:0]
        top = top[np.argsort(-scores[top], kind="stable")]
        return scores

    def parity(self, _question: str, scores) -> dict[str, list[float]]:
        import numpy as np

        hit = scores > 0
        best = np.zeros(int(self.paragraphs.max(initial=0)) + 1)
        np.maximum.at(best, self.paragraphs[hit], scores[hit])
        return {"paragraph": _top_scores(best), "passage": _top_scores(scores)}


class _Bm25s:
    """bm25s (method robertson, float32): its saved index, loaded whole."""

    def __init__(self, db: Path):
        import bm25s

        self.retriever = bm25s.BM25.load(str(_engine_index_path("bm25s", db)), show_progress=False)
        self.vocab = self.retriever.vocab_dict
        self.n = int(self.retriever.scores["num_docs"])
        self.notes = ["different scores (no idf floor, float32)"]

    @staticmethod
    def build(db: Path) -> None:
        import bm25s

        data = _StoreTokens(db)
        p = data.params
        retriever = bm25s.BM25(k1=p.k1, b=p.b, method="robertson")
        retriever.index(data.tokens, show_progress=False)
        retriever.save(str(_engine_index_path("bm25s", db)))

    def ask(self, question: str):
        from retrieval.analyzer import analyze

        terms = [t for t in analyze(question.strip()) if t in self.vocab]
        if not terms:
            return None
        return self.retriever.retrieve([terms], k=min(TOP, self.n), show_progress=False)


class _Fts5:
    """SQLite FTS5 over the same tokens (space-joined), ranked by its own bm25()."""

    def __init__(self, db: Path):
        path = _engine_index_path("fts5", db)
        self.conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        self.notes = ["different scores (FTS5 bm25: k1 1.2, b 0.75, its idf)"]

    @staticmethod
    def build(db: Path) -> None:
        path = _engine_index_path("fts5", db)
        path.unlink(missing_ok=True)
        data = _StoreTokens(db)
        conn = sqlite3.connect(path)
        conn.execute(
            "CREATE VIRTUAL TABLE passages USING fts5"
            "(body, tokenize='unicode61 remove_diacritics 0')"
        )
        conn.executemany(
            "INSERT INTO passages (rowid, body) VALUES (?, ?)",
            ((int(i), " ".join(t)) for i, t in zip(data.ids, data.tokens)),
        )
        conn.execute("INSERT INTO passages (passages) VALUES ('optimize')")
        conn.commit()
        conn.close()

    def ask(self, question: str):
        from retrieval.analyzer import analyze

        terms = dict.fromkeys(analyze(question.strip()))
        if not terms:
            return []
        match = " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)
        return self.conn.execute(
            "SELECT rowid, rank FROM passages WHERE passages MATCH ? ORDER BY rank LIMIT ?",
            (match, TOP),
        ).fetchall()


def _open_engine(engine: str, db: Path):
    if engine in ("ours", "ours-variants", "ours-rerank"):
        return _Ours(db, variants=engine != "ours", rerank=engine == "ours-rerank")
    if engine in ("rank-bm25", "rank-bm25-rs"):
        return _Okapi(db, MODULES[engine])
    if engine == "bm25s":
        return _Bm25s(db)
    if engine == "fts5":
        return _Fts5(db)
    raise ValueError(f"no worker for engine {engine!r}")


def worker_main(argv: list[str]) -> int:
    """`_worker build ENGINE --db DB` or `_worker serve ENGINE --db DB --questions F --result R`."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scale _worker")
    parser.add_argument("action", choices=("build", "serve"))
    parser.add_argument("engine", choices=ENGINES)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--questions", type=Path)
    parser.add_argument("--result", type=Path)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--parity", type=int, default=0)
    parser.add_argument("--once", action="store_true", help="cold: a probe, then each once")
    args = parser.parse_args(argv)
    from storage.indexer import needs_rebuild

    # Every engine must see the tokens the store was built with: a change to the
    # analyzer or the passage splitter since indexing would compare different things.
    reason = needs_rebuild(args.db)
    if reason is not None:
        print(
            f"error: the store {args.db} does not match the code ({reason}); "
            "it changed since the index was built: run the benchmark again",
            file=sys.stderr,
        )
        return 3
    if args.action == "build":
        {"bm25s": _Bm25s, "fts5": _Fts5}[args.engine].build(args.db)
        return 0
    questions = load_questions(args.questions)[: args.limit]
    engine = _open_engine(args.engine, args.db)
    engine.ask(PROBE if args.once else questions[0])
    first_answer_at = time.time()
    for question in [] if args.once else questions[1:]:  # warm: every question asked once
        engine.ask(question)
    latencies, parity, answered = [], [], 0
    for i, question in enumerate(questions):
        t0 = time.perf_counter()
        raw = engine.ask(question)
        latencies.append((time.perf_counter() - t0) * 1000)
        if isinstance(engine, _Ours):
            answered += bool(raw.results)
        if i < args.parity and args.engine not in ("ours-variants", "ours-rerank") and hasattr(engine, "parity"):
            parity.append(engine.parity(question, raw))
    notes = list(engine.notes)
    if isinstance(engine, _Ours):
        notes.append(f"answered {answered}/{len(questions)}")
    args.result.write_text(
        json.dumps(
            {
                "first_answer_at": first_answer_at,
                "latencies_ms": latencies,
                "parity": parity,
                "notes": notes,
            }
        ),
        encoding="utf-8",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
