"""ROUGE-L (rouge-score), chrF and BLEU (sacrebleu), distinct-n and tokenisation.

The library metrics are checked against hand-computed values and against our earlier hand-written
ROUGE-L and chrF, kept below as ``_old_rouge_l`` / ``_old_chrf``. They agree exactly (to float
rounding), not approximately, and for reasons that can be read off the sources:

* ROUGE-L: ``rouge_score.rouge_scorer._score_lcs`` computes the same LCS length (a DP table where we
  had Hyyrö's bit-parallel algorithm), P = LCS/|candidate|, R = LCS/|reference| and F1, over the
  tokens our :class:`CJKTokenizer` gives it — the same tokens the old code used. (With rouge-score's
  own tokenizer the numbers would differ: it keeps only ``[a-z0-9]`` and scores Chinese as 0.)
* chrF: ``sacrebleu.metrics.CHRF`` with ``word_order=0`` (plain chrF, no chrF++ word n-grams),
  ``whitespace=False`` (``''.join(s.split())`` — ``str.split`` and the old ``\\s+`` both split on
  ``str.isspace`` characters), case kept, and ``eps_smoothing=False``, whose effective-order averaging
  keeps exactly the orders where both sides have n-grams, as the old code did. Turning on
  ``eps_smoothing`` (chrF++.py / NLTK / Moses) would differ on texts shorter than 6 characters.
* BLEU is new; it is checked against hand computations.
"""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slmforge.evaluate.metrics import CJKTokenizer, bleu, char_length, chrf, distinct_n, rouge_l, tokenize


# ---- the earlier implementations, kept as references -----------------------------------------------
def _old_lcs_length(a, b):
    """Bit-parallel LCS length (Hyyrö 2004), as slmforge had it before rouge-score."""
    if not a or not b:
        return 0
    masks: dict[str, int] = {}
    for i, tok in enumerate(a):
        masks[tok] = masks.get(tok, 0) | (1 << i)
    full = (1 << len(a)) - 1
    v = full
    for tok in b:
        u = v & masks.get(tok, 0)
        v = ((v + u) | (v - u)) & full
    return len(a) - v.bit_count()


def _old_rouge_l(candidate, reference, beta=1.0):
    c, r = tokenize(candidate), tokenize(reference)
    lcs = _old_lcs_length(r, c)
    if lcs == 0:
        return 0.0
    p, rec = lcs / len(c), lcs / len(r)
    return (1 + beta**2) * p * rec / (rec + beta**2 * p)


def _old_char_ngrams(text, n):
    s = re.sub(r"\s+", "", text)
    return Counter(s[i : i + n] for i in range(len(s) - n + 1))


def _old_chrf(candidate, reference, max_n=6, beta=2.0):
    precisions, recalls = [], []
    for n in range(1, max_n + 1):
        hyp, ref = _old_char_ngrams(candidate, n), _old_char_ngrams(reference, n)
        if not hyp or not ref:
            continue
        match = sum((hyp & ref).values())
        precisions.append(match / sum(hyp.values()))
        recalls.append(match / sum(ref.values()))
    if not precisions:
        return 0.0
    p, r = sum(precisions) / len(precisions), sum(recalls) / len(recalls)
    if p == 0 and r == 0:
        return 0.0
    return 100 * (1 + beta**2) * p * r / (beta**2 * p + r)


def _lcs_dp(a, b):
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b, 1):
            cur.append(prev[j - 1] + 1 if x == y else max(prev[j], cur[j - 1]))
        prev = cur
    return prev[-1]


# ---- old vs new ------------------------------------------------------------------------------------
MIXED = st.text(alphabet=st.sampled_from(list("abcAB 12控油精华液高效の日本한국어\t\n.,!，。\u3000\u00a0")), max_size=40)

EXAMPLES = [  # (candidate, reference): zh, en, ja, ko, mixed
    ("控油精华", "高效控油精华"),
    ("烟酰胺精华液，提亮肤色，温和不刺激。", "原素方程烟酰胺精华：提亮肤色，温和配方，敏感肌也能用。"),
    ("Jasmine Pearl: a calm green tea. Brew at 80°C.", "Jasmine Pearl: hand-rolled green tea with a soft jasmine finish. Brew at 80°C."),
    ("The cat sat", "the black cat sat down"),
    ("今日は良い天気です", "今日はいい天気ですね"),
    ("오늘은 날씨가 좋아요", "오늘 날씨가 정말 좋아요"),
    ("原素方程 Serum 10% 烟酰胺", "Serum 10%：原素方程烟酰胺"),
]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from("abcde"), max_size=40), st.lists(st.sampled_from("abcde"), max_size=40))
def test_old_bit_parallel_lcs_equals_dynamic_programming(a, b):
    assert _old_lcs_length(a, b) == _lcs_dp(a, b)


@settings(max_examples=300, deadline=None)
@given(MIXED, MIXED)
def test_library_metrics_equal_the_old_implementations(cand, ref):
    assert rouge_l(cand, ref) == pytest.approx(_old_rouge_l(cand, ref), abs=1e-12)
    assert rouge_l(cand, ref, beta=2.0) == pytest.approx(_old_rouge_l(cand, ref, beta=2.0), abs=1e-12)
    assert chrf(cand, ref) == pytest.approx(_old_chrf(cand, ref), abs=1e-9)
    assert chrf(cand, ref, max_n=4, beta=1.0) == pytest.approx(_old_chrf(cand, ref, max_n=4, beta=1.0), abs=1e-9)


