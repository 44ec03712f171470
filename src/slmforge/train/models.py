"""Load the base model (fallback chain, offline-aware), pick precision per device, and build the LoRA config.

Policy (issue 6): on CUDA bf16 weights, gradient checkpointing on, optional 4-bit NF4 (QLoRA,
Dettmers et al. 2023, via bitsandbytes, imported only when asked); on CPU fp32 and no checkpointing,
or bf16 with ``model.dtype: fast`` on a CPU with AMX / AVX512-BF16 (:func:`slmforge.models.load.resolve_dtype`).
Adapters never add tokens nor ``modules_to_save`` so vLLM can serve them per request.
"""

from __future__ import annotations

import logging

from slmforge.models import LoadedModel, load_first
from slmforge.train.config import LoraSection, ModelSection

log = logging.getLogger(__name__)


def use_cuda() -> bool:
    """True when a CUDA device is available (training runs there in bf16)."""
    import torch

    return torch.cuda.is_available()


def load_base(section: ModelSection, *, kind: str = "causal", seed: int | None = None) -> LoadedModel:
    """Load the first base model of ``section.base`` that loads (:func:`slmforge.models.load_first`).

    Args:
        section: the model section of the training config; each entry is any model source
            (folder, hub id, ``.gguf`` file, package that ships a GGUF, Ollama model).
        kind: ``causal`` or ``seqcls`` (a one-label reward model).
        seed: seed set before the weights load, so a new reward head is the same in two runs.

    Returns:
        :class:`slmforge.models.LoadedModel`; ``notes`` lists the fallbacks taken.

    Raises:
        ConfigError: none of the candidates loads (each reason listed), or 4-bit asked without CUDA.
    """
    return load_first(section.base, kind=kind, load_in_4bit=section.load_in_4bit, seed=seed, dtype=section.dtype)


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
    import torch

    from slmforge.models.load import resolve_dtype

    cuda = use_cuda()
    checkpointing = cuda if section.gradient_checkpointing is None else section.gradient_checkpointing
    bf16 = resolve_dtype(section.dtype, None) == torch.bfloat16
    return {"bf16": bf16, "fp16": False, "gradient_checkpointing": checkpointing, "use_cpu": not cuda,
            "report_to": "none", "save_strategy": "epoch", "save_total_limit": 2, "eval_strategy": "epoch",
            "logging_steps": 1, "dataloader_num_workers": 0, "seed": 0}
