"""`python -m bot` as a subprocess (cwd = the repository, settings from the environment)."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import build_parser, main
from retrieval.analyzer import analyze
from retrieval.search import Searcher
from storage.indexer import index_collection
from storage.store import Store

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
LAVROV = "متى تبدأ زيارة لافروف؟"
RESULT_KEYS = {"source", "page", "paragraph", "score", "text", "snippet", "highlights"}
#: `python -m bot ARGS` that prints the names in sys.modules on stderr's last line as it ends.
WITH_MODULES = (
    "import runpy, sys\n"
    "sys.argv = ['bot', *sys.argv[1:]]\n"
    "try:\n"
    "    runpy.run_module('bot', run_name='__main__')\n"
    "finally:\n"
    "    print(' '.join(sorted(sys.modules)), file=sys.stderr)\n"
)
#: Modules only indexing, the stats file or Telegram need (they were most of a start's time).
NOT_FOR_ASKING = {
    "sqlite_utils", "multiprocessing", "concurrent.futures.process", "telegram",
    "bot.telegram", "bot.stats", "bot.report", "storage.stats_store", "storage.feedback_store",
}


def run_bot(
    *args: str,
    corpus: Path,
    db: Path,
    stdin: str | bytes | None = None,
    io_encoding: str = "utf-8",
    python_args: tuple[str, ...] = ("-m", "bot"),
    **settings: str,
):
    """Run `python -m bot ARGS` from the repository root with its own collection and store.

    `io_encoding` is what Python would use for the standard streams (PYTHONIOENCODING),
    as a terminal or pipe with another locale would make it.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")}
    env.update(
        CORPUS_DIR=str(corpus),
        DATABASE_PATH=str(db),
        TELEGRAM_BOT_TOKEN="",  # set but empty: wins over any .env in the repository
        PYTHONIOENCODING=io_encoding,
    )
    env.update(settings)
    if isinstance(stdin, str):
        stdin = stdin.encode("utf-8")
    done = subprocess.run(
        [sys.executable, *python_args, *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        timeout=120,
    )
    return done.returncode, done.stdout, done.stderr.decode("utf-8", errors="replace")


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    """A seed collection and its store, for tests that only ask."""
    root = tmp_path_factory.mktemp("cli")
    shutil.copytree(SEEDS, root / "corpus")
    index_collection(root / "bot.sqlite3", root / "corpus")
    return root / "corpus", root / "bot.sqlite3"


def _check_result(result: dict, question: str) -> None:
    assert set(result) == RESULT_KEYS
    assert isinstance(result["source"], str) and "\\" not in result["source"]
    assert isinstance(result["paragraph"], int) and result["paragraph"] >= 1
    assert isinstance(result["score"], float) and result["score"] > 0
    assert result["snippet"].strip("… ") in result["text"]
    terms = set(analyze(question))
    for start, end in result["highlights"]:
        assert 0 <= start < end <= len(result["snippet"])
        assert set(analyze(result["snippet"][start:end])) <= terms


# --- the parser -----------------------------------------------------------------------


def test_every_command_and_option_is_documented():
    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    commands = {action.dest: action.help for action in sub._choices_actions}
    assert set(commands) == {"index", "ask", "chat", "run", "health", "report"}
    assert set(sub.choices) == set(commands)
    for name, help_text in commands.items():
        assert help_text and help_text.strip(), name
        for action in sub.choices[name]._actions:
            assert action.help, (name, action.dest)


@pytest.mark.parametrize("command", ["index", "ask", "chat", "run", "health", "report"])
def test_every_command_has_help_output(command, capsys):
    with pytest.raises(SystemExit) as caught:
        build_parser().parse_args([command, "--help"])
    assert caught.value.code == 0
    assert "usage:" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv",
    [["bogus"], ["ask", "q", "--top", "0"], ["ask", "q", "--top", "x"], ["index", "a", "b"],
     ["ask", "--unknown"]],
)
def test_wrong_usage_exits_2_in_process(argv, capsys):
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 2
    assert "usage" in capsys.readouterr().err


