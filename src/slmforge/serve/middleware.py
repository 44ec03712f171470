"""The server's guards, as plain ASGI middleware and helpers: OpenAI-style error bodies, a ``Host``
allow-list (421, against DNS rebinding), bearer-token auth, a request-body size limit (413) and a
concurrency limiter (429 when saturated) whose slots every request path gives back exactly once.

Error bodies follow the OpenAI API (https://platform.openai.com/docs/guides/error-codes)::

    {"error": {"message": "...", "type": "invalid_request_error", "param": "messages", "code": null}}

so the official SDK raises its typed errors (``AuthenticationError``, ``BadRequestError``,
``RateLimitError`` …) against our server as against api.openai.com.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

PUBLIC_PATHS = ("/health",)
"""Routes that never need the API key. The playground's static files are public too (they hold no
data; the page asks for the key and sends it on every /v1 call)."""
STATIC_PREFIXES = ("/static/",)
PAGES = ("/", "/legal")
"""The HTML pages (the playground, the legal assistant): public like their static files."""


def _printable(text: str | None) -> str | None:
    """``text`` with lone surrogates written as ``\\udXXX`` escapes, so that it encodes as UTF-8 (an
    error message may quote the invalid input it refuses)."""
    return None if text is None else text.encode("utf-8", "backslashreplace").decode("utf-8")


def error_body(message: str, *, type: str = "invalid_request_error", param: str | None = None,
               code: str | None = None) -> dict:
    """An OpenAI-style error body ``{"error": {message, type, param, code}}`` (always UTF-8 encodable)."""
    return {"error": {"message": _printable(message), "type": type, "param": _printable(param), "code": code}}


def error_response(status: int, message: str, *, type: str = "invalid_request_error", param: str | None = None,
                   code: str | None = None, headers: dict[str, str] | None = None) -> JSONResponse:
    """A JSON response with an OpenAI-style error body."""
    return JSONResponse(error_body(message, type=type, param=param, code=code), status_code=status, headers=headers)


LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
"""Host names always allowed by :class:`HostCheckMiddleware`."""
WILDCARD_ADDRESSES = ("0.0.0.0", "::", "")
"""Bind addresses that are not host names; never added to the allow-list."""


def host_name(header: str) -> str:
    """The host of a ``Host`` header value, lower-cased, without port or IPv6 brackets.

    ``"Example.org:8000"`` → ``"example.org"``, ``"[::1]:8000"`` → ``"::1"``, ``"[::1]"`` → ``"::1"``.
    """
    header = header.strip().lower()
    if header.startswith("["):
        return header[1:header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def allowed_hosts(bind_host: str, extra: Iterable[str] = ()) -> frozenset[str]:
    """Names :class:`HostCheckMiddleware` accepts: the loopback names, the bind address (unless it is
    a wildcard such as ``0.0.0.0``) and ``extra`` (``--allowed-host``), normalised by :func:`host_name`."""
    names = {*LOOPBACK_HOSTS, *extra}
    if bind_host not in WILDCARD_ADDRESSES:
        names.add(bind_host)
    return frozenset(host_name(n) for n in names)


class HostCheckMiddleware:
    """Answer 421 (Misdirected Request, RFC 9110 §15.5.20) with an OpenAI-style error body when the
    ``Host`` header names a host not in ``allowed`` (or is missing).

    This is the defence against DNS rebinding: a web page on ``evil.example`` whose DNS is switched to
    127.0.0.1 can make the browser call the local server as same-origin, but the browser still sends
    ``Host: evil.example``. Starlette's ``TrustedHostMiddleware`` does the same check with a
    plain-text 400; this one answers in the API's error format. The port is not compared.
    """

    def __init__(self, app: ASGIApp, allowed: Iterable[str]) -> None:
        self.app = app
        self.allowed = frozenset(host_name(h) for h in allowed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # the app has no websocket routes
            return await self.app(scope, receive, send)
        host = dict(scope["headers"]).get(b"host", b"").decode("latin-1")
        if host_name(host) not in self.allowed:
            resp = error_response(421, f"Host {host!r} is not served here; allowed hosts: {sorted(self.allowed)}. "
                                  "Start the server with --allowed-host NAME to add one.", code="invalid_host")
            return await resp(scope, receive, send)
        await self.app(scope, receive, send)


class AuthMiddleware:
    """Require ``Authorization: Bearer <api_key>`` on every HTTP route except :data:`PUBLIC_PATHS`,
    the pages (:data:`PAGES`) and their static files.

    Keys are compared in constant time (``hmac.compare_digest``). Missing or wrong key: 401 with
    code ``invalid_api_key``, like api.openai.com.
    """

    def __init__(self, app: ASGIApp, api_key: str) -> None:
        self.app = app
        self.key = api_key.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path in PUBLIC_PATHS or path in PAGES or path.startswith(STATIC_PREFIXES):
            return await self.app(scope, receive, send)
        auth = dict(scope["headers"]).get(b"authorization", b"")
        scheme, _, token = auth.partition(b" ")
        if scheme.lower() != b"bearer" or not hmac.compare_digest(token.strip(), self.key):
            msg = ("Incorrect API key provided." if token else
                   "You didn't provide an API key. Send it as 'Authorization: Bearer YOUR_KEY'.")
            resp = error_response(401, msg, code="invalid_api_key", headers={"WWW-Authenticate": "Bearer"})
            return await resp(scope, receive, send)
        await self.app(scope, receive, send)


class CrashMiddleware:
    """Answer an unhandled exception with an OpenAI-style 500 (``type: server_error``) and log it.

    Unlike starlette's ``ServerErrorMiddleware`` it does not re-raise after answering — uvicorn then
    closes the connection, and a keep-alive client's next request fails with a connection reset. An
    exception after the response has started is re-raised (no other answer can be sent).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as e:  # any bug in a route: the client still gets a JSON error, the log the traceback
            if started:
                raise
            log.exception("unhandled error in %s %s", scope["method"], scope["path"])
            await error_response(500, f"internal error: {type(e).__name__}: {e}", type="server_error")(
                scope, receive, send)


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


