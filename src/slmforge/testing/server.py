"""ScriptedServer: a real OpenAI-compatible HTTP server on 127.0.0.1 for tests and benchmarks.

The server is a FastAPI app run by uvicorn in a background thread on a free loopback port. It
answers ``POST /v1/chat/completions`` from a *script* (a function of the request JSON), lists
models at ``GET /v1/models``, and mounts the files, batches and fine-tuning routers
(:mod:`slmforge.testing.files`, :mod:`slmforge.testing.batches`, :mod:`slmforge.testing.finetune`).
It injects latency and faults at a given rate so the client's retries are exercised through the
official ``openai`` SDK, with nothing mocked::

    with ScriptedServer(lambda req: '{"ok": true}', latency_s=0.01, fault_rate=0.3) as srv:
        client = openai.OpenAI(base_url=srv.base_url, api_key="test")
        ...
        srv.stats.completed   # chat completions served with status 200 and good content

Fault kinds (``ALL_FAULTS``): ``rate_limit`` (429 with ``Retry-After``), ``server_error`` (500),
``drop`` (the connection closes mid-response), ``hang`` (no reply until ``hang_s``, so the client
times out), ``malformed`` (status 200 with a body that is not JSON), ``truncated`` (status 200,
the assistant content cut in half, ``finish_reason="length"``).

Usage numbers are deterministic: a message costs ``ceil(chars / 4)`` tokens (see
:func:`count_tokens`); ``prompt_tokens_details.cached_tokens`` counts the tokens of the longest
run of leading messages already seen in an earlier request, which imitates providers' automatic
prefix caching (OpenAI prompt caching guide: the static prefix of a prompt is cached).
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

ALL_FAULTS: tuple[str, ...] = ("rate_limit", "server_error", "drop", "hang", "malformed", "truncated")

Script = Callable[[dict], "str | dict"]


def count_tokens(text: str) -> int:
    """Deterministic stand-in for a tokenizer: ``ceil(len(text) / 4)`` tokens (characters / 4)."""
    return math.ceil(len(text) / 4)


def _message_text(message: dict) -> str:
    content = message.get("content") or ""
    if isinstance(content, list):  # content parts
        content = "".join(part.get("text", "") for part in content)
    return f"{message.get('role', '')}:{content}"


def echo_script(request: dict) -> str:
    """Default script: the reply is ``"echo: "`` + the last message's content."""
    return "echo: " + (request["messages"][-1].get("content") or "")


@dataclass
class ServerStats:
    """Counters of what the server saw (read them from the test thread).

    Attributes:
        requests: chat-completion requests received (including faulted ones).
        completed: chat completions answered with status 200 and intact content.
        faults: count per fault kind injected.
        models: count per requested model id.
        max_in_flight: the largest number of chat requests handled at the same moment.
    """

    requests: int = 0
    completed: int = 0
    faults: Counter = field(default_factory=Counter)
    models: Counter = field(default_factory=Counter)
    in_flight: int = 0
    max_in_flight: int = 0


class _DropResponse(Response):
    """Starts a response, sends part of the body, then fails so uvicorn closes the connection."""

    async def __call__(self, scope, receive, send) -> None:  # noqa: D102 - ASGI
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")]})
        await send({"type": "http.response.body", "body": b'{"id": "chatcmpl-dro', "more_body": True})
        raise ConnectionResetError("injected connection drop")


