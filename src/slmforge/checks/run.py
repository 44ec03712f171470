"""``run_checks``: every check over a batch of texts for one task and subject, as :class:`CheckReport`\\ s.

This is the one entry point the other stages use: cleaning filters on ``report.passed``, GRPO
rewards on ``result.score`` (see :mod:`slmforge.checks.rewards`), evaluation averages the scores,
serving shows the findings. Run it from the command line with ``slmforge check FILE --kit DIR``.
"""

from __future__ import annotations

from collections.abc import Sequence

from slmforge.checks.constraints import check_constraints, check_cta, merge_constraints
from slmforge.checks.extract import extract_constraints
from slmforge.checks.facts import check_facts
from slmforge.checks.lexicon import check_lexicon
from slmforge.checks.style import check_style
from slmforge.checks.types import CheckReport, CheckResult
from slmforge.checks.vocab import Vocabulary
from slmforge.kit.schema import Constraints, Kit, Task

CHECK_NAMES = ("lexicon", "style", "constraints", "cta", "facts", "similarity")
"""Every check's name, in the order :func:`run_checks` runs them."""


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
        subject: the catalog record they are about (record-grounded facts; its values are exempt from
            lexicon / hype matching), or ``None``.
        kit: the kit (lexicon, language, glossary, ``checks`` settings and weights).
        instruction: the prompt's text; constraints it states (「45字以内」, "no emoji") are merged into
            the task's, stricter wins.
        references: ``[n]`` reference texts (e.g. a golden copy or the chosen side of a pair) for
            reference-grounded facts; ``None`` entries are skipped.
        checks: names to run (subset of :data:`CHECK_NAMES`); default: lexicon, style, constraints,
            cta, plus facts when a subject or references are given and similarity when ``corpus`` is.
        corpus: texts to test for near-duplicates (leakage, e.g. the golden set or training data).
        vocab: entity vocabulary for facts (:func:`slmforge.checks.vocab.build_vocabulary` over the
            catalog, built once by the caller); default: the kit's glossary.

    Returns:
        ``[n]`` :class:`CheckReport`, in ``texts`` order.

    Raises:
        ValueError: an unknown check name, or ``references`` of a different length than ``texts``.
    """
    if references is not None and len(references) != len(texts):
        raise ValueError(f"references has {len(references)} items for {len(texts)} texts")
    if checks is None:
        names = ["lexicon", "style", "constraints", "cta"]
        if subject is not None or references is not None:
            names.append("facts")
        if corpus is not None:
            names.append("similarity")
    else:
        unknown = [c for c in checks if c not in CHECK_NAMES]
        if unknown:
            raise ValueError(f"unknown checks {unknown}; known: {list(CHECK_NAMES)}")
        names = [c for c in CHECK_NAMES if c in checks]
    cons = effective_constraints(task, kit, instruction)
    index = None
    if "similarity" in names:
        from slmforge.checks.similarity import NearDuplicateIndex

        index = NearDuplicateIndex(corpus or [])
    weights = kit.checks.reward_weights
    reports: list[CheckReport] = []
    for i, text in enumerate(texts):
        results: dict[str, CheckResult] = {}
        for name in names:
            if name == "lexicon":
                results[name] = check_lexicon(text, kit, subject)
            elif name == "style":
                results[name] = check_style(text, kit, subject)
            elif name == "constraints":
                results[name] = check_constraints(text, cons)
            elif name == "cta":
                results[name] = check_cta(text, kit, required=cons.cta_required)
            elif name == "facts":
                ref = references[i] if references is not None else None
                results[name] = check_facts(text, subject=subject, kit=kit, reference=ref, vocab=vocab)
            elif name == "similarity" and index is not None:
                results[name] = index.check(text)
        reports.append(CheckReport(text, results, weighted_score(results, weights),
                                   all(r.passed for r in results.values())))
    return reports
