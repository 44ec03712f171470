"""Merge a LoRA adapter into its base model and save a standalone model + tokenizer.

Run it::

    slmforge merge runs/sft/adapter runs/sft-merged

Uses PEFT's ``merge_and_unload`` (W ← W + (alpha / r)·B·A, Hu et al. 2021); the base model is the
absolute path recorded in ``adapter_config.json`` unless ``base`` is given.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from slmforge.errors import ConfigError

log = logging.getLogger(__name__)


def adapter_base(adapter: str | Path) -> str:
    """The ``base_model_name_or_path`` recorded in an adapter folder.

    Raises:
        ConfigError: the folder has no readable ``adapter_config.json``.
    """
    cfg = Path(adapter) / "adapter_config.json"
    try:
        return json.loads(cfg.read_text(encoding="utf-8"))["base_model_name_or_path"]
    except (OSError, KeyError, json.JSONDecodeError) as e:
        raise ConfigError(f"not a LoRA adapter folder ({e})", file=cfg,
                          fix="pass the adapter/ folder of a `slmforge train` run") from e


def merge_adapter(adapter: str | Path, out: str | Path, *, base: str | None = None) -> Path:
    """Load base + adapter, merge the LoRA weights, and save model + tokenizer to ``out``.

    Args:
        adapter: LoRA adapter folder (``OUT/adapter`` of a training run).
        out: folder to write the merged model to.
        base: base model folder or hub id; default: the one recorded in the adapter.

    Returns:
        ``out`` as a ``Path``; it loads with ``AutoModelForCausalLM`` / ``AutoTokenizer``.

    Raises:
        ConfigError: the adapter folder is not an adapter, or its base cannot be loaded.
    """
    import torch

    from slmforge.models import load_model

    base = base or adapter_base(adapter)
    try:
        loaded = load_model(base, adapter=str(adapter), dtype=torch.float32)
    except ConfigError as e:
        raise ConfigError(f"cannot load the base model {base!r}: {e.message}", file=Path(adapter) / "adapter_config.json",
                          field="base_model_name_or_path", fix="pass --base with the base model folder") from e
    merged, tokenizer = loaded.model.merge_and_unload(), loaded.tokenizer
    out = Path(out)
    merged.save_pretrained(out)
    tokenizer.save_pretrained(out)
    log.info("merged %s + %s → %s", base, adapter, out)
    return out
