"""Parity with rank-bm25: the stored index scores exactly as `BM25Okapi` over the same tokens.

The reference is built over the token lists of the index's passages (analyze(heading) +
analyze(window text), in passage-id order) with the k1, b and epsilon stored in the
index metadata. Every passage's score must agree to 1e-9 for many questions, on the
seeds and on a generated Zipf-like corpus, also after incremental updates (the idf
floor depends on the average idf of the whole index).
"""

from __future__ import annotations

import os
import random
import re
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from retrieval.analyzer import analyze
from retrieval.bm25 import BM25Params, idf, raw_idf
from retrieval.search import Searcher, score_terms
from storage.indexer import index_collection
from storage.store import Store

SEEDS = Path(__file__).resolve().parent.parent / "seeds"

QUESTIONS = [
    "متى تبدأ زيارة لافروف؟",
    "متى تبدأ زيارة لافروف إلى كوريا الشمالية؟",
    "من هي وزيرة خارجية كوريا الشمالية؟",
    "أين عقد لقاء لافروف وروبيو؟",
    "ما الذي أعلنته هيئة تنظيم النقل الجوي الروسية؟",
    "ماذا قال بيسكوف عن الزيارة الشاملة؟",
    "ما هي الأسلحة التي قد يزود بها كيم موسكو؟",
    "ما هي الذكرى التي يحتفل بها يوم النصر في بيونغيانغ؟",
    "ماذا تتهم الولايات المتحدة كوريا الشمالية؟",
    "متى وقعت روسيا وكوريا الشمالية اتفاق الدفاع المتبادل؟",
    "ما الصواريخ التي أرسلها كيم لمساعدة روسيا؟",
    "متى سيتم إرسال العمال إلى كورسك حسب المخابرات الكورية الجنوبية؟",
    "ما الذي تنفيه بيونغيانغ وموسكو؟",
    # repeated words: a query token counts once per occurrence
    "روسيا روسيا روسيا",
    "لافروف لافروف كيم لافروف",
    "زيارة زيارة منتظرة",
    # very common words: negative raw idf, so the epsilon floor applies
    "كوريا الشمالية",
    "كوريا الشمالية كوريا الشمالية روسيا",
    "الشمالية",
    # words absent from the index, alone and mixed with present ones
    "بطيخ مشمش",
    "كيف أحضر كعكة الشوكولاتة في الفرن؟",
    "بطيخ لافروف",
    # digits, Latin, Persian letters, marks
    "11 يوليو",
    "١١ يوليو ٢٠٢٤",
    "OpenAI Lavrov",
    "کوریا الشمالیة",
    "زِيَارَةُ لَافْرُوف",
    # stopwords only, and one-word questions
    "من هو؟",
    "بوتين",
    "فلاديفوستوك",
    "الجيش الروسي القوات الأوكرانية كورسك",
    "سيرغي شويغو بيونغ يانغ",
]


def _vocabulary() -> list[str]:
    words = set()
    for path in SEEDS.glob("*.txt"):
        words.update(re.findall(r"\w+", path.read_text(encoding="utf-8")))
    return sorted(words)


VOCABULARY = _vocabulary()


def _zipf_sampler(seed: int):
    rng = random.Random(seed)
    vocab = VOCABULARY[:]
    rng.shuffle(vocab)
    weights = [1.0 / (rank + 1) ** 1.1 for rank in range(len(vocab))]
    return rng, vocab, weights


def _generated_text(rng: random.Random, vocab: list[str], weights: list[float]) -> str:
    paragraphs = []
    for _ in range(rng.randint(1, 8)):
        n = rng.choice([2, 3, 5, 8, 12, 20, 35, 60, 140])
        words = rng.choices(vocab, weights, k=n)
        sentences, i = [], 0
        while i < len(words):
            step = rng.randint(4, 30)
            sentences.append(" ".join(words[i : i + step]) + rng.choice([".", "،", "؟", ""]))
            i += step
        paragraphs.append(" ".join(sentences))
    return rng.choice(["\n", "\n\n", "\n \n"]).join(paragraphs)


