"""Training: tiny models, SFT, DPO, reward model, GRPO, merge, hosted fine-tuning (TRL + PEFT underneath).

Python API (each returns the run dir)::

    from slmforge.train import load_train_config, train_sft
    cfg = load_train_config("src/slmforge/train/configs/sft.yaml", {"trl.num_train_epochs": 1})
    run_dir = train_sft(cfg)

Importing this package loads transformers (the Trainer callbacks); trl is imported when a trainer runs.
"""

from __future__ import annotations

from slmforge.train.config import TrainConfig, load_train_config
from slmforge.train.dpo import train_dpo
from slmforge.train.grpo import train_grpo
from slmforge.train.merge import merge_adapter
from slmforge.train.rm import score_texts, train_rm
from slmforge.train.sft import train_sft
from slmforge.train.tiny import build_tiny_model

TRAINERS = {"sft": train_sft, "dpo": train_dpo, "rm": train_rm, "grpo": train_grpo}

__all__ = ["TRAINERS", "TrainConfig", "build_tiny_model", "load_train_config", "merge_adapter", "score_texts",
           "train_dpo", "train_grpo", "train_rm", "train_sft"]
