"""ROUGE-L, chrF, distinct-n and tokenisation: hand-computed values and a reference LCS."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slmforge.evaluate.metrics import char_length, chrf, distinct_n, lcs_length, rouge_l, tokenize


def _lcs_dp(a, b):
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b, 1):
            cur.append(prev[j - 1] + 1 if x == y else max(prev[j], cur[j - 1]))
        prev = cur
    return prev[-1]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from("abcde"), max_size=40), st.lists(st.sampled_from("abcde"), max_size=40))
def test_bit_parallel_lcs_equals_dynamic_programming(a, b):
    assert lcs_length(a, b) == _lcs_dp(a, b)


def test_tokenize_splits_cjk_into_characters_and_keeps_latin_words():
    assert tokenize("原素方程 Serum 10%，好用！") == ["原", "素", "方", "程", "serum", "10", "好", "用"]
    assert tokenize("Brew at 80°C.") == ["brew", "at", "80", "c"]


def test_rouge_l_on_chinese_is_character_level():
    # reference 6 chars, candidate 4 chars, LCS "控油精华" = 4 → P = 1, R = 4/6, F1 = 0.8
    assert rouge_l("控油精华", "高效控油精华") == pytest.approx(0.8)
    assert rouge_l("完全不同", "高效控油精华") == 0.0
    assert rouge_l("高效控油精华", "高效控油精华") == pytest.approx(1.0)


def test_rouge_l_english_words():
    # LCS of "the cat sat" / "the black cat sat down" = 3 words; P = 3/3, R = 3/5 → F1 = 0.75
    assert rouge_l("The cat sat", "the black cat sat down") == pytest.approx(0.75)


def test_chrf_bounds_and_hand_value():
    assert chrf("精华液", "精华液") == pytest.approx(100.0)
    assert chrf("abc", "xyz") == 0.0
    # "ab" vs "abc": n=1 P=1 R=2/3; n=2 P=1 R=1/2; n>=3 skipped (hyp has none)
    p, r = 1.0, (2 / 3 + 1 / 2) / 2
    assert chrf("ab", "abc") == pytest.approx(100 * 5 * p * r / (4 * p + r))
    # whitespace is ignored
    assert chrf("a b c", "abc") == pytest.approx(100.0)


def test_chrf_rewards_recall_more_than_precision():
    ref = "烟酰胺控油提亮"
    assert chrf("烟酰胺控油提亮精华液水乳", ref) > chrf("烟酰胺", ref)


def test_distinct_n():
    assert distinct_n(["a b a b"], 1) == pytest.approx(2 / 4)
    assert distinct_n(["a b a b"], 2) == pytest.approx(2 / 3)  # ab, ba, ab
    assert distinct_n(["好好好", "好好"], 1) == pytest.approx(1 / 5)
    assert distinct_n([], 2) == 0.0


def test_char_length_counts_emoji_with_modifiers_once():
    assert char_length("好用✨") == 3
    assert char_length("👍🏽") == 1
    assert char_length("❤️") == 1
