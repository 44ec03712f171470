"""A scripted stand-in for the serving ``Engine`` and a uvicorn server in a thread, to drive
``create_app`` through failures the tiny model never has: each request's last message says what the
engine does (``fail-encode``, ``fail-start``, ``fail-mid``, ``fail-generate``, ``wait``), anything
else is answered with the text ``ok``."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import uvicorn

from slmforge.serve.app import create_app
from slmforge.serve.config import ServeConfig
from slmforge.serve.engine import Choice, ContextTooLong, Generation, SamplingParams

WAIT_S = 10.0
"""How long a ``wait`` request blocks unless cancelled (seconds)."""


class ScriptedEngine:
    """The parts of :class:`slmforge.serve.engine.Engine` the app uses, scripted by message content.

    Attributes:
        cancelled_after: for each ``wait`` request, seconds until its cancel event was set (``None``:
            never, it ran for :data:`WAIT_S`).
    """

    base_id = "stub"
    model_ids = ["stub"]
    adapters: dict[str, str] = {}
    max_context = 64

    def __init__(self) -> None:
        self.cancelled_after: list[float | None] = []

    @staticmethod
    def tokenizer(text: str, add_special_tokens: bool = False) -> dict:
        return {"input_ids": [ord(c) for c in text]}

    @staticmethod
    def _script(messages: list[dict]) -> str:
        return messages[-1]["content"]

    def encode_chat(self, messages: list[dict]) -> list[int]:
        if self._script(messages) == "fail-encode":
            raise RuntimeError("scripted: the tokenizer failed")
        return [1] * len(self._script(messages))

    def check_budget(self, prompt_len: int, params: SamplingParams) -> None:
        if prompt_len + params.max_tokens > self.max_context:
            raise ContextTooLong(f"{prompt_len} + {params.max_tokens} tokens > {self.max_context}")

    def _wait(self, cancel: threading.Event | None) -> None:
        t0 = time.monotonic()
        hit = cancel is not None and cancel.wait(WAIT_S)
        self.cancelled_after.append(time.monotonic() - t0 if hit else None)

    def generate(self, model_id: str, messages: list[dict], params: SamplingParams,
                 cancel: threading.Event | None = None) -> Generation:
        script = self._script(messages)
        self.check_budget(len(self.encode_chat(messages)), params)
        if script == "fail-generate":
            raise RuntimeError("scripted: generation failed")
        if script == "wait":
            self._wait(cancel)
        return Generation(choices=[Choice("ok", "stop", 1)] * params.n, prompt_tokens=len(script))

    def stream(self, model_id: str, messages: list[dict], params: SamplingParams,
               cancel: threading.Event) -> ScriptedStream:
        self.check_budget(len(self.encode_chat(messages)), params)
        if self._script(messages) == "fail-start":
            raise RuntimeError("scripted: the stream did not start")
        return ScriptedStream(self, self._script(messages), cancel)


class ScriptedStream:
    """The :class:`slmforge.serve.engine.TokenStream` interface over a fixed script."""

    def __init__(self, engine: ScriptedEngine, script: str, cancel: threading.Event) -> None:
        self.engine, self.script, self.cancel = engine, script, cancel
        self.prompt_tokens, self.completion_tokens, self.finish_reason = len(script), 0, "stop"
        self.finished = False

    def __iter__(self) -> Iterator[str]:
        if self.script == "wait":
            self.engine._wait(self.cancel)
        else:
            for piece in ("o", "k"):
                if self.script == "fail-mid" and piece == "k":
                    raise RuntimeError("scripted: generation failed mid-stream")
                self.completion_tokens += 1
                yield piece
        self.finished = True

    def close(self) -> None:
        self.cancel.set()
        self.finished = True


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve_in_thread(cfg: ServeConfig, engine: ScriptedEngine) -> Iterator[tuple[str, object]]:
    """Run ``create_app(cfg, engine=engine)`` under uvicorn on 127.0.0.1 in a thread.

    Yields:
        (root URL ``http://127.0.0.1:PORT``, the app — its ``state.limiter`` shows the slots).
    """
    app = create_app(cfg, engine=engine)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}", app
    finally:
        server.should_exit = True
        thread.join(10)
