"""`python -m bot report`: questions, answers missing and readers' votes, from the stats file.

    report = build(StatsStore(path), since_day("7d", time.time()), time.time())
    print(to_json(report))   # or to_csv(report), to_text(report)

The JSON shape (`SCHEMA`, documented in the README) is kept stable for scripts: keys are
only ever added, and a change of meaning gets a new `schema` number.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime, timedelta, timezone
from typing import Any

from storage.feedback_store import DAY_SECONDS
from storage.stats_store import StatsStore

SCHEMA = 1
CSV_COLUMNS = (
    "section", "day", "source", "key", "question", "questions", "unanswered", "up", "down",
    "p50_ms", "p95_ms", "count", "no_answer", "last",
)
_SINCE = re.compile(r"^(\d+)([dw])$")


def since_day(text: str | None, now: float) -> str | None:
    """The first UTC day of `--since`: `7d` (today and the 6 days before), `2w`, a date
    `YYYY-MM-DD`, or None / `all` for everything kept. ValueError when malformed."""
    if text is None or text == "all":
        return None
    today = datetime.fromtimestamp(now, timezone.utc).date()
    match = _SINCE.match(text.strip())
    if match:
        days = int(match.group(1)) * (7 if match.group(2) == "w" else 1)
        if days < 1:
            raise ValueError("--since needs at least one day")
        return (today - timedelta(days=days - 1)).isoformat()
    try:
        return datetime.strptime(text.strip(), "%Y-%m-%d").date().isoformat()
    except ValueError:
        raise ValueError(f"--since takes 7d, 2w, YYYY-MM-DD or all, not {text!r}") from None


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def _utc(at: float) -> str:
    return datetime.fromtimestamp(at, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def build(store: StatsStore, first_day: str | None, now: float) -> dict[str, Any]:
    """The report over the days from `first_day` (None: every day kept) to today."""
    until_day = datetime.fromtimestamp(now, timezone.utc).date().isoformat()
    days = store.daily(first_day, until_day)
    since = (
        datetime.fromisoformat(first_day).replace(tzinfo=timezone.utc).timestamp()
        if first_day else 0.0
    )
    until = (now // DAY_SECONDS + 1) * DAY_SECONDS  # the end of today
    groups, _ = store.unanswered(since, until)
    questions = sum(d.questions for d in days)
    unanswered = sum(d.unanswered for d in days)
    return {
        "schema": SCHEMA,
        "generated": _utc(now),
        "since": first_day,
        "until": until_day,
        "questions": questions,
        "unanswered": unanswered,
        "no_answer_share": round(unanswered / questions, 4) if questions else 0.0,
        "votes": {"up": sum(d.up for d in days), "down": sum(d.down for d in days)},
        "days": [
            {
                "day": d.day, "questions": d.questions, "unanswered": d.unanswered,
                "up": d.up, "down": d.down, "p50_ms": _ms(d.p50), "p95_ms": _ms(d.p95),
            }
            for d in days
        ],
        "sources": [
            {"source": source, "up": up, "down": down}
            for source, (up, down) in store.votes_by_source(since, until).items()
        ],
        "unanswered_groups": [
            {
                "key": g.key, "question": g.question, "count": g.count,
                "no_answer": g.no_answer, "down": g.down, "last": _utc(g.last),
            }
            for g in groups
        ],
    }


def to_json(report: dict[str, Any]) -> str:
    """The report as one JSON object (UTF-8, not ASCII-escaped)."""
    return json.dumps(report, ensure_ascii=False, indent=2)


def to_csv(report: dict[str, Any]) -> str:
    """The report as one CSV table: a `section` column (total, day, source, unanswered)
    says which of the other columns a row fills."""
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_COLUMNS, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerow({
        "section": "total", "questions": report["questions"],
        "unanswered": report["unanswered"], **report["votes"],
    })
    for day in report["days"]:
        writer.writerow({"section": "day", **day})
    for source in report["sources"]:
        writer.writerow({"section": "source", **source})
    for group in report["unanswered_groups"]:
        writer.writerow({"section": "unanswered", **group})
    return out.getvalue()


def to_text(report: dict[str, Any]) -> str:
    """The report for a person at a terminal."""
    lines = [
        f"From {report['since'] or 'the first day kept'} to {report['until']} (UTC):",
        f"  questions {report['questions']}, no answer {report['unanswered']}"
        f" ({report['no_answer_share']:.0%}), votes 👍 {report['votes']['up']}"
        f" 👎 {report['votes']['down']}",
        "",
        "day          questions  no answer   👍   👎   p50 ms   p95 ms",
    ]
    for d in report["days"]:
        lines.append(
            f"{d['day']}  {d['questions']:>9}  {d['unanswered']:>9}  {d['up']:>3}  {d['down']:>3}"
            f"  {d['p50_ms'] if d['p50_ms'] is not None else '-':>7}"
            f"  {d['p95_ms'] if d['p95_ms'] is not None else '-':>7}"
        )
    lines += ["", "votes per source file (👍 👎):"]
    lines += [f"  {s['up']:>4} {s['down']:>4}  {s['source']}" for s in report["sources"]] or [
        "  (none)"
    ]
    lines += ["", "questions with no answer or a 👎 (times, no answer, 👎, last):"]
    lines += [
        f"  {g['count']:>4} {g['no_answer']:>4} {g['down']:>4}  {g['last']}  "
        + (g["question"] or f"(text not kept, key {g['key']})")
        for g in report["unanswered_groups"]
    ] or ["  (none)"]
    return "\n".join(lines)
