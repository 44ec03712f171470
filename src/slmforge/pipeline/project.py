"""The project file of ``slmforge run``: the kit, the models per role, and each stage's settings.

A project YAML looks like this (paths are relative to the project file; every section but ``name``,
``kit`` and ``student`` is optional)::

    name: demo
    kit: .                                   # the kit directory
    student:                                 # the model that is fine-tuned
      tiny: {vocab_size: 4000, hidden_size: 64}   # offline demo: build a tiny model from the kit's text
      # base: [Qwen/Qwen2.5-0.5B-Instruct]        # real runs: hub ids or folders, tried in order
    models:                                  # LLM client roles (slmforge.llm.ModelConfig)
      teacher: {backend: openai, model: deepseek-chat, base_url: https://api.deepseek.com/v1,
                api_key_env: DEEPSEEK_API_KEY}
      judge: {backend: openai, model: gpt-4o-mini}
    synth: {variants: 2, k_examples: 3}     # slmforge.synth.SynthConfig
    clean: {dedup_threshold: 0.8}           # slmforge.synth.CleanConfig
    split: {eval_fraction: 0.2, seed: 0}      # held-out share of the rows, whole subjects at a time
    prefs: {mix: {weak: 0.5, exaggerated: 0.3, fake: 0.2}}
    train:
      sft: {lora: {r: 16}, trl: {num_train_epochs: 3}}
      dpo: {trl: {beta: 0.1}}
      rm: {}
      grpo: null                            # null/absent: stage off
    eval: {max_items: 20, sampling: {temperature: 0.7}}

Roles that are absent or unreachable are replaced as the brief of ``slmforge run`` says: no teacher →
synthesis uses the kit's golden examples and the rejected sides come from rule-based perturbations;
no judge → evaluation uses the rule metrics and the reward model. The summary says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, model_validator

from slmforge.config import DtypeName
from slmforge.errors import ConfigError
from slmforge.evaluate.config import JudgeConfig, Sampling
from slmforge.kit.schema import StrictModel
from slmforge.llm.config import ModelConfig
from slmforge.synth.config import CleanConfig, PrefsConfig, SynthConfig

STAGES = ["model", "synth", "clean", "split", "prefs", "sft", "merge", "dpo", "rm", "grpo", "eval"]
"""Stage names in run order; ``--until/--only/--from`` take these."""


class TinySection(StrictModel):
    """Build a tiny random-weight student from the kit's own text (offline demo, tests)."""

    vocab_size: int = Field(default=4000, ge=300, description="Tokenizer vocabulary size in tokens.")
    hidden_size: int = Field(default=64, ge=16, description="Model width.")
    num_layers: int = Field(default=2, ge=1, description="Decoder layers.")
    seed: int = Field(default=0, description="Seed of the random weights.")


class StudentSection(StrictModel):
    """The model that is fine-tuned: hub ids / folders (fallback chain), or a tiny model built locally."""

    base: list[str] | None = Field(default=None, description="Hub ids or folders, tried in order.")
    tiny: TinySection | None = Field(default=None, description="Build a tiny model instead (offline demo).")
    device: str | None = Field(default=None, description="Torch device for generation; None = cuda if available.")
    load_in_4bit: bool = Field(default=False, description="Train on 4-bit NF4 base weights (QLoRA; CUDA only).")
    gradient_checkpointing: bool | None = Field(default=None, description="Recompute activations to save memory; "
                                                                          "default: on with CUDA, off on CPU.")
    dtype: DtypeName = Field(
        default="auto", description="Weights dtype for training and local generation "
                                    "(slmforge.models.load.resolve_dtype): auto = bf16 on CUDA, float32 on CPU; "
                                    "fast = bf16 also on a CPU with AMX / AVX512-BF16, float32 elsewhere.")


class ImportSection(StrictModel):
    """Already-synthesized data to use instead of the synth / prefs stages (e.g. the seed data)."""

    sft: str | None = Field(default=None, description="SFT JSONL (SFTExample or TRL `messages`).")
    prefs: str | None = Field(default=None, description="Preference JSONL (PreferencePair or prompt/chosen/rejected[/method]).")
    limit_subjects: int | None = Field(default=None, ge=2, description="Keep only rows of the first N subjects (quick runs).")


class SplitSection(StrictModel):
    """Held-out split by subject, stratified by task (:func:`slmforge.data.split.assign_groups`)."""

    eval_fraction: float = Field(default=0.2, gt=0, lt=1,
                                 description="Share of rows held out for evaluation (whole subjects at a time).")
    seed: int = Field(default=0, description="Shuffle seed.")

    @model_validator(mode="before")
    @classmethod
    def _renamed(cls, data: Any) -> Any:
        """``split.ratio`` (the train share) was renamed: say so with the value to write instead."""
        if isinstance(data, dict) and "ratio" in data:
            ratio = data["ratio"]
            hint = f"eval_fraction: {round(1 - ratio, 6)}" if isinstance(ratio, (int, float)) else "eval_fraction: 0.2"
            raise ValueError(f"split.ratio (the train share) is now eval_fraction (the held-out share): write {hint}")
        return data


