"""The second stage: features on hand-made candidates, the model file, the searcher with it."""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from bot.service import QAService
from bot.settings import Settings
from retrieval import rerank
from retrieval.analyzer import analyze
from retrieval.bm25 import BM25Params
from retrieval.rerank import (
    ANSWER_FEATURES,
    DEFAULT_MODEL,
    FEATURES,
    Candidate,
    Reranker,
    RerankModelError,
    answer_type_near,
    features,
    focus_of,
    question_type,
)
from retrieval.search import Searcher

PARAMS = BM25Params()
COL = {name: i for i, name in enumerate(FEATURES)}


def _features(question: str, texts: list[str], scores: list[float] | None = None, headings=None):
    """Features of hand-made candidates (idf 1 for every question term)."""
    terms = analyze(question)
    weights = {t: 1.0 for t in dict.fromkeys(terms)}
    candidates = [
        Candidate(i, (scores or [1.0] * len(texts))[i], (headings or [""] * len(texts))[i], text, 1,
                  float(len(analyze(text))))
        for i, text in enumerate(texts)
    ]
    return features(question, terms, weights, candidates, PARAMS, 20.0)


# --------------------------------------------------------------------------- question type


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("متى تأسست جامعة الملك سعود؟", "date"),
        ("في أي عام ولد المتنبي؟", "date"),
        ("في أي سنة انتهت الحرب؟", "date"),
        ("امتى بيبدأ الدوري؟", "date"),
        ("كم عدد سكان الرياض؟", "number"),
        ("ما عدد الدول الأعضاء؟", "number"),
        ("أين يصب نهر النيل؟", "place"),
        ("في أي مدينة تقع الجامعة؟", "place"),
        ("وين صار الحادث؟", "place"),
        ("من هو مؤسس الدولة؟", "person"),
        ("ما هي عاصمة فرنسا؟", "place"),
        ("لماذا سقطت الدولة؟", None),
    ],
)
def test_question_type(question: str, kind: str | None) -> None:
    assert question_type(question) == kind


def test_answer_type_near_finds_years_numbers_places() -> None:
    assert answer_type_near("تأسست عام 1957 في الرياض", "date")
    assert answer_type_near("بدأت الزيارة في 11 يوليو", "date")
    assert not answer_type_near("تأسست في مدينة الرياض", "date")
    assert answer_type_near("يسكنها 5 ملايين نسمة", "number")
    assert answer_type_near("وصل إلى مدينة الرياض", "place")
    assert not answer_type_near("قال إن الاجتماع كان مثمرا", "place")


# --------------------------------------------------------------------------- features


def test_a_date_question_prefers_the_paragraph_with_the_year() -> None:
    question = "متى تأسست جامعة الملك سعود؟"
    texts = [
        "تأسست جامعة الملك سعود بعد جهود كبيرة من رجال التعليم في البلاد.",
        "تأسست جامعة الملك سعود عام 1957 بعد جهود كبيرة من رجال التعليم.",
    ]
    x, _ = _features(question, texts)
    assert x[0, COL["type_match"]] == 0 and x[0, COL["type_missing"]] == 1
    assert x[1, COL["type_match"]] == 1 and x[1, COL["type_missing"]] == 0
    model = Reranker.load()
    order, _ = model.rank(x)
    assert order[0] == 1  # same words, same BM25 score: the year decides


def test_proximity_and_pairs_prefer_question_words_side_by_side() -> None:
    question = "وزيرة خارجية كوريا الشمالية"
    near = "قالت وزيرة خارجية كوريا الشمالية إن الزيارة ناجحة."
    far = ("وزيرة التعليم زارت المدارس اليوم وتحدثت عن خطط كثيرة للعام المقبل في كل المناطق "
           "ثم تحدث مسؤول عن الخارجية وقال إن العلاقات مع كوريا جيدة وإن الشمالية منها بعيدة.")
    x, windows = _features(question, [near, far])
    assert x[0, COL["coverage"]] == x[1, COL["coverage"]] == pytest.approx(1.0)
    assert x[0, COL["win25"]] > x[1, COL["win25"]]
    assert x[0, COL["win50"]] == pytest.approx(1.0) and x[1, COL["win50"]] < 1.0
    assert x[0, COL["pairs_ordered"]] > 0 and x[1, COL["pairs_ordered"]] == 0
    assert x[0, COL["phrase_run"]] == 4 and x[1, COL["phrase_run"]] == 0
    lo, hi = windows[0]
    assert near[lo:hi].startswith("وزيرة") and near[lo:hi].endswith("الشمالية")


