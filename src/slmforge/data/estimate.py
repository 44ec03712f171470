"""``slmforge data estimate FILE --provider openai --model M``: tokens, epochs and cost of a hosted fine-tune.

Method (OpenAI cookbook, "Data preparation and analysis for chat model fine-tuning"):

* tokens of a conversation = Σ over messages (3 + tokens of every string value + 1 if it has ``name``) + 3
  for the reply priming; a preference row counts its prompt, chosen and rejected messages once each;
* examples longer than 16,385 tokens are truncated: billed at most that much per epoch;
* default epochs: target 3; when ``n × 3 < 100`` use ``min(25, 100 // n)``; when ``n × 3 > 25,000`` use
  ``max(1, 25,000 // n)``;
* billed tokens = epochs × Σ min(16,385, tokens); cost = billed tokens / 1e6 × the price table's USD per
  1M training tokens (``ft_prices.yaml``, date-stamped and editable).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from slmforge.data.formats import read_parsed
from slmforge.data.tokens import TokenCounter, load_token_counter
from slmforge.errors import DataError

TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
REPLY_PRIMING = 3
MAX_TOKENS_PER_EXAMPLE = 16385
TARGET_EPOCHS = 3
MIN_TARGET_EXAMPLES = 100
MAX_TARGET_EXAMPLES = 25000
MIN_DEFAULT_EPOCHS = 1
MAX_DEFAULT_EPOCHS = 25


def default_epochs(n_examples: int) -> int:
    """OpenAI's default number of epochs for ``n_examples`` training examples (cookbook rule, see module doc)."""
    if n_examples <= 0:
        return TARGET_EPOCHS
    if n_examples * TARGET_EPOCHS < MIN_TARGET_EXAMPLES:
        return min(MAX_DEFAULT_EPOCHS, MIN_TARGET_EXAMPLES // n_examples)
    if n_examples * TARGET_EPOCHS > MAX_TARGET_EXAMPLES:
        return max(MIN_DEFAULT_EPOCHS, MAX_TARGET_EXAMPLES // n_examples)
    return TARGET_EPOCHS


def num_tokens_from_messages(messages: list[dict[str, Any]], count: Any) -> int:
    """Tokens of one conversation with OpenAI's per-message overhead (cookbook ``num_tokens_from_messages``).

    Args:
        messages: chat messages (dicts); non-string values (``weight``) are not counted.
        count: ``text -> tokens``.
    """
    n = 0
    for m in messages:
        n += TOKENS_PER_MESSAGE
        for key, value in m.items():
            if isinstance(value, str):
                n += count(value)
            if key == "name":
                n += TOKENS_PER_NAME
    return n + REPLY_PRIMING


@dataclass
class Price:
    """One model's fine-tuning price: USD per 1M training tokens, its tiktoken encoding, the table's date."""

    provider: str
    model: str
    training_per_1m: float
    encoding: str
    updated: str


def price_table(path: str | Path | None = None) -> dict[str, Any]:
    """Load the fine-tuning price table (default: the packaged ``ft_prices.yaml``).

    Raises:
        DataError: the file is missing or not the expected YAML shape.
    """
    try:
        text = Path(path).read_text(encoding="utf-8") if path else \
            resources.files("slmforge.data").joinpath("ft_prices.yaml").read_text(encoding="utf-8")
        table = yaml.safe_load(text)
    except (OSError, yaml.YAMLError) as e:
        raise DataError(f"cannot read price table: {e}", file=path, fix="check the file") from e
    if not isinstance(table, dict) or not isinstance(table.get("providers"), dict):
        raise DataError("price table needs a 'providers' mapping", file=path, field="providers",
                        fix="copy the layout of slmforge/data/ft_prices.yaml")
    return table


def lookup_price(provider: str, model: str, *, table: dict[str, Any] | None = None) -> Price:
    """Price of ``model`` at ``provider`` from the table.

    Raises:
        DataError: provider or model not in the table (names the known ones and the fix).
    """
    table = table or price_table()
    models = table["providers"].get(provider)
    if models is None:
        raise DataError(f"provider {provider!r} is not in the price table", field="--provider",
                        fix="use one of " + ", ".join(table["providers"]) + ", or pass --price USD_PER_1M")
    entry = models.get(model)
    if entry is None:
        raise DataError(f"model {model!r} has no fine-tuning price for {provider}", field="--model",
                        fix="use one of " + ", ".join(models) + "; add it to ft_prices.yaml, or pass --price")
    return Price(provider, model, float(entry["training_per_1m"]), entry.get("encoding", "o200k_base"),
                 str(table.get("updated", "?")))


@dataclass
class Estimate:
    """The result of :func:`estimate_file`.

    Attributes:
        examples: rows; tokens_min / tokens_mean / tokens_max: tokens per example (with message overhead).
        too_long: examples over 16,385 tokens (truncated when billed).
        tokens_per_epoch: Σ min(16,385, tokens); epochs: given, or the default rule; billed_tokens: their product.
        price_per_1m: USD per 1M training tokens; cost_usd: billed_tokens / 1e6 × price_per_1m.
        tokenizer / tokens_exact: what counted (False = character estimate); price_updated: the table's date.
    """

    file: str
    format: str
    provider: str
    model: str
    examples: int
    tokens_min: int
    tokens_mean: float
    tokens_max: int
    too_long: int
    tokens_per_epoch: int
    epochs: int
    epochs_default: bool
    billed_tokens: int
    price_per_1m: float
    cost_usd: float
    tokenizer: str
    tokens_exact: bool
    price_updated: str


def estimate_file(path: str | Path, *, provider: str = "openai", model: str, epochs: int | None = None,
                  price_per_1m: float | None = None, tokenizer: str | TokenCounter | None = None,
                  prices: str | Path | None = None) -> Estimate:
    """Estimate billed training tokens and cost of fine-tuning ``model`` on ``path`` (method in the module doc).

    Args:
        path: JSONL / Parquet file in any supported format.
        provider / model: keys into the price table.
        epochs: fixed number of epochs; ``None`` applies the default-epochs rule.
        price_per_1m: USD per 1M training tokens, overriding the table (then ``model`` needs no entry).
        tokenizer: token counter or spec; default: the model's tiktoken encoding when cached, else the estimate.
        prices: another price table file.

    Raises:
        DataError: unreadable file, empty file, unknown provider/model without ``price_per_1m``, epochs < 1.
    """
    if epochs is not None and epochs < 1:
        raise DataError(f"epochs must be >= 1 (got {epochs})", field="--epochs", fix="pass a positive number")
    if price_per_1m is None:
        price = lookup_price(provider, model, table=price_table(prices))
    else:
        price = Price(provider, model, price_per_1m, "o200k_base", "given with --price")
    counter = tokenizer if isinstance(tokenizer, TokenCounter) else \
        load_token_counter(tokenizer, default_encoding=price.encoding)
    lens: list[int] = []
    fmt = "?"
    for _, fmt, row in read_parsed(path):
        msgs = row.prompt + (row.answer or []) + (row.rejected or [])
        lens.append(num_tokens_from_messages(msgs, counter.count))
    if not lens:
        raise DataError("the file holds no rows", file=path, fix="check the path")
    n_epochs = epochs or default_epochs(len(lens))
    per_epoch = sum(min(MAX_TOKENS_PER_EXAMPLE, n) for n in lens)
    billed = per_epoch * n_epochs
    return Estimate(str(path), fmt, provider, model, len(lens), min(lens), sum(lens) / len(lens), max(lens),
                    sum(n > MAX_TOKENS_PER_EXAMPLE for n in lens), per_epoch, n_epochs, epochs is None, billed,
                    price.training_per_1m, billed / 1e6 * price.training_per_1m, counter.name, counter.exact,
                    price.updated)