@pytest.mark.parametrize(("cand", "ref"), EXAMPLES)
def test_examples_old_vs_new(cand, ref):
    assert rouge_l(cand, ref) == pytest.approx(_old_rouge_l(cand, ref), abs=1e-12)
    assert chrf(cand, ref) == pytest.approx(_old_chrf(cand, ref), abs=1e-9)


def test_adgenius_rejected_sides_old_vs_new(shared_data):
    """On real Chinese ad copy (the seed data's chosen vs rejected texts) the numbers are identical."""
    rows = [json.loads(line) for line in (shared_data / "rm_dataset_final.jsonl").read_text(encoding="utf-8").splitlines()[:80]]
    for r in rows:
        assert rouge_l(r["rejected"], r["chosen"]) == pytest.approx(_old_rouge_l(r["rejected"], r["chosen"]), abs=1e-12)
        assert chrf(r["rejected"], r["chosen"]) == pytest.approx(_old_chrf(r["rejected"], r["chosen"]), abs=1e-9)


def test_rouge_score_default_tokenizer_would_drop_chinese():
    from rouge_score import rouge_scorer

    default = rouge_scorer.RougeScorer(["rougeL"]).score("高效控油精华", "控油精华")["rougeL"].fmeasure
    assert default == 0 and rouge_l("控油精华", "高效控油精华") == pytest.approx(0.8)
    assert CJKTokenizer().tokenize("控油 Serum") == ["控", "油", "serum"]


# ---- hand values -----------------------------------------------------------------------------------
def test_tokenize_splits_cjk_into_characters_and_keeps_latin_words():
    assert tokenize("原素方程 Serum 10%，好用！") == ["原", "素", "方", "程", "serum", "10", "好", "用"]
    assert tokenize("Brew at 80°C.") == ["brew", "at", "80", "c"]


def test_rouge_l_on_chinese_is_character_level():
    # reference 6 chars, candidate 4 chars, LCS "控油精华" = 4 → P = 1, R = 4/6, F1 = 0.8
    assert rouge_l("控油精华", "高效控油精华") == pytest.approx(0.8)
    assert rouge_l("完全不同", "高效控油精华") == 0.0
    assert rouge_l("高效控油精华", "高效控油精华") == pytest.approx(1.0)
    assert rouge_l("", "高效控油精华") == 0.0


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


def test_bleu_english_hand_value_with_exp_smoothing_and_effective_order():
    assert bleu("the cat sat on the mat", "the cat sat on the mat", language="en") == pytest.approx(100.0)
    # 13a tokens; clipped precisions 5/6, 3/5, 2/4, 1/3; BP = 1
    assert bleu("the cat sat on the mat", "the cat sat on a mat", language="en") == pytest.approx(
        100 * (5 / 6 * 3 / 5 * 2 / 4 * 1 / 3) ** 0.25)
    # 3 tokens: 1-gram 2/3, 2-gram 1/2, 3-gram 0/1 → exp smoothing 1/(2·1); no 4-grams → effective order 3;
    # BP = exp(1 - 5/3)
    expected = 100 * 2.718281828459045 ** (1 - 5 / 3) * (2 / 3 * 1 / 2 * 1 / 2) ** (1 / 3)
    assert bleu("the cat sat", "the cat is sitting there", language="en") == pytest.approx(expected)
    assert bleu("", "the cat", language="en") == 0.0
    assert bleu("dog", "the cat", language="en") == 0.0


def test_bleu_chinese_is_character_level():
    # zh tokenizer: 4 characters, every n-gram matches; BP = exp(1 - 6/4)
    assert bleu("控油精华", "高效控油精华", language="zh") == pytest.approx(100 * 2.718281828459045 ** -0.5)
    assert bleu("控油精华", "高效控油精华", language="zh-CN") == bleu("控油精华", "高效控油精华", language="zh")
    assert bleu("控油精华", "高效控油精华", language="en") == 0.0  # 13a: one "word" each, no match


def test_bleu_japanese_and_korean_use_mecab_words():
    from sacrebleu.tokenizers.tokenizer_ja_mecab import TokenizerJaMecab
    from sacrebleu.tokenizers.tokenizer_ko_mecab import TokenizerKoMecab

    assert TokenizerJaMecab()("今日は良い天気です").split() == ["今日", "は", "良い", "天気", "です"]
    assert len(TokenizerKoMecab()("오늘 날씨가 좋아요").split()) > 3  # morphemes, not eojeol
    assert bleu("今日は良い天気です", "今日は良い天気です", language="ja") == pytest.approx(100.0)
    assert 0 < bleu("今日は良い天気です", "今日はいい天気ですね", language="ja") < 100
    assert 0 < bleu("오늘은 날씨가 좋아요", "오늘 날씨가 정말 좋아요", language="ko") < 100


def test_distinct_n():
    assert distinct_n(["a b a b"], 1) == pytest.approx(2 / 4)
    assert distinct_n(["a b a b"], 2) == pytest.approx(2 / 3)  # ab, ba, ab
    assert distinct_n(["好好好", "好好"], 1) == pytest.approx(1 / 5)
    assert distinct_n([], 2) == 0.0


def test_char_length_counts_emoji_with_modifiers_once():
    assert char_length("好用✨") == 3
    assert char_length("👍🏽") == 1
    assert char_length("❤️") == 1
