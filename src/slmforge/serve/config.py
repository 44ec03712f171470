"""Settings of ``slmforge serve``: which model and LoRA adapters to load, the kit behind ``/v1/copy``,
and the server's limits (auth key, body size, concurrency).

Run ``slmforge serve --help`` for the same settings as command-line flags.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from slmforge.config import DtypeName
from slmforge.errors import ConfigError
from slmforge.kit.schema import StrictModel


def default_blocking_checks() -> list[str]:
    """Checks whose failure makes a ``/v1/copy`` draft "failing" for ``guard: retry | block``: the check
    registry's guard checks (all but ``style``, which only flags, and ``similarity``)."""
    from slmforge.checks.registry import guard_names

    return guard_names()


class ServeConfig(StrictModel):
    """Everything ``create_app`` needs. Unknown keys are errors.

    Attributes mirror the CLI flags of ``slmforge serve``; see each field's description.
    """

    model: str = Field(description="Base model: a local folder or a Hugging Face hub id.")
    adapters: dict[str, str] = Field(
        default_factory=dict,
        description="LoRA adapters by model id → adapter folder; each is served as its own model id "
        "(like vLLM's --lora-modules) and the request's `model` picks it.",
    )
    served_model_name: str | None = Field(
        default=None, description="Model id of the base model in /v1/models (default: the folder name or hub id)."
    )
    kit: str | None = Field(default=None, description="Kit directory for /v1/copy, /v1/kit and the playground.")
    host: str = Field(default="127.0.0.1", description="Interface to bind (loopback only by default).")
    allowed_hosts: list[str] = Field(
        default_factory=list,
        description="Extra host names (exact, no wildcards) accepted in the Host header besides localhost, "
        "127.0.0.1, [::1] and --host; other Host headers get 421, against DNS rebinding. Checked always "
        "without an API key; with an API key only when some are given.",
    )
    port: int = Field(default=8000, ge=0, le=65535, description="TCP port (0 = any free port).")
    api_key: str | None = Field(
        default=None, description="When set, every /v1 route needs `Authorization: Bearer <key>` (401 otherwise)."
    )
    max_concurrency: int = Field(
        default=8, ge=1,
        description="Generation requests in flight (running or queued for the model) before new ones get 429.",
    )
    max_body_bytes: int = Field(default=1_000_000, ge=1024, description="Largest request body in bytes (413 above).")
    default_max_tokens: int = Field(default=256, ge=1, description="Completion tokens when a request gives none.")
    max_n: int = Field(default=8, ge=1, description="Largest `n` (choices / drafts) per request.")
    device: str | None = Field(default=None, description="torch device ('cpu', 'cuda', 'cuda:1'); default: best available.")
    dtype: DtypeName = Field(
        default="auto", description="Weights dtype (slmforge.models.load.resolve_dtype); fast = bf16 on CUDA and on "
                                    "a CPU with AMX / AVX512-BF16.")
    json_attempts: int = Field(
        default=3, ge=1,
        description="Generations tried per choice when response_format is json_object before answering 422.",
    )
    guard_max_retries: int = Field(
        default=2, ge=0, description="guard=retry: regenerations per /v1/copy draft that fails a blocking check."
    )
    blocking_checks: list[str] = Field(
        default_factory=default_blocking_checks,
        description="Checks that make a draft fail for guard=retry|block; the others only flag "
        "(default: the check registry's guard checks).",
    )
    student_system: bool = Field(
        default=False,
        description="Send the kit's system prompt (voice, lexicon) before the student instruction in /v1/copy, as "
        "synth.student_system put it into the training prompts (one name for both; `slmforge run` prints the "
        "serve command with --student-system when the training data has a system message).",
    )
    engine: Literal["transformers", "vllm"] = Field(
        default="transformers", description="transformers: serve in-process; vllm: build the `vllm serve` command."
    )
    max_lora_rank: int | None = Field(
        default=None, ge=1, description="vLLM --max-lora-rank; default: the largest `r` in the adapters' adapter_config.json."
    )

    @field_validator("blocking_checks")
    @classmethod
    def _known_checks(cls, v: list[str]) -> list[str]:
        from slmforge.checks.registry import validate_check_names

        return validate_check_names(v, where="blocking_checks")

    @field_validator("adapters")
    @classmethod
    def _adapter_names(cls, v: dict[str, str]) -> dict[str, str]:
        for name in v:
            if not name or any(c in name for c in " =/"):
                raise ValueError(f"adapter name {name!r} must be non-empty without spaces, '=' or '/'")
        return v

    def host_check(self) -> bool:
        """Whether the ``Host`` header is checked: always without ``api_key`` (DNS rebinding would let a web
        page drive an open local server), with one only when ``allowed_hosts`` are given (a rebound page
        cannot read the key, and a keyed server is often reached under names the operator did not list)."""
        return self.api_key is None or bool(self.allowed_hosts)

    def base_model_id(self) -> str:
        """The model id the base model is served as (``served_model_name`` or the folder name / hub id)."""
        if self.served_model_name:
            return self.served_model_name
        p = Path(self.model)
        return p.name if p.is_dir() else self.model


def parse_adapter_specs(specs: list[str]) -> dict[str, str]:
    """Parse ``NAME=PATH`` flags (``--adapter sft=runs/sft/adapter``) into a dict.

    Raises:
        ConfigError: a spec without ``=``, an empty name, a repeated name, or a folder without
            ``adapter_config.json``.
    """
    out: dict[str, str] = {}
    for spec in specs:
        name, sep, path = spec.partition("=")
        if not sep or not name or not path:
            raise ConfigError(f"bad adapter spec {spec!r}", field="--adapter", fix="write NAME=PATH, e.g. sft=runs/sft/adapter")
        if name in out:
            raise ConfigError(f"adapter name {name!r} given twice", field="--adapter", fix="give each adapter its own name")
        if not (Path(path) / "adapter_config.json").is_file():
            raise ConfigError("not a PEFT adapter folder (no adapter_config.json)", file=path, field=f"--adapter {name}",
                              fix="point at the folder train sft/dpo/grpo wrote the adapter to")
        out[name] = path
    return out


def adapter_rank(path: str | Path) -> int:
    """LoRA rank ``r`` of an adapter folder, from its ``adapter_config.json`` (PEFT format).

    Raises:
        ConfigError: the file is missing or has no integer ``r``.
    """
    cfg_path = Path(path) / "adapter_config.json"
    try:
        r = json.loads(cfg_path.read_text(encoding="utf-8")).get("r")
    except (OSError, json.JSONDecodeError) as e:
        raise ConfigError(f"cannot read adapter config: {e}", file=cfg_path, fix="pass a PEFT adapter folder") from e
    if not isinstance(r, int):
        raise ConfigError("no integer LoRA rank `r`", file=cfg_path, field="r", fix="pass a LoRA adapter folder")
    return r