# --- ask ------------------------------------------------------------------------------


def test_ask_json_indexes_first_when_the_store_does_not_exist(tmp_path):
    corpus, db = tmp_path / "corpus", tmp_path / "data" / "bot.sqlite3"
    shutil.copytree(SEEDS, corpus)
    # Output is UTF-8 even where the standard streams default to ASCII.
    code, out, err = run_bot("ask", LAVROV, "--json", corpus=corpus, db=db, io_encoding="ascii")
    assert code == 0, err
    assert db.exists()
    assert "index" in err.lower()  # it said it was indexing
    lines = out.decode("utf-8").splitlines()
    assert len(lines) == 1
    # UTF-8, not ASCII-escaped
    assert "لافروف".encode("utf-8") in out and b"\\u06" not in out
    answer = json.loads(lines[0])
    assert set(answer) == {"query", "results", "error"}
    assert answer["query"] == LAVROV and answer["error"] is None
    assert 1 <= len(answer["results"]) <= 3
    first = answer["results"][0]
    assert first["source"] == "001_29605565af34d15c.txt"
    assert first["paragraph"] == 8
    assert "11 يوليو" in first["snippet"]
    for result in answer["results"]:
        _check_result(result, LAVROV)


def test_ask_prints_an_answer_a_person_reads(indexed):
    corpus, db = indexed
    code, out, err = run_bot("ask", LAVROV, "--top", "1", corpus=corpus, db=db)
    assert code == 0, err
    text = out.decode("utf-8")
    assert "001_29605565af34d15c.txt" in text and "الفقرة 8" in text and "11 يوليو" in text
    assert "\033[" not in text  # no colour codes when not a terminal
    assert not text.lstrip().startswith("{")


BATCH = [
    LAVROV,
    "",
    "من هي وزيرة خارجية كوريا الشمالية؟",
    "ك" * 1001,
    "🙂🙂",
    "   ",
    "كيف أحضر كعكة الشوكولاتة في الفرن؟",
    "أين عقد لقاء لافروف وروبيو؟",
]


def test_ask_json_batch_prints_one_object_per_line_in_order(indexed):
    corpus, db = indexed
    stdin = "\n".join(BATCH[:-1]) + "\r\n" + BATCH[-1]  # a CRLF, and no final newline
    code, out, err = run_bot("ask", "--json", "--top", "2", corpus=corpus, db=db, stdin=stdin)
    assert code == 0, err
    lines = out.decode("utf-8").splitlines()
    assert len(lines) == len(BATCH)
    answers = [json.loads(line) for line in lines]
    assert [a["query"] for a in answers] == BATCH
    errors = [a["error"] is not None for a in answers]
    assert errors == [False, True, False, True, True, True, False, False]
    for answer in answers:
        assert set(answer) == {"query", "results", "error"}
        if answer["error"]:
            assert answer["results"] == []
    assert answers[0]["results"][0]["source"] == "001_29605565af34d15c.txt"
    assert answers[2]["results"][0]["source"] == "001_29605565af34d15c.txt"
    assert answers[6]["results"] == []  # off topic: no answer, but not an error
    assert answers[7]["results"][0]["source"] == "003_4d407a0bed6a0682.txt"
    for answer in answers:
        assert len(answer["results"]) <= 2
        for result in answer["results"]:
            _check_result(result, answer["query"])


