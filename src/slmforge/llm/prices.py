"""Date-stamped price table (USD per 1M tokens) and the cost of a call.

The table ships as ``prices.yaml`` next to this module (its ``as_of`` date says when it was read
off the providers' price pages). A user file at ``$SLMFORGE_PRICES`` or
``$SLMFORGE_HOME/prices.yaml`` with the same layout overrides entries; a ``price`` in a role's
:class:`~slmforge.llm.config.ModelConfig` overrides both. Local models cost 0. A model found
nowhere costs 0 and the ledger records a warning with its rows.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import yaml

from slmforge.errors import ConfigError
from slmforge.llm.config import ModelConfig, Price

PACKAGE_TABLE = Path(__file__).with_name("prices.yaml")


def user_table_path() -> Path:
    """Where a user's price overrides live: ``$SLMFORGE_PRICES`` or ``$SLMFORGE_HOME/prices.yaml``."""
    if os.environ.get("SLMFORGE_PRICES"):
        return Path(os.environ["SLMFORGE_PRICES"])
    return Path(os.environ.get("SLMFORGE_HOME", Path.home() / ".slmforge")) / "prices.yaml"


@functools.cache
def _read(path: Path) -> dict:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return {"as_of": str(doc.get("as_of", "")), "batch_discount": float(doc.get("batch_discount", 0.5)),
                "models": {k: Price(**v) for k, v in (doc.get("models") or {}).items()}}
    except (yaml.YAMLError, TypeError, ValueError) as e:
        raise ConfigError(f"cannot read price table: {e}", file=path,
                          fix="each entry is `model: {input: USD, cached_input: USD, output: USD}` per 1M tokens") from None


def load_table() -> dict:
    """The merged price table: ``{"as_of": str, "batch_discount": float, "models": {id: Price}}``.

    Raises:
        ConfigError: the user's override file exists but cannot be parsed.
    """
    table = _read(PACKAGE_TABLE)
    user = user_table_path()
    if user.is_file():
        extra = _read(user)
        table = {"as_of": extra["as_of"] or table["as_of"], "batch_discount": extra["batch_discount"],
                 "models": {**table["models"], **extra["models"]}}
    return table


def price_for(cfg: ModelConfig) -> Price | None:
    """The price of ``cfg``'s model: its own ``price``, else the table (exact id, else longest prefix).

    Returns:
        ``Price(0, 0, 0)`` for the local backend; ``None`` when the model is in no table.
    """
    if cfg.price is not None:
        return cfg.price
    if cfg.backend == "local":
        return Price(input=0.0, cached_input=0.0, output=0.0)
    models = load_table()["models"]
    if cfg.model in models:
        return models[cfg.model]
    prefixes = [m for m in models if cfg.model.startswith(m)]
    return models[max(prefixes, key=len)] if prefixes else None


def cost_usd(price: Price | None, prompt_tokens: int, cached_tokens: int, completion_tokens: int,
             *, batch: bool = False) -> float:
    """Cost of one call in USD.

    ``((prompt - cached) * input + cached * cached_input + completion * output) / 1e6``, times the
    table's ``batch_discount`` for Batch API calls.

    Args:
        price: USD per 1M tokens, or ``None`` (unknown model → 0.0).
        prompt_tokens: all prompt tokens, cached included.
        cached_tokens: prompt tokens the provider served from its prefix cache.
        completion_tokens: generated tokens.
        batch: the call went through the Batch API.
    """
    if price is None:
        return 0.0
    cached_rate = price.input if price.cached_input is None else price.cached_input
    usd = ((prompt_tokens - cached_tokens) * price.input + cached_tokens * cached_rate
           + completion_tokens * price.output) / 1e6
    return usd * (load_table()["batch_discount"] if batch else 1.0)
