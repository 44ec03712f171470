"""What the LLM client returns: :class:`ChatResult` per request, :class:`DryRunSummary` for a dry run, and
:func:`request_hash`, the ledger key of a request."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ChatResult:
    """The outcome of one request (never an exception, except ``BudgetExceeded``).

    Attributes:
        ok: a good reply (validated against the schema when one was given).
        text: the reply text; for failures the raw last reply, if any came back.
        parsed: the validated pydantic object when a schema was given, else ``None``.
        error: why it failed (``None`` when ``ok``).
        model: the model that answered (a fallback's id when the chain moved on).
        request_id: the ledger content hash of the request (hex sha256).
        prompt_tokens / cached_tokens / completion_tokens: tokens paid by this call, summed over
            retries and repairs (0 for cache hits).
        cost_usd: USD paid by this call (0 for cache hits and local models).
        latency_s: wall-clock seconds of the call, retries included.
        from_cache: answered from the ledger without calling.
        attempts: model calls made (retries and repairs included; 0 for cache hits).
        finish_reason: the API's finish reason of the last reply (``"length"`` = cut off); for cache
            hits the one recorded when the reply was paid for (``None`` in ledgers older than
            migration 4).
        fallback_from: the role's first model when a fallback answered, else ``None``.
        logprobs: the reply's token logprobs (OpenAI ``choices[0].logprobs.content`` dicts) when the
            request asked for ``logprobs=True``; stored in the ledger so cache hits return them too.
    """

    ok: bool
    text: str | None
    parsed: Any | None
    error: str | None
    model: str
    request_id: str
    prompt_tokens: int = 0
    cached_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    latency_s: float = 0.0
    from_cache: bool = False
    attempts: int = 0
    finish_reason: str | None = None
    fallback_from: str | None = None
    logprobs: list[dict] | None = None


@dataclass
class DryRunSummary:
    """What a dry run would do: calls (requests not in the ledger), cache hits, estimated tokens and USD."""

    calls: int = 0
    cache_hits: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    by_model: dict[str, int] = field(default_factory=dict)


def request_hash(request: Mapping[str, Any]) -> str:
    """Hex sha256 of the canonical JSON of a request (sorted keys, UTF-8)."""
    blob = json.dumps(request, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()
