"""The FastAPI app of ``slmforge serve``: OpenAI-compatible chat completions, the brand-checked
``/v1/copy`` endpoint, the kit schema for the playground, and the playground itself at ``/``.

Routes: ``GET /health`` (no auth), ``GET /v1/models``, ``POST /v1/chat/completions``,
``POST /tokenize`` (vLLM-compatible token count), ``GET /v1/kit``, ``POST /v1/copy``, ``GET /``, and the legal
assistant of :mod:`slmforge.serve.review` (``GET /legal``, ``POST /v1/review``, ``POST /v1/legal/ask`` …).
Run it with ``slmforge serve --model runs/tiny --adapter sft=runs/sft/adapter --kit KIT``.

Request life cycle: the ``Host`` check (421), auth (401) and the body limit (413) run as middleware;
pydantic validates the body (400); a route that uses the model (chat, copy, tokenize) then takes a
limiter slot (429 when none is free), does its blocking work in a worker thread, and frees the slot
on every path — the moment its work is done, before the last byte is sent. Every error, including
an unexpected one (500), is an OpenAI-style JSON error body.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import anyio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Receive, Scope, Send

from slmforge.serve.chat import (JSONModeFailed, StreamCancel, complete, completion_body, messages_of,
                                 sampling_params, stream_chunks)
from slmforge.serve.config import ServeConfig
from slmforge.serve.copy import CopyInputError, copy_events, copy_messages, kit_info as kit_info_body
from slmforge.serve.engine import ContextTooLong, Engine, SamplingParams
from slmforge.serve.middleware import (AuthMiddleware, BodyLimitMiddleware, CrashMiddleware, HostCheckMiddleware,
                                       Limiter, Slot, allowed_hosts, error_body, error_response, sse)
from slmforge.serve.review import legal_router
from slmforge.serve.schemas import ChatCompletionRequest, CopyRequest, TokenizeRequest

STATIC = Path(__file__).parent / "static"
log = logging.getLogger(__name__)
T = TypeVar("T")


class SSEResponse(StreamingResponse):
    """``text/event-stream`` response that owns a limiter slot.

    - When the client disconnects (starlette's ``listen_for_disconnect``), ``on_disconnect`` runs at
      once, so the generation stops at the next token even while this request waits for the model.
    - It always closes its generator, so the generator's cleanup (cancel the generation, free the
      slot) runs even when sending to a gone client fails.
    - It then releases ``slot`` as ``cancelled`` unless the generator released it — which covers a
      client gone before the generator ever started.
    """

    media_type = "text/event-stream"

    def __init__(self, content, *, slot: Slot, on_disconnect: Callable[[], None]) -> None:
        super().__init__(content)
        self.slot, self.on_disconnect = slot, on_disconnect

    async def listen_for_disconnect(self, receive: Receive) -> None:  # noqa: D102 - starlette API
        await super().listen_for_disconnect(receive)
        self.on_disconnect()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # noqa: D102 - ASGI
        try:
            await super().__call__(scope, receive, send)
        finally:
            with anyio.CancelScope(shield=True):
                await self.body_iterator.aclose()
            self.slot.release("cancelled")


async def until_disconnected(request: Request, cancel: threading.Event, fn: Callable[[], T]) -> T:
    """Run blocking ``fn`` in a worker thread; set ``cancel`` if the client disconnects before it returns.

    The disconnect is seen by awaiting the ASGI ``receive`` channel, which (the body being read
    already) yields ``http.disconnect`` as soon as the connection closes; ``fn`` is expected to watch
    ``cancel`` (the engine stops generating at the next token).
    """

    async def watch() -> None:
        while (await request.receive())["type"] != "http.disconnect":
            pass
        cancel.set()

    error: Exception | None = None
    async with anyio.create_task_group() as tg:
        tg.start_soon(watch)
        try:
            result = await anyio.to_thread.run_sync(fn)
        except Exception as e:  # re-raised below as itself, not wrapped in the task group's ExceptionGroup
            error = e
        finally:
            tg.cancel_scope.cancel()
    if error is not None:
        raise error
    return result


def _param(loc: tuple) -> str | None:
    parts = [str(p) for p in loc if p != "body"]
    return ".".join(parts) or None


def _context_error(e: ContextTooLong, param: str) -> JSONResponse:
    return error_response(400, str(e), param=param, code="context_length_exceeded")


def create_app(cfg: ServeConfig, *, engine: Engine | None = None) -> FastAPI:
    """Build the app for ``cfg``, loading the model (and kit) unless an ``engine`` is given.

    Args:
        cfg: serve settings.
        engine: an already loaded engine (benchmarks reuse one); default: load ``cfg.model`` + adapters.

    Returns:
        the FastAPI app; run it with ``uvicorn.run(app, host=cfg.host, port=cfg.port)``.

    Raises:
        KitError: ``cfg.kit`` cannot be loaded.
    """
    engine = engine or Engine(cfg.model, cfg.adapters, base_id=cfg.base_model_id(), device=cfg.device,
                               dtype=cfg.dtype)
    kit = None
    if cfg.kit:
        from slmforge.kit import load_kit

        kit = load_kit(cfg.kit)
    kit_body = kit_info_body(kit, models=engine.model_ids, blocking_checks=cfg.blocking_checks) if kit else None
    limiter = Limiter(cfg.max_concurrency)
    started = int(time.time())
    app = FastAPI(title="slmforge serve", version="0.1.0", docs_url="/docs", redoc_url=None)
    app.state.engine, app.state.limiter, app.state.kit = engine, limiter, kit
    app.add_middleware(CrashMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_bytes=cfg.max_body_bytes)
    if cfg.api_key:
        app.add_middleware(AuthMiddleware, api_key=cfg.api_key)
    if cfg.host_check():  # added last = runs first
        app.add_middleware(HostCheckMiddleware, allowed=allowed_hosts(cfg.host, cfg.allowed_hosts))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        err = exc.errors()[0]
        loc = _param(tuple(err.get("loc", ())))
        msg = f"{loc}: {err['msg']}" if loc else err["msg"]
        more = f" (and {len(exc.errors()) - 1} more errors)" if len(exc.errors()) > 1 else ""
        return error_response(400, msg + more, param=loc)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error_response(exc.status_code, str(exc.detail), code="not_found" if exc.status_code == 404 else None)

    def unknown_model(model: str) -> JSONResponse | None:
        if model in engine.model_ids:
            return None
        return error_response(404, f"The model `{model}` does not exist; served models: {engine.model_ids}",
                              param="model", code="model_not_found")

    @app.get("/health")
    async def health() -> dict:
        """Liveness and load: served models, requests in flight, counters."""
        return {"status": "ok", "models": engine.model_ids, "kit": kit.kit.name if kit else None,
                "in_flight": limiter.in_flight, "max_concurrency": limiter.max_in_flight, **limiter.stats}

    @app.get("/v1/models")
    async def models() -> dict:
        """OpenAI model list; adapters carry ``parent`` = the base id (as vLLM lists LoRA modules)."""
        data = [{"id": engine.base_id, "object": "model", "created": started, "owned_by": "slmforge",
                 "root": cfg.model, "parent": None}]
        data += [{"id": name, "object": "model", "created": started, "owned_by": "slmforge", "root": path,
                  "parent": engine.base_id} for name, path in engine.adapters.items()]
        return {"object": "list", "data": data}

    def tokenize_response(req: TokenizeRequest) -> JSONResponse:
        if req.messages is not None:
            msgs = [{"role": m.role, "content": m.text()} for m in req.messages]
            ids = engine.encode_chat(msgs) if req.add_generation_prompt else list(
                engine.tokenizer.apply_chat_template(msgs, tokenize=True, return_dict=True)["input_ids"])
        else:
            ids = engine.tokenizer(req.prompt, add_special_tokens=req.add_special_tokens)["input_ids"]
        return JSONResponse({"count": len(ids), "max_model_len": engine.max_context, "tokens": ids})

    @app.post("/tokenize")
    async def tokenize(req: TokenizeRequest) -> JSONResponse:
        """Count tokens with the served tokenizer (vLLM's ``/tokenize`` request and response shape).

        Takes a limiter slot like a generation (429 when busy) and tokenizes and renders the JSON in a
        worker thread, so a large body never stalls the event loop (``/health`` stays responsive).
        """
        if (slot := limiter.acquire()) is None:
            return limiter.busy_response()
        outcome = "errors"
        try:
            resp = await anyio.to_thread.run_sync(tokenize_response, req)
            outcome = "completed"
            return resp
        finally:
            slot.release(outcome)

    @app.post("/v1/chat/completions")
    async def chat_completions(req: ChatCompletionRequest, request: Request):
        """OpenAI Chat Completions: ``n``, sampling, ``stop``, ``seed``, JSON mode, SSE streaming.

        Errors: 404 unknown model, 400 ``n`` over ``--max-n`` or ``context_length_exceeded``, 429 busy,
        422 ``json_invalid`` (JSON mode). A client that disconnects stops its generation at the next
        token, streaming or not (counted as ``cancelled``).
        """
        if (resp := unknown_model(req.model)) is not None:
            return resp
        if req.n > cfg.max_n:
            return error_response(400, f"n must be <= {cfg.max_n}", param="n")
        params = sampling_params(req, cfg.default_max_tokens)
        if (slot := limiter.acquire()) is None:
            return limiter.busy_response()
        outcome, streaming = "errors", None
        try:
            if req.stream:  # context-length errors surface as 400 before the stream starts
                ids = await anyio.to_thread.run_sync(engine.encode_chat, messages_of(req))
                engine.check_budget(len(ids), params)
                cancel = StreamCancel()
                streaming = SSEResponse(stream_chunks(engine, req, params, slot=slot, cancel=cancel), slot=slot,
                                        on_disconnect=cancel.set)
                return streaming
            gone = threading.Event()
            gen = await until_disconnected(
                request, gone, lambda: complete(engine, req, params, json_attempts=cfg.json_attempts, cancel=gone))
            outcome = "cancelled" if gone.is_set() else "completed"
            return completion_body(req, gen)
        except ContextTooLong as e:
            return _context_error(e, "messages")
        except JSONModeFailed as e:
            return error_response(422, str(e), param="response_format", code="json_invalid")
        finally:
            if streaming is None:  # the stream releases its own slot
                slot.release(outcome)

    @app.get("/v1/kit")
    async def kit_info() -> dict:
        """The kit for the playground: brand, tasks with their mode (form or chat) and constraints, the subject
        field schema, catalog entries, length unit, CTA cues and punctuation limits (:func:`copy.kit_info`)."""
        if kit is None:
            return error_response(404, "this server was started without --kit", code="no_kit")
        return kit_body

    @app.post("/v1/copy")
    async def copy(req: CopyRequest, request: Request):
        """Drafts for a task and subject with check reports, behind ``guard: flag | retry | block``.

        Errors: 404 no kit or unknown model, 400 bad task / subject / ``n`` / ``context_length_exceeded``
        (all before any generation, streaming or not), 429 busy. A client that disconnects stops the
        generation at the next token (counted as ``cancelled``).
        """
        if kit is None:
            return error_response(404, "this server was started without --kit; /v1/copy needs a kit", code="no_kit")
        model = req.model or engine.model_ids[-1]
        if (resp := unknown_model(model)) is not None:
            return resp
        if req.n > cfg.max_n:
            return error_response(400, f"n must be <= {cfg.max_n}", param="n")
        if (slot := limiter.acquire()) is None:
            return limiter.busy_response()
        cancel = threading.Event()
        params = SamplingParams(max_tokens=req.max_tokens or cfg.default_max_tokens, temperature=req.temperature,
                                top_p=req.top_p, seed=req.seed)
        events = copy_events(kit, req, model=model, params=params, blocking=cfg.blocking_checks,
                             max_retries=cfg.guard_max_retries, with_system=cfg.student_system, cancel=cancel,
                             stream_fn=lambda msgs, p: engine.stream(model, msgs, p, cancel))

        def start() -> dict:  # the first event, after checking the request against the kit and the context
            first = next(events)
            msgs = copy_messages(kit, kit.kit.task(first["task"]), first["subject"], req.value,
                                 with_system=cfg.student_system)
            engine.check_budget(len(engine.encode_chat(msgs)), params)
            return first

        def drain(first: dict) -> dict:
            last = first
            for ev in events:
                last = ev
            return last

        outcome, streaming = "errors", None
        try:
            first = await anyio.to_thread.run_sync(start)
            if req.stream:
                streaming = SSEResponse(_copy_stream(first, events, slot, cancel), slot=slot,
                                        on_disconnect=cancel.set)
                return streaming
            last = await until_disconnected(request, cancel, lambda: drain(first))
            outcome = "cancelled" if cancel.is_set() else "completed"
            return last["response"]
        except CopyInputError as e:
            return error_response(400, str(e), param=e.param)
        except ContextTooLong as e:
            return _context_error(e, "max_tokens" if params.max_tokens >= engine.max_context else "subject")
        finally:
            if streaming is None:  # the stream releases its own slot
                slot.release(outcome)

    async def _copy_stream(first: dict, events, slot: Slot, cancel: threading.Event):
        """The copy events as SSE; the slot is freed before the ``done`` event and ``[DONE]`` go out.
        Closed early (client gone), it sets ``cancel`` so the draft being generated stops."""
        outcome, tail = "cancelled", ""
        try:
            yield sse(first)
            while (ev := await anyio.to_thread.run_sync(next, events, None)) is not None:
                if ev["type"] == "done":
                    tail = sse(ev)
                    break
                yield sse(ev)
            tail += sse("[DONE]")
            outcome = "completed"
        except Exception as e:  # in-band: the 200 status line is already sent
            log.exception("/v1/copy stream failed")
            outcome, tail = "errors", sse({"type": "error", **error_body(str(e), type="server_error")})
        finally:
            if outcome != "completed":
                cancel.set()
            slot.release(outcome)
        yield tail

    @app.get("/", include_in_schema=False)
    async def playground() -> FileResponse:
        """The playground page (``static/index.html``): a form for copy tasks, a chat for question–answer tasks."""
        return FileResponse(STATIC / "index.html")

    app.include_router(legal_router(cfg, engine, kit, limiter, until_disconnected))  # /legal, /v1/review …

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
