"""The one list of checks: :data:`CHECKS`, an ordered mapping name → :class:`CheckSpec`.

Everything that names checks reads it: :func:`slmforge.checks.run_checks` (which checks run and in
what order), the clean stage's rules (:func:`rule_names`, :func:`default_rules`, each check's
:class:`Rule` views of its findings), the GRPO rewards (:func:`slmforge.checks.reward_functions`,
weights from :func:`check_weights`), the evaluation's ``check.<name>`` / ``pass.<name>`` columns (one
per result of ``run_checks``), the serving guard (:func:`guard_names`) and the kit schema's allowed
names in ``checks.reward_weights``. Adding a check is one entry here plus its function.

A check is a plain function ``fn(text, ctx) -> CheckResult`` over one text and its
:class:`CheckContext` (kit, task, subject, instruction, effective constraints, reference, catalog
vocabulary, corpus index); scores are in [0, 1] with ``passed`` false on any ``error`` finding. A check
that only some kits opt into (the ``legal_*`` checks of :mod:`slmforge.checks.legal`) returns ``None``
elsewhere and is left out of the report; its default weight is 0, so a kit that opts in weighs it in
``checks.reward_weights``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from slmforge.checks.artifacts import check_language, check_markup, check_structure
from slmforge.checks.constraints import check_constraints, check_cta
from slmforge.checks.content import check_coverage, check_informative
from slmforge.checks.degenerate import check_degenerate
from slmforge.checks.facts import check_facts
from slmforge.checks.legal import check_articles, check_citation, check_disclaimer, check_guarantee
from slmforge.checks.lexicon import check_lexicon
from slmforge.checks.style import check_style
from slmforge.checks.types import CheckReport, CheckResult
from slmforge.checks.vocab import Vocabulary
from slmforge.kit.schema import Constraints, Kit, Task

if TYPE_CHECKING:
    from slmforge.checks.similarity import NearDuplicateIndex


@dataclass(frozen=True)
class CheckContext:
    """What a check may read besides the text.

    Attributes:
        kit: the kit (lexicon, language, glossary, catalog schema, ``checks`` settings).
        task: the task the text answers, or ``None``.
        subject: the catalog record it is about, or ``None``.
        instruction: the prompt's text, or ``None``.
        constraints: the task's constraints merged with those the instruction states (stricter wins).
        reference: a reference text for the same subject (reference-grounded facts), or ``None``.
        vocab: the catalog vocabulary (:func:`slmforge.checks.vocab.kit_vocabulary`), or ``None`` for the
            glossary alone.
        corpus: near-duplicate index of a reference set (leakage), or ``None``.
    """

    kit: Kit
    task: Task | None = None
    subject: dict | None = None
    instruction: str | None = None
    constraints: Constraints = field(default_factory=Constraints)
    reference: str | None = None
    vocab: Vocabulary | None = None
    corpus: NearDuplicateIndex | None = None


CheckFn = Callable[[str, CheckContext], "CheckResult | None"]
"""A check: ``fn(text, ctx)`` → :class:`~slmforge.checks.types.CheckResult` (score in [0, 1], passed, findings),
or ``None`` when the check does not apply to the context's kit and task (left out of the report)."""


@dataclass(frozen=True)
class Rule:
    """A named cleaning view of one check's ``error`` findings (``slmforge clean`` filters on rules).

    Attributes:
        name: the rule's name in ``CleanConfig.rules``.
        codes: finding codes it covers; ``None``: every error finding no earlier rule of the check took.
        clean: on in ``CleanConfig.rules`` by default.
        rewrite: what the teacher is told to fix in a targeted rewrite.
    """

    name: str
    codes: frozenset[str] | None = None
    clean: bool = True
    rewrite: str = ""


@dataclass(frozen=True)
class CheckSpec:
    """One check and the roles it plays.

    Attributes:
        fn: the check function.
        description: one line for people (reports, docs).
        needs: context fields of which at least one must be given for the check to run by default
            (``subject``, ``reference``, ``corpus``); empty: it always runs. A reward whose needs are not
            met scores neutrally (its full weight).
        reward: one of the GRPO rewards by default.
        guard: fails a served draft (``ServeConfig.blocking_checks``) by default; otherwise it only flags.
        weight: default weight in the overall score and the reward (``kit.checks.reward_weights`` overrides).
        rules: cleaning views of its findings; ``None``: one rule named like the check, covering every error.
    """

    fn: CheckFn
    description: str
    needs: tuple[str, ...] = ()
    reward: bool = True
    guard: bool = True
    weight: float = 1.0
    rules: tuple[Rule, ...] | None = None


def _corpus(text: str, ctx: CheckContext) -> CheckResult:
    from slmforge.checks.similarity import NearDuplicateIndex

    return (ctx.corpus or NearDuplicateIndex([])).check(text)


