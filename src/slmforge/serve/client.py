"""``slmforge.Client``: a small conversational client over the official ``openai`` SDK.

It speaks only the OpenAI API, so the same code talks to ``slmforge serve``, to vLLM and to
api.openai.com. What it adds on top of the SDK:

- a registry of named models (``client.use("sft")``) from a dict or a project YAML's ``models:``;
- conversation history trimmed to a token budget (oldest turns first);
- replies parsed into a pydantic schema (JSON mode + validation);
- typed errors (:class:`AuthError`, :class:`RateLimitError`, :class:`BadRequestError`,
  :class:`ServerError`, :class:`ConnectionFailed`, :class:`ResponseFormatError`) mapped from the SDK's;
- ``client.copy(task, subject)`` for ``slmforge serve``'s brand-checked ``/v1/copy``.

Retries are the SDK's own (``max_retries``: exponential backoff, honours ``Retry-After`` on 429/5xx).

    from slmforge import Client
    c = Client("http://127.0.0.1:8000/v1", models={"base": "tiny", "sft": "sft"}).use("sft")
    c.chat("Write a tagline for Jasmine Pearl", temperature=0.7)
    c.copy("paid_ad_cta", subject_id="Jasmine Pearl", n=3, guard="retry").drafts[0].text
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import openai
from pydantic import BaseModel, ValidationError

from slmforge.cjk import estimate_prompt_tokens
from slmforge.errors import ConfigError, SlmforgeError

TokenCounter = Callable[[list[dict]], int]


class ClientError(SlmforgeError):
    """A request the server refused or could not answer. ``status`` is the HTTP status (None: no response).

    ::

        ClientError
        ├── AuthError            401 / 403: missing or wrong API key
        ├── RateLimitError       429: server busy or quota; retried by the SDK first
        ├── BadRequestError      400 / 404 / 413 / 422: the request is wrong (unknown model, bad field …)
        ├── ServerError          5xx after retries
        ├── ConnectionFailed     no response (refused, timeout) after retries
        └── ResponseFormatError  the reply does not match the requested pydantic schema
    """

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class AuthError(ClientError):
    """401/403: set the key with ``Client(api_key=...)`` or the env var the model entry names."""


class RateLimitError(ClientError):
    """429 after the SDK's retries."""


class BadRequestError(ClientError):
    """400/404/413/422: fix the request (the message says which field)."""


class ServerError(ClientError):
    """5xx after the SDK's retries."""


class ConnectionFailed(ClientError):
    """No HTTP response (connection refused, timeout) after the SDK's retries."""


class ResponseFormatError(ClientError):
    """The model's reply is not valid JSON for the requested schema; ``raw`` holds the text."""

    def __init__(self, message: str, raw: str) -> None:
        super().__init__(message)
        self.raw = raw


def _mapped(e: openai.OpenAIError) -> ClientError:
    if isinstance(e, openai.APIConnectionError):  # includes APITimeoutError
        return ConnectionFailed(f"no response from the server: {e}")
    if not isinstance(e, openai.APIStatusError):
        return ClientError(str(e))
    body = e.body if isinstance(e.body, dict) else {}
    err = body.get("error", body) if isinstance(body.get("error", body), dict) else {}
    msg, code, status = err.get("message") or e.message, err.get("code"), e.status_code
    kind = (AuthError if status in (401, 403) else RateLimitError if status == 429
            else ServerError if status >= 500 else BadRequestError)
    return kind(f"HTTP {status}: {msg}", status=status, code=code)


class Draft(BaseModel):
    """One ``/v1/copy`` draft: text (``None`` when blocked), status ``passed|flagged|blocked``, the
    blocking checks it failed, attempts used, and the check report (score, per-check results, findings
    with character offsets)."""

    index: int
    text: str | None
    status: str
    failed_checks: list[str]
    attempts: int
    history: list[dict]
    report: dict


class CopyResult(BaseModel):
    """The ``/v1/copy`` response: drafts, the instruction used, and a summary (passed / flagged /
    blocked / regenerations)."""

    id: str
    model: str
    task: str
    guard: str
    subject: dict
    instruction: str
    drafts: list[Draft]
    summary: dict


def _load_registry(models: dict | str | Path | None) -> dict[str, dict]:
    if models is None:
        return {}
    if not isinstance(models, dict):
        import yaml

        path = Path(models)
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as e:
            raise ConfigError(f"cannot read the model registry: {e}", file=path, fix="pass a YAML file with `models:`") from e
        models = doc.get("models", doc) if isinstance(doc, dict) else None
        if not isinstance(models, dict):
            raise ConfigError("no `models:` mapping", file=path, field="models", fix="add `models: {name: model-id}`")
    out = {}
    for name, spec in models.items():
        entry = {"model": spec} if isinstance(spec, str) else dict(spec)
        if not isinstance(entry.get("model"), str):
            raise ConfigError(f"model entry {name!r} has no `model` id", field=f"models.{name}.model",
                              fix="give each entry a model id (string) or {model, base_url, api_key_env}")
        out[name] = entry
    return out


