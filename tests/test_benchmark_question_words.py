"""benchmarks.question_words on a tiny SQuAD-format file (no ../shared needed)."""

from __future__ import annotations

import json

from benchmarks import question_words


def test_reports_types_recall_and_speed(tmp_path, capsys):
    context = "بدأت الزيارة في 11 يوليو 2025 في مدينة كورسك، وقال الرئيس فلاديمير بوتين إن " * 4
    qas = [
        ("متى بدأت الزيارة؟", "11 يوليو 2025"),
        ("أين بدأت الزيارة؟", "مدينة كورسك"),
        ("من قال ذلك؟", "فلاديمير بوتين"),
        ("لماذا؟", "الزيارة"),
    ]
    data = {"data": [{"paragraphs": [{"context": context, "qas": [
        {"question": q, "answers": [{"text": a, "answer_start": context.index(a)}]} for q, a in qas
    ]}]}]}
    (tmp_path / "arcd-train.json").write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    assert question_words.main(["--eval-dir", str(tmp_path), "--windows", "5"]) == 0
    out = capsys.readouterr().out
    assert "| date | 1 | 0.25 | 1.00 |" in out
    assert "| place | 1 | 0.25 | 1.00 |" in out and "| person | 1 | 0.25 | 1.00 |" in out
    assert "| none | 1 |" in out and "µs per window" in out


def test_missing_data_exits_3(tmp_path):
    assert question_words.main(["--eval-dir", str(tmp_path)]) == 3
