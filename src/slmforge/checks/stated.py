"""Rules a prompt states in its own words, checked on each side of a preference pair (or on an SFT
completion) without a kit: 「30文字以内」, 「句点なし」, 「絵文字なし」, 「『新登場』を必ず入れて」 …

``slmforge check PAIRS.jsonl`` (with or without ``--kit``) uses it: the rules of a prompt come from
:func:`slmforge.checks.extract.extract_constraints` and
:func:`~slmforge.checks.extract.extract_required_terms`, one :class:`StatedRule` per family of
:data:`RULES`; each side is checked against each rule on its own (:func:`broken_rule`), so a pair whose
chosen side breaks a rule its rejected side obeys — a pair that teaches the opposite of what its prompt
asks — is named (:class:`StatedVerdict`), and :class:`StatedSummary` counts it per rule.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from slmforge.checks.constraints import check_constraints, cta_spans
from slmforge.checks.extract import extract_constraints, extract_required_terms
from slmforge.checks.text import prepare, term_matcher
from slmforge.cjk import guess_language
from slmforge.kit.schema import Constraints

RULES: dict[str, str] = {
    "length": "length", "lines": "lines", "hashtags": "hashtags", "no_newline": "no line breaks",
    "no_emoji": "no emoji", "no_chars": "forbidden chars", "no_heading": "no headings", "cta": "call to action",
    "terms": "required terms",
}
"""Rule families, in report order: key → the name tables print."""

@dataclass(frozen=True)
class StatedRule:
    """One rule a prompt states.

    Attributes:
        key: its family, a key of :data:`RULES`.
        label: this prompt's rule in a few words: ``"10–45 chars"``, ``"no 「。」"``, ``"must contain 「新登場」"``.
        constraints: the rule as a one-family :class:`~slmforge.kit.schema.Constraints` (checked by
            :func:`~slmforge.checks.constraints.check_constraints`); ``None`` for ``cta`` and ``terms``.
        terms: the required terms (``terms`` rule).
        language: BCP-47 tag whose call-to-action cues count (``cta`` rule).
    """

    key: str
    label: str
    constraints: Constraints | None = None
    terms: tuple[str, ...] = ()
    language: str = "en"


def _span(lo: int | None, hi: int | None, unit: str) -> str:
    if lo is not None and hi is not None:
        return f"{lo} {unit}" if lo == hi else f"{lo}–{hi} {unit}"
    if hi == 0:
        return f"no {unit}"
    return f"≤{hi} {unit}" if hi is not None else f"≥{lo} {unit}"


def stated_rules(instruction: str, language: str | None = None) -> list[StatedRule]:
    """The rules ``instruction`` states, one per family of :data:`RULES`, in that order.

    Args:
        instruction: the prompt text.
        language: BCP-47 tag of the copy; default :func:`guess_language` of the instruction.

    Returns:
        ``[k]`` rules, k ≤ len(RULES); empty when the prompt states none.
    """
    lang = language or guess_language(instruction)
    c = extract_constraints(instruction, lang)
    out: list[StatedRule] = []
    if c.min_chars is not None or c.max_chars is not None:
        out.append(StatedRule("length", _span(c.min_chars, c.max_chars, "chars"),
                              Constraints(min_chars=c.min_chars, max_chars=c.max_chars)))
    if c.min_lines is not None or c.max_lines is not None:
        out.append(StatedRule("lines", _span(c.min_lines, c.max_lines, "lines"),
                              Constraints(min_lines=c.min_lines, max_lines=c.max_lines)))
    if c.hashtags_min is not None or c.hashtags_max is not None:
        out.append(StatedRule("hashtags", _span(c.hashtags_min, c.hashtags_max, "hashtags"),
                              Constraints(hashtags_min=c.hashtags_min, hashtags_max=c.hashtags_max)))
    if not c.newlines_allowed:
        out.append(StatedRule("no_newline", "no line breaks", Constraints(newlines_allowed=False)))
    if not c.emoji_allowed:
        out.append(StatedRule("no_emoji", "no emoji", Constraints(emoji_allowed=False)))
    if c.forbidden_chars:
        out.append(StatedRule("no_chars", "no " + "".join(f"「{ch}」" for ch in c.forbidden_chars),
                              Constraints(forbidden_chars=c.forbidden_chars)))
    if c.forbid_markdown_headings:
        out.append(StatedRule("no_heading", "no headings", Constraints(forbid_markdown_headings=True)))
    if c.cta_required:
        out.append(StatedRule("cta", "call to action", language=lang))
    if terms := extract_required_terms(instruction):
        out.append(StatedRule("terms", "must contain " + "".join(f"「{t}」" for t in terms), terms=tuple(terms)))
    return out


def broken_rule(text: str, rule: StatedRule) -> str | None:
    """Why ``text`` breaks ``rule``, or ``None`` when it obeys it.

    An empty (whitespace-only) text breaks every rule: it is no answer to the prompt. Lengths are in
    graphemes (UAX #29), as :func:`~slmforge.checks.constraints.check_constraints` counts them; a required
    term is found like a lexicon term (NFKC + case folding, Latin word boundaries).

    Returns:
        a short message (``"52 characters, at most 45 allowed"``, ``"missing 「新登場」"``) or ``None``.
    """
    if not text.strip():
        return "empty text"
    if rule.constraints is not None:
        res = check_constraints(text, rule.constraints)
        if res.passed:
            return None
        more = f" (+{len(res.findings) - 1} more)" if len(res.findings) > 1 else ""
        return res.findings[0].message + more
    if rule.key == "cta":
        return None if cta_spans(text, rule.language) else "no call to action"
    norm = prepare(text).norm
    missing = [t for t in rule.terms if not term_matcher((t,)).find(norm)]
    return "missing " + "".join(f"「{t}」" for t in missing) if missing else None


@dataclass
class StatedVerdict:
    """The stated rules of one row and which side breaks which.

    Attributes:
        rules: the prompt's rules (:func:`stated_rules`).
        broken: side (``chosen`` / ``rejected`` or ``completion``) → rule key → message, for broken rules only.
    """

    rules: list[StatedRule]
    broken: dict[str, dict[str, str]]

    def only(self, side: str, other: str) -> list[str]:
        """Rule keys ``side`` breaks while ``other`` obeys them, in :data:`RULES` order."""
        return [r.key for r in self.rules if r.key in self.broken[side] and r.key not in self.broken[other]]

    @property
    def is_pair(self) -> bool:
        """True for a preference pair (sides ``chosen`` and ``rejected``)."""
        return set(self.broken) == {"chosen", "rejected"}

    @property
    def verdict(self) -> str:
        """``no_rules``; for a pair ``chosen_worse`` (chosen breaks a rule rejected obeys, never the reverse),
        ``rejected_worse`` (the reverse), ``mixed`` (both) or ``same``; for a completion ``breaks`` / ``obeys``."""
        if not self.rules:
            return "no_rules"
        if not self.is_pair:
            return "breaks" if any(self.broken.values()) else "obeys"
        c, r = self.only("chosen", "rejected"), self.only("rejected", "chosen")
        return "mixed" if c and r else "chosen_worse" if c else "rejected_worse" if r else "same"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``rules`` (``[{rule, label}]``), ``broken``, ``verdict`` and, for pairs, ``chosen_only`` /
        ``rejected_only`` (rule keys one side alone breaks)."""
        out: dict[str, Any] = {"rules": [{"rule": r.key, "label": r.label} for r in self.rules],
                               "broken": self.broken, "verdict": self.verdict}
        if self.is_pair:
            out["chosen_only"] = self.only("chosen", "rejected")
            out["rejected_only"] = self.only("rejected", "chosen")
        return out


def judge_stated(instruction: str, sides: dict[str, str], language: str | None = None) -> StatedVerdict:
    """Check each side's text against the rules ``instruction`` states.

    Args:
        instruction: the prompt text.
        sides: side name → text, e.g. ``{"chosen": ..., "rejected": ...}`` or ``{"completion": ...}``.
        language: BCP-47 tag of the copy; default :func:`guess_language` of the instruction.

    Returns:
        :class:`StatedVerdict`.
    """
    rules = stated_rules(instruction, language)
    broken = {side: {r.key: msg for r in rules if (msg := broken_rule(text, r)) is not None}
              for side, text in sides.items()}
    return StatedVerdict(rules, broken)


@dataclass
class RuleTally:
    """Counts for one rule family over a file.

    Attributes:
        stated: rows whose prompt states the rule.
        broken: side → texts that break it.
        only: side → pairs where that side breaks it and the other side obeys it.
    """

    stated: int = 0
    broken: Counter[str] = field(default_factory=Counter)
    only: Counter[str] = field(default_factory=Counter)


@dataclass
class StatedSummary:
    """Per-rule tallies and verdict counts of a whole file (:meth:`add` one :class:`StatedVerdict` per row).

    Attributes:
        tallies: rule key → :class:`RuleTally`, only for rules some prompt states.
        verdicts: verdict (:attr:`StatedVerdict.verdict`) → rows.
        sides: the side names seen, in order of first sight.
    """

    tallies: dict[str, RuleTally] = field(default_factory=dict)
    verdicts: Counter[str] = field(default_factory=Counter)
    sides: list[str] = field(default_factory=list)

    def add(self, v: StatedVerdict) -> None:
        """Count one row's verdict."""
        self.verdicts[v.verdict] += 1
        self.sides.extend(s for s in v.broken if s not in self.sides)
        for rule in v.rules:
            t = self.tallies.setdefault(rule.key, RuleTally())
            t.stated += 1
            for side, keys in v.broken.items():
                t.broken[side] += rule.key in keys
        if v.is_pair:
            for side, other in (("chosen", "rejected"), ("rejected", "chosen")):
                for key in v.only(side, other):
                    self.tallies[key].only[side] += 1

    def ordered(self) -> list[tuple[str, RuleTally]]:
        """``(rule key, tally)`` in :data:`RULES` order."""
        return [(k, self.tallies[k]) for k in RULES if k in self.tallies]
