"""Pruned top-k equals exhaustive top-k: same passages, same scores, same order."""

import random
from pathlib import Path

import numpy as np
import pytest

from retrieval import topk
from retrieval.analyzer import analyze
from retrieval.bm25 import idf, term_scores
from retrieval.topk import rank_paragraphs
from storage.indexer import index_collection
from storage.store import Store

WORDS = [f"كلمه{i}" for i in range(400)]


def _zipf_text(rng: random.Random, n_words: int) -> str:
    # Rank-r word drawn with weight 1/r: a few very common words, a long tail of rare ones.
    return " ".join(rng.choices(WORDS, weights=[1 / (r + 1) for r in range(len(WORDS))], k=n_words))


@pytest.fixture(scope="module")
def zipf_store(tmp_path_factory) -> Store:
    rng = random.Random(7)
    corpus = tmp_path_factory.mktemp("zipf")
    for d in range(150):
        paragraphs = [_zipf_text(rng, rng.randint(3, 60)) for _ in range(rng.randint(1, 6))]
        Path(corpus, f"doc{d:03d}.txt").write_text("\n".join(paragraphs), encoding="utf-8")
    db = corpus / "index.sqlite3"
    index_collection(db, corpus)
    store = Store(db)
    yield store
    store.close()


def test_pruned_ranking_equals_exhaustive(zipf_store, monkeypatch):
    rng = random.Random(11)
    questions = [_zipf_text(rng, rng.randint(1, 8)) for _ in range(300)]
    scored = {True: 0, False: 0}  # postings scored, pruned vs exhaustive
    real_scores = topk._scores
    mode = [True]

    def counting(weight, tfs, norms, params):
        scored[mode[0]] += len(tfs)
        return real_scores(weight, tfs, norms, params)

    monkeypatch.setattr(topk, "_scores", counting)
    with zipf_store.read():
        snap = zipf_store.snapshot()
        for question in questions:
            terms = analyze(question)
            postings = zipf_store.postings(terms)
            for want in (1, 3, 10):
                mode[0] = False
                full, full_more = rank_paragraphs(terms, snap, postings, want, prune=False)
                mode[0] = True
                fast, fast_more = rank_paragraphs(terms, snap, postings, want, prune=True)
                assert [pid for pid, _ in fast] == [pid for pid, _ in full], question
                assert [s for _, s in fast] == pytest.approx([s for _, s in full], abs=1e-9)
                assert fast_more == full_more
    # Exact, and with less work: the common terms' postings were not all scored.
    assert scored[True] < 0.85 * scored[False]  # 0.74 on this corpus


def test_precomputed_length_norms_give_bm25s_scores_bit_for_bit(zipf_store):
    with zipf_store.read():
        snap = zipf_store.snapshot()
        terms = analyze(" ".join(WORDS[:8]))
        for term, p in zipf_store.postings(terms).items():
            weight = idf(snap.stats, p.df, snap.params)
            lengths = snap.lengths[p.ids]
            expected = term_scores(weight, p.tfs, lengths, snap.stats.avgdl, snap.params)
            got = topk._scores(weight, p.tfs, topk.length_norms(snap)[p.ids], snap.params)
            assert np.array_equal(got, expected), term
    assert topk.length_norms(snap) is topk.length_norms(snap)  # computed once per snapshot


def test_one_result_per_paragraph(zipf_store):
    with zipf_store.read():
        snap = zipf_store.snapshot()
        terms = analyze(" ".join(WORDS[:5]))
        ranked, _ = rank_paragraphs(terms, snap, zipf_store.postings(terms), 20)
    paragraphs = [int(snap.paragraph_of[pid]) for pid, _ in ranked]
    assert len(paragraphs) == len(set(paragraphs)) == 20
    scores = [s for _, s in ranked]
    assert scores == sorted(scores, reverse=True)


def _group_reference(members, snap, postings):
    """group_postings as first written: np.unique for the idf, lexsort for the best member."""
    hits = []
    for member in members:
        if any(t not in postings for t in member):
            continue
        ids, tfs = postings[member[0]].ids, postings[member[0]].tfs
        for term in member[1:]:
            p = postings[term]
            ids, i, j = np.intersect1d(ids, p.ids, assume_unique=True, return_indices=True)
            tfs = np.minimum(tfs[i], p.tfs[j])
        if len(ids):
            hits.append((ids, tfs))
    ids = np.concatenate([i for i, _ in hits]).astype(np.int64)
    tfs = np.concatenate([t for _, t in hits])
    weight = idf(snap.stats, len(np.unique(ids)), snap.params)
    scores = term_scores(weight, tfs, snap.lengths[ids], snap.stats.avgdl, snap.params)
    order = np.lexsort((-scores, ids))
    ids, scores = ids[order], scores[order]
    first = np.ones(len(ids), bool)
    first[1:] = ids[1:] != ids[:-1]
    return ids[first], scores[first]


def test_group_postings_equal_the_first_implementation(zipf_store):
    rng = random.Random(5)
    with zipf_store.read():
        snap = zipf_store.snapshot()
        postings = zipf_store.postings(WORDS[:200])
        terms = sorted(postings)
        for _ in range(200):
            members = [(t,) for t in rng.sample(terms, rng.randint(1, 4))]
            members += [tuple(rng.sample(terms, 2)) for _ in range(rng.randint(0, 2))]
            group = topk.group_postings(members, snap, postings)
            ids, scores = _group_reference(members, snap, postings)
            assert np.array_equal(group.ids, ids) and np.array_equal(group.scores, scores)
