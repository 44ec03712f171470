import pytest

from slmforge.checks import check_constraints, check_cta, find_cta, merge_constraints
from slmforge.checks.constraints import cta_spans
from slmforge.kit.schema import Constraints

from tests.checks.helpers import make_kit


def test_length_is_counted_in_graphemes():
    c = Constraints(max_chars=5)
    assert check_constraints("好用👍🏽1️⃣！", c).details["chars"] == 5
    res = check_constraints("好用👍🏽1️⃣！！", c)
    assert not res.passed and res.findings[0].code == "too_many_chars"
    assert 0 < res.score < 1


def test_hashtags_weibo_style_and_headings():
    text = "# 标题\n正文 #科学护肤 #原素方程星夜焕颜面膜# #成分党"
    res = check_constraints(text, Constraints(hashtags_max=2, forbid_markdown_headings=True))
    assert res.details["hashtags"] == 3
    assert {f.code for f in res.findings} == {"too_many_hashtags", "markdown_heading"}


def test_forbidden_chars_newlines_emoji_with_offsets():
    text = "第一句。\n第二句😀"
    res = check_constraints(text, Constraints(forbidden_chars=["。"], newlines_allowed=False, emoji_allowed=False))
    by_code = {f.code: f for f in res.findings}
    assert text[by_code["forbidden_char"].start] == "。"
    assert text[by_code["newline"].start] == "\n"
    assert text[by_code["emoji"].start:by_code["emoji"].end] == "😀"
    assert check_constraints("第一句，第二句", Constraints(forbidden_chars=["。"], newlines_allowed=False)).passed


def test_lines_and_minimums():
    c = Constraints(min_lines=2, min_chars=10)
    res = check_constraints("短", c)
    assert {f.code for f in res.findings} == {"too_few_lines", "too_few_chars"}


def test_length_overshoot_is_a_ratio_on_both_sides_and_empty_text_scores_zero():
    c = Constraints(min_chars=100, max_chars=200)
    assert check_constraints("好" * 150, c).score == 1.0
    assert check_constraints("好" * 220, c).score == pytest.approx(1 / 1.6)  # 10 % over the maximum
    half, double = check_constraints("好" * 50, c), check_constraints("好" * 400, c)
    assert half.score == double.score == pytest.approx(1 / 2.5)  # half the minimum costs as much as twice the max
    scores = [check_constraints("好" * n, c).score for n in (1, 5, 25, 50, 99)]
    assert scores == sorted(scores) and scores[0] < 0.01  # longer is better up to the minimum; near-empty ≈ 0
    for blank in ("", "  \n "):
        res = check_constraints(blank, Constraints())  # no copy at all fails even without a minimum
        assert not res.passed and res.score == 0.0 and [f.code for f in res.findings] == ["empty"]


def test_merge_keeps_the_stricter_side():
    a = Constraints(max_chars=100, min_chars=10, emoji_allowed=True, forbidden_chars=["。"])
    b = Constraints(max_chars=45, emoji_allowed=False, forbidden_chars=["!"], cta_required=True)
    m = merge_constraints(a, b)
    assert (m.max_chars, m.min_chars, m.emoji_allowed, m.cta_required) == (45, 10, False, True)
    assert m.forbidden_chars == ["!", "。"]


def test_cta_cues_per_language_and_kit_extension():
    zh = make_kit()
    assert check_cta("点击了解精简有效的配方。", zh, required=True).passed
    miss = check_cta("一支温和的精华。", zh, required=True)
    assert not miss.passed and miss.score == 0.0
    assert check_cta("一支温和的精华。", zh, required=False).passed
    assert check_cta("今晚就来柜台看看。", make_kit(checks={"cta_cues": ["来柜台"]}), required=True).passed
    en = make_kit("en")
    text = "Brewed slowly. Shop the harvest today."
    (s, e), = find_cta(text, en)
    assert text[s:e] == "Shop"
    assert not check_cta("A shopping list of teas.", en, required=True).passed


@pytest.mark.parametrize("emoji", ["‼", "⁉", "❤\ufe0f", "☺\ufe0e", "1\ufe0f\u20e3", "™\ufe0f", "😀"])
def test_emoji_punctuation_and_variation_selector_forms_are_emoji(emoji):
    text = f"新登場{emoji}今すぐチェック"
    res = check_constraints(text, Constraints(emoji_allowed=False))
    (finding,) = res.findings
    assert finding.code == "emoji" and text[finding.start:finding.end] == emoji


@pytest.mark.parametrize("symbol", ["™", "©", "®", "▶", "✔", "★", "♪", "™\ufe0e"])
def test_text_symbols_are_not_emoji(symbol):
    assert check_constraints(f"新登場{symbol}今すぐチェック", Constraints(emoji_allowed=False)).passed


def test_cta_spans_without_a_kit():
    text = "新作ミスト、今すぐチェック"
    assert [text[s:e] for s, e in cta_spans(text, "ja")] == ["今すぐ", "チェック"]
    assert cta_spans("Order a tin today", "ja")  # English cues count for every language
    assert not cta_spans("新作ミストのご紹介", "ja")