def write_generated_corpus(root: Path, n_docs: int = 300, seed: int = 7) -> list[Path]:
    """`n_docs` random documents of 1-8 paragraphs, Zipf-distributed words, in subfolders."""
    rng, vocab, weights = _zipf_sampler(seed)
    paths = []
    for i in range(n_docs):
        ext = ".md" if i % 5 == 0 else ".txt"
        path = root / f"part{i % 4}" / f"doc_{i:03d}{ext}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_generated_text(rng, vocab, weights), encoding="utf-8")
        paths.append(path)
    return paths


def generated_questions(seed: int = 11, n: int = 40) -> list[str]:
    rng, vocab, weights = _zipf_sampler(7)
    rng = random.Random(seed)
    questions = [" ".join(vocab[:3]), " ".join(vocab[:1] * 3), vocab[0]]  # the most common
    for _ in range(n):
        k = rng.randint(1, 7)
        words = rng.choices(vocab, weights, k=k) if rng.random() < 0.5 else rng.sample(vocab, k)
        if rng.random() < 0.3:
            words.append(words[0])  # repeated
        if rng.random() < 0.2:
            words.append("كلمةغائبة")  # absent
        questions.append(" ".join(words))
    return questions


# --- the parity check -----------------------------------------------------------------


def assert_parity(db: Path, passage_tokens, questions: list[str]) -> dict[str, int]:
    """Compare the stored index with BM25Okapi over the same tokens; return coverage counts."""
    ids, tokens = passage_tokens(db)
    store = Store(db)
    try:
        with store.read():
            snap = store.snapshot()
            meta = store.meta()
            params = snap.params
            assert params == BM25Params(float(meta["k1"]), float(meta["b"]), float(meta["epsilon"]))
            reference = BM25Okapi(tokens, k1=params.k1, b=params.b, epsilon=params.epsilon)

            # Collection statistics and every passage length.
            assert snap.stats.n_passages == reference.corpus_size == len(ids)
            assert snap.stats.avgdl == pytest.approx(reference.avgdl, rel=1e-12)
            assert snap.stats.average_idf == pytest.approx(reference.average_idf, rel=1e-9)
            assert snap.lengths[ids].tolist() == [len(t) for t in tokens]
            assert int(np.count_nonzero(snap.paragraph_of)) == len(ids)

            # The inverted index holds exactly the postings of the token lists.
            expected_postings: dict[str, tuple[list[int], list[int]]] = {}
            for pid, toks in zip(ids, tokens):
                for term, tf in Counter(toks).items():
                    entry = expected_postings.setdefault(term, ([], []))
                    entry[0].append(pid)
                    entry[1].append(tf)
            postings = store.postings(list(reference.idf))
            assert set(postings) == set(reference.idf) == set(expected_postings)
            for term, p in postings.items():
                assert (p.ids.tolist(), p.tfs.tolist()) == expected_postings[term], term
                assert p.df == len(p.ids)
                assert p.max_tf == max(expected_postings[term][1])
                assert p.min_len == int(snap.lengths[p.ids].min())
                assert abs(idf(snap.stats, p.df, params) - reference.idf[term]) <= 1e-12, term

            # Scores of every passage for every question.
            position = {pid: i for i, pid in enumerate(ids)}
            floored = absent = repeated = 0
            for question in questions:
                terms = analyze(question)
                q_postings = store.postings(terms)
                expected = reference.get_scores(terms)
                got = np.zeros(len(ids))
                pids, scores = score_terms(terms, snap, q_postings)
                assert len(set(pids.tolist())) == len(pids)
                got[[position[int(p)] for p in pids]] = scores
                diff = np.max(np.abs(got - expected)) if len(ids) else 0.0
                assert diff <= 1e-9, (question, diff)
                floored += any(raw_idf(len(ids), q_postings[t].df) < 0 for t in q_postings)
                absent += any(t not in q_postings for t in terms)
                repeated += len(set(terms)) < len(terms)
    finally:
        store.close()
    return {"floored": floored, "absent": absent, "repeated": repeated}


