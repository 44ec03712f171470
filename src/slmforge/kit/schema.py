"""The kit schema: a brand or domain as ``kit.yaml`` plus a catalog and golden examples.

A kit says how copy must sound (``voice``), which words to use and never use (``lexicon``),
what to write (``tasks``: student instruction, teacher meta-prompt, judge rubric,
constraints), about what (``catalog`` of subjects) and shows a few ``golden`` examples.
Every model here forbids unknown keys, so a typo in ``kit.yaml`` is an error that names the
key path instead of a silently ignored setting.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class StrictModel(BaseModel):
    """Base for every schema in slmforge: unknown keys are errors (``extra="forbid"``)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Voice(StrictModel):
    """How the brand speaks."""

    persona: str = Field(description="Who is speaking, e.g. 'a calm, professional dermatologist'.")
    principles: list[str] = Field(
        default_factory=list, description="Short rules of the voice, one per item."
    )
    guide: str = Field(default="", description="Free-text brand guide, shown to the teacher.")


class Lexicon(StrictModel):
    """Terms to use and terms never to use. Matching rules live in ``slmforge.checks.lexicon``."""

    prefer: list[str] = Field(default_factory=list, description="Terms the copy should use.")
    avoid: list[str] = Field(default_factory=list, description="Terms the copy must never use.")


class Constraints(StrictModel):
    """Hard constraints of a task's output. Lengths are in characters (grapheme clusters)."""

    min_chars: int | None = Field(default=None, ge=0, description="Minimum length in characters.")
    max_chars: int | None = Field(default=None, ge=1, description="Maximum length in characters.")
    min_lines: int | None = Field(default=None, ge=1, description="Minimum number of non-empty lines.")
    max_lines: int | None = Field(default=None, ge=1, description="Maximum number of non-empty lines.")
    cta_required: bool = Field(default=False, description="A call to action must be present.")
    emoji_allowed: bool = Field(default=True, description="Whether emoji may appear.")
    hashtags_min: int | None = Field(default=None, ge=0, description="Minimum number of #hashtags.")
    hashtags_max: int | None = Field(default=None, ge=0, description="Maximum number of #hashtags.")
    newlines_allowed: bool = Field(default=True, description="Whether line breaks may appear.")
    forbidden_chars: list[str] = Field(
        default_factory=list, description="Characters that must not appear, e.g. ['。']."
    )
    forbid_markdown_headings: bool = Field(
        default=False, description="Reject lines starting with '#' followed by a space."
    )

    @model_validator(mode="after")
    def _ranges(self) -> Constraints:
        ranges = (("min_chars", self.min_chars, "max_chars", self.max_chars),
                  ("min_lines", self.min_lines, "max_lines", self.max_lines),
                  ("hashtags_min", self.hashtags_min, "hashtags_max", self.hashtags_max))
        for lo, a, hi, b in ranges:
            if a is not None and b is not None and a > b:
                raise ValueError(f"{lo} ({a}) must be <= {hi} ({b})")
        return self


class Criterion(StrictModel):
    """One judge criterion with 1–5 anchors (what a 1, 3 and 5 look like)."""

    name: str = Field(description="Short id, e.g. 'brand_voice'.")
    description: str = Field(description="What the criterion measures.")
    anchors: dict[int, str] = Field(
        description="Score → description; keys within 1..5, at least 1 and 5."
    )
    weight: float = Field(default=1.0, gt=0, description="Weight in the task's overall score.")

    @model_validator(mode="after")
    def _anchor_keys(self) -> Criterion:
        bad = [k for k in self.anchors if not 1 <= k <= 5]
        if bad:
            raise ValueError(f"anchor keys must be within 1..5, got {bad}")
        if 1 not in self.anchors or 5 not in self.anchors:
            raise ValueError("anchors must describe at least scores 1 and 5")
        return self