def test_pairs_in_either_order_and_stopwords_between() -> None:
    question = "الغابة المطرية"
    x, _ = _features(question, ["المطرية في الغابة", "الغابة هي المطرية", "الغابة كبيرة جدا"])
    assert list(x[:, COL["pairs_ordered"]] > 0) == [False, True, False]
    assert list(x[:, COL["pairs_any"]] > 0) == [True, True, False]


def test_coverage_is_the_share_of_the_idf_mass() -> None:
    question = "زراعة القمح في مصر"
    x, _ = _features(question, ["زراعة القمح مهمة", "القمح", "لا شيء هنا"])
    assert list(x[:, COL["coverage"]]) == pytest.approx([2 / 3, 1 / 3, 0.0])
    assert x[0, COL["coverage_top"]] == pytest.approx(1.0)


def test_matching_ignores_marks_and_letter_forms_like_the_analyzer() -> None:
    question = "إسلام"
    x, windows = _features(question, ["انتشر الإِسلامُ في آسيا", "الاسلام", "سلام عليكم"])
    assert list(x[:, COL["coverage"]]) == [1.0, 1.0, 0.0]
    assert windows[2] is None


def test_heading_counts_for_coverage_but_is_no_window() -> None:
    x, windows = _features("لافروف", ["زيارة رسمية"], headings=["لافروف في بيونغيانغ"])
    assert x[0, COL["coverage"]] == 1.0
    assert windows[0] is None


def test_features_are_deterministic() -> None:
    question = "متى تبدأ زيارة لافروف إلى كوريا الشمالية؟"
    texts = ["زيارة لافروف تبدأ في 11 يوليو", "لافروف في كوريا", "كوريا الشمالية"]
    a, wa = _features(question, texts, [3.0, 2.0, 1.0])
    b, wb = _features(question, texts, [3.0, 2.0, 1.0])
    assert np.array_equal(a, b) and wa == wb


def test_focus_of_shifts_a_window_by_the_passage_start() -> None:
    assert focus_of((3, 9), 100) == (103, 109)
    assert focus_of(None, 100) is None


# --------------------------------------------------------------------------- the model file


def test_the_shipped_model_loads_and_names_its_training_data() -> None:
    model = Reranker.load()
    data = json.loads(DEFAULT_MODEL.read_text(encoding="utf-8"))
    assert data["ranker"]["features"] == list(FEATURES)
    assert data["no_answer"]["features"] == list(ANSWER_FEATURES)
    assert len(data["trained_on"]["arcd-train.json"]) == 64
    assert 0 < model.threshold < 1 and model.depth >= 10


@pytest.mark.parametrize(
    "content",
    ["", "{not json", '{"ranker": {}}', "[]",
     '{"ranker": {"features": ["x"], "mean": [0], "scale": [1], "weights": [1], "bias": 0}}'],
)
def test_a_corrupt_model_file_is_a_clear_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / "model.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(RerankModelError, match=str(path)):
        Reranker.load(path)


def test_a_model_with_other_features_asks_for_retraining(tmp_path: Path) -> None:
    data = json.loads(DEFAULT_MODEL.read_text(encoding="utf-8"))
    data["ranker"]["features"] = data["ranker"]["features"][::-1]
    path = tmp_path / "model.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(RerankModelError, match="retrain"):
        Reranker.load(path)


def test_a_missing_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RerankModelError, match="not found"):
        Reranker.load(tmp_path / "nope.json")


