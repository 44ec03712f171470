"""Fine-tuning jobs routes of the test server (``/v1/fine_tuning/jobs``), shaped like OpenAI's API
(https://platform.openai.com/docs/api-reference/fine-tuning): create, retrieve, list, cancel, events.

A job moves one status per ``retrieve`` call, so tests are deterministic without sleeping::

    validating_files → queued → running (RUN_STEPS steps, one event each) → succeeded | failed

Uploaded files come from :mod:`slmforge.testing.files`. A job fails (with ``error.code`` /
``error.message``, as the real API reports it) when its training file has a line that is not JSON or has
neither ``messages`` (SFT) nor ``input`` + ``preferred_output`` (DPO) — or when the base ``model`` starts
with ``fail`` (a switch for tests of the failure path). ``POST …/cancel`` cancels any job not finished.
"""

from __future__ import annotations

import json
import time

from fastapi import APIRouter, HTTPException, Request

from slmforge.testing.files import get_file

router = APIRouter()
RUN_STEPS = 3
TERMINAL = {"succeeded", "failed", "cancelled"}


def _jobs(request: Request) -> dict:
    return request.app.state.ft_jobs


def _event(job: dict, message: str, level: str = "info", data: dict | None = None) -> None:
    job["_events"].append({"id": f"ftevent-{job['id']}-{len(job['_events'])}", "object": "fine_tuning.job.event",
                           "created_at": int(time.time()), "level": level, "message": message,
                           "data": data or {}, "type": "metrics" if data else "message"})


def _validate(content: bytes) -> str | None:
    for i, line in enumerate(content.decode("utf-8", errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            return f"line {i}: not valid JSON"
        if not isinstance(row, dict) or not ("messages" in row or {"input", "preferred_output"} <= row.keys()):
            return f"line {i}: expected 'messages' (SFT) or 'input' + 'preferred_output' (DPO)"
    return None


def _public(job: dict) -> dict:
    return {k: v for k, v in job.items() if not k.startswith("_")}


def _advance(request: Request, job: dict) -> None:
    status = job["status"]
    if status == "validating_files":
        problem = _validate(get_file(request, job["training_file"])["content"])
        if job["model"].startswith("fail"):
            problem = f"model {job['model']!r} is not available for fine-tuning"
        if problem:
            job.update(status="failed", finished_at=int(time.time()),
                       error={"code": "invalid_training_file", "message": problem, "param": "training_file"})
            _event(job, f"Job failed: {problem}", "error")
        else:
            job["status"] = "queued"
            _event(job, "Files validated, moving job to queued state")
    elif status == "queued":
        job["status"] = "running"
        _event(job, "Fine-tuning job started")
    elif status == "running":
        job["_step"] += 1
        step = job["_step"]
        _event(job, f"Step {step}/{RUN_STEPS}: training loss={2.0 / step:.3f}", data={
            "step": step, "total_steps": RUN_STEPS, "train_loss": 2.0 / step})
        if step == RUN_STEPS:
            suffix = job.get("suffix") or "slmforge"
            job.update(status="succeeded", finished_at=int(time.time()), trained_tokens=1000 * RUN_STEPS,
                       fine_tuned_model=f"ft:{job['model']}:{suffix}:{job['id']}", result_files=[])
            _event(job, "The job has successfully completed")


@router.post("/v1/fine_tuning/jobs")
async def create(request: Request) -> dict:
    """Create a job (body as in the OpenAI API: model, training_file, validation_file, method, suffix, seed)."""
    body = await request.json()
    get_file(request, body["training_file"])
    job_id = request.app.state.server.next_id("ftjob")
    job = {"id": job_id, "object": "fine_tuning.job", "created_at": int(time.time()), "model": body["model"],
           "training_file": body["training_file"], "validation_file": body.get("validation_file"),
           "hyperparameters": body.get("hyperparameters") or {}, "method": body.get("method"),
           "suffix": body.get("suffix"), "seed": body.get("seed") or 0, "status": "validating_files",
           "error": None, "fine_tuned_model": None, "finished_at": None, "organization_id": "org-test",
           "result_files": [], "trained_tokens": None, "integrations": [], "estimated_finish": None,
           "_events": [], "_step": 0}
    _event(job, f"Created fine-tuning job: {job_id}")
    _jobs(request)[job_id] = job
    return _public(job)


def _job(request: Request, job_id: str) -> dict:
    job = _jobs(request).get(job_id)
    if job is None:
        raise HTTPException(404, detail=f"No such fine-tuning job: {job_id}")
    return job


@router.get("/v1/fine_tuning/jobs")
async def list_jobs(request: Request) -> dict:
    """All jobs, newest first."""
    data = [_public(j) for j in reversed(list(_jobs(request).values()))]
    return {"object": "list", "data": data, "has_more": False}


@router.get("/v1/fine_tuning/jobs/{job_id}")
async def retrieve(request: Request, job_id: str) -> dict:
    """The job, advanced by one status step."""
    job = _job(request, job_id)
    if job["status"] not in TERMINAL:
        _advance(request, job)
    return _public(job)


@router.post("/v1/fine_tuning/jobs/{job_id}/cancel")
async def cancel(request: Request, job_id: str) -> dict:
    """Cancel a job that has not finished (a finished one is returned unchanged)."""
    job = _job(request, job_id)
    if job["status"] not in TERMINAL:
        job.update(status="cancelled", finished_at=int(time.time()))
        _event(job, "Job cancelled")
    return _public(job)


@router.get("/v1/fine_tuning/jobs/{job_id}/events")
async def events(request: Request, job_id: str, limit: int = 20, after: str | None = None) -> dict:
    """Events newest first; ``after`` = an event id: only events older than it (OpenAI's cursor)."""
    evs = list(reversed(_job(request, job_id)["_events"]))
    if after is not None:
        ids = [e["id"] for e in evs]
        evs = evs[ids.index(after) + 1:] if after in ids else []
    return {"object": "list", "data": evs[:limit], "has_more": len(evs) > limit}