def test_the_default_is_reranked_and_no_rerank_gives_the_bm25_answers(indexed):
    corpus, db = indexed
    stdin = "\n".join(BATCH)
    runs = [
        run_bot("ask", "--json", "--top", "5", "--no-rerank", corpus=corpus, db=db, stdin=stdin,
                RERANK="1"),
        run_bot("ask", "--json", "--top", "5", corpus=corpus, db=db, stdin=stdin, RERANK="0"),
        run_bot("ask", "--json", "--top", "5", corpus=corpus, db=db, stdin=stdin),
        run_bot("ask", "--json", "--top", "5", "--rerank", corpus=corpus, db=db, stdin=stdin,
                RERANK="0"),
    ]
    assert all(code == 0 for code, _, _ in runs), [err for _, _, err in runs]
    flag, setting, default, reranked = (
        [json.loads(x) for x in out.decode().splitlines()] for _, out, _ in runs
    )
    assert flag == setting and default == reranked
    searcher = Searcher(Store(db), variants=True)
    for answer in flag:
        expected = searcher.search(answer["query"], top=5)
        assert [r["score"] for r in answer["results"]] == [r.score for r in expected.results]
    # Reranked: the same JSON shape (the order may differ).
    for a, b in zip(flag, reranked):
        assert set(a) == set(b) and a["error"] == b["error"]
        for result in b["results"]:
            assert set(result) == RESULT_KEYS


def test_ask_json_batch_survives_a_line_that_is_not_utf8(indexed):
    corpus, db = indexed
    stdin = (
        LAVROV.encode("utf-8") + b"\n\xff\xfe\xfa broken\n"
        + "أين عقد لقاء لافروف وروبيو؟".encode("utf-8") + b"\n"
    )
    code, out, err = run_bot("ask", "--json", corpus=corpus, db=db, stdin=stdin)
    lines = out.decode("utf-8").splitlines()
    assert len(lines) == 3, err
    answers = [json.loads(line) for line in lines]
    assert answers[0]["results"][0]["source"] == "001_29605565af34d15c.txt"
    assert answers[2]["results"][0]["source"] == "003_4d407a0bed6a0682.txt"
    assert code == 0


def test_ask_json_batch_reads_utf8_whatever_the_locale(indexed):
    corpus, db = indexed
    stdin = LAVROV + "\n" + "أين عقد لقاء لافروف وروبيو؟\n"
    # stdin decoded as Latin-1 by default, as on a legacy-locale or Windows machine
    code, out, err = run_bot(
        "ask", "--json", corpus=corpus, db=db, stdin=stdin, io_encoding="latin-1"
    )
    answers = [json.loads(line) for line in out.decode("utf-8").splitlines()]
    assert [a["query"] for a in answers] == [LAVROV, "أين عقد لقاء لافروف وروبيو؟"], err
    assert answers[0]["results"][0]["source"] == "001_29605565af34d15c.txt"
    assert code == 0


def test_ask_json_batch_with_empty_input_prints_nothing(indexed):
    corpus, db = indexed
    code, out, err = run_bot("ask", "--json", corpus=corpus, db=db, stdin="")
    assert code == 0, err
    assert out == b""


def test_ask_unusable_question_prints_the_error(indexed):
    corpus, db = indexed
    code, out, _ = run_bot("ask", "🙂", "--json", corpus=corpus, db=db)
    answer = json.loads(out)
    assert answer["results"] == [] and answer["error"]
    assert code != 0


@pytest.mark.parametrize("rerank", ["0", "1"])
def test_ask_on_a_current_index_loads_no_module_only_indexing_stats_or_telegram_need(
    indexed, rerank
):
    corpus, db = indexed
    code, out, err = run_bot(
        "ask", "--json", LAVROV, corpus=corpus, db=db, RERANK=rerank,
        python_args=("-c", WITH_MODULES),
    )
    assert code == 0, err
    assert json.loads(out)["results"]
    loaded = set(err.splitlines()[-1].split())
    assert {"bot.service", "storage.store", "storage.indexer"} <= loaded  # the real list
    assert not loaded & NOT_FOR_ASKING
    if rerank == "0":  # its rules are read by the reranker only
        assert "retrieval.question_words" not in loaded


@pytest.mark.parametrize("argv", [["ask"], ["frobnicate"]])
def test_wrong_usage_exits_2(indexed, argv):
    corpus, db = indexed
    code, out, err = run_bot(*argv, corpus=corpus, db=db)
    assert code == 2
    assert out == b""
    assert "question" in err or "invalid choice" in err