LENGTH_CODES = frozenset({"too_many_chars", "too_few_chars", "too_many_lines", "too_few_lines"})
"""Constraints-check finding codes that the ``length`` rule covers."""

CHECKS: dict[str, CheckSpec] = {
    "lexicon": CheckSpec(
        lambda t, c: check_lexicon(t, c.kit, c.subject), "the kit's avoid-terms are absent, its prefer-terms used",
        rules=(Rule("avoid_terms", frozenset({"avoid_term"}),
                    rewrite="it uses words the brand never uses; replace each with a neutral, precise wording"),)),
    "style": CheckSpec(
        lambda t, c: check_style(t, c.kit, c.subject), "no hype, shouting punctuation or all caps", guard=False,
        rules=(Rule("style", clean=False,
                    rewrite="its tone breaks the brand voice (hype, shouting punctuation); make it calm and precise"),)),
    "constraints": CheckSpec(
        lambda t, c: check_constraints(t, c.constraints), "length, lines, hashtags, emoji and format limits",
        rules=(Rule("length", LENGTH_CODES, rewrite="its length is outside the task's bounds; shorten or extend it to fit"),
               Rule("markdown_headings", frozenset({"markdown_heading"}),
                    rewrite="it has markdown headings (lines starting with '#'), which this task forbids; "
                            "turn them into plain sentences"),
               Rule("constraints", clean=False, rewrite="it breaks the task's format constraints; fix the format"))),
    "cta": CheckSpec(
        lambda t, c: check_cta(t, c.kit, required=c.constraints.cta_required), "a call to action where one is required",
        rules=(Rule("cta_missing", frozenset({"missing_cta"}),
                    rewrite="it lacks a call to action; add one short, calm call to action at the end"),)),
    "facts": CheckSpec(
        lambda t, c: check_facts(t, subject=c.subject, kit=c.kit, reference=c.reference, vocab=c.vocab),
        "no number, ingredient or audience that contradicts the record", needs=("subject", "reference"),
        rules=(Rule("facts", clean=False,
                    rewrite="it states facts that contradict the product record; correct them to match the record"),)),
    "structure": CheckSpec(
        lambda t, c: check_structure(t), "no leaked labels of the writing formula (【之前】, Hook:)",
        rules=(Rule("structure_labels", rewrite="it leaks structure labels of the writing formula (e.g. 【之前】【之后】"
                    "【桥梁】, (特点)(优势), 'Hook:', 'Problem:'); remove the labels and keep the sentences"),)),
    "markup": CheckSpec(
        lambda t, c: check_markup(t), "no stray JSON, code fences or tags",
        rules=(Rule("stray_markup", rewrite="it contains stray JSON, code fences or tags; remove them and keep the copy"),)),
    "language": CheckSpec(
        lambda t, c: check_language(t, c.kit.language), "written in the kit's language (by script)",
        rules=(Rule("language_mismatch", rewrite="it is not written in the kit's language; translate it faithfully"),)),
    "degenerate": CheckSpec(
        lambda t, c: check_degenerate(t), "no replacement or control characters, mojibake or repetition loops",
        rules=(Rule("degenerate", rewrite="it contains broken characters or repeats itself; rewrite it as clean, "
                    "non-repetitive copy"),)),
    "coverage": CheckSpec(
        lambda t, c: check_coverage(t, subject=c.subject, kit=c.kit, vocab=c.vocab),
        "names the subject and states one fact of its record", needs=("subject",),
        rules=(Rule("coverage", rewrite="it does not name the product or states none of its facts; name the product "
                    "exactly and state one of its ingredients, features or values"),)),
    "informative": CheckSpec(
        lambda t, c: check_informative(t, kit=c.kit, constraints=c.constraints, instruction=c.instruction,
                                       subject=c.subject, vocab=c.vocab),
        "enough content for the task, not an echo of the instruction",
        rules=(Rule("informative", rewrite="it says too little or repeats the instruction; write the copy the "
                    "instruction asks for, with concrete content"),)),
    "similarity": CheckSpec(_corpus, "not a near-copy of the reference corpus (leakage)", needs=("corpus",),
                            reward=False, guard=False, rules=()),
    # legal answers: only for kits with `checks.legal`, on tasks of its families (None elsewhere)
    "legal_citation": CheckSpec(
        lambda t, c: check_citation(t, c.kit, c.task, c.instruction),
        "legal answers: cites the article the question names", weight=0.0,
        rules=(Rule("legal_citation", rewrite="the question cites an article (e.g. 民法第415条) that the answer never "
                    "names; state which article the answer relies on"),)),
    "legal_guarantee": CheckSpec(
        lambda t, c: check_guarantee(t, c.kit, c.task), "legal answers: no promised outcome (必ず勝てます, 100%)",
        weight=0.0, rules=(Rule("legal_guarantee", rewrite="it promises an outcome (必ず, 確実に, 100%); say what the "
                                "outcome depends on instead"),)),
    "legal_disclaimer": CheckSpec(
        lambda t, c: check_disclaimer(t, c.kit, c.task), "legal answers: carries the kit's disclaimer line",
        weight=0.0, rules=(Rule("legal_disclaimer", rewrite="it lacks the kit's disclaimer line; end with it, "
                                "verbatim"),)),
    "legal_articles": CheckSpec(
        lambda t, c: check_articles(t, c.kit, c.task, c.instruction),
        "legal answers: no article number outside the question and the kit's references", weight=0.0,
        rules=(Rule("legal_articles", rewrite="it cites article numbers that are neither in the question nor in the "
                    "allowed references; remove them or cite an allowed article"),)),
}
"""Every check, in the order :func:`slmforge.checks.run_checks` runs them (reports and columns keep it)."""


