"""The FastAPI app of ``slmforge serve``: OpenAI-compatible chat completions, the brand-checked
``/v1/copy`` endpoint, the kit schema for the playground, and the playground itself at ``/``.

Routes: ``GET /health`` (no auth), ``GET /v1/models``, ``POST /v1/chat/completions``,
``POST /tokenize`` (vLLM-compatible token count), ``GET /v1/kit``, ``POST /v1/copy``, ``GET /``.
Run it with ``slmforge serve --model runs/tiny --adapter sft=runs/sft/adapter --kit KIT``.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import anyio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from slmforge.serve.chat import (JSONModeFailed, complete, completion_body, messages_of, sampling_params,
                                 stream_chunks)
from slmforge.serve.config import ServeConfig
from slmforge.serve.copy import CopyInputError, copy_events
from slmforge.serve.engine import ContextTooLong, Engine, SamplingParams
from slmforge.serve.middleware import AuthMiddleware, BodyLimitMiddleware, Limiter, error_response, sse
from slmforge.serve.schemas import ChatCompletionRequest, CopyRequest, TokenizeRequest

STATIC = Path(__file__).parent / "static"


class SSEResponse(StreamingResponse):
    """``text/event-stream`` response that always closes its generator, so the generator's cleanup
    (cancel the generation, free the slot) runs even when sending to a gone client fails."""

    media_type = "text/event-stream"

    async def stream_response(self, send) -> None:  # noqa: D102 - starlette API
        try:
            await super().stream_response(send)
        finally:
            await self.body_iterator.aclose()


def _param(loc: tuple) -> str | None:
    parts = [str(p) for p in loc if p != "body"]
    return ".".join(parts) or None


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
    engine = engine or Engine(cfg.model, cfg.adapters, base_id=cfg.base_model_id(), device=cfg.device)
    kit = None
    if cfg.kit:
        from slmforge.kit import load_kit

        kit = load_kit(cfg.kit)
    limiter = Limiter(cfg.max_concurrency)
    started = int(time.time())
    app = FastAPI(title="slmforge serve", version="0.1.0", docs_url="/docs", redoc_url=None)
    app.state.engine, app.state.limiter, app.state.kit = engine, limiter, kit
    app.add_middleware(BodyLimitMiddleware, max_bytes=cfg.max_body_bytes)
    if cfg.api_key:
        app.add_middleware(AuthMiddleware, api_key=cfg.api_key)  # added last = runs first

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

    @app.post("/tokenize")
    async def tokenize(req: TokenizeRequest) -> dict:
        """Count tokens with the served tokenizer (vLLM's ``/tokenize`` request and response shape)."""
        if req.messages is not None:
            msgs = [{"role": m.role, "content": m.text()} for m in req.messages]
            ids = engine.encode_chat(msgs) if req.add_generation_prompt else list(
                engine.tokenizer.apply_chat_template(msgs, tokenize=True, return_dict=True)["input_ids"])
        else:
            ids = engine.tokenizer(req.prompt, add_special_tokens=req.add_special_tokens)["input_ids"]
        return {"count": len(ids), "max_model_len": engine.max_context, "tokens": ids}

    @app.post("/v1/chat/completions")
    async def chat_completions(req: ChatCompletionRequest, request: Request):
        """OpenAI Chat Completions: ``n``, sampling, ``stop``, ``seed``, JSON mode, SSE streaming."""
        if (resp := unknown_model(req.model)) is not None:
            return resp
        if req.n > cfg.max_n:
            return error_response(400, f"n must be <= {cfg.max_n}", param="n")
        params = sampling_params(req, cfg.default_max_tokens)
        if not limiter.try_acquire():
            return limiter.busy_response()
        if req.stream:
            try:  # context-length errors surface as 400 before the stream starts
                engine.check_budget(len(engine.encode_chat(messages_of(req))), params)
            except ContextTooLong as e:
                limiter.release("errors")
                return error_response(400, str(e), param="messages", code="context_length_exceeded")
            return SSEResponse(stream_chunks(engine, req, params, request, limiter))
        outcome = "errors"
        try:
            gen = await anyio.to_thread.run_sync(lambda: complete(engine, req, params, json_attempts=cfg.json_attempts))
            outcome = "completed"
            return completion_body(req, gen)
        except ContextTooLong as e:
            return error_response(400, str(e), param="messages", code="context_length_exceeded")
        except JSONModeFailed as e:
            return error_response(422, str(e), param="response_format", code="json_invalid")
        finally:
            limiter.release(outcome)

    @app.get("/v1/kit")
    async def kit_info() -> dict:
        """The kit for the playground: brand, tasks with constraints, the subject field schema, catalog entries."""
        if kit is None:
            return error_response(404, "this server was started without --kit", code="no_kit")
        k = kit.kit
        return {
            "name": k.name, "brand": k.brand, "language": k.language, "id_field": k.catalog.id_field,
            "tasks": [{"id": t.id, "family": t.family, "description": t.description,
                       "constraints": t.constraints.model_dump(exclude_defaults=True)} for t in k.tasks],
            "fields": [f.model_dump() for f in k.catalog.fields],
            "catalog": [{"id": sid, "fields": s} for sid, s in kit.subjects.items()],
            "models": engine.model_ids, "blocking_checks": cfg.blocking_checks,
        }

    @app.post("/v1/copy")
    async def copy(req: CopyRequest, request: Request):
        """Drafts for a task and subject with check reports, behind ``guard: flag | retry | block``."""
        if kit is None:
            return error_response(404, "this server was started without --kit; /v1/copy needs a kit", code="no_kit")
        model = req.model or engine.model_ids[-1]
        if (resp := unknown_model(model)) is not None:
            return resp
        if req.n > cfg.max_n:
            return error_response(400, f"n must be <= {cfg.max_n}", param="n")
        if not limiter.try_acquire():
            return limiter.busy_response()
        cancel = threading.Event()
        params = SamplingParams(max_tokens=req.max_tokens or cfg.default_max_tokens, temperature=req.temperature,
                                top_p=req.top_p, seed=req.seed)
        events = copy_events(kit, req, model=model, params=params, blocking=cfg.blocking_checks,
                             max_retries=cfg.guard_max_retries, with_system=cfg.copy_system_prompt, cancel=cancel,
                             stream_fn=lambda msgs, p: engine.stream(model, msgs, p, cancel))
        try:
            first = await anyio.to_thread.run_sync(next, events)
        except (CopyInputError, ContextTooLong) as e:
            limiter.release("errors")
            return error_response(400, str(e), param=e.param if isinstance(e, CopyInputError) else "subject")
        if req.stream:
            return SSEResponse(_copy_stream(first, events, request, cancel))
        outcome = "errors"
        try:
            last = first
            while (ev := await anyio.to_thread.run_sync(next, events, None)) is not None:
                last = ev
            outcome = "completed"
            return last["response"]
        except ContextTooLong as e:
            return error_response(400, str(e), param="subject")
        finally:
            limiter.release(outcome)

    async def _copy_stream(first: dict, events, request: Request, cancel: threading.Event):
        outcome = "cancelled"
        try:
            yield sse(first)
            while (ev := await anyio.to_thread.run_sync(next, events, None)) is not None:
                if await request.is_disconnected():
                    return
                yield sse(ev)
            yield sse("[DONE]")
            outcome = "completed"
        except Exception as e:  # in-band: the 200 status line is already sent
            outcome = "errors"
            yield sse({"type": "error", "error": {"message": str(e), "type": "server_error"}})
        finally:
            cancel.set()
            limiter.release(outcome)

    @app.get("/", include_in_schema=False)
    async def playground() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
