"""Many users asking at once through the Telegram handler path: what the bot adds to search.

    .venv/bin/python -m benchmarks.bot_load --db benchmarks/out/snn.sqlite3 \\
        --corpus benchmarks/out/snn/saudinewsnet

20 simulated users, each in a private chat, ask 10 questions of
`benchmarks/scale_questions.txt` each, one after another (the next once the answer
is out), all users at once: 200 updates through `Application.process_update`, with a
recording request object in place of HTTP (no network) and without the pacing of
outgoing messages (Telegram's limits are not the bot's latency) or the per-user
question limit. Per question: *reply* = from the update entering the application to
the answer reaching the HTTP layer; *search* = the time inside `QAService.ask`, in
the search process that answered it (`--processes`, default as the bot: one per
usable CPU) or in a worker thread with `--processes 1`; *overhead* = reply − search:
event loop, hand-off to the search process or thread, rendering, queueing behind the
other users. The scale issue's target: overhead
p95 ≤ 50 ms. Also shown: each question's search alone, asked one by one (warm), and
the longest stall of the event loop during the run.

Question statistics are kept as the bot keeps them (`--stats 1`: daily counts in a
stats file, here a temporary one, written by a background thread — every
`--stats-flush` seconds, 0.1 by default so that writes happen during the run; the bot
writes every 5 s) or in memory only (`--stats 0`), to measure what lasting counts add.
`--feedback 1` (the bot's default, FEEDBACK=1) puts 👍 / 👎 under each answer, which
keeps a row per answer (question, files shown) in the stats file, buffered and written
with the counts; `--feedback 0` keeps rows only for questions without an answer.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.request import BaseRequest, RequestData

from benchmarks.scale import load_questions
from bot.search_pool import SearchPool, default_processes
from bot.service import QAService
from bot.settings import Settings
from bot.stats import LastingStats, QuestionStats
from bot.telegram.app import build_application
from retrieval.search import Answer
from storage.stats_store import StatsStore

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw_"  # a made-up token of the right shape
BOT_USER = {"id": 123456789, "is_bot": True, "first_name": "مجيب", "username": "QaBot"}
FIRST_USER = 10_000

#: Where the search time of the question being handled is written (asyncio.to_thread
#: copies the context into the worker thread, so each question has its own).
_SEARCH_TIME: ContextVar[list[float]] = ContextVar("search_time")


class TimedService(QAService):
    """QAService that records how long each `ask` took, for the question's context."""

    def ask(self, question: str, top: int = 3, offset: int = 0) -> Answer:
        started = time.perf_counter()
        answer = super().ask(question, top, offset)
        _SEARCH_TIME.get([]).append(time.perf_counter() - started)
        return answer


class TimedPool(SearchPool):
    """SearchPool that records each search's time in its worker, for the question's context."""

    async def ask(self, question: str, top: int = 3, offset: int = 0) -> Answer:
        answer, seconds = await self.ask_timed(question, top, offset)
        _SEARCH_TIME.get([]).append(seconds)
        return answer


class RecordingRequest(BaseRequest):
    """Answers the Bot API calls the bot makes and notes when each chat got a message."""

    def __init__(self) -> None:
        self.sent_at: dict[int, float] = {}
        self.texts: dict[int, str] = {}

    @property
    def read_timeout(self) -> float:
        return 5.0

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def do_request(
        self, url: str, method: str, request_data: RequestData | None = None, **_: Any
    ) -> tuple[int, bytes]:
        name = url.rsplit("/", 1)[-1]
        params = request_data.parameters if request_data else {}
        result: Any = True
        if name == "getMe":
            result = BOT_USER
        elif name == "sendMessage":
            chat = params["chat_id"]
            self.sent_at[chat] = time.perf_counter()
            self.texts[chat] = params["text"]
            result = {
                "message_id": len(self.sent_at),
                "date": int(time.time()),
                "chat": {"id": chat, "type": "private", "first_name": "x"},
                "from": BOT_USER,
                "text": params["text"],
            }
        return 200, json.dumps({"ok": True, "result": result}).encode()


