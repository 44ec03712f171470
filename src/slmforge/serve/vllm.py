"""Build the ``vllm serve`` command that serves the same base model and LoRA adapters at GPU scale.

``slmforge serve --engine vllm`` prints it; ``--exec`` runs it. vLLM speaks the same OpenAI API,
so ``slmforge.Client`` and the ``openai`` SDK work unchanged against it (``/v1/copy`` and the
playground are ours and not part of vLLM). Flags follow vLLM's docs, "LoRA Adapters → Serving LoRA
Adapters": ``--enable-lora --lora-modules name=path … --max-lora-rank R``
(https://docs.vllm.ai/en/latest/features/lora.html).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess

from slmforge.errors import ConfigError
from slmforge.serve.config import ServeConfig, adapter_rank

VLLM_RANKS = (1, 8, 16, 32, 64, 128, 256, 320, 512)
"""Values vLLM accepts for ``--max-lora-rank`` (``MaxLoRARanks`` in vllm/config/lora.py); we round up to the next one."""


def vllm_command(cfg: ServeConfig) -> list[str]:
    """The argv of ``vllm serve`` equivalent to ``cfg``.

    The API key is not put on the command line (it would show in ``ps``); vLLM reads it from the
    ``VLLM_API_KEY`` environment variable, which :func:`exec_vllm` sets.

    Args:
        cfg: serve settings; ``model``, ``adapters``, ``host``, ``port``, ``max_lora_rank`` are used.

    Returns:
        argv list, e.g. ``["vllm", "serve", "Qwen/Qwen2.5-0.5B-Instruct", "--host", "127.0.0.1", …]``.

    Raises:
        ConfigError: an adapter rank above vLLM's largest supported rank.
    """
    argv = ["vllm", "serve", cfg.model, "--host", cfg.host, "--port", str(cfg.port),
            "--served-model-name", cfg.base_model_id()]
    if cfg.adapters:
        rank = cfg.max_lora_rank or max(adapter_rank(p) for p in cfg.adapters.values())
        allowed = [r for r in VLLM_RANKS if r >= rank]
        if not allowed:
            raise ConfigError(f"LoRA rank {rank} is above vLLM's maximum {VLLM_RANKS[-1]}", field="--max-lora-rank",
                              fix="merge the adapter (slmforge merge) and serve the merged model")
        argv += ["--enable-lora", "--lora-modules", *(f"{n}={p}" for n, p in cfg.adapters.items()),
                 "--max-lora-rank", str(allowed[0]), "--max-loras", str(len(cfg.adapters))]
    return argv


def format_command(argv: list[str]) -> str:
    """Shell-quoted one-line form of ``argv`` (what ``--engine vllm`` prints)."""
    return shlex.join(argv)


def exec_vllm(cfg: ServeConfig) -> int:
    """Run ``vllm serve`` in the foreground with ``VLLM_API_KEY`` set from ``cfg.api_key``.

    Returns:
        vLLM's exit code.

    Raises:
        ConfigError: ``vllm`` is not on PATH (install it on a GPU machine: ``pip install vllm``).
    """
    if shutil.which("vllm") is None:
        raise ConfigError("vllm is not installed here", field="--exec",
                          fix="pip install vllm on a CUDA machine, or drop --exec and copy the printed command")
    env = dict(os.environ)
    if cfg.api_key:
        env["VLLM_API_KEY"] = cfg.api_key
    return subprocess.call(vllm_command(cfg), env=env)
