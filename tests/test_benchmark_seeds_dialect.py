"""benchmarks.seeds_dialect: the dialect seed questions are sound, and the script runs."""

from __future__ import annotations

from pathlib import Path

from benchmarks import seeds_dialect
from retrieval.analyzer import normalize
from retrieval.question_words import question_type

ROOT = Path(__file__).resolve().parent.parent


def test_every_dialect_question_names_a_seed_file_holding_its_answer():
    rows = seeds_dialect.load(seeds_dialect.DIALECT_FILE)
    assert len(rows) == 12
    assert {r["dialect"] for r in rows} >= {"Levantine", "Egyptian", "Gulf", "Maghrebi"}
    for row in rows:
        text = (ROOT / "seeds" / row["source"]).read_text(encoding="utf-8")
        assert normalize(row["answer"]) in normalize(text), row


def test_dialect_questions_keep_the_type_of_their_msa_originals():
    types = [question_type(r["q"]) for r in seeds_dialect.load(seeds_dialect.DIALECT_FILE)]
    assert types[0] == types[8] == types[10] == "date"  # إمتى، امتى، وقتاش
    assert types[1] == "person" and types[7] == "place"  # مين، فين


def test_script_reports_right_file_first(tmp_path, capsys):
    assert seeds_dialect.main(["--eval-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "seeds_dialect.jsonl (dialect):" in out and "right file first" in out
    assert "(MSA)" not in out  # no seeds_dev.jsonl in this folder


def test_script_says_what_is_missing(tmp_path):
    assert seeds_dialect.main(["--seeds-dir", str(tmp_path / "nowhere")]) == 3