class Rubric(StrictModel):
    """A judge rubric: criteria, and optionally pre-written G-Eval evaluation steps."""

    criteria: list[Criterion] = Field(min_length=1, description="Scored criteria.")
    evaluation_steps: list[str] | None = Field(
        default=None,
        description="G-Eval evaluation steps (Liu et al. 2023); generated once and stored when absent.",
    )


class Task(StrictModel):
    """One kind of copy the model must write."""

    id: str = Field(pattern=r"^[a-z0-9_]+$", description="Task id, snake_case.")
    family: str = Field(description="Task family: social_media, ecommerce, paid_ad, qa, …")
    description: str = Field(default="", description="What this task is, for people.")
    student_template: str = Field(
        description="Jinja2 template of the user prompt the fine-tuned model sees; "
        "variables: subject (dict), value (str|None), kit."
    )
    teacher_template: str = Field(
        description="Jinja2 template of the teacher's meta-prompt; variables: subject, value, kit, "
        "task, examples (list of golden texts)."
    )
    rubric: Rubric = Field(description="Judge rubric for this task.")
    constraints: Constraints = Field(default_factory=Constraints, description="Output constraints.")


class FieldSpec(StrictModel):
    """One field of the catalog's subjects."""

    name: str = Field(description="Column / key name.")
    type: Literal["str", "int", "float", "list"] = Field(default="str", description="Value type.")
    separator: str = Field(default="|", description="Separator of list values in CSV cells.")
    maxsplit: int = Field(
        default=-1, ge=-1, description="Split a list cell at most this many times (-1: no limit), as str.split."
    )
    required: bool = Field(default=True, description="Whether an empty value is an error.")
    description: str = Field(default="", description="What the field means (shown in the playground).")


class Catalog(StrictModel):
    """Where the subjects are and what their fields look like."""

    path: str = Field(description="CSV or JSONL file, relative to the kit directory.")
    id_field: str = Field(description="Field whose value identifies a subject (unique).")
    fields: list[FieldSpec] = Field(min_length=1, description="Declared field schema.")
    duplicate_ids: Literal["error", "number"] = Field(
        default="error",
        description="A repeated id is an error, or ('number') the n-th repeat gets the id '<id>#n' "
        "(for third-party catalogs such as the seed data; the subject's own field keeps its value).",
    )


class Glossary(StrictModel):
    """Domain entities recognised in text beyond the catalog's own values (facts check)."""

    ingredients: list[str] = Field(default_factory=list, description="Ingredient / component names.")
    audiences: list[str] = Field(default_factory=list, description="Audience terms, e.g. skin types.")
    effects: list[str] = Field(default_factory=list, description="Effect / benefit terms.")


class LegalSettings(StrictModel):
    """The legal-answer checks of :mod:`slmforge.checks.legal` (``legal_citation``, ``legal_guarantee``,
    ``legal_disclaimer``, ``legal_articles``); a kit opts in by having this section, and the checks then run
    on tasks whose ``family`` is in ``families`` (and on texts checked without a task)."""

    disclaimer: str | None = Field(
        default=None, description="A line every answer must carry, verbatim up to spaces, e.g. "
        "「本回答は一般的な情報提供であり、個別の法的助言ではありません。」; None: not required.")
    references: list[str] = Field(
        default_factory=list, description="Article citations an answer may make besides those of its question, "
        "each as law name + article, e.g. 民法第415条, 民法第548条の2, 借地借家法第28条; any other citation "
        "is an invented article.")
    guarantee_patterns: list[str] = Field(
        default_factory=list, description="Regexes of outcome guarantees, added to the built-in ones "
        "(必ず勝てます, 100%, 確実に …).")
    families: list[str] = Field(default_factory=lambda: ["legal_qa"],
                                description="Task families the legal checks apply to.")

    @field_validator("references")
    @classmethod
    def _citations(cls, v: list[str]) -> list[str]:
        bad = [r for r in v if not re.fullmatch(r"\S+?法第[0-9]+条(?:の[0-9]+)?(?:第[0-9]+項)?", r)]
        if bad:
            raise ValueError(f"references must read like 民法第415条 or 民法第548条の2 (law name, 第, arabic "
                             f"digits, 条), got {bad}")
        return v


