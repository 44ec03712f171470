"""Named cleaning rules over teacher output: views of the checks' findings, from the check registry.

A rule is a :class:`slmforge.checks.registry.Rule` of one check (``avoid_terms`` = lexicon avoid-terms,
``length`` and ``markdown_headings`` = constraints findings, ``cta_missing`` = the CTA check where the
task or its instruction requires one, ``structure_labels`` / ``stray_markup`` / ``language_mismatch`` =
the artefact checks of :mod:`slmforge.checks.artifacts`, ``degenerate`` / ``coverage`` /
``informative`` = :mod:`slmforge.checks.content`, ``style`` / ``facts`` / ``constraints`` = those checks).
The names and defaults come from :func:`slmforge.checks.registry.rule_names` and
:func:`~slmforge.checks.registry.default_rules`; a new check brings its rule with it.

The detectors that used to live here are re-exported for the tests' scripted teacher.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from slmforge.checks.artifacts import LABEL_RE, language_mismatch, stray_markup, structure_labels
from slmforge.checks.registry import LENGTH_CODES, default_checks, rule_failures, rule_owner
from slmforge.kit import LoadedKit, Task

__all__ = ["LABEL_RE", "LENGTH_CODES", "RuleOutcome", "evaluate", "language_mismatch", "stray_markup",
           "structure_labels"]


@dataclass
class RuleOutcome:
    """The rules one text fails, with the check score used to rank near-duplicates.

    Attributes:
        failed: rule name → human-readable reasons (empty dict = the text passes every rule).
        score: the checks' overall score in [0, 1].
        findings: the checks' findings as dicts (for ``removed.jsonl``).
    """

    failed: dict[str, list[str]] = field(default_factory=dict)
    score: float = 1.0
    findings: list[dict] = field(default_factory=list)


def evaluate(texts: list[str], lk: LoadedKit, task: Task, subject: dict | None, instruction: str | None,
             rules: list[str]) -> list[RuleOutcome]:
    """Evaluate the named rules on texts of one task and subject.

    Every default check runs (so the score that ranks near-duplicates is the same overall score as
    everywhere else), plus the checks that own the rules; facts and coverage use the kit's catalog
    vocabulary (:func:`slmforge.checks.vocab.kit_vocabulary`).

    Args:
        texts: ``[N]`` texts.
        lk: the kit (lexicon, language, thresholds, catalog).
        task: the task (constraints, CTA requirement).
        subject: the subject record (facts and coverage), or None.
        instruction: the student prompt the texts answer.
        rules: rule names (:func:`slmforge.checks.registry.rule_names`).

    Returns:
        ``[N]`` :class:`RuleOutcome`, restricted to ``rules``.

    Raises:
        KeyError: an unknown rule name.
    """
    from slmforge.checks import kit_vocabulary, run_checks

    owners = {rule_owner(r) for r in rules}
    defaults = default_checks(subject=subject is not None, reference=False, corpus=False)
    reports = run_checks(texts, task=task, subject=subject, kit=lk.kit, instruction=instruction,
                         checks=[*defaults, *(o for o in owners if o not in defaults)], vocab=kit_vocabulary(lk))
    return [RuleOutcome(failed=rule_failures(rep, rules), score=rep.score, findings=[asdict(f) for f in rep.findings()])
            for rep in reports]
