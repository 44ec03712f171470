"""Stage reports of the data stages: usage totals from the client's results, written as ``report.json``.

Every number is a sum over the :class:`~slmforge.llm.ChatResult` objects of the stage (each one a
ledger row), so a report can be re-derived from the ledger and the stage's JSONL files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def usage(results: Iterable, ledger=None) -> dict[str, Any]:
    """Totals over chat results.

    Args:
        results: :class:`~slmforge.llm.ChatResult` objects.
        ledger: the client's :class:`~slmforge.llm.ledger.Ledger`; when given, an answer from the ledger
            counts the tokens and USD of the call that originally paid for it (so a resumed run reports
            what its data cost, and ``spent_usd`` what this run paid).

    Returns:
        ``calls`` (requests answered), ``ok``, ``failed``, ``from_ledger`` (answered from the ledger
        without a call), ``prompt_tokens`` / ``cached_tokens`` / ``completion_tokens`` (tokens),
        ``cost_usd`` (USD of all answers) and ``spent_usd`` (USD paid in this run).
    """
    out = {"calls": 0, "ok": 0, "failed": 0, "from_ledger": 0, "prompt_tokens": 0, "cached_tokens": 0,
           "completion_tokens": 0, "cost_usd": 0.0, "spent_usd": 0.0}
    for r in results:
        out["calls"] += 1
        out["ok" if r.ok else "failed"] += 1
        out["from_ledger"] += int(r.from_cache)
        src = r
        if r.from_cache and ledger is not None:
            row = ledger.lookup(r.request_id)
            src = r if row is None else _Row(row["prompt_tokens"] or 0, row["cached_tokens"] or 0,
                                             row["completion_tokens"] or 0, row["cost_usd"] or 0.0)
        out["prompt_tokens"] += src.prompt_tokens
        out["cached_tokens"] += src.cached_tokens
        out["completion_tokens"] += src.completion_tokens
        out["cost_usd"] += src.cost_usd
        if not r.from_cache:
            out["spent_usd"] += r.cost_usd
    out["cost_usd"] = round(out["cost_usd"], 8)
    out["spent_usd"] = round(out["spent_usd"], 8)
    return out


@dataclass
class _Row:
    prompt_tokens: int
    cached_tokens: int
    completion_tokens: int
    cost_usd: float


def dry_run_report(client, stage: str, requested: int) -> dict[str, Any]:
    """The report of a dry run: requests planned and the client's estimate (calls not in the ledger, USD)."""
    d = client.dry
    return {"stage": stage, "dry_run": True, "requested": requested, "calls": d.calls, "cache_hits": d.cache_hits,
            "estimated_prompt_tokens": d.prompt_tokens, "estimated_completion_tokens": d.completion_tokens,
            "estimated_cost_usd": round(d.cost_usd, 6), "by_model": d.by_model}


def write_report(path: str | Path, report: dict[str, Any]) -> Path:
    """Write a report as indented UTF-8 JSON (atomic rename) and return its path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    tmp.replace(path)
    return path