def test_wrong_usage_is_reported_before_any_indexing(tmp_path):
    corpus, db = tmp_path / "corpus", tmp_path / "bot.sqlite3"
    shutil.copytree(SEEDS, corpus)
    code, _, err = run_bot("ask", corpus=corpus, db=db)
    assert code == 2
    assert not db.exists(), err


# --- index and health -----------------------------------------------------------------


def test_index_prints_the_report_and_a_second_run_says_no_changes(tmp_path):
    corpus, db = tmp_path / "corpus", tmp_path / "bot.sqlite3"
    shutil.copytree(SEEDS, corpus)
    (corpus / "sub").mkdir()
    (corpus / "sub" / "extra.md").write_text("فقرة إضافية عن القمح والشعير.", encoding="utf-8")
    (corpus / "bad.txt").write_bytes(b"\xff\xfe not utf-8")
    code, out, err = run_bot("index", corpus=corpus, db=db)
    assert code == 0, err
    report = out.decode("utf-8")
    assert "files indexed: 6" in report
    assert "unchanged: 0" in report and "removed: 0" in report
    assert "skipped: 1" in report and "bad.txt" in report and "UTF-8" in report
    assert "passages:" in report and "seconds:" in report

    code, out, err = run_bot("index", corpus=corpus, db=db)
    assert code == 0, err
    report = out.decode("utf-8")
    assert "no changes" in report and "6 files unchanged" in report
    assert "bad.txt" in report  # still reported as skipped


def test_index_dir_argument_makes_it_the_collection(tmp_path):
    corpus, db = tmp_path / "corpus", tmp_path / "bot.sqlite3"
    other = tmp_path / "other"
    shutil.copytree(SEEDS, corpus)
    other.mkdir()
    (other / "only.txt").write_text("كلمةفريدة في مجموعة أخرى.", encoding="utf-8")
    code, out, err = run_bot("index", str(other), corpus=corpus, db=db)
    assert code == 0, err
    assert "files indexed: 1" in out.decode("utf-8")


def test_health(tmp_path, indexed):
    corpus, db = indexed
    code, out, err = run_bot("health", corpus=corpus, db=db)
    assert code == 0, err
    assert out.decode("utf-8").startswith("ok")
    code, out, _ = run_bot("health", corpus=corpus, db=tmp_path / "missing.sqlite3")
    assert code != 0
    assert "no index" in out.decode("utf-8")
    assert not (tmp_path / "missing.sqlite3").exists()


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({}, "TELEGRAM_BOT_TOKEN is not set"),
        ({"TELEGRAM_BOT_TOKEN": "12345:short"}, "TELEGRAM_BOT_TOKEN is malformed"),
        ({"TELEGRAM_BOT_TOKEN": "123456:" + "a" * 35, "ADMIN_IDS": "abc"}, "ADMIN_IDS"),
        ({"QUESTIONS_PER_MINUTE": "many"}, "QUESTIONS_PER_MINUTE"),
    ],
)
def test_run_refuses_missing_or_malformed_settings_clearly(indexed, settings, named):
    corpus, db = indexed
    code, out, err = run_bot("run", corpus=corpus, db=db, **settings)
    assert code == 1
    assert named in err
    assert "Traceback" not in err
    token = settings.get("TELEGRAM_BOT_TOKEN", "")
    assert not token or token.partition(":")[2] not in err  # never echo the secret


def test_no_command_without_a_token_opens_the_console_chat(indexed):
    corpus, db = indexed
    code, out, err = run_bot(corpus=corpus, db=db, stdin="متى تبدأ زيارة لافروف؟\n/quit\n")
    assert code == 0, err
    text = out.decode("utf-8")
    assert "اكتب سؤالك" in text  # the chat's greeting
    assert "001_29605565af34d15c.txt" in text and "11 يوليو" in text
