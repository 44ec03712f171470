"""Reference-based and diversity metrics that work for Chinese, Japanese and Korean as well as English.

The reference metrics are the standard implementations, so our numbers compare with published ones:

* :func:`rouge_l` — ROUGE-L F-measure over the longest common subsequence (Lin 2004, "ROUGE: A
  Package for Automatic Evaluation of Summaries", §3.1), computed by Google's ``rouge-score``
  (``rouge_scorer.RougeScorer(["rougeL"], tokenizer=...)``). Its default tokenizer keeps only
  ``[a-z0-9]`` and so drops every CJK character; we pass :class:`CJKTokenizer` (:func:`tokenize`: one
  token per CJK character — the usual practice for Chinese ROUGE, e.g. the LCSTS benchmark, Hu et al.
  2015 — and lower-cased ``\\w+`` words for other scripts). β = 1 as ``rouge-score`` reports.
* :func:`chrf` — chrF_β (Popović 2015, "chrF: character n-gram F-score for automatic MT evaluation")
  by ``sacrebleu.metrics.CHRF``: character n-grams n = 1..6 over the text with whitespace removed, no
  word n-grams (chrF, not chrF++), β = 2; chrP and chrR are the means over the orders both sides
  have n-grams for (sacrebleu's default effective-order averaging, ``eps_smoothing=False``).
  Character n-grams need no word segmentation, so the metric is script-agnostic.
* :func:`bleu` — sentence BLEU (Papineni et al. 2002) by ``sacrebleu.metrics.BLEU`` with the
  tokenizer of the language (``zh``: one token per Chinese character, 13a for the rest; ``ja-mecab``:
  MeCab + IPAdic words; ``ko-mecab``: MeCab-ko + mecab-ko-dic morphemes; otherwise ``13a``), the
  ``exp`` smoothing and effective order (see :func:`bleu`).
* :func:`distinct_n` (from :mod:`slmforge.checks.similarity`, one implementation for filters and metrics) — distinct-n (Li et al. 2016, "A Diversity-Promoting Objective Function for
  Neural Conversation Models"): distinct n-grams / all n-grams over a set of texts.
* :func:`char_length` — length in user-perceived characters (code points minus combining marks and
  variation selectors), the unit of the kit's ``max_chars``.

``sacrebleu`` and ``rouge-score`` (which imports NLTK, ~2 s) are imported on first use.
``tests/evaluate/test_metrics.py`` keeps our earlier hand-written ROUGE-L and chrF as references and
shows the library numbers equal them. Run ``python -m slmforge.evaluate.adgenius`` to see the metrics
on the AdGenius data.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from typing import Any

import regex

from slmforge.checks.similarity import distinct_n  # noqa: F401 - re-exported: the report uses the checks' one
from slmforge.cjk import CJK_CLASS

_TOKEN = regex.compile(rf"[{CJK_CLASS}]|[^\W{CJK_CLASS}]+")


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


class CJKTokenizer:
    """A ``rouge-score`` tokenizer object (the library calls ``tokenize(text)``) that keeps CJK text.

    ``rouge_score.tokenize`` lower-cases, replaces every non-``[a-z0-9]`` character by a space and so
    drops Chinese, Japanese and Korean entirely; this one is :func:`tokenize` (CJK characters one token
    each, other scripts ``\\w+`` words), without stemming.
    """

    def tokenize(self, text: str) -> list[str]:
        """Tokens of ``text``, as :func:`tokenize`."""
        return tokenize(text)


@cache
def _rouge_scorer() -> Any:
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(["rougeL"], tokenizer=CJKTokenizer())


def rouge_l(candidate: str, reference: str, *, beta: float = 1.0) -> float:
    """ROUGE-L F-measure (Lin 2004) of ``candidate`` against one ``reference``, by ``rouge-score``.

    Args:
        candidate: generated text.
        reference: reference (golden) text.
        beta: weight of recall relative to precision (1.0 = F1, as ``rouge_score`` reports); the F_β
            is computed from rouge-score's LCS precision and recall.

    Returns:
        score in [0, 1]; 0 when either side has no tokens or no token in common.
    """
    s = _rouge_scorer().score(reference, candidate)["rougeL"]
    p, rec = s.precision, s.recall
    if p == 0 or rec == 0:
        return 0.0
    return (1 + beta**2) * p * rec / (rec + beta**2 * p)


@cache
def _chrf_metric(max_n: int, beta: float) -> Any:
    from sacrebleu.metrics import CHRF

    return CHRF(char_order=max_n, word_order=0, beta=beta)


def chrf(candidate: str, reference: str, *, max_n: int = 6, beta: float = 2.0) -> float:
    """chrF_β (Popović 2015) of ``candidate`` against one ``reference``, on a 0–100 scale, by sacrebleu.

    Args:
        candidate: generated text.
        reference: reference (golden) text.
        max_n: highest character n-gram order (the paper's best setting and sacrebleu's default: 6).
        beta: recall weight (the paper's chrF2: 2.0).

    Returns:
        ``sacrebleu.metrics.CHRF(char_order=max_n, word_order=0, beta=beta).sentence_score`` in
        [0, 100]: whitespace removed, case kept, orders for which either side has no n-grams left out
        of the averages (sacrebleu ≥ 2.0 without ``eps_smoothing``); 0 when no order is left.
    """
    return float(_chrf_metric(max_n, beta).sentence_score(candidate, [reference]).score)


BLEU_TOKENIZERS = {"zh": "zh", "ja": "ja-mecab", "ko": "ko-mecab"}
"""Primary language subtag → sacrebleu tokenizer; any other language uses ``13a`` (mteval-v13a)."""


@cache
def _bleu_metric(tokenizer: str) -> Any:
    from sacrebleu.metrics import BLEU

    return BLEU(tokenize=tokenizer, smooth_method="exp", effective_order=True)


def bleu(candidate: str, reference: str, *, language: str) -> float:
    """Sentence BLEU (Papineni et al. 2002) of ``candidate`` against one ``reference``, by sacrebleu.

    ``sacrebleu.metrics.BLEU(tokenize=..., smooth_method="exp", effective_order=True)`` — the settings
    of ``sacrebleu.sentence_bleu``: up to 4-grams, brevity penalty, case kept, and

    * ``exp`` smoothing, method 3 of Chen & Cherry 2014 ("A Systematic Comparison of Smoothing
      Techniques for Sentence-Level BLEU", WMT), the NIST smoothing of ``mteval-v13a.pl``: the k-th
      order with no match gets precision ``1 / (2**k · total n-grams of that order)`` instead of 0;
    * effective order: orders the candidate has no n-grams for (a text shorter than 4 tokens) are left
      out of the geometric mean instead of making it 0.

    Args:
        candidate: generated text.
        reference: reference (golden) text.
        language: BCP-47 tag of the texts (the kit's ``language``); its primary subtag picks the
            tokenizer from :data:`BLEU_TOKENIZERS` (``zh`` / ``ja`` / ``ko``), else ``13a``.

    Returns:
        score in [0, 100]; 0 when the candidate shares no token with the reference or is empty.
    """
    primary = language.replace("_", "-").split("-")[0].lower()
    return float(_bleu_metric(BLEU_TOKENIZERS.get(primary, "13a")).sentence_score(candidate, [reference]).score)
