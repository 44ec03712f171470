"""Supervised fine-tuning (TRL ``SFTTrainer``) with LoRA and assistant-only loss.

Run it::

    slmforge train sft --config src/slmforge/train/configs/sft.yaml

When the tokenizer's chat template marks assistant turns with ``{% generation %}`` the conversational
``messages`` rows are trained with ``assistant_only_loss``; otherwise the rows become TRL
prompt/completion pairs and ``completion_only_loss`` gives the same loss mask for single-turn data.
The held-out loss is computed before training and after each epoch.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from slmforge.train.callbacks import read_metrics
from slmforge.train.config import TrainConfig
from slmforge.train.data import load_splits, read_sft_rows
from slmforge.train.models import load_base, lora_config
from slmforge.train.runner import MetricsCallback, check_kept, finish, fit, quiet_progress, start_run, trl_args

log = logging.getLogger(__name__)
GENERATION_MARK = re.compile(r"\{%-?\s*generation\s*-?%\}")
SFT_DEFAULTS = {"learning_rate": 2e-4, "num_train_epochs": 3, "max_length": 1024,
                "per_device_train_batch_size": 8, "per_device_eval_batch_size": 8}


def train_sft(cfg: TrainConfig, *, resume: bool = False) -> Path:
    """Fine-tune ``cfg.model.base`` on ``cfg.data.train`` and save the LoRA adapter (or full model).

    Args:
        cfg: config with ``method == "sft"``; ``cfg.trl`` goes into ``trl.SFTConfig``.
        resume: continue from the last checkpoint in ``OUT/checkpoints``.

    Returns:
        the run dir ``OUT``; the result is in ``OUT/adapter`` (LoRA) or ``OUT/model`` (full), with tokenizer.

    Raises:
        ConfigError / DataError: bad config or records (named file:line:field); every training (or
            held-out) prompt so long that truncation to ``trl.max_length`` leaves no answer token.
        KeyboardInterrupt: Ctrl-C, after saving a checkpoint.
    """
    from datasets import Dataset
    from trl import SFTTrainer

    out, manifest = start_run(cfg, resume=resume)
    base = load_base(cfg.model)
    manifest.notes += base.notes
    train_rows, eval_rows = load_splits(cfg.data, read_sft_rows)
    assistant_only = bool(GENERATION_MARK.search(base.tokenizer.chat_template or ""))
    columns = ["messages"] if assistant_only else ["prompt", "completion"]
    if not assistant_only:
        manifest.notes.append("chat template has no {% generation %} markers: trained as prompt/completion "
                              "(loss on the last assistant message only)")
    args = trl_args(cfg, out, has_eval=bool(eval_rows), defaults=SFT_DEFAULTS | {"assistant_only_loss": assistant_only})
    to_ds = lambda rows: Dataset.from_list([{c: r[c] for c in columns} for r in rows])  # noqa: E731
    trainer = SFTTrainer(model=base.model, args=args, train_dataset=to_ds(train_rows),
                         eval_dataset=to_ds(eval_rows) if eval_rows else None, processing_class=base.tokenizer,
                         peft_config=lora_config(cfg.lora), callbacks=[MetricsCallback(out)])
    quiet_progress(trainer, "sft")
    too_long = "have a prompt that fills trl.max_length (no answer token left to train on)"
    check_kept(manifest, trainer.train_dataset, len(train_rows), split="training", too_long=too_long,
               max_length=args.max_length, count_drops=not args.packing)
    check_kept(manifest, trainer.eval_dataset, len(eval_rows), split="held-out", too_long=too_long,
               max_length=args.max_length, count_drops=not args.packing)
    if eval_rows:  # a resumed run takes the value logged at step 0 by the first attempt
        logged = [r["eval_loss"] for r in read_metrics(out) if r["step"] == 0 and "eval_loss" in r]
        manifest.metrics["eval_loss_before"] = logged[0] if logged else trainer.evaluate()["eval_loss"]
    fit(trainer, out, resume=resume)
    if eval_rows:
        manifest.metrics["eval_loss_after"] = trainer.evaluate()["eval_loss"]
    result = "adapter" if cfg.lora.enabled else "model"
    trainer.save_model(str(out / result))
    base.tokenizer.save_pretrained(str(out / result))
    manifest.metrics["train_loss"] = next(
        (h["train_loss"] for h in reversed(trainer.state.log_history) if "train_loss" in h), float("nan"))
    manifest.counts.update(train_rows=len(train_rows), eval_rows=len(eval_rows), steps=trainer.state.global_step)
    manifest.notes.append(f"base model: {base.name}")
    return finish(cfg, out, manifest, outputs=[result], plot_keys=["loss", "eval_loss"])
