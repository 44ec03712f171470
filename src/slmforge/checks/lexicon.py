"""Lexicon check: the kit's avoid-terms must not appear; its prefer-terms should.

Matching is on NFKC + case-folded text (so ``ＹＹＤＳ``, ``YYDS`` and ``yyds`` are the same term),
as a substring for CJK terms and between Latin word boundaries otherwise (see
:class:`slmforge.checks.text.TermMatcher`). Findings carry offsets into the original text.
"""

from __future__ import annotations

from slmforge.checks.text import inside, is_mention, prepare, protected_spans, term_matcher
from slmforge.checks.types import CheckResult, Finding
from slmforge.kit.schema import Kit

NAME = "lexicon"
PREFER_TARGET = 3
"""Prefer-term coverage is full once this many distinct prefer-terms appear (or all, when fewer are declared)."""


def _find(norm: str, terms: list[str]) -> list[tuple[str, int, int]]:
    return term_matcher(tuple(terms)).find(norm) if terms else []


def check_lexicon(text: str, kit: Kit, subject: dict | None = None) -> CheckResult:
    """Find avoid-terms and measure prefer-term coverage.

    Score: ``1 / (1 + n_avoid) × (0.8 + 0.2 × coverage)`` where ``n_avoid`` counts avoid-term
    occurrences and ``coverage`` = distinct prefer-terms found / min(3, number declared) (1 when
    the kit declares none). So one avoid-term halves the score; missing prefer-terms cost at most 0.2.
    An avoid-term that is only mentioned — negated, questioned or quoted (「护肤没有奇迹」, see
    :func:`~slmforge.checks.text.is_mention`) — is a ``warning`` counting 0.25 in ``n_avoid``; one
    inside the subject's own values (a product called 「修护奇迹精华」) or the brand name is ignored.
    Passed: no avoid-term used as a claim.

    Args:
        text: the copy to check.
        kit: supplies ``kit.lexicon.avoid`` / ``kit.lexicon.prefer``.
        subject: the catalog record the copy is about (its values are exempt), if any.

    Returns:
        :class:`CheckResult` with ``avoid_term`` (error) and ``avoid_term_mention`` (warning)
        findings (offsets into ``text``) and details
        ``avoid`` (terms found), ``prefer_found``, ``prefer_coverage``.
    """
    p = prepare(text)
    findings: list[Finding] = []
    avoid_found: list[str] = []
    weight = 0.0
    hits = _find(p.norm, kit.lexicon.avoid)
    names = protected_spans(p.norm, subject, kit.brand) if hits else []
    for term, ns, ne in hits:
        if inside(names, ns, ne):
            continue
        s, e = p.span(ns, ne)
        if is_mention(p.norm, ns, ne):
            weight += 0.25
            findings.append(Finding(NAME, "avoid_term_mention", f"avoid-term {term!r} mentioned: {text[s:e]!r}",
                                    s, e, "warning"))
            continue
        weight += 1
        avoid_found.append(term)
        findings.append(Finding(NAME, "avoid_term", f"avoid-term {term!r}: {text[s:e]!r}", s, e))
    prefer_found = sorted({term for term, _, _ in _find(p.norm, kit.lexicon.prefer)})
    declared = len(set(kit.lexicon.prefer))
    coverage = 1.0 if declared == 0 else min(1.0, len(prefer_found) / min(PREFER_TARGET, declared))
    score = (1.0 / (1 + weight)) * (0.8 + 0.2 * coverage)
    return CheckResult(
        NAME, score, not avoid_found, findings,
        {"avoid": avoid_found, "prefer_found": prefer_found, "prefer_coverage": round(coverage, 3)},
    )