def assert_ranking(db: Path, passage_tokens, questions: list[str]) -> None:
    """Searcher order = rank-bm25 scores, best passage per paragraph, ties by passage id."""
    ids, tokens = passage_tokens(db)
    store = Store(db)
    try:
        with store.read():
            snap = store.snapshot()
            params = snap.params
            paragraph_of = snap.paragraph_of
        reference = BM25Okapi(tokens, k1=params.k1, b=params.b, epsilon=params.epsilon)
        pruned = Searcher(store, min_coverage=0.0)
        exhaustive = Searcher(store, min_coverage=0.0, prune=False)
        for question in questions:
            terms = analyze(question)
            if not terms:
                continue
            scores = reference.get_scores(terms)
            best: dict[int, tuple[float, int]] = {}
            for pid, score in zip(ids, scores):
                para = int(paragraph_of[pid])
                if score > 0 and (para not in best or score > best[para][0]):
                    best[para] = (score, pid)
            expected = sorted(((s, pid, para) for para, (s, pid) in best.items()), key=lambda x: (-x[0], x[1]))
            position = {pid: i for i, pid in enumerate(ids)}
            top = max(1, min(len(expected), 40))
            for searcher in (pruned, exhaustive):
                answer = searcher.search(question, top=top)
                got = [(r.score, r.passage_id, r.paragraph_id) for r in answer.results]
                assert len(got) == min(top, len(expected)), question
                assert len({para for _, _, para in got}) == len(got), question
                for (score, pid, para), (expected_score, _, _) in zip(got, expected):
                    # The same score sequence, and each paragraph represented by its best
                    # passage (which may differ only among passages tied to rounding).
                    assert abs(score - expected_score) <= 1e-9, question
                    assert abs(best[para][0] - score) <= 1e-9, question
                    assert abs(scores[position[pid]] - score) <= 1e-9, question
                # Sorted by score, exact ties by passage id.
                for (s1, p1, _), (s2, p2, _) in zip(got, got[1:]):
                    assert s1 > s2 or (s1 == s2 and p1 < p2), question
    finally:
        store.close()


# --- seeds ----------------------------------------------------------------------------


def test_parity_on_the_seeds(shared_seed_db, passage_tokens):
    counts = assert_parity(shared_seed_db, passage_tokens, QUESTIONS)
    # The questions exercise the epsilon floor, absent words and repeated words.
    assert counts["floored"] >= 3
    assert counts["absent"] >= 3
    assert counts["repeated"] >= 3


def test_ranking_on_the_seeds(shared_seed_db, passage_tokens):
    assert_ranking(shared_seed_db, passage_tokens, QUESTIONS)


@pytest.mark.parametrize(
    "params", [BM25Params(1.5, 0.75, 0.25), BM25Params(1.2, 0.0, 0.5), BM25Params(0.5, 1.0, 0.1)]
)
def test_parity_with_other_parameters(tmp_path, seed_dir, passage_tokens, params):
    db = tmp_path / "params.sqlite3"
    index_collection(db, seed_dir, params=params)
    store = Store(db)
    try:
        assert store.snapshot().params == params
    finally:
        store.close()
    assert_parity(db, passage_tokens, QUESTIONS)


def test_parity_after_incremental_updates_of_the_seeds(tmp_path, seed_dir, seed_db, passage_tokens):
    rng, vocab, weights = _zipf_sampler(3)
    # added: new words, common words; changed: a paragraph appended; removed: a whole file
    (seed_dir / "new" / "extra.md").parent.mkdir()
    (seed_dir / "new" / "extra.md").write_text(
        "كلمةجديدة كوريا الشمالية روسيا لافروف.\n" + _generated_text(rng, vocab, weights),
        encoding="utf-8",
    )
    changed = seed_dir / "002_a0e9d82ca56d1e7c.txt"
    changed.write_text(
        changed.read_text(encoding="utf-8") + "\nفقرة مضافة عن كوريا الشمالية وبطيخ روسيا.\n",
        encoding="utf-8",
    )
    _bump_mtime(changed)
    (seed_dir / "003_4d407a0bed6a0682.txt").unlink()
    report = index_collection(seed_db, seed_dir)
    assert report.indexed == ["002_a0e9d82ca56d1e7c.txt", "new/extra.md"]
    assert report.removed == ["003_4d407a0bed6a0682.txt"]
    assert_parity(seed_db, passage_tokens, QUESTIONS + ["كلمةجديدة", "بطيخ"])
    assert_ranking(seed_db, passage_tokens, QUESTIONS)


