"""Command line: `python -m bot [index|ask|chat|run|health|report]` (no command: start the bot)."""

from __future__ import annotations

import argparse
import io
import logging
import sys
import time
from pathlib import Path

from bot import health
from bot.render import HELP, answer_to_console, answer_to_json, sources_to_console
from bot.service import QAService
from bot.settings import Settings, SettingsError
from storage.store import StoreError

log = logging.getLogger("bot")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (also used to check that every command is documented)."""
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="Arabic question answering over a document collection "
        "(no command: the Telegram bot when a token is configured, else the console chat).",
    )
    sub = parser.add_subparsers(dest="command")
    p = sub.add_parser("index", help="make DIR the collection and bring the index up to date")
    p.add_argument("dir", nargs="?", type=Path, help="collection folder (default CORPUS_DIR)")
    p = sub.add_parser("ask", help="answer one question (or, with --json, one per stdin line)")
    p.add_argument("question", nargs="?", help="the question, in Arabic")
    p.add_argument("--top", type=int, default=None, help="number of results (default 3)")
    p.add_argument("--json", action="store_true", help="print one JSON object per question")
    order = p.add_mutually_exclusive_group()
    order.add_argument("--rerank", action="store_true", default=None,
                       help="reorder BM25's first candidates with the learned model (as RERANK=1, the default)")
    order.add_argument("--no-rerank", dest="rerank", action="store_false",
                       help="pure BM25 order (as RERANK=0)")
    sub.add_parser("chat", help="interactive console chat")
    sub.add_parser("run", help="run the Telegram bot (needs TELEGRAM_BOT_TOKEN)")
    sub.add_parser("health", help="check that the index is present and current (exit 0 if so)")
    p = sub.add_parser(
        "report", help="questions, no-answer share, votes per file, latency per day, unanswered"
    )
    p.add_argument("--since", default=None, metavar="7d|2w|YYYY-MM-DD|all",
                   help="first day (UTC) to report on (default: every day kept)")
    form = p.add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true", help="one JSON object (schema in README)")
    form.add_argument("--csv", action="store_true", help="one CSV table with a section column")
    return parser


def _use_utf8() -> None:
    """UTF-8 on the standard streams whatever the locale.

    A stdin line that is not UTF-8 is read with U+FFFD in place of the bad bytes, so
    batch mode still answers it, and every line after it.
    """
    for stream, errors in ((sys.stdin, "replace"), (sys.stdout, "strict"), (sys.stderr, "replace")):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(encoding="utf-8", errors=errors)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    _use_utf8()
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "report":
        from bot import report  # here: only this command reads the stats file

        try:
            first_day = report.since_day(args.since, time.time())
        except ValueError as exc:
            parser.error(str(exc))
    if args.command == "ask":  # usage errors before any (possibly long) indexing
        if args.top is not None and not 1 <= args.top <= 50:
            parser.error("--top must be between 1 and 50")
        if args.question is None and not args.json:
            parser.error("give a question, or use --json to read questions from stdin")
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        settings = Settings.load()
        service = QAService(
            settings.database_path, settings.corpus_dir, variants=settings.variants,
            rerank=settings.rerank if getattr(args, "rerank", None) is None else args.rerank,
            limits=settings.limits,
        )
        command = args.command or ("run" if settings.telegram_enabled else "chat")
        if command == "index":
            return cmd_index(service, args.dir or settings.corpus_dir)
        if command == "health":
            return cmd_health(service, settings)
        if command == "report":
            return cmd_report(settings, first_day, args)
        if command == "run":
            from bot.telegram.app import run_bot

            settings.check_token()
            log.info("settings: %s", settings.describe())
            _ensure_index(service)
            return run_bot(settings, service)
        _ensure_index(service, keep_collection=True)
        if command == "ask":
            return cmd_ask(service, args.question, args.top or settings.top_k, args.json)
        return cmd_chat(service, settings.top_k)
    except (SettingsError, StoreError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _ensure_index(service: QAService, *, keep_collection: bool = False) -> None:
    """Index first when the store is missing or stale (the service logs why)."""
    report = service.ensure_index(keep_collection=keep_collection)
    if report is not None:
        print(report.summary(), file=sys.stderr)


def cmd_index(service: QAService, corpus_dir: Path) -> int:
    """`index [DIR]`: print the report on stdout."""
    report = service.reindex(corpus_dir=corpus_dir)
    print(report.summary())
    return 0


def cmd_ask(service: QAService, question: str | None, top: int, as_json: bool) -> int:
    """`ask`: one question, or a JSON line per stdin line in batch mode."""
    if question is None:  # batch mode (main() checked that --json is set)
        out = sys.stdout
        for line in sys.stdin:  # a line out per line in, flushed: a caller may wait for it
            out.write(answer_to_json(service.ask(line.rstrip("\r\n"), top=top)) + "\n")
            out.flush()
        return 0
    answer = service.ask(question, top=top)
    print(answer_to_json(answer) if as_json else answer_to_console(answer, color=sys.stdout.isatty()))
    return 2 if answer.error else 0


def cmd_chat(service: QAService, top: int) -> int:
    """`chat`: answer each typed line as the bot would, until EOF or /quit."""
    print(HELP + "\nاكتب سؤالك، أو /sources لعرض الوثائق، أو /quit للخروج.")
    color = sys.stdout.isatty()
    while True:
        try:
            line = input("\n؟ ")
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        command = line.strip().lower()
        if command in ("/quit", "/exit", "exit", "quit"):
            return 0
        if command in ("/help", "/start"):
            print(HELP)
        elif command == "/sources":
            print(sources_to_console(service.sources()))
        else:
            print(answer_to_console(service.ask(line, top=top), color=color))


def cmd_report(settings: Settings, first_day: str | None, args: argparse.Namespace) -> int:
    """`report`: what the stats file says (text, --json or --csv on stdout)."""
    from bot import report  # imported here, as the stats modules: only this command needs them
    from bot.stats import stats_path
    from storage.stats_store import StatsStore

    path = stats_path(settings.database_path, settings.stats_path)
    if not path.is_file():
        raise StoreError(f"no stats file at {path} (the bot writes it once it answers)")
    store = StatsStore(path)
    try:
        built = report.build(store, first_day, time.time())
    finally:
        store.close()
    print(report.to_json(built) if args.json else report.to_csv(built) if args.csv
          else report.to_text(built), end="" if args.csv else "\n")
    return 0


def cmd_health(service: QAService, settings: Settings) -> int:
    """`health`: exit 0 when the store opens, matches the analyzer and the token is set."""
    try:
        print(health.check(service, settings))
    except health.Unhealthy as exc:
        print(f"unhealthy: {exc}")
        return 1
    return 0
