"""``/v1/chat/completions``: OpenAI response objects, JSON mode, and the SSE stream.

JSON mode (``response_format: {"type": "json_object"}``): a small model cannot be trusted to emit
JSON, and we do not constrain decoding token by token. Instead each choice is validated with
``json.loads`` (after trimming Markdown code fences and text around the outermost ``{…}``); choices
that are not a JSON object are regenerated, sampling at the request temperature (0.7 when it was
0, since greedy decoding would repeat itself), up to ``ServeConfig.json_attempts`` generations in
all. If some choice still is not valid JSON the server answers 422 ``json_invalid`` rather than
return broken JSON. With ``stream: true`` the text is streamed as generated and not validated.

Cancellation: a non-streaming generation gets a :class:`threading.Event` that the route sets when
the client disconnects; a stream gets a :class:`StreamCancel`, which the SSE response sets on
disconnect. Either stops the model at the next token.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace

import anyio

from slmforge.jsontext import json_span
from slmforge.serve.engine import Choice, Engine, Generation, SamplingParams
from slmforge.serve.middleware import Slot, error_body, sse
from slmforge.serve.schemas import ChatCompletionRequest

log = logging.getLogger(__name__)


class JSONModeFailed(Exception):
    """No valid JSON object after every attempt (the server answers 422 ``json_invalid``)."""


def sampling_params(req: ChatCompletionRequest, default_max_tokens: int) -> SamplingParams:
    """Map an OpenAI request onto :class:`SamplingParams` (``ignore_eos`` = ``min_tokens = max_tokens``)."""
    max_tokens = req.completion_limit(default_max_tokens)
    return SamplingParams(max_tokens=max_tokens, temperature=req.temperature, top_p=req.top_p, n=req.n,
                          stop=list(req.stop or []), seed=req.seed,
                          min_tokens=max_tokens if req.ignore_eos else min(req.min_tokens, max_tokens),
                          repetition_penalty=req.repetition_penalty)


def messages_of(req: ChatCompletionRequest) -> list[dict]:
    """Plain ``[{"role", "content"}]`` dicts for the chat template (``developer`` becomes ``system``)."""
    return [{"role": "system" if m.role == "developer" else m.role, "content": m.text()} for m in req.messages]


def complete(engine: Engine, req: ChatCompletionRequest, params: SamplingParams, *, json_attempts: int,
             cancel: threading.Event | None = None) -> Generation:
    """Generate the choices of a non-streaming request, applying JSON mode (blocking; worker thread).

    Args:
        engine: the loaded model.
        req: the validated request.
        params: its sampling settings (:func:`sampling_params`).
        json_attempts: generations per choice in JSON mode before giving up.
        cancel: set when the client is gone: the generation stops at the next token and no JSON-mode
            retry follows (the choices so far are returned, unchecked).

    Raises:
        JSONModeFailed: JSON mode and some choice had no JSON object after ``json_attempts`` generations.
        ContextTooLong: prompt + max_tokens over the context window.
    """
    msgs = messages_of(req)
    gen = engine.generate(req.model, msgs, params, cancel)
    if not req.json_mode() or (cancel is not None and cancel.is_set()):
        return gen
    good: list[Choice] = []
    attempts, pending = 0, gen.choices
    while True:
        attempts += 1
        for c in pending:
            obj = json_span(c.text)
            if obj is not None:
                good.append(Choice(obj, c.finish_reason, c.completion_tokens))
        missing = params.n - len(good)
        if missing == 0:
            return Generation(choices=good, prompt_tokens=gen.prompt_tokens)
        if attempts >= json_attempts:
            raise JSONModeFailed(f"the model did not produce a valid JSON object in {attempts} generations "
                                 f"({missing} of {params.n} choices failed); try a larger model or a clearer "
                                 "instruction")
        retry = replace(params, n=missing, temperature=params.temperature or 0.7,
                        seed=None if params.seed is None else params.seed + attempts)
        pending = engine.generate(req.model, msgs, retry, cancel).choices
        if cancel is not None and cancel.is_set():
            return gen


def completion_body(req: ChatCompletionRequest, gen: Generation) -> dict:
    """The ``chat.completion`` response object (OpenAI schema)."""
    completion_tokens = sum(c.completion_tokens for c in gen.choices)
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}", "object": "chat.completion", "created": int(time.time()),
        "model": req.model, "system_fingerprint": "slmforge",
        "choices": [{"index": i, "message": {"role": "assistant", "content": c.text}, "logprobs": None,
                     "finish_reason": c.finish_reason} for i, c in enumerate(gen.choices)],
        "usage": {"prompt_tokens": gen.prompt_tokens, "completion_tokens": completion_tokens,
                  "total_tokens": gen.prompt_tokens + completion_tokens},
    }


class StreamCancel:
    """Cancel events of a streaming request whose choices are generated one after another.

    Each choice gets its own event (:meth:`next`), so a stop string that ends choice 0 does not end
    choice 1; :meth:`set` (the client left) ends the current choice and every later one. Used from
    the event loop only.
    """

    def __init__(self) -> None:
        self._gone = False
        self._current = threading.Event()

    def next(self) -> threading.Event:
        """A fresh event for the next choice (already set when the client has left)."""
        self._current = threading.Event()
        if self._gone:
            self._current.set()
        return self._current

    def set(self) -> None:
        """The client is gone: stop the current choice at its next token and skip the rest."""
        self._gone = True
        self._current.set()

    @property
    def gone(self) -> bool:
        """Whether :meth:`set` was called."""
        return self._gone


async def stream_chunks(engine: Engine, req: ChatCompletionRequest, params: SamplingParams, *, slot: Slot,
                        cancel: StreamCancel) -> AsyncIterator[str]:
    """SSE ``chat.completion.chunk`` events for each choice in turn, then ``data: [DONE]``.

    Generation runs in a worker thread; each text piece is fetched with ``anyio.to_thread``. The
    request's ``slot`` is released once the model is done with it and *before* the last event is
    sent (the last choice's ``finish_reason`` chunk, the usage chunk and ``[DONE]`` go out together),
    so a client that sends its next request the moment it reads ``[DONE]`` finds the slot free. When
    the client disconnects (``cancel`` set by the response, or this generator closed) the generation
    stops at the next token and the slot is released as ``cancelled``; an exception is reported
    in-band (the 200 status line is already sent) as an OpenAI error object and counted as ``errors``.
    """
    cid, created = f"chatcmpl-{uuid.uuid4().hex[:24]}", int(time.time())
    msgs, one = messages_of(req), replace(params, n=1)
    outcome, tail, stream = "cancelled", "", None  # unless it completes or fails, the client went away

    def chunk(index: int, delta: dict, finish: str | None = None) -> str:
        return sse({"id": cid, "object": "chat.completion.chunk", "created": created, "model": req.model,
                    "system_fingerprint": "slmforge",
                    "choices": [{"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}]})

    try:
        prompt_tokens, completion_tokens, finish = 0, 0, ""
        for index in range(params.n):
            seed = None if params.seed is None else params.seed + index
            stream = await anyio.to_thread.run_sync(
                engine.stream, req.model, msgs, replace(one, seed=seed), cancel.next())
            yield chunk(index, {"role": "assistant", "content": ""})
            pieces = iter(stream)
            while (piece := await anyio.to_thread.run_sync(next, pieces, None)) is not None:
                yield chunk(index, {"content": piece})
            if cancel.gone:  # the text was cut short for a client that is no longer there
                return
            prompt_tokens, completion_tokens = stream.prompt_tokens, completion_tokens + stream.completion_tokens
            finish = chunk(index, {}, stream.finish_reason)
            if index < params.n - 1:
                yield finish
        tail = finish
        if req.stream_options and req.stream_options.include_usage:
            usage = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                     "total_tokens": prompt_tokens + completion_tokens}
            tail += sse({"id": cid, "object": "chat.completion.chunk", "created": created, "model": req.model,
                         "choices": [], "usage": usage})
        tail += sse("[DONE]")
        outcome = "completed"
    except Exception as e:  # reported in-band: the 200 status line is already sent
        log.exception("streaming generation failed")
        outcome, tail = "errors", sse(error_body(f"generation failed: {e}", type="server_error"))
    finally:
        if stream is not None and not stream.finished:
            cancel.set()
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(stream.close)
        slot.release(outcome)
    yield tail
