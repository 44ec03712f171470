"""The degenerate-text check: replacement characters, control characters, mojibake and repetition.

Repetition is *seq-rep-n* (Welleck et al. 2020, "Neural Text Generation with Unlikelihood Training":
``1 − |unique n-grams| / |n-grams|`` over the text's tokens, :func:`slmforge.checks.content.tokens`) and
the share of the single most frequent content token. Mojibake is the pattern ``ftfy`` repairs: UTF-8
bytes read as Latin-1 / cp1252.
"""

from __future__ import annotations

from collections import Counter

import regex

from slmforge.checks.content import _is_function, tokens
from slmforge.checks.text import prepare
from slmforge.checks.types import CheckResult, Finding

DEGENERATE = "degenerate"
REP_N = 4
"""n of seq-rep-n (Welleck et al. use 4)."""
MAX_REP = 0.5
"""seq-rep-4 above this fails: at least half of the text's 4-grams repeat an earlier one."""
MAX_TOP_SHARE = 0.34
"""The most frequent content token may be at most this share of the content tokens."""
MIN_TOKENS = 8
"""Repetition is judged from this many tokens on (shorter texts cannot show it reliably)."""
MOJIBAKE_RE = regex.compile(
    "[\u00c2-\u00f4][\u0080-\u00bf\u20ac\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152"
    "\u017d\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u017e\u0178]"
)
"""A UTF-8 lead byte (C2–F4) followed by a continuation byte (80–BF), both shown as Latin-1 / cp1252
characters: ``Ã©`` for ``é``, ``ç¾`` for the start of ``美``. Real copy almost never has this pair."""
CONTROL_RE = regex.compile(r"(?![\n\r\t])[\p{Cc}\p{Cs}\p{Co}]")
"""A control character other than line break and tab, a lone surrogate or a private-use character
(Unicode general categories Cc, Cs, Co): never part of copy."""


def seq_rep(toks: list[str], n: int = REP_N) -> float:
    """seq-rep-n (Welleck et al. 2020): ``1 − |unique n-grams| / |n-grams|`` in [0, 1]; 0.0 below n+1 tokens."""
    grams = [tuple(toks[i:i + n]) for i in range(len(toks) - n + 1)]
    return 1 - len(set(grams)) / len(grams) if len(grams) > 1 else 0.0


def check_degenerate(text: str) -> CheckResult:
    """Broken or degenerate text: replacement characters, control characters, mojibake, repetition.

    Score: ``r / (1 + character errors)``, where ``r`` is 1 while seq-rep-4 ≤ :data:`MAX_REP` and falls
    linearly to 0 at seq-rep-4 = 1, times the same ramp for the top token's share above
    :data:`MAX_TOP_SHARE`; passed: no error finding. Repetition is judged from :data:`MIN_TOKENS` tokens
    (content tokens for the top share) on.

    Args:
        text: the copy.

    Returns:
        :class:`CheckResult` with findings ``replacement_char`` (U+FFFD runs), ``control_char``,
        ``mojibake`` (each with offsets), ``repeated_ngrams`` (seq-rep-4 above :data:`MAX_REP`),
        ``repeated_token`` (one content token is over :data:`MAX_TOP_SHARE` of them); details
        ``seq_rep_4``, ``top_token_share``, ``tokens``.
    """
    findings: list[Finding] = []
    for m in regex.finditer("\ufffd+", text):
        findings.append(Finding(DEGENERATE, "replacement_char", f"{len(m.group())} replacement character(s) U+FFFD",
                                m.start(), m.end()))
    for m in CONTROL_RE.finditer(text):
        findings.append(Finding(DEGENERATE, "control_char", f"control or private-use character U+{ord(m.group()):04X}",
                                m.start(), m.end()))
    for m in MOJIBAKE_RE.finditer(text):
        findings.append(Finding(DEGENERATE, "mojibake", f"mojibake {m.group()!r} (UTF-8 read as Latin-1)",
                                m.start(), m.end()))
    char_errors = len(findings)
    p = prepare(text)
    toks = [t for t, _, _ in tokens(p.norm)]
    rep = seq_rep(toks) if len(toks) >= MIN_TOKENS else 0.0
    content = [t for t in toks if not _is_function(t)]
    top = Counter(content).most_common(1)[0][1] / len(content) if len(content) >= MIN_TOKENS else 0.0
    if rep > MAX_REP:
        findings.append(Finding(DEGENERATE, "repeated_ngrams",
                                f"{rep:.0%} of the {REP_N}-grams repeat (seq-rep-{REP_N})"))
    if top > MAX_TOP_SHARE:
        word = Counter(content).most_common(1)[0][0]
        findings.append(Finding(DEGENERATE, "repeated_token", f"{word!r} is {top:.0%} of the content words"))
    r = 1.0 if rep <= MAX_REP else max(0.0, (1 - rep) / (1 - MAX_REP))
    if top > MAX_TOP_SHARE:
        r *= max(0.0, (1 - top) / (1 - MAX_TOP_SHARE))
    return CheckResult(DEGENERATE, r / (1 + char_errors), not findings, findings,
                       {"seq_rep_4": round(rep, 3), "top_token_share": round(top, 3), "tokens": len(toks)})
