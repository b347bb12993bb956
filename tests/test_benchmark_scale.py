"""Smoke run of the scale benchmark on a tiny fake SaudiNewsNet (no ../shared needed)."""

from __future__ import annotations

import json
import sqlite3
import zipfile
from pathlib import Path

import pytest

from benchmarks import generate_corpus, index_only, same_answers, saudinewsnet, scale
from retrieval.passages import split_paragraphs

ARTICLES = [
    (
        "الحوثيون يقصفون عدن",
        [
            "قصفت الميليشيات الحوثية أحياء مدينة عدن بالصواريخ، وأدى القصف إلى مقتل مدنيين.",
            "وقالت المقاومة الشعبية إنها استعادت مطار عدن الدولي بعد معارك عنيفة، وإن قوات التحالف قدمت الدعم الجوي.",
        ],
    ),
    (
        "أسعار النفط تواصل التراجع",
        [
            "تراجعت أسعار النفط في الأسواق العالمية، وبلغ سعر برميل خام برنت 49 دولاراً.",
            "وقال محللون إن عودة النفط الإيراني إلى الأسواق ستزيد المعروض، وإن منظمة أوبك لن تخفض الإنتاج.",
        ],
    ),
    (
        "الهلال يواجه النصر في لندن",
        [
            "يلتقي الهلال والنصر في مباراة كأس السوبر السعودي على ملعب لوفتس رود في لندن.",
            "وانتقد الأمير طلال بن بدر قرار نقل المباراة إلى لندن، وقال إن الفائدة الاقتصادية ستعود لدولة أخرى.",
        ],
    ),
    (
        "وزارة الصحة تعلن إصابات جديدة بكورونا",
        [
            "أعلنت وزارة الصحة تسجيل إصابات جديدة بفيروس كورونا في الرياض، وأكدت أن المرضى يتلقون العلاج.",
            "ودعت الوزارة إلى غسل اليدين وتجنب مخالطة الإبل المصابة، وقالت إن الوقاية هي الحل الأفضل.",
        ],
    ),
    (
        "استعدادات موسم الحج",
        [
            "بدأت وزارة الحج استعداداتها لاستقبال الحجاج القادمين من الخارج، ووفرت المخيمات في مشعر منى.",
            "وأوضحت الوزارة أن الحج دون تصريح ممنوع، وأن الحملات الوهمية ستعاقب بغرامات كبيرة.",
        ],
    ),
    (
        "افتتاح العام الدراسي",
        [
            "يعود الطلاب والطالبات إلى المدارس مع بداية العام الدراسي الجديد، وأعلنت وزارة التعليم جاهزية المباني.",
            "وقال وزير التعليم إن المناهج الجديدة ستطبق في المرحلة الابتدائية، وإن المعلمين تلقوا التدريب اللازم.",
        ],
    ),
    ("", [""]),  # an article without content is left out
]

QUESTIONS = [
    "كم بلغ سعر برميل خام برنت؟",
    "من انتقد نقل مباراة السوبر إلى لندن؟",
    "ماذا أعلنت وزارة الصحة عن كورونا؟",
    "هل استعادت المقاومة مطار عدن؟",
    "متى يبدأ العام الدراسي الجديد؟",
    "ما عقوبة الحج دون تصريح؟",
]


@pytest.fixture
def fake_corpus(tmp_path: Path) -> Path:
    """A corpus folder holding saudinewsnet/2015-07-21.zip with the articles above."""
    folder = tmp_path / "shared-corpus" / "saudinewsnet"
    folder.mkdir(parents=True)
    articles = [
        {
            "source": "test",
            "url": f"http://example.invalid/{i}",
            "date_extracted": "2015-07-21",
            "title": title,
            "author": "",
            "content": "\n ".join(lines),
        }
        for i, (title, lines) in enumerate(ARTICLES)
    ]
    with zipfile.ZipFile(folder / "2015-07-21.zip", "w") as archive:
        archive.writestr("2015-07-21.json", json.dumps(articles, ensure_ascii=False))
    return folder.parent


def _paragraphs(folder: Path) -> int:
    return sum(
        len(split_paragraphs(path.read_text(encoding="utf-8"))) for path in folder.rglob("*.txt")
    )


def test_saudinewsnet_writes_one_file_per_article(tmp_path: Path, fake_corpus: Path):
    out = tmp_path / "snn"
    assert saudinewsnet.main([str(out), "--corpus-dir", str(fake_corpus)]) == 0
    files = sorted(out.rglob("*.txt"))
    assert len(files) == len(ARTICLES) - 1
    title, blank, first = files[1].read_text(encoding="utf-8").splitlines()[:3]
    assert (title, blank) == (ARTICLES[1][0], "") and first.startswith("تراجعت")


