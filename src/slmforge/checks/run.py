"""``run_checks``: the registry's checks over a batch of texts for one task and subject, as :class:`CheckReport`\\ s.

This is the one entry point the other stages use: cleaning filters on ``report.passed`` (through the
rules of :mod:`slmforge.checks.registry`), GRPO rewards on ``result.score`` (see
:mod:`slmforge.checks.rewards`), evaluation averages the scores, serving shows the findings. Which
checks exist, their order and their defaults live in :data:`slmforge.checks.registry.CHECKS`. Run it
from the command line with ``slmforge check FILE --kit DIR``.
"""

from __future__ import annotations

from collections.abc import Sequence

from slmforge.checks.constraints import merge_constraints
from slmforge.checks.extract import extract_constraints
from slmforge.checks.registry import CHECKS, CheckContext, check_weights, default_checks
from slmforge.checks.types import CheckReport, CheckResult
from slmforge.checks.vocab import Vocabulary
from slmforge.kit.schema import Constraints, Kit, Task

CHECK_NAMES = tuple(CHECKS)
"""Every check's name, in the order :func:`run_checks` runs them (a snapshot of the registry at import)."""


def effective_constraints(task: Task | None, kit: Kit, instruction: str | None = None) -> Constraints:
    """The task's declared constraints merged (stricter wins) with those the instruction states.

    Raises:
        pydantic.ValidationError: the two sets leave an empty range (e.g. task ``min_chars`` above the
            instruction's ``max_chars``).
    """
    declared = task.constraints if task is not None else Constraints()
    if not instruction:
        return declared
    return merge_constraints(declared, extract_constraints(instruction, kit.language))


def weighted_score(results: dict[str, CheckResult], weights: dict[str, float]) -> float:
    """Weighted mean of the results' scores; a check missing from ``weights`` weighs 1.0, one at 0 is ignored."""
    total = sum(weights.get(n, 1.0) for n in results)
    if total <= 0:
        return 1.0
    return sum(weights.get(n, 1.0) * r.score for n, r in results.items()) / total


def select_checks(checks: Sequence[str] | None, *, subject: bool, reference: bool, corpus: bool) -> list[str]:
    """The names :func:`run_checks` runs, in registry order.

    Args:
        checks: names asked for, or ``None`` for the defaults (:func:`slmforge.checks.registry.default_checks`).
        subject, reference, corpus: which optional inputs are given.

    Raises:
        ValueError: an unknown check name (the message lists the known ones).
    """
    if checks is None:
        return default_checks(subject=subject, reference=reference, corpus=corpus)
    unknown = [c for c in checks if c not in CHECKS]
    if unknown:
        raise ValueError(f"unknown checks {unknown}; known: {list(CHECKS)}")
    return [c for c in CHECKS if c in checks]


def run_checks(
    texts: list[str],
    *,
    task: Task | None,
    subject: dict | None,
    kit: Kit,
    instruction: str | None = None,
    references: list[str | None] | None = None,
    checks: Sequence[str] | None = None,
    corpus: Sequence[str] | None = None,
    vocab: Vocabulary | None = None,
) -> list[CheckReport]:
    """Run the checks on each text.

    Args:
        texts: copies to check, ``[n]``.
        task: the kit task they answer (its ``constraints``), or ``None`` (no declared constraints).
        subject: the catalog record they are about (record-grounded facts, coverage; its values are exempt
            from lexicon / hype matching), or ``None``.
        kit: the kit (lexicon, language, glossary, ``checks`` settings and weights).
        instruction: the prompt's text; constraints it states (「45字以内」, "no emoji") are merged into
            the task's, stricter wins; the informative check tests that the copy does not echo it.
        references: ``[n]`` reference texts (e.g. a golden copy or the chosen side of a pair) for
            reference-grounded facts; ``None`` entries are skipped.
        checks: names to run (keys of :data:`~slmforge.checks.registry.CHECKS`); default: every check
            whose needs are met (facts when a subject or references are given, coverage with a subject,
            similarity with a ``corpus``).
        corpus: texts to test for near-duplicates (leakage, e.g. the golden set or training data).
        vocab: entity vocabulary for facts and coverage (:func:`slmforge.checks.vocab.kit_vocabulary`
            of the loaded kit: built once per kit); default: the kit's glossary alone.

    Returns:
        ``[n]`` :class:`CheckReport`, in ``texts`` order; results in registry order, without the checks that
        do not apply to this kit and task (their function returned ``None``, e.g. the ``legal_*`` checks).

    Raises:
        ValueError: an unknown check name, or ``references`` of a different length than ``texts``.
    """
    if references is not None and len(references) != len(texts):
        raise ValueError(f"references has {len(references)} items for {len(texts)} texts")
    names = select_checks(checks, subject=subject is not None, reference=references is not None,
                          corpus=corpus is not None)
    cons = effective_constraints(task, kit, instruction)
    index = None
    if any("corpus" in CHECKS[n].needs for n in names):
        from slmforge.checks.similarity import NearDuplicateIndex

        index = NearDuplicateIndex(corpus or [])
    weights = check_weights(kit)
    reports: list[CheckReport] = []
    for i, text in enumerate(texts):
        ctx = CheckContext(kit=kit, task=task, subject=subject, instruction=instruction, constraints=cons,
                           reference=references[i] if references is not None else None, vocab=vocab, corpus=index)
        results = {name: r for name in names if (r := CHECKS[name].fn(text, ctx)) is not None}  # None: n/a here
        reports.append(CheckReport(text, results, weighted_score(results, weights),
                                   all(r.passed for r in results.values())))
    return reports