class TrainStage(StrictModel):
    """One training method's settings: sections of slmforge.train.TrainConfig, minus paths the pipeline fills in."""

    lora: dict[str, Any] = Field(default_factory=dict, description="slmforge.train LoraSection fields.")
    trl: dict[str, Any] = Field(default_factory=dict, description="Fields of the method's TRL config class.")
    rewards: dict[str, Any] = Field(default_factory=dict, description="GRPO only: RewardSection fields.")
    max_rows: int | None = Field(default=None, ge=1, description="Use at most this many training rows.")
    max_eval_rows: int | None = Field(default=None, ge=1, description="Use at most this many held-out rows for the "
                                                                       "stage's held-out loss / accuracy.")


class TrainSection(StrictModel):
    """Which methods run; ``null`` switches a method off."""

    sft: TrainStage | None = Field(default_factory=TrainStage)
    dpo: TrainStage | None = Field(default_factory=TrainStage)
    rm: TrainStage | None = Field(default_factory=TrainStage)
    grpo: TrainStage | None = None


class EvalSection(StrictModel):
    """Evaluation settings; the candidates follow from the trained stages (base, sft, dpo, grpo, golden, prompting)."""

    max_items: int | None = Field(default=None, ge=1, description="At most this many held-out items per task.")
    sampling: Sampling = Field(default_factory=Sampling)
    judge: JudgeConfig = Field(default_factory=JudgeConfig, description="Used only when a judge role is configured.")
    few_shot: int = Field(default=2, ge=0, description="Golden examples in the prompting baseline.")
    n_boot: int = Field(default=1000, ge=50, description="Bootstrap replicates.")


class ProjectConfig(StrictModel):
    """A whole ``slmforge run`` project."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", description="Run name; the run dir is runs/<name>.")
    kit: str = Field(description="Kit directory, relative to the project file.")
    run_dir: str | None = Field(default=None, description="Run directory (default: runs/<name> under the cwd).")
    student: StudentSection
    models: dict[str, ModelConfig] = Field(default_factory=dict, description="LLM roles: teacher, weak, judge.")
    import_: ImportSection | None = Field(default=None, alias="import", description="Use existing data, skip synthesis.")
    synth: SynthConfig = Field(default_factory=SynthConfig)
    clean: CleanConfig | None = Field(default_factory=CleanConfig,
                                      description="null: keep the synth/imported records as they are.")
    split: SplitSection = Field(default_factory=SplitSection)
    prefs: PrefsConfig = Field(default_factory=PrefsConfig)
    train: TrainSection = Field(default_factory=TrainSection)
    eval: EvalSection = Field(default_factory=EvalSection)
    budget_usd: float | None = Field(default=None, gt=0, description="Stop cleanly before model spend exceeds this (USD).")


PIPELINE_SET: dict[tuple[str, ...], str] = {
    ("synth", "teacher_role"): "teacher", ("clean", "teacher_role"): "teacher",
    ("prefs", "weak_role"): "weak", ("prefs", "red_team_role"): "teacher",
    ("eval", "judge", "role"): "judge", ("eval", "judge", "teacher_model"): "teacher",
}
"""Fields of the stage configs that ``slmforge run`` sets itself (key path → the role of ``models:`` it
uses); a project may not set them — the roles are the keys of ``models:``."""


def _refuse_pipeline_set(data: dict[str, Any], path: Path) -> None:
    from slmforge.config import yaml_line

    for keys, role in PIPELINE_SET.items():
        node: Any = data
        for k in keys:
            node = node.get(k) if isinstance(node, dict) and k in node else None
            if node is None:
                break
        else:
            line = yaml_line(path.read_text(encoding="utf-8"), keys)
            what = "model" if keys[-1] == "teacher_model" else "role"
            raise ConfigError(f"{'.'.join(keys)} is set by the pipeline (the {what} of models.{role})",
                              file=path, line=line, field=".".join(keys),
                              fix=f"remove the key; configure models.{role} instead")


def load_project(path: str | Path) -> tuple[ProjectConfig, Path]:
    """Read a project YAML; returns the config with paths made absolute, and the project file's folder.

    Raises:
        ConfigError: unreadable file, invalid YAML, a key that does not validate (names the key path and
            line), or a field the pipeline sets itself (:data:`PIPELINE_SET`).
    """
    from slmforge.config import read_yaml, validate

    path = Path(path)
    data = read_yaml(path, what="project")
    _refuse_pipeline_set(data, path)
    cfg = validate(ProjectConfig, data, file=path)
    if cfg.student.base is None and cfg.student.tiny is None:
        raise ConfigError("the student needs `base` (hub ids / folders) or `tiny`", file=path, field="student",
                          fix="add student.base: [Qwen/Qwen2.5-0.5B-Instruct] or student.tiny: {}")
    root = path.parent.resolve()

    def absolute(p: str | None) -> str | None:
        if p is None:
            return None
        q = Path(p)
        return str(q if q.is_absolute() else (root / q).resolve())

    cfg.kit = absolute(cfg.kit)
    if cfg.import_:
        cfg.import_.sft = absolute(cfg.import_.sft)
        cfg.import_.prefs = absolute(cfg.import_.prefs)
    if cfg.student.base:
        cfg.student.base = [absolute(b) if (root / b).exists() else b for b in cfg.student.base]
    return cfg, root