def test_generated_corpus_is_deterministic_and_counts_paragraphs(tmp_path: Path, fake_corpus: Path):
    args = ["--paragraphs", "50", "--corpus-dir", str(fake_corpus), "--seed", "3"]
    assert generate_corpus.main([str(tmp_path / "a"), *args]) == 0
    assert generate_corpus.main([str(tmp_path / "b"), *args]) == 0
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.txt"))
    assert files_a == sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*.txt"))
    assert all(
        (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes()
        for rel in files_a
    )
    assert _paragraphs(tmp_path / "a") == 50  # the indexer sees exactly that many
    # A second run replaces its own output; a folder it did not make is refused.
    assert generate_corpus.main([str(tmp_path / "a"), *args]) == 0
    other = tmp_path / "other"
    other.mkdir()
    (other / "keep.txt").write_text("x", encoding="utf-8")
    assert generate_corpus.main([str(other), *args]) == 1
    assert (other / "keep.txt").exists()


def test_scale_smoke_run_with_parity(tmp_path: Path, fake_corpus: Path):
    corpus = tmp_path / "gen"
    assert (
        generate_corpus.main([str(corpus), "--paragraphs", "50", "--corpus-dir", str(fake_corpus)])
        == 0
    )
    questions = tmp_path / "questions.txt"
    questions.write_text("\n".join(QUESTIONS) + "\n", encoding="utf-8")
    report = tmp_path / "report.md"
    status = scale.main(
        [
            "--corpus",
            str(corpus),
            "--db",
            str(tmp_path / "store.sqlite3"),
            "--questions",
            str(questions),
            "--engines",
            "ours,rank-bm25",
            "--parity",
            "5",
            "--output",
            str(report),
        ]
    )
    text = report.read_text(encoding="utf-8")
    assert status == 0, text
    assert "| ours | 6 |" in text and "| rank-bm25 | 6 |" in text
    assert "50 paragraphs" in text
    assert "paragraph top-10 5/5 pass, passage top-10 5/5 pass" in text
    assert "top-10 scores afterwards equal to the full build's: 5/5" in text
    assert not (corpus / scale.UPDATE_FILE).exists()  # the collection is left as it was

    # The cold run alone: titles of the store, each asked once, by the bot's CLI (twice) and
    # in-process; RERANK passed on (harmless where there is no such setting).
    cold_report = tmp_path / "cold.md"
    argv = ["--corpus", str(corpus), "--db", str(tmp_path / "store.sqlite3"), "--skip-index"]
    argv += ["--no-warm", "--engines", "cli,ours-variants", "--cold", "4", "--cold-repeat", "2"]
    assert scale.main([*argv, "--rerank", "0", "--output", str(cold_report)]) == 0
    cold = cold_report.read_text(encoding="utf-8")
    assert "4 article titles of the store (seed 0" in cold and "RERANK=0" in cold
    assert "| cli (run 2) | 4 |" in cold and "| **cli, median of 2** | 4 |" in cold
    assert "| ours-variants | 4 |" in cold and "answered 4/4" in cold
    # The before/after check of a speed-up: the same answers, byte for byte.
    answers = tmp_path / "answers.jsonl"
    store_args = ["--db", str(tmp_path / "store.sqlite3"), "--questions", str(questions)]
    assert same_answers.main([*store_args, "--cold", "4", "--out", str(answers)]) == 0
    assert same_answers.main([*store_args, "--cold", "4", "--against", str(answers)]) == 0
    answers.write_text(answers.read_text(encoding="utf-8").replace('"score": ', '"score": 1'))
    assert same_answers.main([*store_args, "--cold", "4", "--against", str(answers)]) == 1
    titles = scale.cold_titles(tmp_path / "store.sqlite3", 4, 0)
    assert titles == scale.cold_titles(tmp_path / "store.sqlite3", 4, 0)  # seeded
    assert len(set(titles)) == 4

    # A store built by other code (here: another analyzer) is refused, not compared.
    db = tmp_path / "store.sqlite3"
    conn = sqlite3.connect(db)
    conn.execute("UPDATE meta SET value = 'older' WHERE key = 'analyzer_version'")
    conn.commit()
    conn.close()
    argv = ["serve", "ours", "--db", str(db), "--questions", str(questions), "--result", "-"]
    assert scale.worker_main(argv) == 3


@pytest.mark.parametrize(
    "main, argv",
    [
        (scale.main, ["--corpus", "{missing}"]),
        (index_only.main, ["--corpus", "{missing}", "--db", "{tmp}/x.sqlite3"]),
        (saudinewsnet.main, ["{tmp}/out", "--corpus-dir", "{missing}"]),
        (generate_corpus.main, ["{tmp}/out", "--paragraphs", "5", "--corpus-dir", "{missing}"]),
    ],
)
def test_missing_data_folder_exits_2_with_a_message(tmp_path: Path, capsys, main, argv):
    missing = tmp_path / "no-such-folder"
    argv = [a.format(missing=missing, tmp=tmp_path) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "error:" in err and "not found" in err and str(missing) in err
