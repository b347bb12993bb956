"""The quality benchmark on a tiny synthetic eval folder (no ../shared needed)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from rank_bm25 import BM25Okapi

from benchmarks import quality
from benchmarks.common import Question, load_squad, write_files
from benchmarks.quality import EXIT_NO_DATA, Hit, RankBM25Engine, Reply, judge, offtopic_questions

ROOT = Path(__file__).resolve().parent.parent

PARAGRAPHS = [
    (
        "تأسست جامعة الملك سعود في مدينة الرياض عام 1957 وهي أول جامعة في المملكة العربية السعودية.",
        [("متى تأسست جامعة الملك سعود؟", "1957"), ("في أي مدينة تقع جامعة الملك سعود؟", "الرياض")],
    ),
    (
        "نهر النيل هو أطول أنهار العالم ويمر بإحدى عشرة دولة أفريقية قبل أن يصب في البحر المتوسط.",
        [("أين يصب نهر النيل؟", "البحر المتوسط")],
    ),
    (
        "اخترع ألكسندر غراهام بيل الهاتف في القرن التاسع عشر وحصل على براءة الاختراع سنة 1876.",
        [("من اخترع الهاتف؟", "ألكسندر غراهام بيل")],
    ),
]


def _squad(paragraphs) -> dict:
    return {
        "version": "1.1",
        "data": [
            {
                "title": "t",
                "paragraphs": [
                    {
                        "context": context,
                        "qas": [
                            {"id": f"{i}-{j}", "question": q,
                             "answers": [{"text": a, "answer_start": context.find(a)}]}
                            for j, (q, a) in enumerate(qas)
                        ],
                    }
                    for i, (context, qas) in enumerate(paragraphs)
                ],
            }
        ],
    }


@pytest.fixture
def eval_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "eval"
    folder.mkdir()
    for name in ("xquad.ar.json", "arcd.json"):
        (folder / name).write_text(json.dumps(_squad(PARAGRAPHS), ensure_ascii=False), encoding="utf-8")
    (folder / "seeds_dev.jsonl").write_text(
        json.dumps({"q": "متى تبدأ زيارة لافروف إلى كوريا الشمالية؟",
                    "source": "001_29605565af34d15c.txt", "answer": "11 يوليو"}, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    return folder


def test_smoke_run_on_a_tiny_eval_folder(eval_dir: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    status = quality.main(["--eval-dir", str(eval_dir), "--out", str(out), "--baselines"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    table = captured.out
    assert table.startswith("| setting | engine |")
    assert "python -m benchmarks.quality --eval-dir" in table
    rows = json.loads((out / "quality.json").read_text(encoding="utf-8"))["rows"]
    project = [r for r in rows if r["engine"].startswith("project") and r["questions"] in ("XQuAD-ar", "ARCD")]
    # BM25 alone and BM25+rerank, on the same store, for each set.
    assert [(r["questions"], "rerank" in r["engine"]) for r in project] == [
        ("XQuAD-ar", False), ("XQuAD-ar", True), ("ARCD", False), ("ARCD", True)
    ]
    assert [r["n"] for r in project] == [4, 4, 4, 4]
    for row in project:
        assert row["r1"] == 1.0 and row["mrr"] == 1.0
        assert row["visible"] == 1.0
        assert row["no_answer"] == 0.0
    baselines = [r for r in rows if r["engine"].startswith("rank-bm25")]
    assert len(baselines) == 6
    seeds = [r for r in rows if r["questions"] == "seeds_dev"]
    assert len(seeds) == 2 and all(s["r1"] == 1.0 and "1/1" in s["note"] for s in seeds)
    offtopic = [r for r in rows if r["questions"] == "off-topic (train)"]
    assert offtopic and offtopic[0]["n"] >= 30
    # The paragraph files live in the work folder, one per distinct context.
    assert len(list((out / "work" / "sets" / "arcd").rglob("*.txt"))) == 3


def test_missing_data_folder_exits_cleanly_with_a_message(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.quality", "--eval-dir", str(tmp_path / "nope"),
         "--out", str(tmp_path / "out")],
        check=False, cwd=ROOT, capture_output=True, text=True, encoding="utf-8",
    )
    assert proc.returncode == EXIT_NO_DATA
    assert "benchmark data missing" in proc.stderr
    assert str(tmp_path / "nope") in proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""
    assert not (tmp_path / "out").exists()


def test_pooled_without_corpus_exits_cleanly(eval_dir: Path, tmp_path: Path, capsys) -> None:
    status = quality.main(["--eval-dir", str(eval_dir), "--corpus-dir", str(tmp_path / "none"),
                           "--out", str(tmp_path / "out"), "--pooled"])
    assert status == EXIT_NO_DATA
    assert "SaudiNewsNet" in capsys.readouterr().err


def test_duplicate_contexts_are_one_file(tmp_path: Path) -> None:
    data = _squad([PARAGRAPHS[0], PARAGRAPHS[0], PARAGRAPHS[1]])
    path = tmp_path / "set.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    qa_set = load_squad(path, "ARCD")
    assert len(qa_set.files) == 2
    assert len(qa_set.questions) == 5
    assert qa_set.questions[0].gold == qa_set.questions[2].gold == {"arcd/p0001.txt"}


def test_write_files_keeps_unchanged_files_and_removes_strays(tmp_path: Path) -> None:
    folder = tmp_path / "c"
    write_files(folder, {"a/x.txt": "one\n", "b.txt": "two\n"})
    before = (folder / "a" / "x.txt").stat().st_mtime_ns
    (folder / "stray.txt").write_text("old", encoding="utf-8")
    write_files(folder, {"a/x.txt": "one\n", "b.txt": "changed\n"})
    assert (folder / "a" / "x.txt").stat().st_mtime_ns == before
    assert (folder / "b.txt").read_text(encoding="utf-8") == "changed\n"
    assert not (folder / "stray.txt").exists()


def test_rank_bm25_engine_scores_equal_get_scores(tmp_path: Path) -> None:
    lines = [context for context, _ in PARAGRAPHS] + ["جامعة الرياض جامعة", "نهر صغير", "الهاتف الهاتف"]
    write_files(tmp_path / "c", {f"f{i}.txt": line + "\n" for i, line in enumerate(lines)})
    engine = RankBM25Engine(tmp_path / "c", "whitespace", 1.2, 0.6)
    reference = BM25Okapi([line.split() for line in lines], k1=1.2, b=0.6, epsilon=0.25)
    for query in ("جامعة الملك سعود", "نهر النيل نهر", "الهاتف سنة 1876", "كلمة غائبة"):
        expected = reference.get_scores(query.split())
        assert engine.scores(query.split()) == pytest.approx(expected, abs=1e-9)
    reply = engine.ask("جامعة الرياض")
    assert reply.hits[0].source == "f3.txt" and not reply.no_answer


def test_judge_ranks_distinct_files_and_checks_the_snippet() -> None:
    q = Question("s", "?", frozenset({"g.txt"}), ("الأمم المتحدة",))
    hits = [Hit("a.txt", "…"), Hit("a.txt", "…"), Hit("g.txt", "قالت الامم المتحده، أمس")]
    outcome = judge(q, Reply(hits))
    assert outcome.rank == 2 and outcome.visible is True
    assert judge(q, Reply([Hit("g.txt", "شيء آخر")])).visible is False
    assert judge(q, Reply([], no_answer=True)).rank is None


def test_offtopic_file_has_at_least_30_questions() -> None:
    questions = offtopic_questions()
    assert len(questions) >= 30
    assert len({q.text for q in questions}) == len(questions)


def test_sweep_prints_the_no_answer_table(eval_dir: Path, tmp_path: Path, capsys) -> None:
    status = quality.main(["--eval-dir", str(eval_dir), "--out", str(tmp_path / "out"), "--sweep"])
    out = capsys.readouterr().out
    assert status == 0
    assert "| min coverage |" in out
    sweep = out[out.index("| min coverage |"):].splitlines()
    header = sweep[0]
    assert "no answer XQuAD-ar (XQuAD-ar alone)" in header
    assert "no answer off-topic (train) (ARCD alone)" in header
    assert len(sweep) >= 2 + len(quality.SWEEP_THRESHOLDS)
    # Threshold 0 refuses nothing.
    assert set(sweep[2].split("|")[2:6]) == {" 0.000 "}


def test_sweep_counts_a_weak_answer_with_a_phrase_as_answered() -> None:
    run = quality.Run()
    run.details["XQuAD-ar alone|project (x)|XQuAD-ar"] = [
        {"q": "a", "rank": 1, "visible": True, "no_answer": False, "coverage": 0.1, "phrase": True},
        {"q": "b", "rank": 1, "visible": True, "no_answer": False, "coverage": 0.1, "phrase": False},
    ]
    row = next(line for line in quality.sweep_table(run, (0.2,)).splitlines() if line.startswith("| 0.2 "))
    assert row.split("|")[2:4] == [" 0.500 ", " 0.500 "]  # b refused; a answered, right first
