"""``/v1/batches`` routes of the test server (OpenAI Batch API: create, retrieve, cancel, list).

A batch reads its JSONL input file (one ``{"custom_id", "method", "url", "body"}`` per line),
answers every ``/v1/chat/completions`` line with the server's script after ``batch_delay_s``
seconds (``request.app.state.batch_delay_s``, default 0.05), writes the output JSONL
(``{"id", "custom_id", "response": {"status_code", "request_id", "body"}, "error"}``) as a new file
and moves to ``completed`` — the shapes of https://platform.openai.com/docs/api-reference/batch.
A line whose ``custom_id`` starts with ``fail-`` is answered in the error file instead, to
test partial failures. State lives on ``request.app.state`` (``batches``, ``batch_tasks``), set up
by the server.
"""

from __future__ import annotations

import asyncio
import json
import time

from fastapi import APIRouter, HTTPException, Request

from slmforge.testing.files import get_file, store_file

router = APIRouter()


def _batches(request: Request) -> dict:
    return request.app.state.batches


async def _run_batch(request: Request, batch: dict) -> None:
    server = request.app.state.server
    await asyncio.sleep(request.app.state.batch_delay_s)
    if batch["status"] == "cancelling":
        batch.update(status="cancelled", cancelled_at=int(time.time()))
        return
    lines = get_file(request, batch["input_file_id"])["content"].decode("utf-8").splitlines()
    out, errors = [], []
    for line in filter(str.strip, lines):
        item = json.loads(line)
        if item["custom_id"].startswith("fail-"):
            errors.append({"id": server.next_id("batch_req"), "custom_id": item["custom_id"], "response": None,
                           "error": {"code": "injected", "message": "injected batch line failure"}})
            continue
        body = server.completion_body(item["body"])
        server.stats.completed += 1
        out.append({"id": server.next_id("batch_req"), "custom_id": item["custom_id"], "error": None,
                    "response": {"status_code": 200, "request_id": body["id"], "body": body}})
    fields = {"status": "completed", "completed_at": int(time.time()),
              "request_counts": {"total": len(out) + len(errors), "completed": len(out), "failed": len(errors)}}
    if out:
        data = "".join(json.dumps(o, ensure_ascii=False) + "\n" for o in out).encode()
        fields["output_file_id"] = store_file(request, data, filename="output.jsonl", purpose="batch_output")["id"]
    if errors:
        data = "".join(json.dumps(o, ensure_ascii=False) + "\n" for o in errors).encode()
        fields["error_file_id"] = store_file(request, data, filename="errors.jsonl", purpose="batch_output")["id"]
    batch.update(fields)


@router.post("/v1/batches")
async def create(request: Request) -> dict:
    """Create a batch from an uploaded JSONL file; it completes in the background."""
    params = await request.json()
    get_file(request, params["input_file_id"])
    server = request.app.state.server
    batch = {"id": server.next_id("batch"), "object": "batch", "endpoint": params["endpoint"],
             "input_file_id": params["input_file_id"], "completion_window": params.get("completion_window", "24h"),
             "status": "in_progress", "created_at": int(time.time()), "output_file_id": None,
             "error_file_id": None, "metadata": params.get("metadata"),
             "request_counts": {"total": 0, "completed": 0, "failed": 0}}
    _batches(request)[batch["id"]] = batch
    task = asyncio.create_task(_run_batch(request, batch))
    batch_tasks = request.app.state.batch_tasks
    batch_tasks.add(task)
    task.add_done_callback(batch_tasks.discard)
    return batch


@router.get("/v1/batches/{batch_id}")
async def retrieve(request: Request, batch_id: str) -> dict:
    """The Batch object of ``batch_id``."""
    batch = _batches(request).get(batch_id)
    if batch is None:
        raise HTTPException(404, detail=f"No such batch: {batch_id}")
    return batch


@router.post("/v1/batches/{batch_id}/cancel")
async def cancel(request: Request, batch_id: str) -> dict:
    """Cancel ``batch_id`` if it has not finished."""
    batch = await retrieve(request, batch_id)
    if batch["status"] == "in_progress":
        batch["status"] = "cancelling"
    return batch


@router.get("/v1/batches")
async def list_batches(request: Request) -> dict:
    """List batches."""
    return {"object": "list", "data": list(_batches(request).values()), "has_more": False}
