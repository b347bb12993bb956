"""Stage 2: reorder BM25's first candidates by features of their text and a small model.

Stage 1 (retrieval/topk.py) gives the exact BM25Okapi top N paragraphs, each with its
best passage. Here every candidate's heading and paragraph are analysed once, the
positions of the question's terms in them are gathered into flat numpy arrays (all
candidates at once), and per candidate a fixed list of features (`FEATURES`) is
computed: BM25 of the paragraph and its stage-1 score, the share of the question's idf
mass it holds and the most of it in a window of 4 / 8 / 16 / 32 terms (proximity),
question words side by side in the question's order or in any order, the longest run of
the question's words in order, the question type (date, number, place, person) against
what the best window holds (the heading's share, the paragraph's position in its file and
its length are computed too, but left out of the model: see EXTRA_FEATURES).

A linear ranker over the standardised features (`retrieval/models/rerank-v1.json`,
learned by `python -m benchmarks.train_rerank` on ARCD's training half only, as a softmax
over each question's candidates) orders them; a small logistic model over the best
candidate's features gives the probability that the collection answers at all. "No
answer" is still decided by the coverage / phrase rule of BM25 order (the model file's
`no_answer_rule`): on the training data the learned probability did not refuse more
off-topic questions at the same share of real ones (docs/benchmarks.md §2).

    reranker = Reranker.load()        # the shipped model (load_default: None-safe, cached)
    ranking = reranker.rerank(question, terms, weights, candidates, params, avgdl)
    ranking.order[0], ranking.probability
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import numpy as np

from retrieval import analyzer
from retrieval.analyzer import ANALYZER_VERSION, analyze, term_of
from retrieval.bm25 import BM25Params

log = logging.getLogger(__name__)

MODEL_DIR = Path(__file__).resolve().parent / "models"
DEFAULT_MODEL = MODEL_DIR / "rerank-v1.json"
#: Candidates reordered when the model file does not say (it does).
DEFAULT_DEPTH = 10
#: Window sizes (in characters, about 4 / 8 / 16 / 32 words) of the proximity features.
WINDOWS = (25, 50, 100, 200)
#: The window whose best position is the snippet's focus.
FOCUS_WINDOW = 100
#: Characters either side of the best window searched for the answer type.
TYPE_MARGIN = 50
#: Question words at most this many characters apart are "near".
NEAR_CHARS = 20
#: Characters between candidates in the joined string (more than any window and margin).
_GAP = 512
_PAD = " " * _GAP

#: The model's inputs, in order. Names are part of the model file: keep them stable.
FEATURES = (
    "bm25",              # stage-1 score (best passage) / the question's idf mass
    "bm25_top",          # stage-1 score / the best candidate's
    "rank",              # log(1 + stage-1 rank), 0 for the first
    "bm25_para",         # BM25 of the whole paragraph (heading included) / idf mass
    "coverage",          # share of the question's idf mass in the paragraph
    "coverage_top",      # coverage / the best coverage among the candidates
    "win25", "win50", "win100", "win200",  # most idf mass (share) within k characters
    "win50_top",         # win50 / the best win50 among the candidates
    "pairs_ordered",     # log(1 + question word pairs side by side, question's order)
    "pairs_any",         # log(1 + ... in either order)
    "pairs_near",        # log(1 + question words at most NEAR_CHARS characters apart)
    "phrase_run",        # longest run of question words in order, side by side
    "type_match",        # the question wants a date / number / place / person, and the
    "type_missing",      # best window holds (or lacks) one
    "question_terms",    # log(distinct question terms)
    "unseen",            # share of the idf mass in terms the index lacks
)
#: Not in the model (computed by `features` all the same, for a later model): in the
#: training collections every ARCD paragraph is its file's first and only one, long and
#: without a heading, while the SaudiNewsNet distractors are short, later and under a
#: title, so these learned "which collection" rather than "which answers" (measured:
#: seeds_dev fell from 12/12 to 7/12 right file first with them).
EXTRA_FEATURES = ("heading", "position", "first", "length")
_COL = {name: i for i, name in enumerate(FEATURES + EXTRA_FEATURES)}
_WINDOW_SIZES = np.array(WINDOWS)[:, None]
_WIN_COLS = [_COL[f"win{k}"] for k in WINDOWS]  # consecutive columns
_FOCUS = WINDOWS.index(FOCUS_WINDOW)
_ZERO = np.zeros(1, np.int64)
assert _WIN_COLS == list(range(_WIN_COLS[0], _WIN_COLS[0] + len(WINDOWS)))

#: `analyzer.normalize`'s table as a list up to the last mapped code point below the
#: presentation forms: `str.translate` looks a code point up in a list twice as fast as in
#: the dict (no KeyError per unmapped character); code points beyond the list raise
#: IndexError, which translate takes as "unmapped", as a key missing from the dict.
_TABLE_KEYS = sorted(analyzer._TABLE)
_LIST_END = max(k for k in _TABLE_KEYS if k < 0xFE00) + 1
#: Texts holding a mapped character beyond the list (lam-alef ligatures, BOM) go the slow way.
_BEYOND_LIST = re.compile("[" + "".join(chr(k) for k in _TABLE_KEYS if k >= _LIST_END) + "]")


@cache
def _normalize_table() -> list[object]:
    """The list table (built on first use: under 1 ms, 0.3 MB)."""
    table: list[object] = list(range(_LIST_END))
    for code in _TABLE_KEYS[: _TABLE_KEYS.index(_LIST_END - 1) + 1]:
        table[code] = analyzer._TABLE[code]
    return table


def _normalize(text: str) -> str:
    """`analyzer.normalize(text)`, faster (the candidates' text is normalised per question)."""
    if _BEYOND_LIST.search(text):
        return analyzer.normalize(text)
    return text.translate(_normalize_table()).lower()


class RerankModelError(Exception):
    """The model file is missing or unusable (message says why)."""


# --------------------------------------------------------------------------- question type


def question_type(question: str) -> str | None:
    """What a question asks for: "date", "number", "place", "person" or None.

    The rules of retrieval/question_words.py (MSA and dialect question words, the noun
    after «أي / ما»).
    """
    from retrieval import question_words  # here: a start with RERANK=0 never needs it

    return question_words.question_type(question)


#: The same question is typed once (a page turn or a repeated question asks it again).
_question_type = lru_cache(maxsize=1024)(question_type)


def answer_type_near(text: str, qtype: str) -> bool:
    """True when `text` (original text: a window around the matched words) holds an answer
    of the type `qtype` wants: a year or date, a number, a place, a person's name."""
    from retrieval import question_words  # here: a start with RERANK=0 never needs it

    return bool(question_words.answer_type_spans(text, qtype))


# --------------------------------------------------------------------------- candidates


@dataclass(frozen=True)
class Candidate:
    """One stage-1 result as the reranker sees it."""

    passage_id: int
    score: float  # stage-1 BM25 score of its best passage
    heading: str
    text: str  # the best passage's text (the paragraph, or its best window when long)
    paragraph_number: int
    length: float = 0.0  # the passage's length in index terms (heading included)


@dataclass(frozen=True)
class Scored:
    """A candidate after stage 2: its probability and the best window of its text.

    `window` is a character range [start, end) of `candidate.text`, or None when only
    the heading matched or normalising changed the text's length (marks removed).
    """

    passage_id: int
    score: float
    probability: float
    window: tuple[int, int] | None


def focus_of(window: tuple[int, int] | None, offset: int = 0) -> tuple[int, int] | None:
    """The character range of a `Scored.window` in the paragraph (its passage at `offset`)."""
    return None if window is None else (offset + window[0], offset + window[1])


_WORD_AT = re.compile(r"\w+")


def _words_of_terms(joined: str, qid: dict[str, int]) -> list[tuple[int, int, int]]:
    """(start, end, question term index) of each word of `joined` whose term is a key of `qid`.

    `joined` is normalised text. Each term is looked for with `str.find` (a term is a
    part of its word: the analyzer only strips affixes); each hit is widened to its whole
    word, which is mapped to its term like the analyzer does. No regular expression is
    built per question (compiling one cost more than the search).
    """
    words: dict[int, int] = {}  # start → end of the words that hold some term
    find, match = joined.find, _WORD_AT.match
    for key in qid:
        at = find(key)
        while at >= 0:
            start = at
            while start > 0 and (joined[start - 1].isalnum() or joined[start - 1] == "_"):
                start -= 1
            end = words.get(start)
            if end is None:
                end = words[start] = match(joined, start).end()  # type: ignore[union-attr]
            at = find(key, end)
    found: list[tuple[int, int, int]] = []
    get = qid.get
    for start in sorted(words):
        end = words[start]
        term = term_of(joined[start:end])
        q = get(term) if term is not None else None
        if q is not None:
            found.append((start, end, q))
    return found


def _only_stopwords(text: str) -> bool:
    """True when `text` holds no index term: punctuation and stopwords only."""
    return not analyze(text)


def features(
    question: str,
    terms: list[str],
    weights: dict[str, float],
    candidates: Sequence[Candidate],
    params: BM25Params,
    avgdl: float,
    *,
    unseen: frozenset[str] = frozenset(),
    aliases: dict[str, str] | None = None,
    extra: bool = False,
) -> tuple[np.ndarray, list[tuple[int, int] | None]]:
    """The feature matrix (candidates × FEATURES) and each candidate's best window.

    All candidates are normalised into one string (heading, newline, passage; wide gaps
    between candidates); only the words that hold a question term's letters are mapped
    to terms. Distances are in characters of the normalised text.
    With `extra`, the EXTRA_FEATURES columns follow (see `extra_features`).
    """
    q_terms = list(weights)
    nq, n = len(q_terms), len(candidates)
    x = np.zeros((n, len(FEATURES) + len(EXTRA_FEATURES)))
    windows: list[tuple[int, int] | None] = [None] * n
    if not n or not nq:
        return (x if extra else x[:, : len(FEATURES)]), windows
    qid = {t: i for i, t in enumerate(q_terms)}
    if aliases:
        for variant, term in aliases.items():
            if term in qid:
                qid.setdefault(variant, qid[term])
    w = np.array([weights[t] for t in q_terms])
    mass = float(w.sum()) or 1.0
    col = _COL

    pieces: list[str] = []
    starts_: list[int] = []  # where each candidate starts in the joined string
    text_at_: list[int] = []  # ... and where its passage text starts
    exact_: list[bool] = []  # normalising kept the length: offsets are the text's own
    at = 0
    for cand_ in candidates:
        head = _normalize(cand_.heading) + "\n" if cand_.heading else ""
        body = _normalize(cand_.text)
        exact_.append(len(body) == len(cand_.text))
        starts_.append(at)
        text_at_.append(at + len(head))
        pieces += (head, body, _PAD)
        at += len(head) + len(body) + _GAP
    joined = "".join(pieces)
    starts = np.array(starts_, np.int64)
    text_at = np.array(text_at_, np.int64)
    exact = np.array(exact_, bool)
    found = _words_of_terms(joined, qid)
    lengths = np.array([c_.length for c_ in candidates], float)
    if found:
        arr = np.array(found, np.int64)
        gs, ge, q = arr[:, 0], arr[:, 1], arr[:, 2]
        cand = np.searchsorted(starts, gs, side="right") - 1
        spans = _match_features(x, col, windows, w, mass, n, nq, gs, ge, q, cand, text_at, exact)
        _pair_features(x, col, joined, terms, qid, nq, n, gs, ge, q, cand)
        qtype = _question_type(question)
        if qtype is not None:
            _type_features(x, col, spans, joined, qtype, starts)
        tf = np.bincount(cand * nq + q, minlength=n * nq).reshape(n, nq).astype(float)
        norm = params.k1 * (1.0 - params.b + params.b * lengths / (avgdl or 1.0))
        x[:, col["bm25_para"]] = (w * tf * (params.k1 + 1.0) / (tf + norm[:, None])).sum(1) / mass
    elif _question_type(question) is not None:
        x[:, col["type_missing"]] = 1.0

    scores = np.array([cand_.score for cand_ in candidates])
    top = scores[0] if scores[0] > 0 else 1.0
    x[:, col["bm25"]] = scores / mass
    x[:, col["bm25_top"]] = scores / top
    x[:, col["rank"]] = np.log1p(np.arange(n))
    for name, ref in (("coverage_top", "coverage"), ("win50_top", "win50")):
        best = x[:, col[ref]].max()
        x[:, col[name]] = x[:, col[ref]] / best if best > 0 else 0.0
    numbers = np.array([max(1, cand_.paragraph_number) for cand_ in candidates], float)
    x[:, col["position"]] = np.log(numbers)
    x[:, col["first"]] = numbers == 1
    x[:, col["length"]] = np.log1p(lengths)
    x[:, col["question_terms"]] = math.log(nq)
    x[:, col["unseen"]] = sum(weights[t] for t in unseen if t in weights) / mass
    return (x if extra else x[:, : len(FEATURES)]), windows


def _match_features(x, col, windows, w, mass, n, nq, gs, ge, q, cand, text_at, exact):
    """Coverage, heading share and proximity; each candidate's best window (joined offsets).

    `windows` gets the best window in the candidate's own text where it lies there.
    """
    m = len(gs)
    present = np.zeros((n, nq), bool)
    present[cand, q] = True
    x[:, col["coverage"]] = present @ w / mass
    in_head = gs < text_at[cand]
    head = np.zeros((n, nq), bool)
    head[cand[in_head], q[in_head]] = True
    x[:, col["heading"]] = head @ w / mass
    onehot = np.zeros((m + 1, nq))
    onehot[np.arange(1, m + 1), q] = 1.0
    prefix = np.cumsum(onehot, axis=0)
    # `cand` is sorted (hits in text order): each candidate's hits are one segment.
    first = np.flatnonzero(cand[1:] != cand[:-1]) + 1
    first = np.concatenate((_ZERO, first))
    has = cand[first]  # the candidates with a hit, in order
    spans = np.full((n, 2), -1, np.int64)  # best window per candidate, joined offsets
    # All window sizes at once: ends[j] is where each hit's window of WINDOWS[j] ends.
    ends = np.searchsorted(gs, gs + _WINDOW_SIZES)
    wins = (((prefix[ends] - prefix[:m]) > 0).reshape(-1, nq) @ w / mass).reshape(-1, m)
    best = np.maximum(np.maximum.reduceat(wins, first, axis=1), 0.0)
    x[has, _WIN_COLS[0] : _WIN_COLS[-1] + 1] = best.T
    win, end = wins[_FOCUS], ends[_FOCUS]
    order = np.lexsort((gs, -win, cand))  # per candidate: the best window, earliest
    lead = order[np.searchsorted(cand[order], has)]
    spans[has, 0] = gs[lead]
    spans[has, 1] = ge[end[lead] - 1]
    span_list, text_list, exact_list = spans.tolist(), text_at.tolist(), exact.tolist()
    for c in has.tolist():
        if exact_list[c]:
            lo, hi = span_list[c][0] - text_list[c], span_list[c][1] - text_list[c]
            if hi > 0:  # not in the heading alone
                windows[c] = (max(lo, 0), hi)
    return spans


def _pair_features(x, col, joined, terms, qid, nq, n, gs, ge, q, cand):
    """Question words side by side (stopwords between allowed), in order or not, and near."""
    q_seq = [qid[t] for t in terms if t in qid]
    ordered = {a * nq + b for a, b in zip(q_seq, q_seq[1:]) if a != b}
    both = ordered | {(code % nq) * nq + code // nq for code in ordered}
    same = (cand[1:] == cand[:-1]) & (q[1:] != q[:-1])
    gap = gs[1:] - ge[:-1]
    near = same & (gap <= NEAR_CHARS)
    adjacent = near.copy()
    for i in np.flatnonzero(near & (gap > 2)).tolist():
        adjacent[i] = _only_stopwords(joined[int(ge[i]) : int(gs[i + 1])])
    codes = (q[:-1] * nq + q[1:]).tolist()
    is_ordered = np.zeros(len(codes), bool)
    is_any = np.zeros(len(codes), bool)
    for i in np.flatnonzero(adjacent).tolist():  # a few pairs: sets beat np.isin here
        if codes[i] in ordered:
            is_ordered[i] = True
        if codes[i] in both:
            is_any[i] = True
    x[:, col["pairs_ordered"]] = np.log1p(np.bincount(cand[1:][is_ordered], minlength=n))
    x[:, col["pairs_any"]] = np.log1p(np.bincount(cand[1:][is_any], minlength=n))
    x[:, col["pairs_near"]] = np.log1p(np.bincount(cand[1:][near], minlength=n))
    run_best = np.zeros(n)
    run, prev_c, prev_i = 0, -1, -2
    for i in np.nonzero(is_ordered)[0]:
        c = int(cand[i])
        run = run + 1 if (c == prev_c and i == prev_i + 1) else 1
        prev_c, prev_i = c, i
        run_best[c] = max(run_best[c], run + 1)
    x[:, col["phrase_run"]] = run_best


def _type_features(x, col, spans, joined, qtype, starts):
    """Whether the best window and a margin around it hold what the question type wants."""
    for c, (lo, hi) in enumerate(spans.tolist()):
        if lo < 0:
            x[c, col["type_missing"]] = 1.0
            continue
        region = joined[max(int(starts[c]), lo - TYPE_MARGIN) : hi + TYPE_MARGIN]
        hit = answer_type_near(region, qtype)
        x[c, col["type_match"]] = float(hit)
        x[c, col["type_missing"]] = float(not hit)


# --------------------------------------------------------------------------- the model

#: Inputs of the no-answer model: the reranked best candidate and the list as a whole.
ANSWER_FEATURES = (
    "best_coverage",      # coverage of the reranked best candidate
    "max_coverage",       # the most coverage among the candidates
    "best_win50",         # win50 of the best candidate
    "max_win50",
    "best_phrase_run",
    "max_pairs_any",
    "best_bm25",          # bm25 (score / idf mass) of the best candidate
    "top_bm25",           # ... of BM25's first candidate
    "unseen",             # share of the idf mass the index lacks
    "question_terms",
    "best_share",         # the best candidate's share of the ranker's softmax
    "best_type_missing",  # the question wants a type the best window lacks
)


def _order_and_share(scores: np.ndarray) -> tuple[list[int], list[float]]:
    """Candidates by decreasing score (ties: stage-1 order) and each one's softmax share."""
    values = scores.tolist()
    order = sorted(range(len(values)), key=lambda i: (-values[i], i))
    share = np.exp(scores - scores.max())
    return order, (share / share.sum()).tolist()


def answer_features(x: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """The no-answer model's inputs (ANSWER_FEATURES) from the candidates' features and scores."""
    order, share = _order_and_share(scores)
    return _answer_row(x, order[0], share[order[0]])


def _answer_row(x: np.ndarray, best: int, best_share: float) -> np.ndarray:
    """`answer_features` once the best candidate and its softmax share are known."""
    col = _COL
    row = x[best].tolist()
    top = x.max(axis=0).tolist()
    return np.array([
        row[col["coverage"]], top[col["coverage"]], row[col["win50"]],
        top[col["win50"]], row[col["phrase_run"]], top[col["pairs_any"]],
        row[col["bm25"]], float(x[0, col["bm25"]]), row[col["unseen"]],
        row[col["question_terms"]], best_share, row[col["type_missing"]],
    ])


@dataclass(frozen=True)
class Linear:
    """w · (x − mean) / scale + bias: a linear model over standardised inputs."""

    weights: np.ndarray
    bias: float
    mean: np.ndarray
    scale: np.ndarray

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return ((x - self.mean) / self.scale) @ self.weights + self.bias

    def to_json(self, names: Sequence[str]) -> dict:
        """The model as JSON (values rounded, so the file is the same for the same data)."""
        return {
            "features": list(names),
            "mean": [round(float(v), 8) for v in self.mean],
            "scale": [round(float(v), 8) for v in self.scale],
            "weights": [round(float(v), 8) for v in self.weights],
            "bias": round(float(self.bias), 8),
        }

    @classmethod
    def from_json(cls, data: dict, names: Sequence[str], where: str) -> Linear:
        """Read `to_json`'s output; RerankModelError when it does not fit `names`."""
        if list(data["features"]) != list(names):
            raise RerankModelError(
                f"{where} was trained on other features; retrain it "
                "(python -m benchmarks.train_rerank)"
            )
        arrays = [np.asarray(data[k], dtype=np.float64) for k in ("weights", "mean", "scale")]
        if any(a.shape != (len(names),) or not np.isfinite(a).all() for a in arrays) or (
            arrays[2] <= 0
        ).any():
            raise RerankModelError(f"{where} has malformed arrays")
        return cls(arrays[0], float(data["bias"]), arrays[1], arrays[2])


@dataclass(frozen=True)
class Ranking:
    """Stage 2's answer: the candidates in their new order and P(the collection answers)."""

    order: list[Scored]
    probability: float


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -50.0, 50.0)))


