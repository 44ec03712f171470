"""The server's guards, as plain ASGI middleware and helpers: OpenAI-style error bodies, bearer-token
auth, a request-body size limit (413) and a concurrency limiter (429 when saturated).

Error bodies follow the OpenAI API (https://platform.openai.com/docs/guides/error-codes)::

    {"error": {"message": "...", "type": "invalid_request_error", "param": "messages", "code": null}}

so the official SDK raises its typed errors (``AuthenticationError``, ``BadRequestError``,
``RateLimitError`` …) against our server as against api.openai.com.
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass, field

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PUBLIC_PATHS = ("/health",)
"""Routes that never need the API key. The playground's static files are public too (they hold no
data; the page asks for the key and sends it on every /v1 call)."""
STATIC_PREFIXES = ("/static/",)


def error_body(message: str, *, type: str = "invalid_request_error", param: str | None = None,
               code: str | None = None) -> dict:
    """An OpenAI-style error body ``{"error": {message, type, param, code}}``."""
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


def error_response(status: int, message: str, *, type: str = "invalid_request_error", param: str | None = None,
                   code: str | None = None, headers: dict[str, str] | None = None) -> JSONResponse:
    """A JSON response with an OpenAI-style error body."""
    return JSONResponse(error_body(message, type=type, param=param, code=code), status_code=status, headers=headers)


class AuthMiddleware:
    """Require ``Authorization: Bearer <api_key>`` on every HTTP route except :data:`PUBLIC_PATHS`,
    the playground page ``/`` and its static files.

    Keys are compared in constant time (``hmac.compare_digest``). Missing or wrong key: 401 with
    code ``invalid_api_key``, like api.openai.com.
    """

    def __init__(self, app: ASGIApp, api_key: str) -> None:
        self.app = app
        self.key = api_key.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path in PUBLIC_PATHS or path == "/" or path.startswith(STATIC_PREFIXES):
            return await self.app(scope, receive, send)
        auth = dict(scope["headers"]).get(b"authorization", b"")
        scheme, _, token = auth.partition(b" ")
        if scheme.lower() != b"bearer" or not hmac.compare_digest(token.strip(), self.key):
            msg = ("Incorrect API key provided." if token else
                   "You didn't provide an API key. Send it as 'Authorization: Bearer YOUR_KEY'.")
            resp = error_response(401, msg, code="invalid_api_key", headers={"WWW-Authenticate": "Bearer"})
            return await resp(scope, receive, send)
        await self.app(scope, receive, send)


class BodyLimitMiddleware:
    """Answer 413 to request bodies over ``max_bytes`` (by ``Content-Length`` or, for chunked
    uploads, by counting the bytes as they arrive)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _too_large(self) -> JSONResponse:
        return error_response(413, f"Request body is larger than the server's limit of {self.max_bytes} bytes.",
                              code="request_too_large")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None:
            if length.isdigit() and int(length) > self.max_bytes:
                return await self._too_large()(scope, receive, send)
            return await self.app(scope, receive, send)
        # Chunked upload: read it here, up to the limit, then hand the app the whole body.
        chunks, total = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # client gone
            chunks.append(message.get("body", b""))
            total += len(chunks[-1])
            if total > self.max_bytes:
                return await self._too_large()(scope, receive, send)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        await self.app(scope, replay, send)


@dataclass
class Limiter:
    """Counts generation requests in flight (running or waiting for the model) and refuses new ones
    over ``max_in_flight``. Used from the event loop only, so no lock is needed.

    Attributes:
        max_in_flight: requests allowed at once.
        in_flight: requests now admitted.
        stats: counters: ``admitted``, ``rejected`` (429s), ``cancelled`` (client gone mid-stream),
            ``completed``, ``errors``.
    """

    max_in_flight: int
    in_flight: int = 0
    stats: dict[str, int] = field(default_factory=lambda: dict.fromkeys(
        ("admitted", "rejected", "cancelled", "completed", "errors"), 0))

    def try_acquire(self) -> bool:
        """Admit one request if a slot is free."""
        if self.in_flight >= self.max_in_flight:
            self.stats["rejected"] += 1
            return False
        self.in_flight += 1
        self.stats["admitted"] += 1
        return True

    def release(self, outcome: str) -> None:
        """Free a slot; ``outcome`` is ``completed``, ``cancelled`` or ``errors``."""
        self.in_flight -= 1
        self.stats[outcome] += 1

    def busy_response(self) -> JSONResponse:
        """The 429 answer, with ``Retry-After: 1`` (seconds), which the openai SDK honours."""
        return error_response(429, f"The server is busy ({self.max_in_flight} requests in flight); retry shortly.",
                              type="rate_limit_error", code="rate_limit_exceeded", headers={"Retry-After": "1"})


def sse(data: dict | str) -> str:
    """One server-sent event: ``data: <json>\\n\\n`` (``data: [DONE]`` for the terminator)."""
    return f"data: {data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)}\n\n"
