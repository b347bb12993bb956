"""Spelling variants of foreign names: the rule, the variant index, search with variants on."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.render import answer_to_console, answer_to_html
from retrieval.search import Result, Searcher
from retrieval.analyzer import term_of
from retrieval.variants import is_variant, key_of, question_keys
from storage.indexer import index_collection
from storage.store import Store

SHOIGU_G, SHOIGU_J = "شويغو", "شويجو"


@pytest.mark.parametrize(
    "a, b",
    [
        ("شويغو", "شويجو"), ("سيرغي", "سيرجي"), ("بيونغيانغ", "بيونجيانج"), ("جوجل", "غوغل"),
        ("غوغل", "قوقل"), ("ترامب", "ترمب"), ("بوتين", "بوتن"), ("نتنياهو", "نتانياهو"),
    ],
)
def test_spellings_of_one_name_are_variants_both_ways(a: str, b: str) -> None:
    assert is_variant(a, b) and is_variant(b, a)


@pytest.mark.parametrize(
    "a, b",
    [
        ("كتب", "كتاب"), ("كتاب", "كاتب"), ("كتب", "كاتب"),  # too short; a vowel that moves
        ("زياره", "زاره"), ("ارسال", "ارسل"),  # teh marbuta; hamza-initial verbal noun
        ("مسرح", "مسرحا"), ("فريق", "افريق"),  # vowels at the ends are grammar
        ("كندا", "كندي"), ("غورو", "غوري"), ("تسلا", "تسلي"),  # a changed final vowel too
    ],
)
def test_ordinary_words_are_not_variants(a: str, b: str) -> None:
    assert not is_variant(a, b) and not is_variant(b, a)


def _found(store: Store, question: str, variants: bool) -> list[Result]:
    return Searcher(store, variants=variants).search(question, top=20).results


def _paragraphs(results: list[Result]) -> set[tuple[str, int]]:
    return {(r.source, r.paragraph) for r in results}


def _writing(store: Store, word: str, without: str | None = None) -> set[tuple[str, int]]:
    """The seed paragraphs whose text contains `word` (and not `without`)."""
    rows = store.conn.execute(
        "SELECT d.path, p.number, p.text FROM paragraphs p JOIN documents d ON d.id = p.doc_id"
    ).fetchall()
    return {(path, n) for path, n, text in rows if word in text and not (without and without in text)}


@pytest.mark.parametrize(
    "question, written, other",
    [
        (SHOIGU_J, SHOIGU_G, None),
        (SHOIGU_G, SHOIGU_J, None),
        ("بيونج يانج", "بيونغيانغ", None),
        ("بيونغيانغ", " بيونغ يانغ", "بيونغيانغ"),
        ("سيرجي", "سيرغي", None),
    ],
)
def test_a_question_reaches_the_paragraphs_spelling_the_name_another_way(
    shared_seed_store: Store, question: str, written: str, other: str | None
) -> None:
    target = _writing(shared_seed_store, written, without=other)
    assert target
    assert not target & _paragraphs(_found(shared_seed_store, question, variants=False))
    results = _found(shared_seed_store, question, variants=True)
    assert target <= _paragraphs(results)
    for result in results:
        if (result.source, result.paragraph) in target:
            assert result.variants, "the spelling that matched is reported"
            marked = {result.snippet[s:e] for s, e in result.highlights}
            assert any(v in word for v in result.variants for word in marked)


CLITICS = {
    "a.txt": "وصل الوفد الصيني لبيونغ يانغ صباح الثلاثاء في زيارة رسمية.\n",
    "b.txt": "أعلنت بيونجيانج إطلاق صاروخ جديد فوق بحر اليابان.\n",
    "c.txt": "قال المتحدث لترمب إن المحادثات التجارية انتهت دون اتفاق.\n",
    "d.txt": "عقد مجلس الأمن جلسة طارئة بشأن الصواريخ والتجارب النووية.\n",
    "e.txt": "افتتحت المدينة متحفا جديدا للفنون الحديثة هذا الأسبوع.\n",
}


@pytest.mark.parametrize(
    "question, source",
    [
        ("بيونجيانج", "a.txt"),  # a proclitic on the first word of a split name
        ("بيونغيانغ", "a.txt"),
        ("لبيونغ يانغ", "b.txt"),  # the reverse: the question's split name carries it
        ("لبيونج يانج", "b.txt"),
        ("ترامب", "c.txt"),  # a proclitic on a one-word name in the paragraph
    ],
)
def test_a_proclitic_on_a_name_does_not_hide_its_other_spellings(
    tmp_path: Path, write_corpus, question: str, source: str
) -> None:
    db = tmp_path / "clitics.sqlite3"
    index_collection(db, write_corpus(tmp_path / "clitics", CLITICS))
    store = Store(db)
    try:
        assert source not in {r.source for r in _found(store, question, variants=False)}
        results = [r for r in _found(store, question, variants=True) if r.source == source]
    finally:
        store.close()
    assert results and results[0].variants


def test_the_questions_own_spelling_behind_a_proclitic_is_not_another_spelling(
    tmp_path: Path, write_corpus
) -> None:
    db = tmp_path / "own.sqlite3"
    files = {**CLITICS, "f.txt": "ارتفعت الإصابات بفيروس زيكا في البرازيل.\n"}
    index_collection(db, write_corpus(tmp_path / "own", files))
    store = Store(db)
    try:
        results = [r for r in _found(store, "فيروس زيكا", variants=True) if r.source == "f.txt"]
        clitic = [r for r in _found(store, "ترامب", variants=True) if r.source == "c.txt"]
    finally:
        store.close()
    assert results and results[0].variants == []
    assert clitic and clitic[0].variants == ["لترمب"]  # another spelling, behind a proclitic


def test_only_the_questions_rare_words_are_looked_up_for_variants(
    tmp_path: Path, write_corpus
) -> None:
    # «الحكومة» is in more passages than RARE_MIN: it never varies, so its keys are not read.
    files = {f"gov{i:02}.txt": f"قالت الحكومة إن الجلسة رقم {i} انتهت.\n" for i in range(60)}
    files["name.txt"] = "وصل وزير الدفاع سيرجي شويجو إلى العاصمة.\n"
    db = tmp_path / "rare.sqlite3"
    index_collection(db, write_corpus(tmp_path / "rare", files))
    question = f"الحكومة {SHOIGU_G}"
    assert key_of("حكومه") in question_keys(question)
    rare = question_keys(question, rare={term_of(SHOIGU_G)})
    assert key_of("حكومه") not in rare and key_of(SHOIGU_G) in rare
    store = Store(db)
    try:
        results = _found(store, question, variants=True)
    finally:
        store.close()
    assert results[0].source == "name.txt" and results[0].variants == [SHOIGU_J]


def test_a_paragraph_scores_the_same_whichever_spelling_the_question_uses(shared_seed_store: Store) -> None:
    scores = []
    for question in (SHOIGU_G, SHOIGU_J):
        results = _found(shared_seed_store, question, variants=True)
        scores.append({(r.source, r.paragraph): r.score for r in results})
    assert scores[0] and scores[0] == pytest.approx(scores[1], abs=1e-12)


@pytest.mark.parametrize("question", [SHOIGU_J, "بيونج يانج", "بيونغيانغ", "كيم جونج أون", "لافروف وشويجو"])
def test_pruned_ranking_with_variants_equals_the_exhaustive_one(shared_seed_store: Store, question: str) -> None:
    pruned = Searcher(shared_seed_store, variants=True, min_coverage=0.0).search(question, top=5)
    full = Searcher(shared_seed_store, variants=True, min_coverage=0.0, prune=False).search(question, top=5)
    assert [r.passage_id for r in pruned.results] == [r.passage_id for r in full.results]
    assert [r.score for r in pruned.results] == pytest.approx([r.score for r in full.results], abs=1e-9)


def test_results_carry_variants_in_json_only_when_one_matched(shared_seed_store: Store) -> None:
    results = _found(shared_seed_store, SHOIGU_J, variants=True)
    by_variant = {bool(r.variants): r.to_json() for r in results}
    assert by_variant[True]["variants"] == [SHOIGU_G]
    assert "variants" not in by_variant[False]


def test_without_variants_answers_are_exactly_as_before(shared_seed_store: Store) -> None:
    for question in (SHOIGU_J, "بيونج يانج", "متى تبدأ زيارة لافروف؟"):
        off = Searcher(shared_seed_store).search(question, top=10)
        assert all(not r.variants for r in off.results)


NATIVE = {
    "a.txt": "كتب الروائي فصلا جديدا عن المدينة القديمة في المساء.\n",
    "b.txt": "صدر كتاب جديد عن تاريخ المدينة القديمة هذا الشهر.\n",
    "c.txt": "فاز كاتب شاب بجائزة الرواية عن المدينة القديمة.\n",
    "d.txt": "بدأت زيارة الوفد إلى المدينة وتقرر إرسال المساعدات.\n",
    "e.txt": "زاره الوزير في المدينة وأرسل المساعدات أمس.\n",
}


@pytest.mark.parametrize("question", ["كتب", "كتاب", "كاتب", "الكتاب", "كتاب المدينة", "زيارة", "إرسال"])
def test_ordinary_words_match_exactly_as_the_analyzer_has_them(
    tmp_path: Path, write_corpus, question: str
) -> None:
    db = tmp_path / "native.sqlite3"
    index_collection(db, write_corpus(tmp_path / "native", NATIVE))
    store = Store(db)
    try:
        off = Searcher(store).search(question, top=10).results
        on = Searcher(store, variants=True).search(question, top=10).results
    finally:
        store.close()
    assert [(r.source, r.score, r.highlights) for r in on] == [(r.source, r.score, r.highlights) for r in off]
    assert not any(r.variants for r in on)


def _variant_rows(db: Path) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT form, key, term, docs FROM variant_forms ORDER BY form").fetchall()
    finally:
        conn.close()


def test_incremental_indexing_keeps_the_variant_index_equal_to_a_fresh_build(
    tmp_path: Path, seed_dir: Path, seed_db: Path
) -> None:
    added = seed_dir / "005_trump.txt"
    added.write_text("قال ترمب إنه سيلتقي كيم جونغ أون في بيونغ يانغ.\n", encoding="utf-8")
    report = index_collection(seed_db, seed_dir)
    assert report.indexed == ["005_trump.txt"]
    store = Store(seed_db)
    try:
        assert "005_trump.txt" in {r.source for r in _found(store, "ترامب", variants=True)}
    finally:
        store.close()
    (seed_dir / "002_a0e9d82ca56d1e7c.txt").write_text("نص جديد عن فيس بوك.\n", encoding="utf-8")
    added.unlink()
    index_collection(seed_db, seed_dir)
    fresh = tmp_path / "fresh.sqlite3"
    index_collection(fresh, seed_dir)
    assert _variant_rows(seed_db) == _variant_rows(fresh)
    store = Store(seed_db)
    try:
        assert "005_trump.txt" not in {r.source for r in _found(store, "ترامب", variants=True)}
        assert "002_a0e9d82ca56d1e7c.txt" in {r.source for r in _found(store, "فيسبوك", variants=True)}
    finally:
        store.close()


def test_the_index_report_states_the_cost(tmp_path: Path, seed_dir: Path) -> None:
    report = index_collection(tmp_path / "cost.sqlite3", seed_dir)
    assert report.variant_forms > report.variant_keys > 0
    assert f"spelling variants: {report.variant_forms} forms" in report.summary()
    assert "no extra postings" in report.summary()


def test_readers_are_told_which_spelling_matched(shared_seed_store: Store) -> None:
    answer = Searcher(shared_seed_store, variants=True).search(SHOIGU_J, top=5)
    answer.results = [r for r in answer.results if r.variants][:1]
    assert f"وردت أيضاً بصيغة: {SHOIGU_G}" in answer_to_console(answer)
    assert f"<i>وردت أيضاً بصيغة: {SHOIGU_G}</i>" in answer_to_html(answer)
    answer.results[0] = Result(**{**answer.results[0].__dict__, "variants": ["<a&b>"]})
    assert "وردت أيضاً بصيغة: &lt;a&amp;b&gt;" in answer_to_html(answer)


def test_the_variant_lookup_reads_only_its_covering_index(tmp_path: Path, seed_dir: Path) -> None:
    db = tmp_path / "plan.sqlite3"
    index_collection(db, seed_dir)
    conn = sqlite3.connect(db)
    try:  # a store made before the covering index gets it at the next index run
        conn.execute("DROP INDEX variant_forms_by_key")
        conn.execute("CREATE INDEX variant_forms_key ON variant_forms (key)")
        conn.commit()
    finally:
        conn.close()
    index_collection(db, seed_dir)
    conn = sqlite3.connect(db)
    try:
        plan = conn.execute(
            "EXPLAIN QUERY PLAN SELECT key, form, term FROM variant_forms WHERE key IN (?, ?) ORDER BY key, form",
            ["بنك", "ككل"],
        ).fetchall()
        indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE tbl_name = 'variant_forms'")}
    finally:
        conn.close()
    assert "COVERING INDEX variant_forms_by_key" in " ".join(str(row[-1]) for row in plan)
    assert "variant_forms_key" not in indexes