@dataclass(frozen=True)
class Reranker:
    """A linear ranker over `FEATURES` and a logistic no-answer model over ANSWER_FEATURES.

    Candidates are ordered by the ranker's score (its softmax over the candidates is each
    one's `Scored.probability`); the no-answer model gives the probability that the best
    one answers (`Answer.probability`), which decides "no answer" under `threshold` when
    `no_answer_rule` is "model".
    """

    ranker: Linear
    answer: Linear
    threshold: float = 0.0
    depth: int = DEFAULT_DEPTH  # candidates reordered (stage 1 gives at least this many)
    name: str = "rerank"
    #: How the searcher decides "no answer": "coverage" (the coverage / phrase rule of BM25
    #: order; shipped, as it refused more off-topic questions at fewer real ones on the
    #: training data) or "model" (`answerable()` under `threshold`).
    no_answer_rule: str = "coverage"

    @classmethod
    def load(cls, path: Path | str = DEFAULT_MODEL) -> Reranker:
        """Read a model file; raises RerankModelError when it is missing or malformed."""
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise RerankModelError(f"reranker model not found: {path}") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise RerankModelError(f"reranker model {path} is unreadable: {exc}") from None
        where = f"reranker model {path}"
        try:
            return cls(
                ranker=Linear.from_json(data["ranker"], FEATURES, where),
                answer=Linear.from_json(data["no_answer"], ANSWER_FEATURES, where),
                threshold=float(data["threshold"]),
                depth=int(data["depth"]),
                name=str(data.get("name", path.stem)),
                no_answer_rule=_rule(data.get("no_answer_rule", "coverage"), path),
            )
        except RerankModelError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise RerankModelError(f"reranker model {path} is malformed: {exc!r}") from None

    def rank(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(order, softmax shares) of the candidates of a feature matrix."""
        order, share = _order_and_share(self.ranker(x))
        return np.array(order), np.array(share)

    def answerable(self, x: np.ndarray) -> float:
        """P(the best candidate answers the question), from the candidates' features."""
        return self._probability(answer_features(x, self.ranker(x)))

    def _probability(self, row: np.ndarray) -> float:
        """The no-answer model's probability for one ANSWER_FEATURES row."""
        return float(_sigmoid(self.answer(row[None]))[0])

    def rerank(
        self,
        question: str,
        terms: list[str],
        weights: dict[str, float],
        candidates: Sequence[Candidate],
        params: BM25Params,
        avgdl: float,
        *,
        unseen: frozenset[str] = frozenset(),
        aliases: dict[str, str] | None = None,
    ) -> Ranking:
        """The candidates by decreasing score (ties: stage-1 order) and P(answered)."""
        x, windows = features(
            question, terms, weights, candidates, params, avgdl, unseen=unseen, aliases=aliases
        )
        order, share = _order_and_share(self.ranker(x))  # as `rank` and `answerable`, once
        scored = [
            Scored(candidates[i].passage_id, candidates[i].score, share[i], windows[i])
            for i in order
        ]
        return Ranking(scored, self._probability(_answer_row(x, order[0], share[order[0]])))


NO_ANSWER_RULES = ("coverage", "model")


def _trained_analyzer(path: Path) -> str | None:
    """The analyzer version a model file says it was trained with (None if it does not say)."""
    value = json.loads(path.read_text(encoding="utf-8")).get("analyzer")
    return str(value) if value else None


def _rule(value: object, path: Path) -> str:
    if value not in NO_ANSWER_RULES:
        raise RerankModelError(f"reranker model {path}: no_answer_rule must be one of "
                               f"{', '.join(NO_ANSWER_RULES)}, not {value!r}")
    return str(value)


_LOADED: dict[Path, Reranker | None] = {}


def load_default(path: Path | str | None = None) -> Reranker | None:
    """The shipped model (or `path`'s), loaded once per process.

    A missing or malformed file logs one warning and gives None: serving then falls back
    to BM25 order and the coverage / phrase no-answer rule rather than failing to start.
    """
    path = Path(path or DEFAULT_MODEL)
    if path not in _LOADED:
        try:
            _LOADED[path] = Reranker.load(path)
            trained = _trained_analyzer(path)
            if trained and trained != ANALYZER_VERSION:
                log.warning("reranker model %s was trained with analyzer %s, this is %s; "
                            "retrain it (python -m benchmarks.train_rerank)",
                            path, trained, ANALYZER_VERSION)
        except RerankModelError as exc:
            log.warning("%s; answering in BM25 order (RERANK=0 silences this)", exc)
            _LOADED[path] = None
    return _LOADED[path]


__all__ = [
    "ANSWER_FEATURES", "FEATURES", "Candidate", "Linear", "Ranking", "Reranker",
    "RerankModelError", "Scored", "answer_features", "answer_type_near", "features", "focus_of",
    "load_default", "question_type",
]
