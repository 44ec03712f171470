"""Settings of ``slmforge eval``: which candidates, which held-out items, how to sample, how to judge.

A YAML file in this shape (every key optional except ``candidates``)::

    candidates:
      - {name: base}                       # client role "base" (local tiny model, hosted id, endpoint)
      - {name: sft}
      - {name: dpo}
      - {name: golden, kind: golden}       # the held-out reference texts
      - {name: prompting, kind: prompting, role: base, few_shot: 3, plan_then_write: true}
    heldout: data/heldout.jsonl            # SFT JSONL; absent → the kit's golden examples
    sampling: {temperature: 0.7, top_p: 0.9, max_tokens: 400, seed: 0}
    judge: {role: judge, pointwise: true, pairwise: true, teacher_model: gpt-4o-mini}
"""

from __future__ import annotations

from itertools import combinations
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from slmforge.config import DtypeName
from slmforge.kit.schema import StrictModel


class CandidateSpec(StrictModel):
    """One system under evaluation."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", description="Name shown in the report (never shown to the judge).")
    kind: Literal["model", "golden", "prompting"] = Field(
        default="model",
        description="model: a client role answers the held-out prompts as they are; golden: the reference "
        "texts; prompting: the role with the kit's system prompt + few-shot golden examples (seed 004's "
        "hybrid-prompting baseline).",
    )
    role: str | None = Field(default=None, description="LLMClient role; defaults to `name` (`base` for prompting).")
    few_shot: int = Field(default=3, ge=0, description="prompting: golden examples of the same task shown as turns.")
    plan_then_write: bool = Field(
        default=False, description="prompting: ask for a short plan first, then the copy after a 'COPY:' line."
    )

    @property
    def client_role(self) -> str | None:
        """The LLMClient role that generates this candidate's texts (None for golden)."""
        if self.kind == "golden":
            return None
        return self.role or ("base" if self.kind == "prompting" else self.name)


class Sampling(StrictModel):
    """Fixed sampling settings for every generating candidate (recorded in the manifest)."""

    temperature: float = Field(default=0.7, ge=0, description="Sampling temperature (0 = greedy).")
    top_p: float = Field(default=0.9, gt=0, le=1, description="Nucleus sampling mass.")
    max_tokens: int = Field(default=512, ge=1, description="Maximum new tokens per generation.")
    seed: int = Field(default=0, description="Sampling seed (passed to the endpoint / local generate).")


class JudgeConfig(StrictModel):
    """LLM judge settings (G-Eval pointwise and position-swapped pairwise)."""

    role: str = Field(default="judge", description="LLMClient role of the judge.")
    pointwise: bool = Field(default=True, description="G-Eval scores per criterion (Liu et al. 2023).")
    pairwise: bool = Field(default=True, description="Blind comparisons, every pair in both orders.")
    pairs: list[tuple[str, str]] | None = Field(
        default=None, description="Candidate pairs to compare; default: every pair of candidates."
    )
    logprobs: bool = Field(
        default=True, description="Request logprobs (top 5) and use the probability-weighted score when returned."
    )
    temperature: float = Field(default=0.0, ge=0, description="Judge sampling temperature.")
    max_tokens: int = Field(default=400, ge=16, description="Judge reply budget in tokens.")
    retries: int = Field(
        default=1, ge=0, le=5,
        description="Re-ask a judge call whose reply was rejected (not one JSON object, a repeated score / verdict "
        "field, out of scale) this many times, each a fresh request (not answered from the ledger's cached reply).",
    )
    teacher_model: str | None = Field(
        default=None, description="Model id of the data teacher; the report warns when judge and teacher share a family."
    )


class EvalConfig(StrictModel):
    """Everything ``evaluate`` needs besides the kit, the client and the output directory."""

    candidates: list[CandidateSpec] = Field(min_length=1, description="Systems to compare.")
    heldout: str | None = Field(
        default=None, description="Held-out SFT JSONL (SFTExample or seed {'messages': [...]}) ; absent → kit golden."
    )
    tasks: list[str] | None = Field(default=None, description="Only these task ids (default: all).")
    max_items: int | None = Field(default=None, ge=1, description="At most this many held-out items per task.")
    sampling: Sampling = Field(default_factory=Sampling)
    judge: JudgeConfig | None = Field(default_factory=JudgeConfig, description="null: no LLM judge.")
    checks: list[str] | None = Field(default=None, description="Check names to run (default: all).")
    rm_dir: str | None = Field(default=None, description="Trained reward model dir; adds an `rm` score column.")
    rm_dtype: DtypeName = Field(
        default="auto", description="Weights dtype of the reward model while scoring (slmforge.models.load.resolve_dtype).")
    n_boot: int = Field(default=1000, ge=50, description="Bootstrap replicates for confidence intervals.")
    seed: int = Field(default=0, description="Seed of label shuffling and bootstrap.")
    worst_n: int = Field(default=10, ge=0, description="Rows in the worst-items table.")

    @model_validator(mode="after")
    def _names(self) -> EvalConfig:
        names = [c.name for c in self.candidates]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"duplicate candidate names {sorted(dup)}")
        if self.judge and self.judge.pairs:
            for a, b in self.judge.pairs:
                if a not in names or b not in names or a == b:
                    raise ValueError(f"judge.pairs entry ({a}, {b}) must name two different candidates of {names}")
        return self

    def pairs(self) -> list[tuple[str, str]]:
        """Candidate pairs for the comparative judge (configured, else all pairs in candidate order)."""
        if self.judge is None or not self.judge.pairwise:
            return []
        return list(self.judge.pairs or combinations([c.name for c in self.candidates], 2))


def load_eval_config(path: str | Path) -> EvalConfig:
    """Read an :class:`EvalConfig` from YAML.

    Raises:
        ConfigError: unreadable file, invalid YAML, or a field that does not validate (names the key path).
    """
    from slmforge.config import load_yaml_model

    return load_yaml_model(path, EvalConfig, what="eval config")
