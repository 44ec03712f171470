"""``/v1/chat/completions``: OpenAI response objects, JSON mode, and the SSE stream.

JSON mode (``response_format: {"type": "json_object"}``): a small model cannot be trusted to emit
JSON, and we do not constrain decoding token by token. Instead each choice is validated with
``json.loads`` (after trimming Markdown code fences and text around the outermost ``{…}``); choices
that are not a JSON object are regenerated, sampling at the request temperature (0.7 when it was
0, since greedy decoding would repeat itself), up to ``ServeConfig.json_attempts`` generations in
all. If some choice still is not valid JSON the server answers 422 ``json_invalid`` rather than
return broken JSON. With ``stream: true`` the text is streamed as generated and not validated.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace

import anyio
from starlette.requests import Request

from slmforge.serve.engine import Choice, Engine, Generation, SamplingParams
from slmforge.serve.middleware import Limiter, error_body, sse
from slmforge.serve.schemas import ChatCompletionRequest


class JSONModeFailed(Exception):
    """No valid JSON object after every attempt (the server answers 422 ``json_invalid``)."""


def extract_json(text: str) -> str | None:
    """The JSON object in ``text`` as a string, or ``None`` when there is none.

    Tries the whole text, then the span from the first ``{`` to the last ``}`` (which also drops
    Markdown code fences and chatter around the object).
    """
    candidates = [text.strip()]
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        candidates.append(text[start:end + 1])
    for c in candidates:
        try:
            if isinstance(json.loads(c), dict):
                return c
        except json.JSONDecodeError:
            continue
    return None


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


def complete(engine: Engine, req: ChatCompletionRequest, params: SamplingParams, *, json_attempts: int) -> Generation:
    """Generate the choices of a non-streaming request, applying JSON mode (blocking; worker thread).

    Raises:
        JSONModeFailed: JSON mode and some choice had no JSON object after ``json_attempts`` generations.
        ContextTooLong: prompt + max_tokens over the context window.
    """
    msgs = messages_of(req)
    gen = engine.generate(req.model, msgs, params)
    if not req.json_mode():
        return gen
    good: list[Choice] = []
    attempts, pending = 0, gen.choices
    while True:
        attempts += 1
        for c in pending:
            obj = extract_json(c.text)
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
        pending = engine.generate(req.model, msgs, retry).choices


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


async def stream_chunks(engine: Engine, req: ChatCompletionRequest, params: SamplingParams, request: Request,
                        limiter: Limiter) -> AsyncIterator[str]:
    """SSE ``chat.completion.chunk`` events for each choice in turn, then ``data: [DONE]``.

    Generation runs in a worker thread; each text piece is fetched with ``anyio.to_thread``. When the
    client disconnects (polled between pieces, or this generator closed by the response) the
    generation is cancelled at the next token and its slot in ``limiter`` is released.
    """
    cid, created = f"chatcmpl-{uuid.uuid4().hex[:24]}", int(time.time())
    cancel = threading.Event()
    outcome, stream = "cancelled", None  # unless it completes or fails, the client went away
    one = replace(params, n=1)

    def chunk(index: int, delta: dict, finish: str | None = None) -> str:
        return sse({"id": cid, "object": "chat.completion.chunk", "created": created, "model": req.model,
                    "system_fingerprint": "slmforge",
                    "choices": [{"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}]})

    try:
        prompt_tokens, completion_tokens = 0, 0
        for index in range(params.n):
            seed = None if params.seed is None else params.seed + index
            stream = engine.stream(req.model, messages_of(req), replace(one, seed=seed), cancel)
            yield chunk(index, {"role": "assistant", "content": ""})
            pieces = iter(stream)
            while (piece := await anyio.to_thread.run_sync(next, pieces, None)) is not None:
                if await request.is_disconnected():
                    return
                yield chunk(index, {"content": piece})
            prompt_tokens, completion_tokens = stream.prompt_tokens, completion_tokens + stream.completion_tokens
            yield chunk(index, {}, stream.finish_reason)
        if req.stream_options and req.stream_options.include_usage:
            yield sse({"id": cid, "object": "chat.completion.chunk", "created": created, "model": req.model,
                       "choices": [], "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                                                "total_tokens": prompt_tokens + completion_tokens}})
        yield sse("[DONE]")
        outcome = "completed"
    except Exception as e:  # reported in-band: the 200 status line is already sent
        outcome = "errors"
        yield sse(error_body(f"generation failed: {e}", type="server_error"))
    finally:
        if stream is not None:
            cancel.set()
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(stream.close)
        limiter.release(outcome)
