"""Typed training configs: our small sections (model, LoRA, data, rewards) plus a ``trl:`` section that is
passed unchanged into TRL's own ``SFTConfig`` / ``DPOConfig`` / ``RewardConfig`` / ``GRPOConfig``.

We do not re-declare TRL's fields: anything under ``trl:`` (learning_rate, num_train_epochs, beta,
loss_type, packing, max_length, num_generations …) is checked by building the TRL config, so a
misspelt key fails at load time with the file and key named. YAML example::

    method: sft
    output_dir: runs/sft
    model: {base: [Qwen/Qwen2.5-0.5B-Instruct, runs/tiny]}
    data: {train: data/sft.jsonl, eval_fraction: 0.2}
    lora: {r: 16, alpha: 32}
    trl: {num_train_epochs: 3, learning_rate: 2.0e-4}
"""

from __future__ import annotations

import typing
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from slmforge.config import DtypeName
from slmforge.errors import ConfigError

Method = Literal["sft", "dpo", "rm", "grpo"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ModelSection(_Section):
    """Which base model to start from and how to load it."""

    base: list[str] = Field(..., min_length=1, description="Hub ids or folders, tried in order (fallback chain).")
    load_in_4bit: bool = Field(False, description="QLoRA: 4-bit NF4 base weights via bitsandbytes (CUDA only).")
    gradient_checkpointing: bool | None = Field(
        None, description="Recompute activations to save memory; default: on with CUDA, off on CPU.")
    dtype: DtypeName = Field(
        "auto", description="Weights dtype (slmforge.models.load.resolve_dtype): auto = bf16 on CUDA, float32 on "
                            "CPU; fast = bf16 also on a CPU with AMX / AVX512-BF16; training in bf16 turns on the "
                            "Trainer's bf16 autocast.")


class LoraSection(_Section):
    """LoRA adapter settings (PEFT ``LoraConfig``); ``enabled: false`` trains all weights."""

    enabled: bool = Field(True, description="Train a LoRA adapter instead of all weights.")
    r: int = Field(16, ge=1, description="Rank of the low-rank update.")
    alpha: int = Field(32, ge=1, description="Scaling numerator (update scaled by alpha / r).")
    dropout: float = Field(0.05, ge=0, lt=1, description="Dropout on the LoRA input.")
    target_modules: str | list[str] = Field("all-linear", description="Modules to adapt ('all-linear' or names).")


class DataSection(_Section):
    """Where the records are and how the held-out split is made."""

    train: str = Field(..., description="JSONL: SFTExample / TRL messages (sft, grpo) or PreferencePair / "
                                        "prompt-chosen-rejected(-method) rows (dpo, rm).")
    eval: str | None = Field(None, description="Held-out JSONL; when absent, eval_fraction of the subjects is held out.")
    eval_fraction: float = Field(0.2, ge=0, lt=1, description="Share of rows held out (whole subjects at a time, stratified by task), as split.eval_fraction of a project.")
    max_rows: int | None = Field(None, ge=1, description="Use at most this many training rows (smoke tests).")
    max_eval_rows: int | None = Field(None, ge=1, description="Use at most this many held-out rows.")
    seed: int = Field(0, description="Seed of the split and of the row subsample.")


class RewardSection(_Section):
    """GRPO rewards: the kit's checks (weighted) and optionally a trained reward model."""

    kit: str | None = Field(None, description="Kit folder whose checks are the reward (slmforge.checks.reward_functions).")
    weights: dict[str, float] | None = Field(None, description="Check name → weight; None = the kit's defaults.")
    reward_model: str | None = Field(None, description="Run dir of `slmforge train rm` to add its normalised score.")
    reward_model_weight: float = Field(1.0, ge=0, description="Weight of the reward-model score.")


class TrainConfig(_Section):
    """One training run. ``trl`` holds keyword arguments of the method's TRL config class."""

    method: Method
    output_dir: str
    model: ModelSection
    data: DataSection
    lora: LoraSection = Field(default_factory=LoraSection)
    rewards: RewardSection = Field(default_factory=RewardSection)
    trl: dict[str, Any] = Field(default_factory=dict, description="Passed to SFTConfig/DPOConfig/RewardConfig/GRPOConfig.")


def trl_config_class(method: Method):
    """The TRL config dataclass of ``method`` (imported lazily: TRL is heavy)."""
    import trl

    return {"sft": trl.SFTConfig, "dpo": trl.DPOConfig, "rm": trl.RewardConfig, "grpo": trl.GRPOConfig}[method]


def _set_dotted(doc: dict, key: str, value: Any) -> None:
    *parents, last = key.split(".")
    for p in parents:
        doc = doc.setdefault(p, {})
    doc[last] = value


def load_train_config(path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> TrainConfig:
    """Read a YAML training config and apply dotted-key overrides (``{"trl.learning_rate": 1e-4}``).

    Relative data / model / output paths are resolved against the YAML file's folder when they exist there.

    Raises:
        ConfigError: unreadable YAML, an unknown or invalid key (named with the file), or a ``trl`` key
            that the method's TRL config does not have.
    """
    from slmforge.config import read_yaml, validate

    doc: dict[str, Any] = read_yaml(path, what="training config") if path is not None else {}
    for key, value in (overrides or {}).items():
        _set_dotted(doc, key, value)
    cfg = validate(TrainConfig, doc, file=path)
    if path is not None:
        _resolve_relative(cfg, Path(path).parent.resolve())
    check_trl_keys(cfg, path)
    return cfg


def _resolve_relative(cfg: TrainConfig, root: Path) -> None:
    """Data, model and reward paths written relative to the config file, made absolute when they exist there."""

    def fix(p: str | None) -> str | None:
        return str((root / p).resolve()) if p and not Path(p).is_absolute() and (root / p).exists() else p

    cfg.data.train, cfg.data.eval = fix(cfg.data.train), fix(cfg.data.eval)
    cfg.model.base = [fix(b) for b in cfg.model.base]
    cfg.rewards.kit, cfg.rewards.reward_model = fix(cfg.rewards.kit), fix(cfg.rewards.reward_model)


def check_trl_keys(cfg: TrainConfig, path: str | Path | None = None) -> None:
    """Fail early when ``cfg.trl`` has a key the TRL config class of ``cfg.method`` does not know.

    Raises:
        ConfigError: naming the key and the class.
    """
    import dataclasses

    cls = trl_config_class(cfg.method)
    known = {f.name for f in dataclasses.fields(cls)}
    for key in cfg.trl:
        if key not in known:
            raise ConfigError(f"unknown {cls.__name__} field", file=path, field=f"trl.{key}",
                              fix=f"use a field of trl.{cls.__name__} (see its docs) or remove it")
    hints = typing.get_type_hints(cls)
    for key, value in cfg.trl.items():
        problem = _type_problem(hints.get(key), value) or _range_problem(key, value)
        if problem:
            raise ConfigError(problem[0], file=path, field=f"trl.{key}", fix=problem[1])


#: value ranges of common TRL / TrainingArguments fields: name → (lowest allowed, lowest is allowed).
RANGES = {"learning_rate": (0.0, True), "num_train_epochs": (0.0, False), "per_device_train_batch_size": (1, True),
          "per_device_eval_batch_size": (1, True), "gradient_accumulation_steps": (1, True), "beta": (0.0, False),
          "max_length": (1, True), "max_completion_length": (1, True), "num_generations": (2, True),
          "warmup_ratio": (0.0, True), "weight_decay": (0.0, True), "logging_steps": (0.0, False)}


def _type_problem(hint, value) -> tuple[str, str] | None:
    """Why ``value`` does not fit a dataclass field annotated ``hint`` (float / int / bool / str, Optional of them)."""
    args = typing.get_args(hint)
    if value is None:
        return None if type(None) in args or hint is None else ("must not be null", "give a value or remove the key")
    base = next((a for a in args if a is not type(None)), hint) if args and type(None) in args else hint
    if base is float and (isinstance(value, bool) or not isinstance(value, (int, float))):
        fix = "write it as a number, e.g. 3.0e-3 (YAML 1.1 reads 3e-3 as text)" if isinstance(value, str) else "give a number"
        return f"must be a number, got {value!r}", fix
    if base is int and (isinstance(value, bool) or not isinstance(value, int)):
        return f"must be an integer, got {value!r}", "give a whole number"
    if base is bool and not isinstance(value, bool):
        return f"must be true or false, got {value!r}", "write true or false"
    return None


def _range_problem(key: str, value) -> tuple[str, str] | None:
    if key not in RANGES or not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    low, inclusive = RANGES[key]
    if value < low or (value == low and not inclusive):
        return f"must be {'≥' if inclusive else '>'} {low}, got {value!r}", "correct the value"
    return None