def _update(update_id: int, user: int, text: str) -> dict[str, Any]:
    person = {"id": user, "is_bot": False, "first_name": "سائل"}
    chat = {"id": user, "type": "private", "first_name": "سائل"}
    message = {"message_id": update_id, "date": int(time.time()), "chat": chat, "from": person}
    return {"update_id": update_id, "message": {**message, "text": text}}


def _stats_ms(values: list[float]) -> tuple[float, float, float]:
    """p50, p95 and max of `values` (seconds), in milliseconds."""
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p95 * 1000, ordered[-1] * 1000


async def _loop_stalls(stop: asyncio.Event, every: float = 0.002) -> float:
    """The longest the event loop was late to wake this task, in seconds."""
    worst = 0.0
    while not stop.is_set():
        started = time.perf_counter()
        await asyncio.sleep(every)
        worst = max(worst, time.perf_counter() - started - every)
    return worst


async def run_load(
    service: TimedService,
    settings: Settings,
    questions: list[list[str]],
    pool: TimedPool | None = None,
    stats: QuestionStats | None = None,
) -> dict[str, Any]:
    """Every user asks their questions in turn, all users at once; returns the timings."""
    request = RecordingRequest()
    app = build_application(
        settings,
        service,
        request=request,
        rate_limiter=False,
        search_pool=pool,
        stats=stats if stats is not None else QuestionStats(),
    )
    await app.initialize()
    replies, searches, empty = [], [], 0
    update_ids = iter(range(1, 10**9))

    async def user(index: int, asks: list[str]) -> None:
        nonlocal empty
        chat = FIRST_USER + index
        for text in asks:
            update = Update.de_json(_update(next(update_ids), chat, text), app.bot)
            spent: list[float] = []
            _SEARCH_TIME.set(spent)
            started = time.perf_counter()
            await app.process_update(update)
            if chat not in request.sent_at or len(spent) != 1:
                raise RuntimeError(f"user {index} got no answer to {text!r}")
            replies.append(request.sent_at.pop(chat) - started)
            searches.append(spent[0])
            empty += "blockquote" not in request.texts.pop(chat)

    stop = asyncio.Event()
    stalls = asyncio.create_task(_loop_stalls(stop))
    started = time.perf_counter()
    try:
        await asyncio.gather(*(user(i, asks) for i, asks in enumerate(questions)))
    finally:
        wall = time.perf_counter() - started
        stop.set()
        await app.shutdown()
    return {
        "replies": replies,
        "searches": searches,
        "overheads": [r - s for r, s in zip(replies, searches)],
        "no_answer": empty,
        "wall": wall,
        "stall": await stalls,
    }


async def _ask_all(pool: SearchPool, questions: list[str]) -> None:
    for question in questions:
        await pool.ask(question)


def search_alone(service: QAService, questions: list[str]) -> list[float]:
    """Each question asked once more by itself, warm: its search time."""
    times = []
    for question in questions:
        started = time.perf_counter()
        service.ask(question)
        times.append(time.perf_counter() - started)
    return times


