"""The legal assistant of ``slmforge serve``: legal Q&A with history, contract review clause by clause, drafting.

Routes (registered by :func:`slmforge.serve.app.create_app`; the page is ``static/legal.html``)::

    GET  /legal             the page
    GET  /v1/legal          disclaimer, drafting kinds, whether the kit opts into the legal checks
    POST /v1/legal/ask      one question with the conversation so far → answer + check report (needs --kit)
    POST /v1/review         a contract → its 第N条 clauses, each with a risk level (高/中/低) and the reason
    POST /v1/legal/draft    a document kind and its points → a draft + legal check report

Run it with ``slmforge serve --model runs/tiny --kit examples/ja-legal`` and open ``http://127.0.0.1:8000/legal``.

A question is rendered with the kit task's student template (what the model was fine-tuned on) and checked with
the kit's checks, the legal ones included (:mod:`slmforge.checks.legal`). A contract is split at its 第N条
headings (:func:`split_clauses`); the model answers each clause with a JSON object
``{"risk": "高|中|低", "reason": "…"}``, read by :func:`parse_finding`. A reply that is not such an object is kept
with ``status: "unparsed"``, the raw text and the reason (a small model often writes no JSON): the page shows it
as an error card, never waits for more. Each clause also gets keyword hints (:data:`CLAUSE_HINTS`), which need no
model. Every route that generates takes a limiter slot (429 when busy) and is bounded by its ``max_tokens``.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from slmforge.kit.load import LoadedKit
from slmforge.kit.render import render_student_prompt, system_prompt
from slmforge.serve.config import ServeConfig
from slmforge.serve.engine import ContextTooLong, Engine, SamplingParams
from slmforge.serve.middleware import Limiter, error_response
from slmforge.serve.schemas import Text
from slmforge.serve.contract import ClauseReview, DRAFT_CHECKS, DRAFT_KINDS, MAX_CLAUSES, MAX_CONTRACT_CHARS, clause_hints, review_clause, split_clauses

class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class _Sampling(_Body):
    model: Text | None = Field(default=None, description="Served model id; default: the last adapter (as /v1/copy).")
    temperature: float = Field(default=0.3, ge=0, le=2, description="0 = greedy.")
    top_p: float = Field(default=0.9, gt=0, le=1)
    seed: int | None = Field(default=None, ge=-(2**63), le=2**63 - 1)


class Turn(_Body):
    """A past turn of the conversation."""

    role: Literal["user", "assistant"]
    content: Text = Field(max_length=20_000)


class AskRequest(_Sampling):
    """``POST /v1/legal/ask``: one question, the task that frames it, an optional topic and the turns so far."""

    task: Text = Field(description="Kit task id (contract_qa, interpretation_qa, risk_analysis, practical_advice).")
    topic: Text | None = Field(default=None, description="Catalog subject id; none: a general question.")
    question: Text = Field(min_length=1, max_length=4000)
    history: list[Turn] = Field(default_factory=list, max_length=40, description="Earlier turns, oldest first.")
    max_tokens: int = Field(default=400, ge=1, le=4096)


class ReviewRequest(_Sampling):
    """``POST /v1/review``: a contract to review clause by clause."""

    contract: Text = Field(min_length=1, max_length=MAX_CONTRACT_CHARS)
    max_tokens: int = Field(default=160, ge=1, le=1024, description="Completion tokens per clause.")
    temperature: float = Field(default=0.0, ge=0, le=2)


class DraftRequest(_Sampling):
    """``POST /v1/legal/draft``: a document kind and the points it must make."""

    kind: Literal["notice", "clause", "memo"]
    points: Text = Field(min_length=1, max_length=4000)
    max_tokens: int = Field(default=400, ge=1, le=4096)


RunBlocking = Callable[[Request, threading.Event, Callable[[], Any]], Awaitable[Any]]
"""``until_disconnected(request, cancel, fn)`` of :mod:`slmforge.serve.app`: runs ``fn`` in a worker thread and
sets ``cancel`` when the client leaves."""


def legal_router(cfg: ServeConfig, engine: Engine, lk: LoadedKit | None, limiter: Limiter,
                 run_blocking: RunBlocking) -> APIRouter:
    """The routes of the legal assistant (see the module docstring) for one served model and kit.

    Args:
        cfg: serve settings (``student_system`` puts the kit's system prompt before a question).
        engine: the loaded model.
        lk: the served kit, or ``None`` (then ``/v1/legal/ask`` answers 404 ``no_kit``).
        limiter: the server's limiter (every generating route takes a slot).
        run_blocking: the server's ``until_disconnected``.
    """
    from slmforge.serve.app import STATIC  # local: app imports this module

    router = APIRouter()
    legal = lk.kit.checks.legal if lk is not None else None

    def model_of(requested: str | None) -> str | JSONResponse:
        model = requested or engine.model_ids[-1]
        if model not in engine.model_ids:
            return error_response(404, f"The model `{model}` does not exist; served models: {engine.model_ids}",
                                  param="model", code="model_not_found")
        return model

    def params_of(req: _Sampling, max_tokens: int) -> SamplingParams:
        return SamplingParams(max_tokens=max_tokens, temperature=req.temperature, top_p=req.top_p, seed=req.seed)

    async def generating(request: Request, fn: Callable[[threading.Event], Any]):
        """Run ``fn(cancel)`` with a limiter slot; 429 when busy, 400 when the prompt does not fit."""
        if (slot := limiter.acquire()) is None:
            return limiter.busy_response()
        cancel, outcome = threading.Event(), "errors"
        try:
            out = await run_blocking(request, cancel, lambda: fn(cancel))
            outcome = "cancelled" if cancel.is_set() else "completed"
            return out
        except ContextTooLong as e:
            return error_response(400, str(e), param="max_tokens", code="context_length_exceeded")
        finally:
            slot.release(outcome)

    @router.get("/legal", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC / "legal.html")

    @router.get("/v1/legal")
    async def info() -> dict:
        """What the page needs besides ``/v1/kit``: the disclaimer, the drafting kinds, whether answers are checked."""
        return {"disclaimer": legal.disclaimer if legal else None, "legal_checks": legal is not None,
                "drafting": [{"id": k, "label": v[0]} for k, v in DRAFT_KINDS.items()], "models": engine.model_ids,
                "kit": lk.kit.name if lk else None}

    @router.post("/v1/legal/ask")
    async def ask(req: AskRequest, request: Request):
        """Answer one question in the frame of a kit task, after the earlier turns; the answer's check report.

        Errors: 404 no kit / unknown model, 400 unknown task or topic / ``context_length_exceeded``, 429 busy.
        """
        if lk is None:
            return error_response(404, "this server was started without --kit; /v1/legal/ask needs a kit",
                                  code="no_kit")
        model = model_of(req.model)
        if isinstance(model, JSONResponse):
            return model
        try:
            task = lk.kit.task(req.task)
        except KeyError as e:
            return error_response(400, str(e.args[0]), param="task")
        if req.topic and req.topic not in lk.subjects:
            return error_response(400, f"no catalog entry {req.topic!r}; topics: {list(lk.subjects)}", param="topic")
        subject = lk.subjects[req.topic] if req.topic else None
        shown = subject or {f.name: ([] if f.type == "list" else "一般") for f in lk.kit.catalog.fields}
        instruction = render_student_prompt(lk.kit, task, shown, req.question)
        msgs = [{"role": t.role, "content": t.content} for t in req.history]
        msgs.append({"role": "user", "content": instruction})
        if cfg.student_system:
            msgs.insert(0, {"role": "system", "content": system_prompt(lk.kit)})
        params = params_of(req, req.max_tokens)

        def work(cancel: threading.Event) -> dict:
            from slmforge.checks import kit_vocabulary, run_checks

            t0 = time.perf_counter()
            choice = engine.generate(model, msgs, params, cancel).choices[0]
            answer = choice.text.strip()
            report = run_checks([answer], task=task, subject=subject, kit=lk.kit, instruction=instruction,
                                vocab=kit_vocabulary(lk))[0]
            return {"id": f"ask-{uuid.uuid4().hex[:24]}", "object": "legal.answer", "created": int(time.time()),
                    "model": model, "task": task.id, "topic": req.topic, "instruction": instruction, "answer": answer,
                    "finish_reason": choice.finish_reason, "report": report.to_dict(),
                    "latency_s": round(time.perf_counter() - t0, 3)}

        return await generating(request, work)

    @router.post("/v1/review")
    async def review(req: ReviewRequest, request: Request):
        """Review a contract clause by clause: risk level and reason from the model, keyword hints from the rules.

        Errors: 400 no 第N条 heading / more than :data:`MAX_CLAUSES` clauses / a clause over the context,
        404 unknown model, 429 busy. A reply that is not a JSON finding is a clause with ``status: unparsed``.
        """
        model = model_of(req.model)
        if isinstance(model, JSONResponse):
            return model
        preamble, clauses = split_clauses(req.contract)
        if not clauses:
            return error_response(400, "条項の見出し（行頭の「第1条」「第2条（目的）」など）が見つかりません; "
                                  "put each clause on its own line starting with 第N条", param="contract",
                                  code="no_clauses")
        if len(clauses) > MAX_CLAUSES:
            return error_response(400, f"{len(clauses)} clauses; at most {MAX_CLAUSES} per request — split the "
                                  "contract", param="contract", code="too_many_clauses")
        params = params_of(req, req.max_tokens)

        def work(cancel: threading.Event) -> dict:
            t0 = time.perf_counter()
            reviews = []
            for c in clauses:
                if cancel.is_set():
                    reviews.append(ClauseReview(c, "skipped", hints=clause_hints(c.text)))
                    continue
                reviews.append(review_clause(c, lambda m: engine.generate(model, m, params, cancel).choices[0].text))
            counts = {s: sum(r.status == s for r in reviews) for s in ("ok", "unparsed", "skipped")}
            levels = {lv: sum(r.risk == lv for r in reviews) for lv in ("high", "medium", "low")}
            return {"id": f"review-{uuid.uuid4().hex[:24]}", "object": "contract.review", "created": int(time.time()),
                    "model": model, "preamble": preamble, "clauses": [asdict(r) for r in reviews],
                    "summary": {"clauses": len(reviews), "parsed": counts["ok"], "unparsed": counts["unparsed"],
                                "skipped": counts["skipped"], **levels,
                                "latency_s": round(time.perf_counter() - t0, 3)},
                    "disclaimer": legal.disclaimer if legal else None}

        return await generating(request, work)

    @router.post("/v1/legal/draft")
    async def draft(req: DraftRequest, request: Request):
        """Draft a notice, a clause or an internal memo from the user's points; legal checks when the kit opts in.

        Errors: 404 unknown model, 400 ``context_length_exceeded``, 429 busy.
        """
        model = model_of(req.model)
        if isinstance(model, JSONResponse):
            return model
        label, instruction = DRAFT_KINDS[req.kind]
        msgs = [{"role": "user", "content": f"{instruction}\n要点：{req.points}"}]
        params = params_of(req, req.max_tokens)

        def work(cancel: threading.Event) -> dict:
            choice = engine.generate(model, msgs, params, cancel).choices[0]
            text = choice.text.strip()
            report = None
            if lk is not None and legal is not None:
                from slmforge.checks import run_checks

                report = run_checks([text], task=None, subject=None, kit=lk.kit, instruction=req.points,
                                    checks=list(DRAFT_CHECKS))[0].to_dict()
            return {"id": f"draft-{uuid.uuid4().hex[:24]}", "object": "legal.draft", "created": int(time.time()),
                    "model": model, "kind": req.kind, "label": label, "text": text,
                    "finish_reason": choice.finish_reason, "report": report}

        return await generating(request, work)

    return router
