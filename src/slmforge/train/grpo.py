"""Group Relative Policy Optimization (Shao et al. 2024, DeepSeekMath) with TRL's ``GRPOTrainer``.

Run it::

    slmforge train grpo --config src/slmforge/train/configs/grpo.yaml

Prompts come from the SFT set (the messages before the assistant answer). Rewards are the kit's checks
(``slmforge.checks.reward_functions``, one function per weighted reward check of the check registry, with
the kit's catalog vocabulary) plus, optionally, a trained
reward model's score squashed to [0, 1] with a sigmoid. TRL logs ``rewards/<name>/mean`` per step,
which lands in ``metrics.jsonl`` and the plot, and (``log_completions``, on by default here) every
completion with its rewards to ``checkpoints/completions/completions_<step>.parquet``; read them back
with :func:`completion_rewards`.
"""

from __future__ import annotations

import logging
from pathlib import Path

from slmforge.data.records import instruction_of
from slmforge.errors import ConfigError
from slmforge.train.config import TrainConfig
from slmforge.train.data import load_splits, read_sft_rows
from slmforge.train.models import load_base, lora_config
from slmforge.train.runner import CHECKPOINTS, MetricsCallback, finish, fit, quiet_progress, start_run, trl_args

log = logging.getLogger(__name__)
GRPO_DEFAULTS = {"learning_rate": 1e-5, "num_train_epochs": 1, "num_generations": 4, "max_completion_length": 128,
                 "per_device_train_batch_size": 4, "temperature": 1.0, "eval_strategy": "no",
                 "save_strategy": "steps", "save_steps": 50, "log_completions": True, "num_completions_to_print": 0}
COMPLETIONS = "completions"
"""Folder (under the run's ``checkpoints/``) where TRL writes one parquet file of completions per logged step."""


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


def completion_rewards(run_dir: str | Path) -> list[dict]:
    """Every logged completion of a GRPO run with its rewards, in step order.

    Reads the parquet files TRL's ``GRPOTrainer`` writes when ``log_completions`` is on
    (``run_dir/checkpoints/completions/completions_<step>.parquet``; TRL keeps the last
    ``generation_batch_size`` completions per logged step, i.e. every completion when ``logging_steps`` is 1).

    Args:
        run_dir: the run dir of :func:`train_grpo`.

    Returns:
        one dict per completion: ``step`` (int), ``prompt`` (the user messages' text, str), ``completion``
        (str), ``rewards`` (reward function name → value as the function returned it, before TRL's group
        normalisation; every column other than step / prompt / completion / advantage is taken as one) and
        ``reward`` (their sum: TRL's ``reward`` unless ``GRPOConfig.reward_weights`` is set); an empty list
        when the run logged no completions.
    """
    import pyarrow.parquet as pq

    from slmforge.checks.rewards import completion_text

    rows = []
    for path in sorted((Path(run_dir) / CHECKPOINTS / COMPLETIONS).glob("completions_*.parquet")):
        for r in pq.read_table(path).to_pylist():
            names = [k for k in r if k not in ("step", "prompt", "completion", "advantage")]
            prompt = r["prompt"]
            user = prompt if isinstance(prompt, str) else instruction_of(prompt)
            rewards = {k: float(r[k]) for k in names}
            rows.append({"step": int(r["step"]), "prompt": user, "completion": completion_text(r["completion"]),
                         "rewards": rewards, "reward": sum(rewards.values())})
    return sorted(rows, key=lambda r: r["step"])


def _rows_with_identity(rows: list[dict]) -> list[dict]:
    """GRPO dataset rows: the prompt and the record's identity as columns (TRL passes every extra column to
    each reward function as a keyword argument, aligned with the completions). Nothing is re-derived
    from the prompt's text."""
    return [{"prompt": r["prompt"], "task": r["task"], "subject_id": r["subject_id"] or "",
             "instruction": r["instruction"]} for r in rows]


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

    from slmforge.checks import kit_vocabulary
    from slmforge.checks.rewards import reward_functions
    from slmforge.kit import load_kit

    if not cfg.rewards.kit:
        raise ConfigError("GRPO needs the kit whose checks are the reward", field="rewards.kit",
                          fix="set rewards.kit to the kit folder")
    out, manifest = start_run(cfg, resume=resume)
    base = load_base(cfg.model)
    manifest.notes += base.notes
    train_rows, _ = load_splits(cfg.data, read_sft_rows)
    lk = load_kit(cfg.rewards.kit)
    try:
        funcs = reward_functions(lk.kit, weights=cfg.rewards.weights, vocab=kit_vocabulary(lk), subjects=lk.subjects)
    except ValueError as e:
        raise ConfigError(str(e), field="rewards.weights", fix="use check names of slmforge.checks") from e
    if cfg.rewards.reward_model:
        funcs.append(reward_model_reward(cfg.rewards.reward_model, cfg.rewards.reward_model_weight))
    args = trl_args(cfg, out, has_eval=False, defaults=GRPO_DEFAULTS)
    trainer = GRPOTrainer(model=base.model, reward_funcs=funcs, args=args,
                          train_dataset=Dataset.from_list(_rows_with_identity(train_rows)),
                          processing_class=base.tokenizer, peft_config=lora_config(cfg.lora),
                          callbacks=[MetricsCallback(out)])
    quiet_progress(trainer, "grpo")
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