class ScriptedServer:
    """OpenAI-compatible loopback server whose replies come from a script, with injected faults.

    Args:
        script: ``script(request_json) -> str | dict``; a ``str`` is the assistant content, a
            ``dict`` is returned as the whole response body (a full override). Defaults to
            :func:`echo_script`.
        latency_s: seconds every chat request waits before answering (simulated model time).
        fault_rate: probability in [0, 1] that a chat request gets a fault instead of an answer.
        faults: the fault kinds to draw from uniformly (subset of ``ALL_FAULTS``).
        seed: seed of the fault draws (deterministic for a given order of arrivals).
        retry_after_s: value sent in ``Retry-After`` (and ``retry-after-ms``) with injected 429s.
        hang_s: how long a ``hang`` fault waits before answering (seconds; cut short on stop).
        models: model ids the server knows; other ids get 404 ``model_not_found``. ``None``
            accepts any model id.

    Raises:
        ValueError: an unknown fault kind, or a fault rate outside [0, 1].
    """

    def __init__(
        self,
        script: Script | None = None,
        *,
        latency_s: float = 0.0,
        fault_rate: float = 0.0,
        faults: Sequence[str] = ALL_FAULTS,
        seed: int = 0,
        retry_after_s: float = 0.05,
        hang_s: float = 30.0,
        models: Sequence[str] | None = None,
    ) -> None:
        unknown = set(faults) - set(ALL_FAULTS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}; known: {ALL_FAULTS}")
        if not 0.0 <= fault_rate <= 1.0:
            raise ValueError(f"fault_rate must be in [0, 1], got {fault_rate}")
        self.script = script or echo_script
        self.latency_s = latency_s
        self.fault_rate = fault_rate
        self.faults = tuple(faults)
        self.retry_after_s = retry_after_s
        self.hang_s = hang_s
        self.models = list(models) if models is not None else None
        self.stats = ServerStats()
        self._rng = random.Random(seed)
        self._seen_prefixes: set[str] = set()
        self._ids = 0
        self._stopping = threading.Event()
        self.app = self._build_app()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port: int | None = None

    # ---- lifecycle -------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1`` (what ``openai.OpenAI(base_url=...)`` takes)."""
        if self.port is None:
            raise RuntimeError("server not started; use it as a context manager or call start()")
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> ScriptedServer:
        """Bind a free port on 127.0.0.1 and serve in a daemon thread; returns once accepting.

        Raises:
            RuntimeError: uvicorn did not start within 10 s.
        """
        # proto=IPPROTO_TCP so asyncio sets TCP_NODELAY on accepted connections (it checks the
        # socket's proto); otherwise Nagle + delayed ACK add ~40 ms to every response.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(self.app, log_level="critical", access_log=False, lifespan="off",
                                timeout_graceful_shutdown=1, backlog=2048, limit_concurrency=None)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]},
                                        name=f"ScriptedServer:{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("ScriptedServer did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Ask uvicorn to exit (hanging requests are released) and wait for the thread."""
        self._stopping.set()
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> ScriptedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- behaviour -------------------------------------------------------------------------
    def next_id(self, prefix: str) -> str:
        """A fresh object id such as ``chatcmpl-12`` or ``file-3``."""
        self._ids += 1
        return f"{prefix}-{self._ids}"

    def draw_fault(self) -> str | None:
        """Draw whether the next chat request gets a fault, and which kind."""
        if self.fault_rate and self._rng.random() < self.fault_rate:
            return self._rng.choice(self.faults)
        return None

    def usage(self, messages: list[dict], completion: str) -> dict:
        """Usage block for a request: prompt / cached / completion tokens (see module docstring)."""
        texts = [_message_text(m) for m in messages]
        prompt = sum(count_tokens(t) for t in texts)
        cached = 0
        key = ""
        for i, text in enumerate(texts[:-1]):  # the last message is never a cached prefix
            key += "\x00" + text
            if key in self._seen_prefixes:
                cached = sum(count_tokens(t) for t in texts[: i + 1])
        key = ""
        for text in texts[:-1]:
            key += "\x00" + text
            self._seen_prefixes.add(key)
        completion_tokens = count_tokens(completion)
        return {"prompt_tokens": prompt, "completion_tokens": completion_tokens,
                "total_tokens": prompt + completion_tokens,
                "prompt_tokens_details": {"cached_tokens": cached}}

    def completion_body(self, request: dict, fault: str | None = None) -> dict:
        """Run the script on a chat request and build the ``chat.completion`` body.

        With ``fault="truncated"`` every choice's content is cut to its first half and
        ``finish_reason`` is ``"length"``.
        """
        out = self.script(request)
        if isinstance(out, dict):
            return out
        choices = []
        for index in range(int(request.get("n") or 1)):
            content, finish = out, "stop"
            if fault == "truncated":
                content, finish = out[: len(out) // 2], "length"
            choices.append({"index": index, "finish_reason": finish, "logprobs": None,
                            "message": {"role": "assistant", "content": content, "refusal": None}})
        return {"id": self.next_id("chatcmpl"), "object": "chat.completion", "created": int(time.time()),
                "model": request.get("model", "scripted"), "choices": choices,
                "usage": self.usage(request.get("messages", []), out if fault != "truncated" else out[: len(out) // 2])}

    async def _chat(self, request: Request) -> Response:
        body = await request.json()
        stats = self.stats
        stats.requests += 1
        stats.models[body.get("model")] += 1
        if self.models is not None and body.get("model") not in self.models:
            return JSONResponse({"error": {"message": f"The model `{body.get('model')}` does not exist",
                                           "type": "invalid_request_error", "code": "model_not_found"}},
                                status_code=404)
        fault = self.draw_fault()
        stats.in_flight += 1
        stats.max_in_flight = max(stats.max_in_flight, stats.in_flight)
        try:
            if self.latency_s:
                await asyncio.sleep(self.latency_s)
            if fault:
                stats.faults[fault] += 1
            if fault == "rate_limit":
                return JSONResponse({"error": {"message": "Rate limit reached (injected)", "type": "requests",
                                               "code": "rate_limit_exceeded"}}, status_code=429,
                                    headers={"retry-after": f"{self.retry_after_s:g}",
                                             "retry-after-ms": str(int(self.retry_after_s * 1000))})
            if fault == "server_error":
                return JSONResponse({"error": {"message": "Internal error (injected)", "type": "server_error"}},
                                    status_code=500)
            if fault == "drop":
                return _DropResponse()
            if fault == "hang":
                deadline = time.monotonic() + self.hang_s
                while time.monotonic() < deadline and not self._stopping.is_set():
                    await asyncio.sleep(0.02)
                return JSONResponse({"error": {"message": "hung (injected)"}}, status_code=504)
            if fault == "malformed":
                return Response(b'{"id": "chatcmpl-bad", "object": "chat.completion", "choices": [{"index": 0, "mess',
                                media_type="application/json")
            reply = self.completion_body(body, fault)
            if fault is None:
                stats.completed += 1
            return JSONResponse(reply)
        finally:
            stats.in_flight -= 1

    def _build_app(self) -> FastAPI:
        from slmforge.testing import batches, files, finetune

        app = FastAPI(title="slmforge ScriptedServer")
        app.state.server = self
        app.state.files = {}
        app.state.batches = {}
        app.state.batch_tasks = set()
        app.state.ft_jobs = {}  # fine-tuning jobs (slmforge.testing.finetune)
        app.state.batch_delay_s = 0.05
        app.add_api_route("/v1/chat/completions", self._chat, methods=["POST"])

        @app.get("/v1/models")
        async def list_models() -> dict[str, Any]:
            ids = self.models if self.models is not None else ["scripted"]
            return {"object": "list", "data": [{"id": m, "object": "model", "created": 0, "owned_by": "slmforge"}
                                                for m in ids]}

        app.include_router(files.router)
        app.include_router(batches.router)
        app.include_router(finetune.router)
        return app


def json_script(make: Callable[[dict], Any]) -> Script:
    """Wrap ``make(request) -> JSON-serialisable value`` as a script replying with that JSON text."""

    def script(request: dict) -> str:
        return json.dumps(make(request), ensure_ascii=False)

    return script
