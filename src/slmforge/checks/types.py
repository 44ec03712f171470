"""Result types shared by every check: :class:`Finding`, :class:`CheckResult`, :class:`CheckReport`,
and the reference-grounded :class:`FactEdit` / :class:`FactDiff`.

A score is in [0, 1] with 1 = fully compliant; ``passed`` is the check's hard verdict (used by
cleaning filters and serving guards), ``score`` its graded value (used as GRPO reward and metric).
Offsets (``start``/``end``) index the ORIGINAL text in characters (Python ``str`` indices), so a UI
can highlight ``text[start:end]``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Finding:
    """One thing a check found.

    Attributes:
        check: name of the check (a key of :data:`slmforge.checks.registry.CHECKS`: ``lexicon``, ``facts``, …).
        code: machine-readable kind, e.g. ``avoid_term``, ``punct_run``, ``too_long``, ``contradicted_number``.
        message: one human-readable line.
        start: start offset in the original text (characters), ``None`` when the finding is about the whole text.
        end: end offset (exclusive), ``None`` likewise.
        severity: ``error`` (fails the check), ``warning`` (lowers the score only) or ``info``.
    """

    check: str
    code: str
    message: str
    start: int | None = None
    end: int | None = None
    severity: str = "error"


@dataclass
class CheckResult:
    """The outcome of one check on one text.

    Attributes:
        name: the check's name.
        score: in [0, 1], 1 = fully compliant.
        passed: ``True`` when there is no ``error`` finding.
        findings: what was found, with offsets.
        details: check-specific numbers (counts, coverage, lengths) for tables and debugging.
    """

    name: str
    score: float
    passed: bool
    findings: list[Finding] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class CheckReport:
    """All checks run on one text.

    Attributes:
        text: the text checked.
        results: check name → result, in the order the checks ran.
        score: weighted mean of the results' scores (weights from ``kit.checks.reward_weights``,
            1.0 for checks it does not list).
        passed: every check passed.
    """

    text: str
    results: dict[str, CheckResult]
    score: float
    passed: bool

    def findings(self) -> list[Finding]:
        """Every finding of every check, in check order."""
        return [f for r in self.results.values() for f in r.findings]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: score, passed, per-check score/passed/details, and the flat list of findings."""
        return {
            "score": round(self.score, 4),
            "passed": self.passed,
            "checks": {
                n: {"score": round(r.score, 4), "passed": r.passed, "details": r.details} for n, r in self.results.items()
            },
            "findings": [asdict(f) for f in self.findings()],
        }


@dataclass
class FactEdit:
    """One fact that differs between a candidate and a reference text.

    Attributes:
        kind: ``number`` (a quantity changed), ``entity`` (an ingredient / named entity swapped, added
            or removed), ``audience`` or ``effect`` (a glossary / record term of that role changed).
        reference: the reference's side of the edit ('' when added).
        candidate: the candidate's side ('' when removed).
        start: offset of the candidate's side in the candidate text (characters).
        end: end offset (exclusive).
    """

    kind: str
    reference: str
    candidate: str
    start: int
    end: int


@dataclass
class FactDiff:
    """Fact edits between a candidate and a reference, with their overall similarity.

    Attributes:
        edits: the fact edits, in candidate order.
        similarity: character-level similarity in [0, 1] (difflib ``SequenceMatcher.ratio``:
            2·matches / total length).
        changed_chars: characters of the candidate inside changed regions.
    """

    edits: list[FactEdit]
    similarity: float
    changed_chars: int = 0

    def is_minimal_fact_edit(self, *, min_similarity: float = 0.85, max_edits: int = 4) -> bool:
        """True when the texts are near-copies that differ by 1..``max_edits`` fact edits.

        This is the shape of a fact-perturbed negative (a "fake" rejected text): highly similar,
        with at least one fact changed.
        """
        return self.similarity >= min_similarity and 1 <= len(self.edits) <= max_edits