def default_checks(*, subject: bool, reference: bool, corpus: bool) -> list[str]:
    """The checks that run when none are named: those without needs plus those whose needs are given."""
    given = {"subject": subject, "reference": reference, "corpus": corpus}
    return [n for n, s in CHECKS.items() if not s.needs or any(given[k] for k in s.needs)]


def check_weights(kit: Kit) -> dict[str, float]:
    """Check name → weight in the overall score: ``kit.checks.reward_weights`` over each check's default weight."""
    return {n: kit.checks.reward_weights.get(n, s.weight) for n, s in CHECKS.items()}


def reward_names() -> list[str]:
    """The checks that are GRPO rewards by default (per-completion checks; ``similarity`` is a corpus property)."""
    return [n for n, s in CHECKS.items() if s.reward]


def guard_names() -> list[str]:
    """The checks whose failure makes a served draft fail (``guard: retry | block``) by default."""
    return [n for n, s in CHECKS.items() if s.guard]


def rules_of(name: str) -> tuple[Rule, ...]:
    """The cleaning rules of check ``name`` (one named like the check when it declares none)."""
    spec = CHECKS[name]
    if spec.rules is None:
        return (Rule(name, rewrite=f"it fails the {name} check ({spec.description}); fix that"),)
    return spec.rules


def rule_names() -> list[str]:
    """Every cleaning rule's name, in check order."""
    return [r.name for n in CHECKS for r in rules_of(n)]


def default_rules() -> list[str]:
    """The rules ``CleanConfig.rules`` holds by default."""
    return [r.name for n in CHECKS for r in rules_of(n) if r.clean]


def validate_check_names(names: list[str], *, where: str, kind: Literal["check", "rule"] = "check") -> list[str]:
    """``names`` unchanged when each is a known check (``kind="check"``: :data:`CHECKS`) or cleaning rule
    (``kind="rule"``: :func:`rule_names`); the one check of every config field that names checks or rules.

    Args:
        names: the names given.
        where: the field they were given in (``blocking_checks``, ``rules``), named by the message.
        kind: ``"check"`` or ``"rule"``.

    Raises:
        ValueError: a name is unknown; the message names it and ``where``, and lists the known names
            (pydantic validators turn it into a :class:`~slmforge.errors.ConfigError` naming the file).
    """
    known = list(CHECKS) if kind == "check" else rule_names()
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"unknown {kind}s {', '.join(map(repr, unknown))} in {where}; "
                         f"known {kind}s: {', '.join(known)}")
    return names


def rule_owner(rule: str) -> str:
    """The check a rule is a view of.

    Raises:
        KeyError: no check declares the rule (message lists the known rules).
    """
    for n in CHECKS:
        if any(r.name == rule for r in rules_of(n)):
            return n
    raise KeyError(f"unknown rule {rule!r}; known: {rule_names()}")


def rewrite_instructions() -> dict[str, str]:
    """Rule → what the teacher is told to fix in a targeted rewrite."""
    return {r.name: r.rewrite for n in CHECKS for r in rules_of(n)}


def rule_failures(report: CheckReport, rules: list[str] | tuple[str, ...]) -> dict[str, list[str]]:
    """The rules (of ``rules``) that a report fails, with the messages of the findings behind each.

    Each ``error`` finding of a check goes to the first of its rules whose ``codes`` hold the finding's
    code (a rule with ``codes=None`` takes any); a check that failed without an error finding fails its
    catch-all rule with ``"failed"``. Rules whose check is not in the report are not judged.

    Returns:
        rule name → messages, only for failed rules in ``rules``, in report order.
    """
    wanted = set(rules)
    out: dict[str, list[str]] = {}
    for name, res in report.results.items():
        own = rules_of(name)
        for f in res.findings:
            if f.severity != "error":
                continue
            rule = next((r.name for r in own if r.codes is None or f.code in r.codes), None)
            if rule in wanted:
                out.setdefault(rule, []).append(f.message)
        if not res.passed and not any(f.severity == "error" for f in res.findings):
            rule = next((r.name for r in own if r.codes is None), None)
            if rule in wanted:
                out.setdefault(rule, []).append("failed")
    return out
