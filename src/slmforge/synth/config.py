"""Typed settings of the three data stages: ``synth`` (teacher generation), ``clean`` and ``prefs``.

Every field carries help text; unknown keys are errors (``extra="forbid"``) so a typo in a YAML
config names the key instead of being ignored. CLI flags override fields of these models.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from slmforge.checks.registry import default_rules, validate_check_names
from slmforge.kit.schema import StrictModel

RuleName = str
"""A named cleaning rule: one of :func:`slmforge.checks.registry.rule_names` (validated by :class:`CleanConfig`)."""

Strategy = Literal["weak", "exaggerated", "fake"]
"""Rejected-side strategies of preference pairs (seed 003: weak / exaggerated / fake)."""


class SynthConfig(StrictModel):
    """Settings of ``slmforge synth``: which subjects × tasks × variants the teacher writes."""

    teacher_role: str = Field(default="teacher", description="LLM client role that writes the copy.")
    tasks: list[str] | None = Field(default=None, description="Task ids to generate (None: all tasks of the kit).")
    subjects: list[str] | None = Field(
        default=None, description="Subject ids to generate for (None: the whole catalog)."
    )
    limit_subjects: int | None = Field(
        default=None, ge=1, description="Use only the first N subjects of the catalog (quick runs)."
    )
    variants: int = Field(default=1, ge=1, description="Texts per subject × task (each a separate request).")
    k_examples: int = Field(
        default=2, ge=0,
        description="Golden examples sampled into each teacher prompt (seed 001: real examples raised quality most).",
    )
    seed: int = Field(default=0, description="Seed of golden sampling and of the per-request sampling seed.")
    temperature: float = Field(default=0.8, ge=0, le=2, description="Teacher sampling temperature.")
    max_tokens: int = Field(default=1024, ge=1, description="Max completion tokens per teacher request.")
    student_system: bool = Field(
        default=False,
        description="Put the kit's voice as a system message into the student prompt (else: user message only).",
    )
    value_mode: bool = Field(
        default=False,
        description="Product–value mode (seed 001): the teacher proposes values per product; "
        "(product, value) pairs become subjects and templates receive `value`.",
    )
    values_per_product: int = Field(default=3, ge=1, description="Distinct values kept per product in value mode.")
    values_requested: int = Field(
        default=6, ge=1, description="Values asked of the teacher per product (more than kept, for dedup)."
    )


class CleanConfig(StrictModel):
    """Settings of ``slmforge clean``: rule pass, near-dup removal, targeted rewrites."""

    teacher_role: str = Field(default="teacher", description="LLM client role that rewrites failing records.")
    rules: list[RuleName] = Field(
        default_factory=default_rules,
        description="Rules a kept record must pass (default: every rule the check registry turns on for cleaning: "
        "length, avoid_terms, markdown_headings, cta_missing, structure_labels, stray_markup, language_mismatch, "
        "degenerate, coverage, informative).",
    )
    rewrite_passes: list[list[RuleName]] = Field(
        default=[["structure_labels", "avoid_terms", "stray_markup", "markdown_headings"], ["cta_missing"]],
        description="Targeted rewrite passes in order (seed 003: labels + facts, then CTA); a record failing a "
        "rule of a pass goes to the teacher with a rewrite prompt for that defect. [] disables rewriting.",
    )
    dedup_threshold: float = Field(
        default=0.8, gt=0, le=1,
        description="MinHash LSH Jaccard threshold above which two texts are near-duplicates.",
    )
    ngram: int | None = Field(
        default=None, ge=1,
        description="Shingle size in characters of the normalised text; unset: 3 for CJK text, 5 otherwise "
        "(checks.similarity.shingles, the same shingles as the leakage check).",
    )
    num_perm: int = Field(default=128, ge=16, description="MinHash permutations (datasketch).")
    similarity_floor: float = Field(
        default=0.6, ge=0, le=1,
        description="Minimal-edit rewrites must keep at least this character similarity to the original "
        "(difflib ratio, 0..1); else the rewrite is rejected.",
    )
    minimal_edit_rules: list[RuleName] = Field(
        default=["structure_labels", "avoid_terms", "stray_markup", "markdown_headings", "cta_missing"],
        description="Rules whose rewrites are minimal edits, verified against similarity_floor.",
    )
    temperature: float = Field(default=0.2, ge=0, le=2, description="Rewrite sampling temperature.")
    max_tokens: int = Field(default=1024, ge=1, description="Max completion tokens per rewrite request.")
    seed: int = Field(default=0, description="Seed passed to rewrite requests.")

    @field_validator("rules", "minimal_edit_rules")
    @classmethod
    def _known_rules(cls, v: list[str], info: ValidationInfo) -> list[str]:
        return validate_check_names(v, where=info.field_name, kind="rule")

    @field_validator("rewrite_passes")
    @classmethod
    def _known_pass_rules(cls, v: list[list[str]]) -> list[list[str]]:
        for i, rules in enumerate(v):
            validate_check_names(rules, where=f"rewrite_passes[{i}]", kind="rule")
        return v

    @model_validator(mode="after")
    def _passes_use_rules(self) -> CleanConfig:
        for i, rules in enumerate(self.rewrite_passes):
            unknown = [r for r in rules if r not in self.rules]
            if unknown:
                raise ValueError(f"rewrite_passes[{i}] names rules not in `rules`: {unknown}")
        return self


class PrefsConfig(StrictModel):
    """Settings of ``slmforge prefs``: rejected-side strategies and their mix."""

    mix: dict[Strategy, float] = Field(
        default={"weak": 0.5, "exaggerated": 0.3, "fake": 0.2},
        description="Share of pairs per strategy (seed 003: 50/30/20); normalised; counts are exact "
        "(largest-remainder), assignment seeded.",
    )
    seed: int = Field(default=0, description="Seed of the strategy assignment and of request seeds.")
    weak_role: str = Field(
        default="weak", description="Role of the weak model (a local base model by default, or any endpoint)."
    )
    red_team_role: str = Field(default="teacher", description="Role writing exaggerated and fake rejected texts.")
    max_attempts: int = Field(default=3, ge=1, description="Attempts per rejected text before it is reported.")
    fake_max_edits: int = Field(default=2, ge=1, description="A fake must show 1..N fact edits vs its chosen.")
    fake_similarity: float = Field(
        default=0.8, ge=0, le=1, description="A fake must stay at least this similar to its chosen (0..1)."
    )
    temperature: float = Field(default=0.9, ge=0, le=2, description="Sampling temperature of rejected texts.")
    max_tokens: int = Field(default=1024, ge=1, description="Max completion tokens per rejected-side request.")
    limit: int | None = Field(default=None, ge=1, description="Use only the first N chosen records.")

    @model_validator(mode="after")
    def _mix_positive(self) -> PrefsConfig:
        if not self.mix or sum(self.mix.values()) <= 0 or any(v < 0 for v in self.mix.values()):
            raise ValueError("mix needs non-negative shares with a positive sum, e.g. {weak: 0.5, exaggerated: 0.3, fake: 0.2}")
        return self


def load_config(path: str | Path | None, model: type[StrictModel], **overrides) -> StrictModel:
    """Load a stage config from YAML (or defaults when ``path`` is None) and apply non-None overrides.

    Args:
        path: YAML file with the model's fields at top level, or None.
        model: :class:`SynthConfig`, :class:`CleanConfig` or :class:`PrefsConfig`.
        **overrides: field values from CLI flags; ``None`` means "not given".

    Raises:
        ConfigError: unreadable YAML or a field that does not validate (names file, key and fix).
    """
    from slmforge.config import read_yaml, validate

    data = read_yaml(path, what=f"{model.__name__} config") if path is not None else {}
    data |= {k: v for k, v in overrides.items() if v is not None}
    return validate(model, data, file=path)
