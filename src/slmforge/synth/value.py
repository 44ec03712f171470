"""Product–value mode (seed 001): the teacher proposes customer values per product; deduplicated
(product, value) pairs become the subjects of generation, and the kit's templates receive ``value``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from pydantic import BaseModel, Field

from slmforge.kit import LoadedKit
from slmforge.synth.config import SynthConfig
from slmforge.synth.templates import values_messages

_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)


class ValuesOut(BaseModel):
    """Structured output of a value proposal: ``{"values": [str, ...]}``."""

    values: list[str] = Field(min_length=1)


def normalize_value(value: str) -> str:
    """Comparison key of a value: NFKC, case-folded, punctuation and whitespace removed."""
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", value).casefold())


def dedupe_values(values: list[str], limit: int) -> list[str]:
    """Keep the first ``limit`` values that are not duplicates of an earlier one.

    Two values are duplicates when their :func:`normalize_value` keys are equal or one contains the
    other (``控油`` vs ``持久控油``), a cheap stand-in for synonymy that never merges distinct values.

    Args:
        values: proposed values in the teacher's order.
        limit: maximum number kept.

    Returns:
        the kept values, stripped, in their original order.
    """
    kept: list[str] = []
    keys: list[str] = []
    for v in values:
        key = normalize_value(v)
        if not key or any(key in k or k in key for k in keys):
            continue
        kept.append(v.strip())
        keys.append(key)
        if len(kept) == limit:
            break
    return kept


@dataclass
class ValueProposals:
    """Values per product and the raw calls behind them.

    Attributes:
        values: subject id → kept values (empty list when the call failed).
        failures: one dict per failed proposal: ``subject_id``, ``reason``, ``raw``.
        results: the :class:`~slmforge.llm.ChatResult` of every call, in subject order (for the report).
    """

    values: dict[str, list[str]]
    failures: list[dict]
    results: list


def propose_values(lk: LoadedKit, cfg: SynthConfig, client, subject_ids: list[str]) -> ValueProposals:
    """Ask the teacher for ``cfg.values_requested`` values per product and keep ``cfg.values_per_product``.

    Args:
        lk: the loaded kit.
        cfg: synth settings (``teacher_role``, ``values_requested``, ``values_per_product``, ``seed``).
        client: an :class:`~slmforge.llm.LLMClient`; calls go through its ledger (resumable).
        subject_ids: products to propose values for.

    Returns:
        a :class:`ValueProposals`.

    Raises:
        BudgetExceeded: from the client, when the budget is reached (calls made so far are kept in the ledger).
    """
    batch = [values_messages(lk, lk.subjects[sid], cfg.values_requested) for sid in subject_ids]
    results = client.chat_many(cfg.teacher_role, batch, stage="synth.values", schema=ValuesOut,
                               temperature=cfg.temperature, max_tokens=cfg.max_tokens, seed=cfg.seed)
    values: dict[str, list[str]] = {}
    failures: list[dict] = []
    for sid, r in zip(subject_ids, results, strict=True):
        if r.ok and r.parsed is not None:
            values[sid] = dedupe_values(r.parsed.values, cfg.values_per_product)
        else:
            values[sid] = []
            failures.append({"subject_id": sid, "stage": "values", "reason": r.error or "no parsed output",
                             "raw": r.text, "request_id": r.request_id})
    return ValueProposals(values=values, failures=failures, results=list(results))
