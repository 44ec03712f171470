"""Load the base model (fallback chain, offline-aware), pick precision per device, and build the LoRA config.

Policy (issue 6): on CUDA bf16 weights, gradient checkpointing on, optional 4-bit NF4 (QLoRA,
Dettmers et al. 2023, via bitsandbytes, imported only when asked); on CPU fp32 and no checkpointing.
Adapters never add tokens nor ``modules_to_save`` so vLLM can serve them per request.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from slmforge.errors import ConfigError
from slmforge.train.config import LoraSection, ModelSection

log = logging.getLogger(__name__)


@dataclass
class LoadedBase:
    """A loaded base model and its tokenizer.

    Attributes:
        model: ``transformers`` model (causal LM or sequence classifier).
        tokenizer: its tokenizer (pad token set).
        name: what was loaded: absolute folder path, or hub id.
        notes: fallback attempts that failed (plain language), for the manifest.
    """

    model: object
    tokenizer: object
    name: str
    notes: list[str] = field(default_factory=list)


def use_cuda() -> bool:
    """True when a CUDA device is available (training runs there in bf16)."""
    import torch

    return torch.cuda.is_available()


def resolve_name(name: str) -> str:
    """Absolute path for an existing local folder, else the hub id unchanged."""
    p = Path(name).expanduser()
    return str(p.resolve()) if p.is_dir() else name


def load_base(section: ModelSection, *, kind: str = "causal") -> LoadedBase:
    """Load the first base model of ``section.base`` that loads; log and record each failure.

    Args:
        section: the model section of the training config.
        kind: ``causal`` (``AutoModelForCausalLM``) or ``seqcls`` (``AutoModelForSequenceClassification``,
            ``num_labels=1``, a reward model).

    Returns:
        :class:`LoadedBase`; ``HF_HUB_OFFLINE=1`` makes hub ids resolve only from the local cache.

    Raises:
        ConfigError: none of the candidates loads (each reason listed), or 4-bit asked without CUDA.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification, AutoTokenizer

    cuda = use_cuda()
    if section.load_in_4bit and not cuda:
        raise ConfigError("4-bit (QLoRA) needs a CUDA GPU", field="model.load_in_4bit",
                          fix="set load_in_4bit: false on CPU")
    kwargs: dict = {"dtype": torch.bfloat16 if cuda else torch.float32}
    if section.load_in_4bit:
        from transformers import BitsAndBytesConfig

        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch.bfloat16,
            bnb_4bit_use_double_quant=True)
    if kind == "seqcls":
        auto, kwargs["num_labels"] = AutoModelForSequenceClassification, 1
    else:
        auto = AutoModelForCausalLM
    notes: list[str] = []
    for candidate in section.base:
        name = resolve_name(candidate)
        try:
            tokenizer = AutoTokenizer.from_pretrained(name)
            model = auto.from_pretrained(name, **kwargs)
        except (OSError, ValueError) as e:
            offline = " (HF_HUB_OFFLINE=1: only cached models load)" if os.environ.get("HF_HUB_OFFLINE") == "1" else ""
            notes.append(f"base {candidate!r} did not load{offline}: {str(e).splitlines()[0][:200]}")
            log.warning(notes[-1])
            continue
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        model.config.pad_token_id = tokenizer.pad_token_id
        if len(notes):
            notes.append(f"fell back to base {candidate!r}")
            log.warning(notes[-1])
        log.info("base model: %s (%s, %s)", name, model.dtype, "cuda" if cuda else "cpu")
        return LoadedBase(model, tokenizer, name, notes)
    raise ConfigError("no base model could be loaded: " + "; ".join(notes), field="model.base",
                      fix="give a local model folder (e.g. from `slmforge model tiny`) or a cached hub id")


def lora_config(section: LoraSection, *, task_type: str = "CAUSAL_LM"):
    """PEFT ``LoraConfig`` from our section, or None when LoRA is disabled (full fine-tuning).

    LoRA: Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large Language Models". No ``modules_to_save``.
    """
    if not section.enabled:
        return None
    from peft import LoraConfig

    return LoraConfig(r=section.r, lora_alpha=section.alpha, lora_dropout=section.dropout,
                      target_modules=section.target_modules, task_type=task_type, bias="none")


def device_defaults(section: ModelSection) -> dict:
    """TRL/TrainingArguments defaults that depend on the device; the YAML ``trl:`` section overrides them."""
    cuda = use_cuda()
    checkpointing = cuda if section.gradient_checkpointing is None else section.gradient_checkpointing
    return {"bf16": cuda, "fp16": False, "gradient_checkpointing": checkpointing, "use_cpu": not cuda,
            "report_to": "none", "save_strategy": "epoch", "save_total_limit": 2, "eval_strategy": "epoch",
            "logging_steps": 1, "dataloader_num_workers": 0, "seed": 0}