def test_serving_without_a_model_falls_back_to_bm25_with_one_warning(
    seed_db: Path, seed_dir: Path, tmp_path: Path, monkeypatch, caplog
) -> None:
    monkeypatch.setattr(rerank, "DEFAULT_MODEL", tmp_path / "missing.json")
    monkeypatch.setattr(rerank, "_LOADED", {})
    question = "متى تبدأ زيارة لافروف إلى كوريا الشمالية؟"
    with caplog.at_level(logging.WARNING, logger="retrieval.rerank"):
        services = [QAService(seed_db, seed_dir, variants=True, rerank=True) for _ in range(2)]
        answers = [s.ask(question, top=5) for s in services]
    plain = QAService(seed_db, seed_dir, variants=True, rerank=False)
    expected = plain.ask(question, top=5)
    for service in [*services, plain]:
        service.close()
    warnings = [r for r in caplog.records if "missing.json" in r.getMessage()]
    assert len(warnings) == 1 and "BM25 order" in warnings[0].getMessage()
    for answer in answers:
        assert answer.probability is None
        assert [r.passage_id for r in answer.results] == [r.passage_id for r in expected.results]


# --------------------------------------------------------------------------- through the searcher

QUESTIONS = [
    "متى تبدأ زيارة لافروف إلى كوريا الشمالية؟",
    "من هي وزيرة خارجية كوريا الشمالية؟",
    "ما الصواريخ التي أرسلها كيم لمساعدة روسيا؟",
    "أين عقد لقاء لافروف وروبيو؟",
]


@pytest.fixture(scope="module")
def model() -> Reranker:
    return Reranker.load()


@pytest.mark.parametrize("question", QUESTIONS)
def test_reranked_results_are_bm25_candidates_in_another_order(
    shared_seed_store, model: Reranker, question: str
) -> None:
    bm25 = Searcher(shared_seed_store, variants=True, min_coverage=0.0).search(question, top=50)
    reranked = Searcher(shared_seed_store, variants=True, reranker=replace(model, threshold=0.0))
    answer = reranked.search(question, top=model.depth)
    head = {r.passage_id for r in bm25.results[: model.depth]}
    assert {r.passage_id for r in answer.results} == head
    assert 0.0 <= answer.probability <= 1.0
    scores = {r.passage_id: r.score for r in bm25.results}
    assert all(r.score == scores[r.passage_id] for r in answer.results)  # BM25 score kept


def test_the_candidates_normaliser_is_the_analyzers() -> None:
    from retrieval.analyzer import normalize

    for text in ("أَحْمَدُ إلى آخر المدرسة ى", "ﻻ ﻷ ﻹ ٢٠١٥ ۱۹", "Latin ABC ـــ \u200f، «؟»",
                 "\ufeffBOM \u2070", "emoji \U0001F600 beyond the BMP \U00020000", ""):
        assert rerank._normalize(text) == normalize(text)


def test_rerank_orders_and_answers_as_rank_and_answerable(shared_seed_store, model) -> None:
    seen = []
    original = Reranker.rerank

    def spy(self, *args, **kw):
        ranking = original(self, *args, **kw)
        seen.append((features(*args, **kw)[0], args[3], ranking))
        return ranking

    try:
        Reranker.rerank = spy  # type: ignore[method-assign]
        searcher = Searcher(shared_seed_store, variants=True, reranker=model)
        for question in QUESTIONS:
            searcher.search(question, top=10)
    finally:
        Reranker.rerank = original  # type: ignore[method-assign]
    assert seen
    for x, candidates, ranking in seen:
        order, share = model.rank(x)
        assert [s.passage_id for s in ranking.order] == [candidates[i].passage_id for i in order]
        assert [s.probability for s in ranking.order] == [float(share[i]) for i in order]
        assert ranking.probability == model.answerable(x)


def test_reranking_is_deterministic(shared_seed_store, model: Reranker) -> None:
    a = Searcher(shared_seed_store, variants=True, reranker=model)
    b = Searcher(shared_seed_store, variants=True, reranker=model)
    for question in QUESTIONS:
        first, second = a.search(question, top=10), b.search(question, top=10)
        assert [r.to_json() for r in first.results] == [r.to_json() for r in second.results]
        assert first.probability == second.probability


def test_pages_of_a_reranked_answer_do_not_overlap(shared_seed_store, model: Reranker) -> None:
    searcher = Searcher(shared_seed_store, variants=True, reranker=replace(model, threshold=0.0))
    question = QUESTIONS[0]
    whole = [r.passage_id for r in searcher.search(question, top=9).results]
    pages = [r.passage_id for off in (0, 3, 6) for r in searcher.search(question, 3, off).results]
    assert pages == whole and len(set(whole)) == len(whole)