def render(
    result: dict[str, Any], alone: list[float], users: int, per_user: int, stats: str = ""
) -> str:
    """The report: a markdown table plus the counts."""
    rows = [
        ("search alone (one by one, warm)", alone),
        ("search inside the load run", result["searches"]),
        ("reply (update in → answer out)", result["replies"]),
        ("**overhead** (reply − search)", result["overheads"]),
    ]
    lines = ["| per question | p50 ms | p95 ms | max ms |", "|---|---|---|---|"]
    for name, values in rows:
        p50, p95, worst = _stats_ms(values)
        lines.append(f"| {name} | {p50:.2f} | {p95:.2f} | {worst:.2f} |")
    total = len(result["replies"])
    lines += [
        "",
        f"{users} users × {per_user} questions: answered {total}/{users * per_user} "
        f"({result['no_answer']} with «no answer») in {result['wall']:.2f} s; "
        f"longest event-loop stall {result['stall'] * 1000:.1f} ms",
    ]
    if stats:
        lines.append(f"question stats: {stats}")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, default=ROOT / "benchmarks/out/snn.sqlite3",
                        help="an index built by `python -m bot index` (default: %(default)s)")
    parser.add_argument("--corpus", type=Path, default=ROOT / "benchmarks/out/snn/saudinewsnet",
                        help="its collection folder (default: %(default)s)")
    parser.add_argument("--questions", type=Path, default=ROOT / "benchmarks/scale_questions.txt")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--per-user", type=int, default=10)
    parser.add_argument("--variants", type=int, choices=(0, 1), default=int(Settings.variants),
                        help="match spelling variants, as VARIANTS does (default: %(default)s)")
    parser.add_argument("--processes", type=int, default=default_processes(),
                        help="search processes, as SEARCH_PROCESSES does; 1: a thread of the bot's "
                        "process (default: %(default)s, the bot's default here)")
    parser.add_argument("--stats", type=int, choices=(0, 1), default=1,
                        help="1: question counts kept in a (temporary) stats file, as the bot "
                        "keeps them; 0: in memory only (default: %(default)s)")
    parser.add_argument("--feedback", type=int, choices=(0, 1), default=int(Settings.feedback),
                        help="1: 👍 / 👎 under each answer and a row per answer in the stats "
                        "file, as FEEDBACK does (default: %(default)s)")
    parser.add_argument("--stats-flush", type=float, default=0.1, metavar="SECONDS",
                        help="seconds between two writes of the stats file (default: "
                        "%(default)s; the bot: 5)")
    return parser


def _run_with_stats(
    service: TimedService,
    settings: Settings,
    questions: list[list[str]],
    pool: TimedPool | None,
    args: argparse.Namespace,
    folder: Path,
) -> tuple[dict[str, Any], str]:
    """run_load with the question stats `--stats` asks for; the timings and what was kept."""
    if not args.stats:
        result = asyncio.run(run_load(service, settings, questions, pool, QuestionStats()))
        return result, "in memory only"
    path = folder / "stats.sqlite3"
    stats = LastingStats(path, flush_seconds=args.stats_flush)
    try:
        result = asyncio.run(run_load(service, settings, questions, pool, stats))
    finally:
        stats.close()
    store = StatsStore(path)
    written = store.history().questions
    answers = store.answers_kept()
    store.close()
    return result, (
        f"in a stats file, {stats.writes} writes (every {args.stats_flush:g} s), "
        f"{written} questions and {answers} answer rows in it (feedback {args.feedback})"
    )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not args.db.is_file():
        print(
            f"error: no index at {args.db}. Build one first, e.g.\n"
            "  .venv/bin/python -m benchmarks.saudinewsnet benchmarks/out/snn/saudinewsnet\n"
            "  DATABASE_PATH=benchmarks/out/snn.sqlite3 .venv/bin/python -m bot index "
            "benchmarks/out/snn/saudinewsnet",
            file=sys.stderr,
        )
        return 2
    pool = load_questions(args.questions)
    needed = args.users * args.per_user
    asks = [pool[i % len(pool)] for i in range(needed)]
    per_user = [asks[u * args.per_user : (u + 1) * args.per_user] for u in range(args.users)]
    settings = Settings(
        telegram_bot_token=TOKEN,
        database_path=args.db,
        corpus_dir=args.corpus,
        questions_per_minute=10**6,  # the per-user limit's waits are not measured
        variants=bool(args.variants),
        feedback=bool(args.feedback),
    )
    service = TimedService(args.db, args.corpus, variants=settings.variants)  # as the bot runs
    pool = None
    if args.processes > 1:
        pool = TimedPool(args.db, args.corpus, variants=settings.variants, processes=args.processes)
    try:
        search_alone(service, asks)  # warm: every question asked once
        alone = search_alone(service, asks)
        if pool is not None:  # the search processes are warmed the same way
            asyncio.run(_ask_all(pool, asks))
        with tempfile.TemporaryDirectory() as folder:
            result, kept = _run_with_stats(service, settings, per_user, pool, args, Path(folder))
    finally:
        if pool is not None:
            pool.close()
        service.close()
    print(render(result, alone, args.users, args.per_user, kept))
    return 0


if __name__ == "__main__":
    sys.exit(main())
