"""``ModelConfig``: one role's model (teacher, judge, weak, candidate…) as a YAML-friendly pydantic model.

A project config maps role names to model configs::

    teacher:
      backend: openai
      model: deepseek-chat
      base_url: https://api.deepseek.com/v1
      api_key_env: DEEPSEEK_API_KEY
      max_concurrency: 16
      rpm: 500
      fallback:
        - {backend: openai, model: gpt-4o-mini}
    weak:
      backend: local
      model: Qwen/Qwen2.5-0.5B-Instruct
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from slmforge.config import DtypeName
from slmforge.errors import ConfigError
from slmforge.kit.schema import StrictModel


class Price(StrictModel):
    """USD per 1M tokens for one model (the units of the providers' price pages)."""

    input: float = Field(ge=0, description="USD per 1M uncached prompt tokens.")
    cached_input: float | None = Field(default=None, ge=0,
                                       description="USD per 1M cached prompt tokens; None = same as input.")
    output: float = Field(ge=0, description="USD per 1M completion tokens.")


class ModelConfig(StrictModel):
    """One role's model and how to call it.

    Raises:
        pydantic.ValidationError: unknown keys or values out of range (the CLI reports the key path).
    """

    backend: Literal["openai", "local"] = Field(description="'openai': any OpenAI-compatible endpoint; "
                                                "'local': a transformers model in this process.")
    model: str = Field(description="API model id, or HF hub id / local folder for 'local'.")
    base_url: str | None = Field(default=None, description="OpenAI-compatible endpoint (ends with /v1); "
                                 "None = the SDK default (OPENAI_BASE_URL or api.openai.com).")
    api_key_env: str = Field(default="OPENAI_API_KEY", description="Env var holding the API key.")
    adapter: str | None = Field(default=None, description="local: LoRA adapter folder (PEFT).")
    device: str | None = Field(default=None, description="local: torch device; None = cuda if available.")
    batch_size: int = Field(default=8, ge=1, description="local: prompts per generate() call.")
    dtype: DtypeName = Field(
        default="auto", description="local: weights dtype (slmforge.models.load.resolve_dtype); fast = bf16 on "
                                    "CUDA and on a CPU with AMX / AVX512-BF16.")
    max_concurrency: int = Field(default=8, ge=1, description="Requests in flight at once for this model.")
    rpm: int | None = Field(default=None, ge=1, description="Requests-per-minute limit (token bucket).")
    tpm: int | None = Field(default=None, ge=1, description="Tokens-per-minute limit (prompt estimate + max_tokens).")
    timeout_s: float = Field(default=60.0, gt=0, description="Per-request timeout, seconds.")
    max_retries: int = Field(default=6, ge=0, description="Retries on 429 / 5xx / timeouts / connection errors.")
    max_repairs: int = Field(default=2, ge=0, description="Re-asks with a repair instruction when the "
                             "reply does not validate against the schema.")
    backoff_base_s: float = Field(default=0.5, gt=0, description="First backoff delay, seconds (doubles per retry).")
    backoff_max_s: float = Field(default=30.0, gt=0, description="Cap of one backoff delay, seconds.")
    json_mode: bool = Field(default=True, description="Ask for response_format=json_object when a schema is given.")
    temperature: float = Field(default=0.7, ge=0, le=2)
    max_tokens: int | None = Field(default=1024, ge=1, description="Completion tokens cap per call.")
    top_p: float | None = Field(default=None, gt=0, le=1)
    seed: int | None = None
    price: Price | None = Field(default=None, description="Overrides the price table for this model.")
    fallback: list[ModelConfig] = Field(default_factory=list,
                                        description="Tried in order when this model cannot be loaded or its endpoint is down.")
    optional: bool = Field(default=False, description="slmforge run: when no model of the chain is usable, drop the "
                                                      "role with a note (the offline fallback) instead of failing.")

    @model_validator(mode="after")
    def _local_has_no_url(self) -> ModelConfig:
        if self.backend == "local" and self.base_url:
            raise ValueError("base_url is for backend 'openai'; a 'local' model is a hub id or a folder")
        return self

    def api_key(self) -> str:
        """The API key from ``api_key_env``; a placeholder for loopback/self-hosted endpoints without one.

        Raises:
            ConfigError: the env var is unset and the endpoint is not on this machine.
        """
        key = os.environ.get(self.api_key_env)
        if key:
            return key
        if self.base_url and ("127.0.0.1" in self.base_url or "localhost" in self.base_url):
            return "no-key"
        raise ConfigError(f"API key env var {self.api_key_env} is not set", field=f"{self.model}.api_key_env",
                          fix=f"export {self.api_key_env}=... or set api_key_env to the variable that holds the key")

    def label(self) -> str:
        """Short name for logs and the ledger: ``backend:model`` (+ ``@adapter``)."""
        return f"{self.backend}:{self.model}" + (f"@{self.adapter}" if self.adapter else "")

    def in_flight(self) -> int:
        """Requests in flight at once: ``max_concurrency``, and for a local model at least ``batch_size``
        (its micro-batcher can only batch the requests that are queued, so a bound below ``batch_size``
        would cap every ``generate`` call at ``max_concurrency`` prompts)."""
        return max(self.max_concurrency, self.batch_size) if self.backend == "local" else self.max_concurrency


def load_models(path: str | Path | None = None, extra: dict[str, dict] | None = None) -> dict[str, ModelConfig]:
    """Role → :class:`ModelConfig` from a YAML mapping (top level, or under ``models:`` as in a project file).

    Args:
        path: the YAML file, or None.
        extra: role → raw config dicts that override the file's roles (from CLI flags).

    Raises:
        ConfigError: unreadable file, a top level that is not a mapping, or a role that does not validate
            (names the file and ``role.key``).
    """
    from slmforge.config import read_yaml, validate

    data: dict = {}
    if path is not None:
        data = read_yaml(path, what="models")
        data = data.get("models", data)
        if not isinstance(data, dict):
            raise ConfigError("expected a mapping of role → model config", file=path,
                              fix="write e.g. `judge: {backend: openai, model: gpt-4o-mini}`")
    data = {**data, **(extra or {})}
    return {role: validate(ModelConfig, spec, file=path, prefix=str(role)) for role, spec in data.items()}