def test_exact_ties_are_broken_by_passage_id(tmp_path, seed_dir, passage_tokens):
    text = "تعاون زراعي بين البلدين في زراعة القمح والشعير.\nفقرة ثانية عن القمح وحده."
    (seed_dir / "a_dup.txt").write_text(text, encoding="utf-8")
    (seed_dir / "b_dup.txt").write_text(text, encoding="utf-8")
    (seed_dir / "c_dup.txt").write_text(text, encoding="utf-8")
    db = tmp_path / "ties.sqlite3"
    index_collection(db, seed_dir)
    store = Store(db)
    try:
        for prune in (True, False):
            answer = Searcher(store, min_coverage=0.0, prune=prune).search("زراعة القمح", top=10)
            got = [(r.source, r.paragraph) for r in answer.results]
            assert got[:3] == [("a_dup.txt", 1), ("b_dup.txt", 1), ("c_dup.txt", 1)]
            assert answer.results[0].score == answer.results[1].score == answer.results[2].score
            pids = [r.passage_id for r in answer.results[:3]]
            assert pids == sorted(pids)
    finally:
        store.close()
    assert_ranking(db, passage_tokens, ["زراعة القمح", "القمح", "القمح والشعير كوريا"])


# --- a generated corpus ---------------------------------------------------------------


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """300 generated documents indexed by the project's indexer (built once per module)."""
    root = tmp_path_factory.mktemp("generated")
    write_generated_corpus(root / "corpus")
    db = root / "index.sqlite3"
    report = index_collection(db, root / "corpus")
    assert len(report.indexed) == 300 and not report.skipped
    return root


def test_generated_corpus_is_interesting(generated, passage_tokens):
    ids, tokens = passage_tokens(generated / "index.sqlite3")
    assert len(ids) > 1000
    df = Counter(t for toks in tokens for t in set(toks))
    n = len(ids)
    assert sum(raw_idf(n, d) < 0 for d in df.values()) >= 2  # the epsilon floor matters
    store = Store(generated / "index.sqlite3")
    try:
        windows = store.conn.execute(
            "SELECT count(*) FROM passages GROUP BY paragraph_id HAVING count(*) > 1"
        ).fetchall()
        headed = store.conn.execute("SELECT count(*) FROM paragraphs WHERE heading != ''").fetchone()
    finally:
        store.close()
    assert len(windows) >= 10  # long paragraphs were split into windows
    assert headed[0] >= 10  # short lines were merged as headings


def test_parity_on_a_generated_corpus(generated, passage_tokens):
    counts = assert_parity(
        generated / "index.sqlite3", passage_tokens, QUESTIONS + generated_questions()
    )
    assert counts["floored"] >= 5


def test_ranking_on_a_generated_corpus(generated, passage_tokens):
    assert_ranking(generated / "index.sqlite3", passage_tokens, generated_questions(seed=5, n=25))


def test_parity_after_incremental_updates_of_a_generated_corpus(tmp_path, generated, passage_tokens):
    corpus = tmp_path / "corpus"
    shutil.copytree(generated / "corpus", corpus)
    db = tmp_path / "index.sqlite3"
    index_collection(db, corpus)
    files = sorted(corpus.rglob("*.*"))
    rng, vocab, weights = _zipf_sampler(99)
    for path in files[:20]:
        path.unlink()
    for path in files[20:40]:
        path.write_text(_generated_text(rng, vocab, weights) + "\nتغيير.", encoding="utf-8")
        _bump_mtime(path)
    for i in range(20):
        (corpus / "added" / f"new_{i}.txt").parent.mkdir(exist_ok=True)
        (corpus / "added" / f"new_{i}.txt").write_text(
            _generated_text(rng, vocab[:200], weights[:200]), encoding="utf-8"
        )
    report = index_collection(db, corpus)
    assert len(report.removed) == 20 and len(report.indexed) == 40 and report.unchanged == 260
    assert_parity(db, passage_tokens, QUESTIONS + generated_questions(seed=3))


def _bump_mtime(path: Path) -> None:
    """Move the modification time well away from the indexed one (coarse clocks)."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
