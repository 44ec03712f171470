"""Direct Preference Optimization (Rafailov et al. 2023) with TRL's ``DPOTrainer`` and LoRA.

Run it::

    slmforge train dpo --config src/slmforge/train/configs/dpo.yaml

With a LoRA ``peft_config`` and no reference model, TRL uses the base with the adapter disabled as the
reference policy, so only one model is in memory. Reward accuracy (share of held-out pairs where the
implicit reward β·log π/π_ref of chosen beats rejected) and margin are measured before and after.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

from slmforge.train.config import TrainConfig
from slmforge.train.data import load_splits, read_preference_rows
from slmforge.train.models import load_base, lora_config
from slmforge.train.runner import MetricsCallback, check_kept, finish, fit, quiet_progress, start_run, trl_args

log = logging.getLogger(__name__)
DPO_DEFAULTS = {"learning_rate": 5e-5, "num_train_epochs": 1, "beta": 0.1, "max_length": 1024,
                "per_device_train_batch_size": 4, "per_device_eval_batch_size": 4}
COLUMNS = ["prompt", "chosen", "rejected"]


def train_dpo(cfg: TrainConfig, *, resume: bool = False) -> Path:
    """Train a DPO LoRA adapter on preference pairs.

    Args:
        cfg: config with ``method == "dpo"``; ``cfg.trl`` goes into ``trl.DPOConfig`` (beta, loss_type …).
        resume: continue from the last checkpoint in ``OUT/checkpoints``.

    Returns:
        the run dir; the manifest's metrics hold ``eval_reward_accuracy`` / ``eval_reward_margin``
        (before and after) on held-out pairs.

    Raises:
        ConfigError / DataError: bad config or records; every training (or held-out) prompt at least
            ``trl.max_length`` tokens long (TRL drops such pairs).
        KeyboardInterrupt: Ctrl-C, after saving a checkpoint.
    """
    from datasets import Dataset
    from trl import DPOTrainer

    out, manifest = start_run(cfg, resume=resume)
    base = load_base(cfg.model)
    manifest.notes += base.notes
    train_rows, eval_rows = load_splits(cfg.data, read_preference_rows)
    args = trl_args(cfg, out, has_eval=bool(eval_rows), defaults=DPO_DEFAULTS)
    to_ds = lambda rows: Dataset.from_list([{c: r[c] for c in COLUMNS} for r in rows])  # noqa: E731
    trainer = DPOTrainer(model=base.model, ref_model=None, args=args, train_dataset=to_ds(train_rows),
                         eval_dataset=to_ds(eval_rows) if eval_rows else None, processing_class=base.tokenizer,
                         peft_config=lora_config(cfg.lora), callbacks=[MetricsCallback(out)])
    quiet_progress(trainer, "dpo")
    if args.truncation_mode == "keep_start":  # keep_end truncation drops nothing
        too_long = "have a prompt at least trl.max_length tokens long"
        check_kept(manifest, trainer.train_dataset, len(train_rows), split="training", too_long=too_long,
                   max_length=args.max_length)
        check_kept(manifest, trainer.eval_dataset, len(eval_rows), split="held-out", too_long=too_long,
                   max_length=args.max_length)
    if eval_rows and not resume:
        manifest.metrics |= _before_metrics(trainer, args)
    fit(trainer, out, resume=resume)
    if eval_rows:
        manifest.metrics |= _reward_metrics(trainer.evaluate(), "after")
    result = "adapter" if cfg.lora.enabled else "model"
    trainer.save_model(str(out / result))
    base.tokenizer.save_pretrained(str(out / result))
    manifest.counts.update(train_pairs=len(train_rows), eval_pairs=len(eval_rows), steps=trainer.state.global_step)
    manifest.notes.append(f"base model: {base.name}")
    return finish(cfg, out, manifest, outputs=[result],
                  plot_keys=["loss", "eval_loss", "eval_rewards/accuracies", "eval_rewards/margins"])


def _before_metrics(trainer, args) -> dict[str, float]:
    """Held-out metrics before the first step. Then the policy *is* the reference (a fresh LoRA adapter has
    B = 0, a full fine-tune starts from a copy), so every implicit reward β·log π/π_ref is 0: for the
    sigmoid loss (Rafailov et al. 2023, eq. 7) the loss is −log σ(0) = ln 2, the margin 0 and the accuracy
    (chosen reward strictly above rejected, TRL's definition) 0 — written without a forward pass. Other
    loss types, label smoothing or weighting are evaluated."""
    plain = (list(args.loss_type) == ["sigmoid"] and args.label_smoothing == 0 and not args.use_weighting
             and args.ld_alpha is None)
    if plain:
        return {"eval_reward_accuracy_before": 0.0, "eval_reward_margin_before": 0.0, "eval_loss_before": math.log(2)}
    return _reward_metrics(trainer.evaluate(), "before")


def _reward_metrics(logs: dict, when: str) -> dict[str, float]:
    return {f"eval_reward_accuracy_{when}": logs["eval_rewards/accuracies"],
            f"eval_reward_margin_{when}": logs["eval_rewards/margins"], f"eval_loss_{when}": logs["eval_loss"]}