def test_with_the_model_rule_a_low_probability_is_no_answer(shared_seed_store, model) -> None:
    strict = replace(model, threshold=1.01, no_answer_rule="model")
    answer = Searcher(shared_seed_store, variants=True, reranker=strict).search(QUESTIONS[0])
    assert answer.results == [] and answer.error is None and not answer.has_more
    assert answer.probability is not None


@pytest.mark.parametrize("question", [*QUESTIONS, "كيف أحضر كعكة الشوكولاتة في الفرن؟",
                                      "ما أفضل هاتف للألعاب هذا العام؟"])
def test_the_shipped_no_answer_rule_is_the_bm25_one(shared_seed_store, model, question) -> None:
    assert model.no_answer_rule == "coverage"
    plain = Searcher(shared_seed_store, variants=True).search(question)
    reranked = Searcher(shared_seed_store, variants=True, reranker=model).search(question)
    assert (not plain.results) == (not reranked.results)
    assert (plain.coverage, plain.phrase) == (reranked.coverage, reranked.phrase)


def test_an_unknown_no_answer_rule_is_a_clear_error(tmp_path: Path) -> None:
    data = json.loads(DEFAULT_MODEL.read_text(encoding="utf-8"))
    data["no_answer_rule"] = "vibes"
    path = tmp_path / "model.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(RerankModelError, match="no_answer_rule"):
        Reranker.load(path)


def test_the_json_shape_is_the_same_with_and_without_the_reranker(shared_seed_store, model) -> None:
    plain = Searcher(shared_seed_store, variants=True).search(QUESTIONS[1])
    reranked = Searcher(shared_seed_store, variants=True, reranker=model).search(QUESTIONS[1])
    assert plain.to_json().keys() == reranked.to_json().keys()
    assert reranked.results
    for a, b in zip(plain.results, reranked.results):
        assert a.to_json().keys() == b.to_json().keys()


def test_the_snippet_shows_the_answer(shared_seed_store, model: Reranker) -> None:
    answer = Searcher(shared_seed_store, variants=True, reranker=model).search(QUESTIONS[0])
    assert "11 يوليو" in " ".join(r.snippet for r in answer.results)
    question = "متى سيتم إرسال العمال إلى كورسك حسب المخابرات الكورية الجنوبية؟"
    answer = Searcher(shared_seed_store, variants=True, reranker=model).search(question)
    assert "يوليو أو أغسطس" in answer.results[0].snippet


def test_rerank_setting_and_no_rerank_flag(seed_db: Path, seed_dir: Path, tmp_path: Path) -> None:
    assert Settings.from_values({}).rerank is True  # on by default (docs/benchmarks.md §4)
    assert Settings.from_values({"RERANK": "0"}).rerank is False
    on = QAService(seed_db, seed_dir, variants=True, rerank=True)
    off = QAService(seed_db, seed_dir, variants=True, rerank=False)
    bm25 = Searcher(off.store, variants=True)
    try:
        assert on.searcher.reranker is not None and off.searcher.reranker is None
        for question in QUESTIONS:
            expected = [r.to_json() for r in bm25.search(question, top=5).results]
            assert [r.to_json() for r in off.ask(question, top=5).results] == expected
    finally:
        on.close()
        off.close()


def test_training_data_is_not_needed_to_serve(tmp_path: Path) -> None:
    """The model file is self-contained: a copy elsewhere loads the same model."""
    copy = tmp_path / "rerank.json"
    shutil.copy(DEFAULT_MODEL, copy)
    a, b = Reranker.load(copy), Reranker.load()
    assert np.array_equal(a.ranker.weights, b.ranker.weights) and a.threshold == b.threshold


def test_a_model_of_another_analyzer_loads_with_a_warning(tmp_path: Path, monkeypatch, caplog):
    data = json.loads(DEFAULT_MODEL.read_text(encoding="utf-8"))
    data["analyzer"] = "ar-light10-v0"
    path = tmp_path / "old.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    monkeypatch.setattr(rerank, "_LOADED", {})
    with caplog.at_level(logging.WARNING, logger="retrieval.rerank"):
        assert rerank.load_default(path) is not None
    assert any("retrain" in r.getMessage() for r in caplog.records)