class Slot:
    """One admitted request's place in a :class:`Limiter`. :meth:`release` frees it once; later calls
    do nothing, so a request path may release early (before its last byte is sent) and still keep a
    ``finally`` that releases as a backstop."""

    def __init__(self, limiter: Limiter) -> None:
        self._limiter = limiter
        self.outcome: str | None = None

    def release(self, outcome: str) -> None:
        """Free the slot (first call only); ``outcome`` is ``completed``, ``cancelled`` or ``errors``."""
        if self.outcome is None:
            self.outcome = outcome
            self._limiter.in_flight -= 1
            self._limiter.stats[outcome] += 1

    @property
    def released(self) -> bool:
        """Whether :meth:`release` was called."""
        return self.outcome is not None


@dataclass
class Limiter:
    """Counts requests in flight (generating, waiting for the model, or tokenizing) and refuses new
    ones over ``max_in_flight``. Used from the event loop only, so no lock is needed.

    Attributes:
        max_in_flight: requests allowed at once.
        in_flight: requests now admitted.
        stats: counters: ``admitted``, ``rejected`` (429s), ``cancelled`` (client gone),
            ``completed``, ``errors``.
    """

    max_in_flight: int
    in_flight: int = 0
    stats: dict[str, int] = field(default_factory=lambda: dict.fromkeys(
        ("admitted", "rejected", "cancelled", "completed", "errors"), 0))

    def acquire(self) -> Slot | None:
        """A :class:`Slot` if one is free, else ``None`` (counted as ``rejected``; answer :meth:`busy_response`)."""
        if self.in_flight >= self.max_in_flight:
            self.stats["rejected"] += 1
            return None
        self.in_flight += 1
        self.stats["admitted"] += 1
        return Slot(self)

    def busy_response(self) -> JSONResponse:
        """The 429 answer, with ``Retry-After: 1`` (seconds), which the openai SDK honours."""
        return error_response(429, f"The server is busy ({self.max_in_flight} requests in flight); retry shortly.",
                              type="rate_limit_error", code="rate_limit_exceeded", headers={"Retry-After": "1"})


def sse(data: dict | str) -> str:
    """One server-sent event: ``data: <json>\\n\\n`` (``data: [DONE]`` for the terminator)."""
    return f"data: {data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)}\n\n"