class Client:
    """Chat with a model over the OpenAI API, keeping a conversation.

    Args:
        base_url: the API root ending in ``/v1`` (default: ``OPENAI_BASE_URL`` or api.openai.com).
        api_key: bearer key (default: ``SLMFORGE_API_KEY``, then ``OPENAI_API_KEY``; ``"none"`` when unset).
        model: model id to use until :meth:`use` picks another.
        models: named models: ``{"sft": "sft"}`` or ``{"gpt": {"model": "gpt-4o-mini", "base_url": ...,
            "api_key_env": "OPENAI_API_KEY"}}``, or a YAML file path with such a ``models:`` mapping.
        system: system prompt put before the history on every call.
        max_history_tokens: prompt budget in tokens (system + history + new message); oldest
            user/assistant turns are dropped first. ``None``: keep everything.
        tokenizer: how tokens are counted: ``"server"`` (the server's ``/tokenize``, available on
            ``slmforge serve`` and vLLM), a tokenizer folder / hub id (``AutoTokenizer`` + chat template),
            a callable ``messages -> int``, or ``None`` for :func:`slmforge.cjk.estimate_prompt_tokens`.
        timeout: seconds per request.
        max_retries: SDK retries on 429 / 5xx / connection errors (backoff, honours ``Retry-After``).
        **defaults: default sampling options (``temperature``, ``max_tokens``, ``top_p``, ``seed`` …).
    """

    def __init__(self, base_url: str | None = None, api_key: str | None = None, *, model: str | None = None,
                 models: dict | str | Path | None = None, system: str | None = None,
                 max_history_tokens: int | None = None, tokenizer: str | TokenCounter | None = None,
                 timeout: float = 60.0, max_retries: int = 2, **defaults: Any) -> None:
        self.registry = _load_registry(models)
        self.system = system
        self.max_history_tokens = max_history_tokens
        self.defaults = defaults
        self.history: list[dict] = []
        self._timeout, self._max_retries = timeout, max_retries
        self._base_url, self._api_key = base_url, api_key
        self.model = model
        self._sdk = self._make_sdk(base_url, api_key)
        self._count = self._counter(tokenizer)

    def _make_sdk(self, base_url: str | None, api_key: str | None) -> openai.OpenAI:
        key = api_key or os.environ.get("SLMFORGE_API_KEY") or os.environ.get("OPENAI_API_KEY") or "none"
        return openai.OpenAI(base_url=base_url, api_key=key, timeout=self._timeout, max_retries=self._max_retries)

    def _counter(self, tokenizer: str | TokenCounter | None) -> TokenCounter:
        if tokenizer is None:
            return estimate_prompt_tokens
        if callable(tokenizer):
            return tokenizer
        if tokenizer == "server":
            return lambda msgs: self._tokenize_on_server(msgs)
        from transformers import AutoTokenizer

        tok = AutoTokenizer.from_pretrained(tokenizer)
        return lambda msgs: len(tok.apply_chat_template(msgs, add_generation_prompt=True, tokenize=True,
                                                        return_dict=True)["input_ids"])

    def _tokenize_on_server(self, messages: list[dict]) -> int:
        root = str(self._sdk.base_url).rstrip("/").removesuffix("/v1")
        body = self._call(lambda: self._sdk.post(f"{root}/tokenize", cast_to=object,
                                                 body={"model": self.model, "messages": messages}))
        return int(body["count"])

    # -- models ---------------------------------------------------------------------------------
    def use(self, name: str) -> Client:
        """Switch to the named model from the registry (its ``base_url`` / ``api_key_env`` too, if given).
        The history is kept, so a conversation can continue on another model. Returns ``self``.

        Raises:
            ConfigError: ``name`` is not in the registry (lists the names).
        """
        if name not in self.registry:
            raise ConfigError(f"no model named {name!r}", field="models", fix=f"use one of {sorted(self.registry)}")
        entry = self.registry[name]
        if "base_url" in entry or "api_key_env" in entry:
            key = os.environ.get(entry["api_key_env"]) if "api_key_env" in entry else self._api_key
            self._sdk = self._make_sdk(entry.get("base_url", self._base_url), key)
        self.model = entry["model"]
        return self

    def models(self) -> list[str]:
        """Model ids the server lists (``GET /v1/models``)."""
        return [m.id for m in self._call(lambda: self._sdk.models.list())]

    # -- conversation ---------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget the conversation history."""
        self.history.clear()

    def count_tokens(self, messages: list[dict]) -> int:
        """Prompt tokens of ``messages`` by the configured counter."""
        return self._count(messages)

    def _prompt(self, content: str, extra_system: str | None = None) -> list[dict]:
        """System + history + the new user message, dropping the oldest turns to fit the budget."""
        head = [{"role": "system", "content": s} for s in (self.system, extra_system) if s]
        new = {"role": "user", "content": content}
        history = list(self.history)
        while self.max_history_tokens is not None and history and \
                self._count(head + history + [new]) > self.max_history_tokens:
            history = history[2:] if len(history) > 1 and history[1]["role"] == "assistant" else history[1:]
        self.history = history
        return head + history + [new]

    def _call(self, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except openai.OpenAIError as e:
            raise _mapped(e) from e

    def _options(self, options: dict) -> dict:
        opts = {**self.defaults, **options}
        if not (opts.get("model") or self.model):
            raise ConfigError("no model chosen", field="model", fix="pass model=... or call client.use(name)")
        opts.setdefault("model", self.model)
        return opts

    def chat(self, message: str, *, schema: type[BaseModel] | None = None, remember: bool = True,
             **options: Any) -> str | BaseModel:
        """Send ``message`` with the conversation so far and return the reply.

        Args:
            message: the user's message.
            schema: a pydantic model: ask for JSON (``response_format: json_object`` plus the schema in
                a system message) and return the validated object.
            remember: add the exchange to the history.
            **options: ``temperature``, ``max_tokens``, ``top_p``, ``stop``, ``seed``, ``n`` (first choice
                is used), ``model`` … passed to ``chat.completions.create``.

        Returns:
            the reply text, or a ``schema`` instance.

        Raises:
            ClientError: a subclass per failure (see the hierarchy above); ``ResponseFormatError`` when the
                reply does not validate.
        """
        extra = None
        if schema is not None:
            extra = ("Reply with one JSON object that matches this JSON Schema, and nothing else:\n"
                     + json.dumps(schema.model_json_schema(), ensure_ascii=False))
            options.setdefault("response_format", {"type": "json_object"})
        messages = self._prompt(message, extra)
        resp = self._call(lambda: self._sdk.chat.completions.create(messages=messages, **self._options(options)))
        text = resp.choices[0].message.content or ""
        result: str | BaseModel = text
        if schema is not None:
            try:
                result = schema.model_validate_json(text)
            except ValidationError as e:
                raise ResponseFormatError(f"reply does not match {schema.__name__}: {e.errors()[0]['msg']}", text) from e
        if remember:
            self.history += [{"role": "user", "content": message}, {"role": "assistant", "content": text}]
        return result

    def stream(self, message: str, *, remember: bool = True, **options: Any) -> Iterator[str]:
        """Like :meth:`chat` but yield the reply in pieces as the server streams them (SSE).

        Raises:
            ClientError: as :meth:`chat` (raised when iteration starts or mid-stream).
        """
        messages = self._prompt(message)
        stream = self._call(lambda: self._sdk.chat.completions.create(messages=messages, stream=True,
                                                                       **self._options(options)))
        parts: list[str] = []
        try:
            for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    parts.append(chunk.choices[0].delta.content)
                    yield parts[-1]
        except openai.OpenAIError as e:
            raise _mapped(e) from e
        finally:
            stream.close()
        if remember:
            self.history += [{"role": "user", "content": message}, {"role": "assistant", "content": "".join(parts)}]

    # -- slmforge serve extras --------------------------------------------------------------------
    def copy(self, task: str, subject: dict | None = None, *, subject_id: str | None = None, n: int = 1,
             temperature: float | None = None, guard: str = "flag", value: str | None = None,
             max_tokens: int | None = None, seed: int | None = None) -> CopyResult:
        """Drafts from ``slmforge serve``'s ``/v1/copy``, each with its brand-check report.

        Args:
            task: kit task id.
            subject: subject fields (override the catalog entry's when ``subject_id`` is given).
            subject_id: a catalog entry to start from.
            n: drafts.
            temperature: sampling temperature (server default 0.7).
            guard: ``flag`` (mark failing drafts), ``retry`` (regenerate them) or ``block`` (withhold them).
            value: the value to write about (product–value tasks).
            max_tokens: completion tokens per draft.
            seed: sampling seed.

        Raises:
            BadRequestError: unknown task, subject or field (message names the field); other ``ClientError``s.
        """
        body = {"task": task, "subject": subject or {}, "subject_id": subject_id, "n": n, "guard": guard,
                "value": value, "max_tokens": max_tokens, "seed": seed, "model": self.model,
                **({"temperature": temperature} if temperature is not None else {})}
        data = self._call(lambda: self._sdk.post("/copy", cast_to=object,
                                                 body={k: v for k, v in body.items() if v is not None}))
        return CopyResult.model_validate(data)
