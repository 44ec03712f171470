"""OpenAI Batch API mode: submit a stage's requests as one batch job, collect later, resume anywhere.

Batch jobs cost 50 % of the live price and finish within 24 h (OpenAI "Batch API" guide). Flow:

1. :func:`submit_batch` writes the requests that are not yet in the ledger (nor in an open batch)
   as JSONL (``{"custom_id", "method", "url", "body"}`` per line), uploads it with the files API
   (``purpose="batch"``), creates the batch and stores its id and lines in the ledger database.
2. :func:`collect_batches` retrieves every open batch; finished ones are downloaded and each line
   becomes a ledger row (cost at the batch discount), exactly as a live call would.
3. :func:`run_batch` does both and waits: kill it at any point and run it again; it collects
   what was submitted before and submits only what is missing. The results then come from the
   ledger through the normal client path (lines that failed or do not validate are retried live).
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import openai
from pydantic import BaseModel

from slmforge.llm.client import ChatResult, LLMClient
from slmforge.llm.prices import cost_usd, price_for

log = logging.getLogger(__name__)

ENDPOINT = "/v1/chat/completions"
DONE = {"completed", "failed", "expired", "cancelled"}


def _api(client: LLMClient, role: str) -> openai.OpenAI:
    cfg = client.models[role]
    return openai.OpenAI(base_url=cfg.base_url, api_key=cfg.api_key(), timeout=cfg.timeout_s, max_retries=cfg.max_retries)


def submit_batch(client: LLMClient, role: str, batch: list[list[dict]], *, stage: str,
                 schema: type[BaseModel] | None = None, **params: Any) -> str | None:
    """Submit the requests of ``batch`` that have no answer yet as one Batch API job.

    Args:
        client: the client (its ledger, run id and the role's model config are used).
        role: a role whose backend is ``openai``.
        batch: chats, as for :meth:`LLMClient.achat_many`.
        stage: stage name recorded in the ledger.
        schema: pydantic model of the reply (adds the schema instruction and JSON mode, as live).
        **params: request parameter overrides, as for :meth:`LLMClient.achat`.

    Returns:
        The new batch id, or ``None`` when nothing is missing.

    Raises:
        openai.APIError: the upload or batch creation failed after the SDK's retries.
    """
    cfg = client.models[role]
    pending = {h for b in client.ledger.open_batches(run_id=None, stage=stage)
               for h in client.ledger.batch_items(b["batch_id"]).values()}
    lines, items, seen = [], [], set()
    for i, messages in enumerate(batch):
        sent, api_params, request, h = client.prepare(cfg, messages, schema, params)
        if h in seen or h in pending or client.ledger.lookup(h) is not None:
            continue
        seen.add(h)
        custom_id = f"req-{i}-{h[:12]}"
        lines.append({"custom_id": custom_id, "method": "POST", "url": ENDPOINT,
                      "body": {"model": cfg.model, "messages": sent, **api_params}})
        items.append((custom_id, h, request))
    if not lines:
        return None
    data = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines).encode("utf-8")
    api = _api(client, role)
    uploaded = api.files.create(file=(f"{stage}-batch.jsonl", data), purpose="batch")
    job = api.batches.create(input_file_id=uploaded.id, endpoint=ENDPOINT, completion_window="24h",
                             metadata={"run_id": client.run_id, "stage": stage, "role": role})
    client.ledger.add_batch(batch_id=job.id, run_id=client.run_id, stage=stage, role=role, model=cfg.model,
                            input_file_id=uploaded.id, items=items)
    log.info("submitted batch %s: %d requests for %s/%s", job.id, len(lines), stage, role)
    return job.id


def collect_batches(client: LLMClient, *, stage: str) -> dict[str, str]:
    """Collect every open batch of ``stage``: finished ones become ledger rows.

    Returns:
        ``{batch_id: status}`` of the batches looked at (``completed`` ones are now collected).
    """
    statuses = {}
    for meta in client.ledger.open_batches(stage=stage):
        api = _api(client, meta["role"])
        job = api.batches.retrieve(meta["batch_id"])
        statuses[job.id] = job.status
        if job.status not in DONE:
            client.ledger.set_batch_status(job.id, job.status)
            continue
        items = client.ledger.batch_items(job.id)
        cfg = client.models[meta["role"]]
        price = price_for(cfg)
        common = {"run_id": meta["run_id"], "stage": stage, "role": meta["role"], "backend": "openai",
                  "model": meta["model"], "from_cache": False, "attempts": 1}
        done = set()
        for file_id in (job.output_file_id, job.error_file_id):
            if not file_id:
                continue
            for line in api.files.content(file_id).text.splitlines():
                if not line.strip():
                    continue
                out = json.loads(line)
                h = items[out["custom_id"]]
                done.add(out["custom_id"])
                response = out.get("response") or {}
                if out.get("error") or response.get("status_code") != 200:
                    client.ledger.record(request_hash=h, request=None, ok=False, response=None,
                                         error=f"batch line failed: {out.get('error') or response}", **common)
                    continue
                body = response["body"]
                usage = body.get("usage") or {}
                cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0
                prompt, completion = usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0)
                choice = body["choices"][0]
                client.ledger.record(request_hash=h, request=None, ok=True, response=choice["message"]["content"],
                                     error=None, finish_reason=choice.get("finish_reason"),
                                     prompt_tokens=prompt, cached_tokens=cached, completion_tokens=completion,
                                     cost_usd=cost_usd(price, prompt, cached, completion, batch=True), **common)
        missing = set(items) - done
        if missing:
            log.warning("batch %s (%s): %d lines came back with no result; they will be called live",
                        job.id, job.status, len(missing))
        client.ledger.set_batch_status(job.id, job.status, collected=True)
    return statuses


def run_batch(client: LLMClient, role: str, batch: list[list[dict]], *, stage: str,
              schema: type[BaseModel] | None = None, poll_s: float = 60.0, timeout_s: float | None = None,
              **params: Any) -> list[ChatResult]:
    """Submit what is missing, wait for every open batch of ``stage``, collect, return results in order.

    Args:
        poll_s: seconds between status checks.
        timeout_s: give up waiting after this many seconds (``TimeoutError``); the batches stay
            open in the ledger, so a later call resumes them.

    Returns:
        One :class:`ChatResult` per chat, from the ledger (lines that failed are retried live).

    Raises:
        TimeoutError: ``timeout_s`` passed with batches still running.
    """
    collect_batches(client, stage=stage)
    submit_batch(client, role, batch, stage=stage, schema=schema, **params)
    start = time.monotonic()
    while client.ledger.open_batches(stage=stage):
        if timeout_s is not None and time.monotonic() - start > timeout_s:
            raise TimeoutError(f"batches of stage {stage} still running after {timeout_s:.0f} s; rerun to resume")
        time.sleep(poll_s)
        collect_batches(client, stage=stage)
    return client.chat_many(role, batch, stage=stage, schema=schema, **params)