class CheckSettings(StrictModel):
    """Thresholds and extensions of the checks; defaults suit any brand (see ``slmforge.checks``)."""

    max_exclamation_density: float = Field(
        default=0.02, ge=0, description="Max share of '!'/'！' among characters (0.02 = 2 per 100)."
    )
    max_punct_run: int = Field(default=2, ge=1, description="Longest allowed run of !/？/! marks.")
    max_emoji: int | None = Field(default=None, ge=0, description="Max emoji per text (None: only the task's policy).")
    hype_patterns: list[str] = Field(default_factory=list, description="Extra hype regexes.")
    cta_cues: list[str] = Field(default_factory=list, description="Extra call-to-action cues.")
    fact_fields: dict[str, Literal["ingredients", "audiences", "effects"]] = Field(
        default_factory=dict,
        description="Catalog field → its role for the facts check; empty: guessed from field names "
        "(*ingredient*, *audience*/*skin*, *feature*/*effect*/*benefit*).",
    )
    legal: LegalSettings | None = Field(
        default=None, description="Legal answers (slmforge.checks.legal): the disclaimer, allowed article "
        "citations and guarantee patterns; None: the legal checks do not run for this kit.")
    reward_weights: dict[str, float] = Field(
        default_factory=lambda: _registry_weights(),
        description="Weights of the checks when they are combined (GRPO reward, overall score); a check not "
        "listed keeps its default weight (1.0), one at 0 is left out. Names: the checks of "
        "slmforge.checks.registry.CHECKS (lexicon, style, constraints, cta, facts, structure, markup, "
        "language, degenerate, coverage, informative, similarity, and the legal checks legal_citation, "
        "legal_guarantee, legal_disclaimer, legal_articles, at 0 unless a kit with `legal` weighs them).",
    )

    @field_validator("reward_weights")
    @classmethod
    def _known_checks(cls, v: dict[str, float]) -> dict[str, float]:
        from slmforge.checks.registry import CHECKS  # local: the checks import this module

        unknown = [k for k in v if k not in CHECKS]
        if unknown:
            raise ValueError(f"unknown checks {unknown} in reward_weights; known: {list(CHECKS)}")
        bad = [k for k, w in v.items() if w < 0]
        if bad:
            raise ValueError(f"negative weights for {bad}; use 0 to leave a check out")
        return v


def _registry_weights() -> dict[str, float]:
    """Every reward check of the registry at its default weight (the checks import this module, so late)."""
    from slmforge.checks.registry import CHECKS

    return {n: s.weight for n, s in CHECKS.items() if s.reward}


class Kit(StrictModel):
    """A brand or domain kit (``kit.yaml``)."""

    name: str = Field(description="Kit / brand name.")
    language: str = Field(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]+)*$", description="BCP-47 tag: zh, ja, ko, en, …")
    brand: str = Field(default="", description="Brand name as it appears in copy (defaults to name).")
    voice: Voice
    lexicon: Lexicon = Field(default_factory=Lexicon)
    tasks: list[Task] = Field(min_length=1)
    catalog: Catalog
    golden: str | None = Field(default=None, description="JSONL of golden examples: id, task, subject_id, text.")
    glossary: Glossary = Field(default_factory=Glossary)
    checks: CheckSettings = Field(default_factory=CheckSettings)

    @model_validator(mode="after")
    def _unique_tasks(self) -> Kit:
        seen: set[str] = set()
        for t in self.tasks:
            if t.id in seen:
                raise ValueError(f"duplicate task id {t.id!r}")
            seen.add(t.id)
        if not self.brand:
            self.brand = self.name
        return self

    def task(self, task_id: str) -> Task:
        """Return the task with id ``task_id``.

        Raises:
            KeyError: no such task (message lists the kit's task ids).
        """
        for t in self.tasks:
            if t.id == task_id:
                return t
        raise KeyError(f"unknown task {task_id!r}; the kit has {[t.id for t in self.tasks]}")
