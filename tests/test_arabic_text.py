"""Tests for the pure Arabic text-repair functions used by the PDF extractor."""

from __future__ import annotations

from pathlib import Path

import arabic_reshaper
import pytest
from bidi import get_display

from storage.formats.arabic_text import (
    balance_pairs,
    clean,
    fold_forms,
    is_rtl,
    join_lines,
    looks_reversed,
    repair_line,
    repair_text,
    reversal_score,
    reverse_visual,
    visual_to_logical,
)

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def seed_lines(min_words: int = 1) -> list[str]:
    """Every non-empty line of the seed articles, whitespace collapsed."""
    lines = []
    for path in sorted(SEEDS.glob("*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            line = " ".join(line.split())
            if len(line.split()) >= min_words:
                lines.append(line)
    return lines


def visual_forms(text: str) -> str:
    """What reportlab + arabic-reshaper + python-bidi write: visual-order presentation forms."""
    return get_display(arabic_reshaper.reshape(text), base_dir="R")


# ---------------------------------------------------------------- folding and cleaning


def test_fold_forms_gives_base_letters() -> None:
    assert fold_forms("ﺍﻟﻜﺘﺎﺏ") == "الكتاب"
    assert fold_forms("ﻻ ﺷﻲﺀ") == "لا شيء"


def test_fold_forms_lam_alef_ligatures_in_reading_order() -> None:
    assert fold_forms("\ufefb") == "لا"
    assert fold_forms("\ufef7") == "لأ"
    assert fold_forms("\ufef9") == "لإ"
    assert fold_forms("\ufef5") == "لآ"


def test_fold_forms_leaves_other_text_alone() -> None:
    text = "كتاب x² ﬁ ①"  # NFKC would change ², ﬁ and ①: only Arabic forms are folded
    assert fold_forms(text) == text


def test_fold_forms_isolated_haraka_has_no_space() -> None:
    assert fold_forms("ﺏ\ufe70") == "ب\u064b"


def test_clean_drops_kashida_soft_hyphen_and_controls() -> None:
    assert clean("كـــتاب") == "كتاب"
    assert clean("inter\u00adnational") == "international"
    assert clean("\u200fمرحبا\u200e \u202bعالم\u202c") == "مرحبا عالم"


# ---------------------------------------------------------------- direction signal


def test_forward_arabic_does_not_look_reversed() -> None:
    assert not looks_reversed("وقالت وزارة الدفاع الروسية إنها تلقت دعوة")
    assert looks_reversed("تلاقو ةرازو عافدلا ةيسورلا اهنإ تقلت ةوعد")


def test_direction_signal_on_seed_lines() -> None:
    """Lines of 5+ words (text the table was not learned on) read forwards and backwards."""
    lines = seed_lines(min_words=5)
    assert len(lines) > 50
    forward = sum(not looks_reversed(line) for line in lines)
    backward = sum(looks_reversed(line[::-1]) for line in lines)
    assert forward / len(lines) >= 0.97
    assert backward / len(lines) >= 0.97


def test_presentation_form_shapes_decide_short_words() -> None:
    # one two-letter word: letter edges alone are weak, the glyph shapes are not
    logical = arabic_reshaper.reshape("بل")  # initial beh, final lam
    assert reversal_score(logical) < 0
    assert reversal_score(logical[::-1]) > 0


def test_is_rtl() -> None:
    assert is_rtl("قال WHO")
    assert not is_rtl("the WHO said قال")
    assert not is_rtl("2020")


# ---------------------------------------------------------------- reordering


def test_visual_to_logical_rtl_keeps_numbers_and_latin_left_to_right() -> None:
    visual = list("COVID-19 ماع 2020 يف")  # as drawn: left to right
    assert "".join(visual_to_logical(visual, rtl=True)) == "في 2020 عام COVID-19"


def test_visual_to_logical_keeps_a_ligature_unit_whole() -> None:
    # «للبلاد» drawn left to right: د, the lam-alef glyph, ب, ل, ل
    units = ["د", "لا", "ب", "ل", "ل"]
    assert "".join(visual_to_logical(units, rtl=True)) == "للبلاد"


def test_visual_to_logical_ltr_line_reverses_only_arabic_runs() -> None:
    visual = list("the word ةبتكم means library")
    assert "".join(visual_to_logical(visual, rtl=False)) == "the word مكتبة means library"


def test_visual_to_logical_two_numbers_in_rtl_are_two_runs() -> None:
    # logical "بين 10 20" is laid out (bidi algorithm) as "20 10 نيب"
    assert "".join(visual_to_logical(list("20 10 نيب"), rtl=True)) == "بين 10 20"


def test_reverse_visual_undoes_the_bidi_algorithm_on_seed_lines() -> None:
    lines = seed_lines()
    back = [reverse_visual(get_display(line, base_dir="R")) for line in lines]
    right = sum(b == line for b, line in zip(back, lines))
    assert right / len(lines) >= 0.95


def test_reverse_visual_keeps_marks_on_their_letter() -> None:
    assert reverse_visual(get_display("تؤكّد جزءًا", base_dir="R")) == "تؤكّد جزءًا"


def test_balance_pairs_swaps_backwards_brackets_only() -> None:
    assert balance_pairs("قال )كلمة( هنا") == "قال (كلمة) هنا"
    assert balance_pairs("ثم »زيارة« و”حزمة“") == "ثم «زيارة» و“حزمة”"
    assert balance_pairs("قال (كلمة) هنا") == "قال (كلمة) هنا"
    assert balance_pairs("عدد) غير متوازن") == "عدد) غير متوازن"


def test_repair_line_visual_presentation_forms() -> None:
    line = "أعلنت الوزارة في 12 مارس 2024 عن خطة WHO جديدة"
    assert repair_line(visual_forms(line)) == line


def test_repair_line_logical_presentation_forms_only_folded() -> None:
    line = "أعلنت الوزارة عن خطة لا مثيل لها"
    assert repair_line(arabic_reshaper.reshape(line)) == line


def test_repair_line_lam_alef_ligature_written_backwards() -> None:
    # visual order with the ligature as one glyph: folding first would give «ال»
    assert repair_line(visual_forms("لا شيء")) == "لا شيء"


def test_repair_text_short_line_follows_the_page() -> None:
    lines = ["وقالت وزارة الدفاع الروسية إنها تلقت دعوة من نظيرتها", "كما"]
    visual = "\n".join(get_display(line, base_dir="R") for line in lines)
    assert repair_text(visual).splitlines() == lines


# ---------------------------------------------------------------- joining lines


@pytest.mark.parametrize(
    ("lines", "joined"),
    [
        (["the inter-", "national office"], "the international office"),
        (["وقالت الوزارة", "في بيان"], "وقالت الوزارة في بيان"),
        (["كتاب-", "مدرسة"], "كتاب- مدرسة"),  # Arabic is not joined across lines
        (["فيروس COVID-", "19 انتشر"], "فيروس COVID-19 انتشر"),
        (["inter\u00ad", "national"], "international"),
        (["well", "- known"], "well - known"),
    ],
)
def test_join_lines(lines: list[str], joined: str) -> None:
    assert join_lines(lines) == joined
