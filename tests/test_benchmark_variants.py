"""The spelling-variants benchmark on tiny generated data (no ../shared needed)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from benchmarks import variants
from benchmarks.quality import EXIT_NO_DATA
from tests.test_benchmark_quality import PARAGRAPHS, _squad

TOPICS = ["الاقتصاد", "الهجرة", "الضرائب", "التعليم", "الصحة", "الطاقة", "الدفاع", "المناخ"]


def _data(tmp_path: Path) -> tuple[Path, Path]:
    """An eval folder with one cluster and a SaudiNewsNet-like ZIP that spells it both ways."""
    eval_dir = tmp_path / "eval"
    eval_dir.mkdir()
    for name in ("xquad.ar.json", "arcd.json"):
        (eval_dir / name).write_text(json.dumps(_squad(PARAGRAPHS), ensure_ascii=False), encoding="utf-8")
    (eval_dir / "variants_dev.json").write_text(
        json.dumps([{"entity": "Trump", "spellings": ["ترامب", "ترمب"], "paragraphs_in_saudinewsnet": [1, 1]},
                    {"entity": "seeds only", "spellings": ["شويغو", "شويجو"], "paragraphs_in_saudinewsnet": None}],
                   ensure_ascii=False),
        encoding="utf-8",
    )
    articles = []
    for i in range(40):
        name = "ترامب" if i % 2 else "ترمب"
        topic, other = TOPICS[i % len(TOPICS)], TOPICS[(i * 3 + 1) % len(TOPICS)]
        content = f"تحدث المرشح الجمهوري {name} عن {topic} و{other} في الحملة الانتخابية {i}."
        articles.append({"title": f"خبر {i}", "content": content})
    corpus = tmp_path / "corpus"
    (corpus / "saudinewsnet").mkdir(parents=True)
    with zipfile.ZipFile(corpus / "saudinewsnet" / "2015-07-01.zip", "w") as archive:
        archive.writestr("2015-07-01.json", json.dumps(articles, ensure_ascii=False))
    return corpus, eval_dir


def test_smoke_run_on_tiny_data(tmp_path: Path, capsys) -> None:
    corpus, eval_dir = _data(tmp_path)
    out = tmp_path / "out"
    status = variants.main([str(corpus), str(eval_dir), "--out", str(out), "--misses"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert captured.out.startswith("| cluster | paragraphs (left out) |")
    assert "| cluster | paragraph | P writes | question |" in captured.out
    assert "Trump (ترامب / ترمب)" in captured.out and "seeds only" not in captured.out
    result = json.loads((out / "variants.json").read_text(encoding="utf-8"))["clusters"][0]
    assert result["paragraphs"] + result["no_question"] == 40
    assert result["other_on"] >= result["other_off"]
    assert len(result["misses"]) == result["other_pairs"] - result["other_on"]


def test_missing_data_is_a_clear_message(tmp_path: Path, capsys) -> None:
    status = variants.main([str(tmp_path / "nope"), str(tmp_path / "nothing"), "--out", str(tmp_path / "out")])
    assert status == EXIT_NO_DATA
    assert "benchmark data missing" in capsys.readouterr().err
