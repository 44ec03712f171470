"""Group Relative Policy Optimization (Shao et al. 2024, DeepSeekMath) with TRL's ``GRPOTrainer``.

Run it::

    slmforge train grpo --config src/slmforge/train/configs/grpo.yaml

Prompts come from the SFT set (the messages before the assistant answer). Rewards are the kit's checks
(``slmforge.checks.reward_functions``, one function per weighted check) plus, optionally, a trained
reward model's score squashed to [0, 1] with a sigmoid. TRL logs ``rewards/<name>/mean`` per step,
which lands in ``metrics.jsonl`` and the plot.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from slmforge.errors import ConfigError
from slmforge.train.config import TrainConfig
from slmforge.train.data import load_splits, read_sft_rows
from slmforge.train.models import load_base, lora_config
from slmforge.train.runner import MetricsCallback, finish, fit, start_run, trl_args

log = logging.getLogger(__name__)
GRPO_DEFAULTS = {"learning_rate": 1e-5, "num_train_epochs": 1, "num_generations": 4, "max_completion_length": 128,
                 "per_device_train_batch_size": 4, "temperature": 1.0, "eval_strategy": "no",
                 "save_strategy": "steps", "save_steps": 50}


def reward_model_reward(rm_dir: str | Path, weight: float = 1.0):
    """A TRL reward function ``f(prompts, completions) -> list[float]``: ``weight · sigmoid(RM score)``.

    Args:
        rm_dir: run dir (or ``model/`` folder) of :func:`slmforge.train.rm.train_rm`.
        weight: multiplier; the result lies in [0, weight].
    """
    import math

    from slmforge.checks.rewards import completion_text
    from slmforge.train.rm import score_texts

    def reward_model(prompts, completions, **kwargs) -> list[float]:
        scores = score_texts(rm_dir, list(prompts), [completion_text(c) for c in completions])
        return [weight / (1 + math.exp(-s)) for s in scores]

    return reward_model


def _rows_with_context(rows: list[dict], kit_path: str) -> list[dict]:
    from slmforge.kit import load_kit
    from slmforge.kit.match import task_for_prompt

    lk = load_kit(kit_path)
    out = []
    for r in rows:
        user = "\n".join(m["content"] for m in r["prompt"] if m["role"] == "user")
        task, subject_id = task_for_prompt(lk, user)
        subject = lk.subjects.get(subject_id) if subject_id else None
        out.append({"prompt": r["prompt"], "task": r["task"] or task or "",
                    "subject": json.dumps(subject, ensure_ascii=False, default=str) if subject else ""})
    return out


def train_grpo(cfg: TrainConfig, *, resume: bool = False) -> Path:
    """Optimise the policy against the kit's checks (+ optional reward model) with GRPO and LoRA.

    Args:
        cfg: config with ``method == "grpo"`` and ``rewards.kit`` set; ``cfg.trl`` goes into ``trl.GRPOConfig``.
        resume: continue from the last checkpoint.

    Returns:
        the run dir; manifest metrics ``reward_first`` / ``reward_last`` (mean total reward of the first and
        last logged steps) and the same per component.

    Raises:
        ConfigError: no kit given, or unknown check names in ``rewards.weights``.
        KeyboardInterrupt: Ctrl-C, after saving a checkpoint.
    """
    from datasets import Dataset
    from trl import GRPOTrainer

    from slmforge.checks.rewards import reward_functions
    from slmforge.kit import load_kit

    if not cfg.rewards.kit:
        raise ConfigError("GRPO needs the kit whose checks are the reward", field="rewards.kit",
                          fix="set rewards.kit to the kit folder")
    out, manifest = start_run(cfg, resume=resume)
    base = load_base(cfg.model)
    manifest.notes += base.notes
    train_rows, _ = load_splits(cfg.data, read_sft_rows)
    try:
        funcs = reward_functions(load_kit(cfg.rewards.kit).kit, weights=cfg.rewards.weights)
    except ValueError as e:
        raise ConfigError(str(e), field="rewards.weights", fix="use check names of slmforge.checks") from e
    if cfg.rewards.reward_model:
        funcs.append(reward_model_reward(cfg.rewards.reward_model, cfg.rewards.reward_model_weight))
    args = trl_args(cfg, out, has_eval=False, defaults=GRPO_DEFAULTS)
    trainer = GRPOTrainer(model=base.model, reward_funcs=funcs, args=args,
                          train_dataset=Dataset.from_list(_rows_with_context(train_rows, cfg.rewards.kit)),
                          processing_class=base.tokenizer, peft_config=lora_config(cfg.lora),
                          callbacks=[MetricsCallback(out)])
    fit(trainer, out, resume=resume)
    result = "adapter" if cfg.lora.enabled else "model"
    trainer.save_model(str(out / result))
    base.tokenizer.save_pretrained(str(out / result))
    keys = ["reward"] + [f"rewards/{f.__name__}/mean" for f in funcs]
    logged = [h for h in trainer.state.log_history if "reward" in h]
    if logged:
        for key in keys:
            name = key.removeprefix("rewards/").removesuffix("/mean")
            manifest.metrics[f"{name}_first"] = logged[0].get(key, float("nan"))
            manifest.metrics[f"{name}_last"] = logged[-1].get(key, float("nan"))
    manifest.counts.update(prompts=len(train_rows), steps=trainer.state.global_step)
    manifest.notes.append(f"base model: {base.name}; rewards: {[f.__name__ for f in funcs]}")
    return finish(cfg, out, manifest, outputs=[result], plot_keys=keys)
