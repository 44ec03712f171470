"""Reference-based and diversity metrics that work for Chinese, Japanese and Korean as well as English.

* :func:`tokenize` — CJK characters are one token each (the usual practice for Chinese ROUGE, e.g.
  the LCSTS benchmark, Hu et al. 2015), other scripts are lower-cased ``\\w+`` words; punctuation and
  whitespace are dropped.
* :func:`rouge_l` — ROUGE-L F-measure over the longest common subsequence (Lin 2004, "ROUGE: A
  Package for Automatic Evaluation of Summaries", §3.1), with β = 1 as in Google's ``rouge_score``.
  The LCS length is computed with the bit-parallel algorithm of Hyyrö 2004 ("Bit-parallel LCS-length
  computation revisited"), O(m·n / word size) with Python integers.
* :func:`chrf` — chrF_β (Popović 2015, "chrF: character n-gram F-score for automatic MT evaluation"):
  character n-grams n = 1..6 over the text with whitespace removed; chrP and chrR are the arithmetic
  means of the per-order precisions and recalls, β = 2 (recall weighted twice as much). Character
  n-grams need no word segmentation, so the metric is script-agnostic.
* :func:`distinct_n` (from :mod:`slmforge.checks.similarity`, one implementation for filters and metrics) — distinct-n (Li et al. 2016, "A Diversity-Promoting Objective Function for
  Neural Conversation Models"): distinct n-grams / all n-grams over a set of texts.
* :func:`char_length` — length in user-perceived characters (code points minus combining marks and
  variation selectors), the unit of the kit's ``max_chars``.

Run ``python -m slmforge.evaluate.adgenius`` to see them on the AdGenius data.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence

from slmforge.checks.similarity import distinct_n  # noqa: F401 - re-exported: the report uses the checks' one

# Han (incl. extension A and compatibility), kana, hangul syllables and jamo.
_CJK = r"\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\u1100-\u11ff\u3130-\u318f"
_TOKEN = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+", re.UNICODE)
_WS = re.compile(r"\s+")


def tokenize(text: str) -> list[str]:
    """Split text into metric tokens: one per CJK character, one per run of other word characters.

    Args:
        text: any text.

    Returns:
        tokens in order; Latin words lower-cased, punctuation, emoji and whitespace dropped.
        ``"原素方程 Serum 10%"`` → ``["原", "素", "方", "程", "serum", "10"]``.
    """
    return [t.lower() for t in _TOKEN.findall(text)]


def char_length(text: str) -> int:
    """Length in characters as people count them: code points without combining marks, ZWJ and
    variation selectors (so an emoji with a skin-tone or VS16 counts about once)."""
    return sum(
        1 for ch in text
        if not unicodedata.combining(ch) and ch not in "\u200d\ufe0e\ufe0f"
        and not ("\U0001f3fb" <= ch <= "\U0001f3ff")
    )


def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence of two token sequences.

    Bit-parallel algorithm of Hyyrö 2004 (after Allison & Dix 1986): one machine-word operation per
    token of ``b`` on a bit vector of ``len(a)`` bits, held in a Python int.

    Args:
        a: tokens, length m.
        b: tokens, length n.

    Returns:
        LCS length in tokens, 0 ≤ result ≤ min(m, n).
    """
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


def rouge_l(candidate: str, reference: str, *, beta: float = 1.0) -> float:
    """ROUGE-L F-measure (Lin 2004) of ``candidate`` against one ``reference``.

    Args:
        candidate: generated text.
        reference: reference (golden) text.
        beta: weight of recall relative to precision (1.0 = F1, as ``rouge_score`` reports).

    Returns:
        score in [0, 1]; 0 when either side has no tokens.
    """
    c, r = tokenize(candidate), tokenize(reference)
    lcs = lcs_length(r, c)
    if lcs == 0:
        return 0.0
    p, rec = lcs / len(c), lcs / len(r)
    return (1 + beta**2) * p * rec / (rec + beta**2 * p)


def _char_ngrams(text: str, n: int) -> Counter[str]:
    s = _WS.sub("", text)
    return Counter(s[i : i + n] for i in range(len(s) - n + 1))


def chrf(candidate: str, reference: str, *, max_n: int = 6, beta: float = 2.0) -> float:
    """chrF_β (Popović 2015) of ``candidate`` against one ``reference``, on a 0–100 scale.

    Args:
        candidate: generated text.
        reference: reference (golden) text.
        max_n: highest character n-gram order (the paper's best setting: 6).
        beta: recall weight (the paper's chrF2: 2.0).

    Returns:
        score in [0, 100]; orders for which either side has no n-grams are left out of the averages
        (as sacrebleu does for short texts); 0 when no order is left.
    """
    precisions, recalls = [], []
    for n in range(1, max_n + 1):
        hyp, ref = _char_ngrams(candidate, n), _char_ngrams(reference, n)
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


