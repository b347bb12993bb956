"""Snippets: at most ~300 characters around the matched words, cut at word boundaries."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from retrieval.analyzer import analyze, analyze_spans
from retrieval.passages import split_paragraphs
from retrieval.snippets import ELLIPSIS, make_snippet

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def _weights(question: str) -> dict[str, float]:
    return {t: 1.0 for t in analyze(question)}


def test_short_text_is_whole_with_highlights(check_snippet):
    text = "زيارة لافروف، التي تبدأ في 11 يوليو."
    snippet = make_snippet(text, _weights("متى تبدأ زيارة لافروف؟"))
    assert snippet.text == text
    assert [text[s:e] for s, e in snippet.highlights] == ["زيارة", "لافروف", "تبدأ"]
    check_snippet(text, snippet, _weights("متى تبدأ زيارة لافروف؟"))


def test_long_text_is_cut_around_the_matched_words(check_snippet):
    filler = " ".join(["كلام"] * 120)
    text = f"{filler} وصل لافروف إلى بيونغيانغ في 11 يوليو للقاء الوزيرة. {filler}"
    weights = _weights("متى وصل لافروف إلى بيونغيانغ؟")
    snippet = make_snippet(text, weights)
    core = check_snippet(text, snippet, weights)
    assert "وصل لافروف إلى بيونغيانغ" in core
    assert snippet.text.startswith(ELLIPSIS) and snippet.text.endswith(ELLIPSIS)
    assert len(snippet.highlights) == 3


def test_the_window_with_most_query_weight_wins(check_snippet):
    filler = " ".join(["كلام"] * 100)
    text = f"لافروف وحده هنا. {filler} لافروف وكيم وبوتين معا هنا. {filler}"
    weights = _weights("لافروف كيم بوتين")
    core = check_snippet(text, make_snippet(text, weights), weights)
    assert "لافروف وكيم وبوتين" in core


def test_the_tightest_cluster_wins_among_equal_weights(check_snippet):
    filler = " ".join(["كلام"] * 100)
    scattered = " ".join(["كلام"] * 40)
    text = f"لافروف {scattered} بيونغيانغ. {filler} وصل لافروف إلى بيونغيانغ في 11 يوليو. {filler}"
    weights = _weights("لافروف بيونغيانغ")
    core = check_snippet(text, make_snippet(text, weights), weights)
    assert "وصل لافروف إلى بيونغيانغ في 11 يوليو" in core


def test_the_window_is_centred_on_the_matched_words(check_snippet):
    # The answer comes ~100 characters before the words the question shares with it.
    filler = " ".join(["كلام"] * 100)
    text = f"{filler} في 11 يوليو {' '.join(['قول'] * 20)} بدأت زيارة لافروف. {filler}"
    weights = _weights("متى بدأت زيارة لافروف؟")
    core = check_snippet(text, make_snippet(text, weights), weights)
    assert "في 11 يوليو" in core and "بدأت زيارة لافروف" in core


def test_heavier_terms_win_over_more_terms(check_snippet):
    filler = " ".join(["كلام"] * 100)
    text = f"عادي شائع مألوف. {filler} نادر. {filler}"
    weights = {analyze("عادي")[0]: 0.1, analyze("شائع")[0]: 0.1, analyze("نادر")[0]: 5.0}
    core = check_snippet(text, make_snippet(text, weights), weights)
    assert "نادر" in core


def test_focus_is_preferred_on_ties(check_snippet):
    filler = " ".join(["كلام"] * 100)
    text = f"لافروف في البداية. {filler} لافروف في النهاية. {filler}"
    weights = _weights("لافروف")
    second = text.rfind("لافروف")
    snippet = make_snippet(text, weights, focus=(second - 5, len(text)))
    core = check_snippet(text, snippet, weights)
    assert "في النهاية" in core


def test_no_match_starts_at_the_focus_or_at_the_beginning(check_snippet):
    text = " ".join(f"كلمة{i}" for i in range(200))
    core = check_snippet(text, make_snippet(text, {}), {})
    assert text.startswith(core)
    focus = text.find("كلمة100")
    core = check_snippet(text, make_snippet(text, {}, focus=(focus, focus + 50)), {})
    assert abs(text.find(core) - focus) <= 40


@pytest.mark.parametrize("max_chars", [80, 150, 300])
def test_max_chars_is_respected(max_chars):
    text = " ".join(["وزيرة خارجية كوريا الشمالية تشوي سون هوي"] * 30)
    snippet = make_snippet(text, _weights("تشوي سون هوي"), max_chars=max_chars)
    body = snippet.text.strip(ELLIPSIS + " ")
    assert len(body) <= max_chars
    assert snippet.highlights


def test_snippets_of_every_seed_paragraph_keep_their_promises(check_snippet):
    rng = random.Random(5)
    for path in sorted(SEEDS.glob("*.txt")):
        for paragraph in split_paragraphs(path.read_text(encoding="utf-8")):
            terms = analyze(paragraph.text)
            for _ in range(4):
                chosen = rng.sample(terms, min(len(terms), rng.randint(1, 4)))
                weights = {t: rng.uniform(0.1, 5.0) for t in chosen}
                snippet = make_snippet(paragraph.text, weights)
                check_snippet(paragraph.text, snippet, weights)
                assert snippet.highlights  # a word of the paragraph was asked for


def test_marks_and_controls_inside_words_are_highlighted_whole(check_snippet):
    filler = " ".join(["كلام"] * 80)
    text = f"{filler} وصلت الوَزِيـرة\u200c تشوي إلى موسكو. {filler}"
    weights = _weights("الوزيرة")
    snippet = make_snippet(text, weights)
    check_snippet(text, snippet, weights)
    ((s, e),) = snippet.highlights
    assert snippet.text[s:e] == "الوَزِيـرة\u200c"


def test_windows_around_a_focus_highlight_what_they_show():
    """Snippets reuse the analysed region's words: the same highlights as the window alone,
    also when no space is near and the window cuts a word (its pieces may be query terms)."""
    rng = random.Random(11)
    texts = [path.read_text(encoding="utf-8") for path in sorted(SEEDS.glob("*.txt"))]
    words = [w for text in texts for w in text.split()]
    for _ in range(300):
        pieces = rng.choices(words, k=rng.randint(40, 160))
        text = "".join(w + rng.choice([" ", " ", " ", "-", "،", ""]) for w in pieces)
        weights = {t: rng.uniform(0.1, 5.0) for t in rng.sample(analyze(text), 3)}
        for _ in range(20):  # pieces of words too
            i = rng.randrange(len(text))
            weights.update((t, 1.0) for t in analyze(text[i : i + 30]))
        start = rng.randrange(len(text))
        focus = (start, min(len(text), start + rng.randint(1, 400)))
        snippet = make_snippet(text, weights, focus=focus)
        shift = 2 if snippet.text.startswith(ELLIPSIS + " ") else 0
        core = snippet.text[shift:].removesuffix(" " + ELLIPSIS)
        assert core in text
        expected = [(s + shift, e + shift) for s, e, t in analyze_spans(core) if t in weights]
        assert snippet.highlights == expected
