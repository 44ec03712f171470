"""The ``openai`` backend: one chat completion through the official SDK, with our own retries.

The SDK's ``AsyncOpenAI`` is created with ``max_retries=0`` so every retry happens here and is
counted. Retried: 429 (``RateLimitError``), 408/409/5xx, timeouts (``APITimeoutError``),
connection errors (``APIConnectionError``) and bodies that are not JSON. The wait honours the
server's ``retry-after-ms`` / ``Retry-After`` header when present, else it is exponential backoff
with full jitter: ``uniform(0, min(cap, base * 2**attempt))`` (AWS Architecture Blog, "Exponential
Backoff And Jitter", 2015). A 401/403/404 or retries exhausted on an unreachable endpoint marks
the model *unavailable*, which lets the client move on to the role's fallback chain.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import random
import ssl
from collections import deque
from dataclasses import dataclass

import httpx2
import openai

from slmforge.llm.config import ModelConfig

log = logging.getLogger(__name__)

MAX_RETRY_AFTER_S = 120.0


@dataclass
class Reply:
    """One model reply with its usage (tokens) and the attempts it took."""

    text: str
    finish_reason: str | None
    prompt_tokens: int
    cached_tokens: int
    completion_tokens: int
    attempts: int
    logprobs: list[dict] | None = None  # OpenAI `choices[0].logprobs.content` when requested (eval judge)


class CallFailed(Exception):
    """A call that failed for good.

    Args:
        reason: what went wrong (one line).
        attempts: HTTP attempts made.
        unavailable: the model or endpoint cannot serve (fallback applies); ``down`` additionally
            means it should not be tried again in this run (unreachable, unknown model, bad key).
        raw: the raw reply text, if one came back.
    """

    def __init__(self, reason: str, *, attempts: int, unavailable: bool = False, down: bool = False,
                 raw: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.attempts = attempts
        self.unavailable = unavailable or down
        self.down = down
        self.raw = raw


def retry_after_s(err: Exception) -> float | None:
    """Seconds the server asked us to wait (``retry-after-ms`` or numeric ``Retry-After``), if any."""
    if not isinstance(err, openai.APIStatusError):
        return None
    headers = err.response.headers
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is not None:
            try:
                return min(float(value) / scale, MAX_RETRY_AFTER_S)
            except ValueError:
                continue
    return None


class MalformedReply(ValueError):
    """A 200 response whose body is not a chat completion (not JSON, or fields missing)."""


def parse_completion(body: bytes, *, attempts: int) -> Reply:
    """The first choice of a ``chat.completion`` JSON body (OpenAI API reference, "The chat completion object").

    Args:
        body: the raw response body.
        attempts: HTTP attempts it took (recorded in the reply).

    Returns:
        The first choice's text and finish reason, usage (prompt / cached / completion tokens; 0 when
        the endpoint sends no usage) and the token logprobs when the request asked for them.

    Raises:
        MalformedReply: the body is not JSON, or has no ``choices[0].message``.
    """
    try:
        data = json.loads(body)
        choice = data["choices"][0]
        message = choice["message"]
        usage = data.get("usage") or {}
        details = usage.get("prompt_tokens_details") or {}
        logprobs = (choice.get("logprobs") or {}).get("content") or None
        return Reply(text=message.get("content") or "", finish_reason=choice.get("finish_reason"),
                     prompt_tokens=usage.get("prompt_tokens") or 0, cached_tokens=details.get("cached_tokens") or 0,
                     completion_tokens=usage.get("completion_tokens") or 0, attempts=attempts, logprobs=logprobs)
    except json.JSONDecodeError as e:
        raise MalformedReply(f"malformed response body ({e.msg})") from None
    except KeyError as e:
        raise MalformedReply(f"response is not a chat completion (no field {e})") from None
    except IndexError:
        raise MalformedReply("response is not a chat completion (empty `choices`)") from None
    except (TypeError, AttributeError) as e:
        raise MalformedReply(f"response is not a chat completion ({e})") from None


@functools.cache
def default_ssl_context() -> ssl.SSLContext:
    """The TLS context every backend of this process shares (built once: loading the CA bundle takes ~30 ms).

    It is what the SDK's HTTP client would build itself, ``httpx2.create_ssl_context()`` (certifi's
    bundle, or ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` when set: read on the first call). An
    ``SSLContext`` may be shared by many connections (Python docs, ``ssl`` module, "SSL Contexts").
    """
    return httpx2.create_ssl_context()


class LaunchPacer:
    """Lets at most one request start per event-loop iteration, in arrival (FIFO) order.

    asyncio runs every ready callback before it polls the sockets again (``BaseEventLoop._run_once``),
    and aiohttp sends a request body from a task of its own that, before Python 3.12 (no
    ``eager_start``), only runs in the next iteration. So when N slots free up together, all N
    requests are built (~0.7 ms of CPU each in the SDK) before the first byte of any of them is
    sent, and their replies come back as a burst again one latency later. Starting one request
    per iteration sends each request one iteration after it is built and reads the replies that
    arrived in between, which spreads a burst out. Measured on the 500-request benchmark
    (``benchmarks/llm_throughput.py``, 2 cores, pacing ablated in the same run): 0.87 -> 0.91 of
    the ceiling; at concurrency 128 (CPU-bound), 760 -> 803 req/s. Cost: one ``call_soon`` per
    request, and one future per request that has to wait.
    """

    def __init__(self) -> None:
        self._ticking = False  # a request started in this iteration; _next_tick is scheduled
        self._waiters: deque[asyncio.Future[None]] = deque()

    async def wait(self) -> None:
        """Return when this caller may start its request (this iteration, or a later one)."""
        if self._ticking or self._waiters:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            await waiter  # _next_tick handed this iteration over to us
            return
        self._ticking = True
        asyncio.get_running_loop().call_soon(self._next_tick)

    def _next_tick(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():  # a cancelled waiter gives its turn to the next
                waiter.set_result(None)
                asyncio.get_running_loop().call_soon(self._next_tick)
                return
        self._ticking = False


def _retryable(err: Exception) -> bool:
    if isinstance(err, (openai.APIConnectionError, MalformedReply)):
        return True  # APITimeoutError is an APIConnectionError
    if isinstance(err, openai.APIStatusError):
        return err.status_code in (408, 409, 429) or err.status_code >= 500
    return False


def _describe(err: Exception) -> str:
    if isinstance(err, openai.APIStatusError):
        return f"HTTP {err.status_code}: {err.message}"
    if isinstance(err, MalformedReply):
        return str(err)
    return f"{type(err).__name__}: {err}"


class OpenAIBackend:
    """Chat completions against one OpenAI-compatible endpoint (one per model config and event loop).

    Args:
        cfg: the model config (base_url, key env var, timeout, retry policy).

    Raises:
        ConfigError: the API key env var is unset for a remote endpoint.
    """

    def __init__(self, cfg: ModelConfig) -> None:
        self.cfg = cfg
        # aiohttp as the SDK's HTTP transport (openai-python README, "With aiohttp": "for improved
        # concurrency performance"): ~1 ms less client CPU per request than the default httpx2 pool,
        # which is what bounds throughput at high concurrency. aiohttp sets TCP_NODELAY itself.
        # One shared TLS context: ``chat_many`` runs a fresh event loop, hence a fresh backend, per
        # call, and each would otherwise load the CA bundle again before its first request.
        http = openai.DefaultAioHttpClient(
            verify=default_ssl_context(),
            limits=httpx2.Limits(max_connections=max(100, 2 * cfg.max_concurrency), max_keepalive_connections=None))
        self.client = openai.AsyncOpenAI(base_url=cfg.base_url, api_key=cfg.api_key(), max_retries=0,
                                         timeout=cfg.timeout_s, http_client=http)
        self.pacer = LaunchPacer()

    async def aclose(self) -> None:
        """Close the HTTP connection pool."""
        await self.client.close()

    def backoff_s(self, attempt: int, err: Exception) -> float:
        """Wait before retry number ``attempt`` (0-based) after ``err``, seconds."""
        asked = retry_after_s(err)
        if asked is not None:
            return asked + random.uniform(0, self.cfg.backoff_base_s / 10)
        return random.uniform(0, min(self.cfg.backoff_max_s, self.cfg.backoff_base_s * 2 ** attempt))

    async def complete(self, messages: list[dict], params: dict) -> Reply:
        """One chat completion, retried on transient errors.

        Args:
            messages: OpenAI chat messages.
            params: the other fields of the request body (model, temperature, max_tokens, …).

        Returns:
            The first choice's text, its finish reason, usage (tokens) and attempts made.

        Raises:
            CallFailed: a non-retryable error, or retries exhausted.
        """
        last: Exception | None = None
        for attempt in range(self.cfg.max_retries + 1):
            if attempt:
                delay = self.backoff_s(attempt - 1, last)
                log.debug("retry %d of %s in %.2fs after %s", attempt, self.cfg.model, delay, _describe(last))
                await asyncio.sleep(delay)
            try:
                # The SDK's documented path for raw requests (openai-python README, "Making custom/
                # undocumented requests"): same client, auth, timeout and error mapping as
                # ``chat.completions.create``, without its per-request pydantic transform of the params
                # and model construction of the reply, which cost ~0.6 ms of CPU per request.
                await self.pacer.wait()
                resp = await self.client.post("/chat/completions", body={"messages": messages, **params},
                                              cast_to=httpx2.Response)
                return parse_completion(resp.content, attempts=attempt + 1)
            except (openai.APIError, MalformedReply) as err:
                last = err
                if isinstance(err, (openai.NotFoundError, openai.AuthenticationError, openai.PermissionDeniedError)):
                    raise CallFailed(_describe(err), attempts=attempt + 1, down=True) from None
                if not _retryable(err):
                    raise CallFailed(_describe(err), attempts=attempt + 1) from None
        unreachable = isinstance(last, openai.APIConnectionError) and not isinstance(last, openai.APITimeoutError)
        raise CallFailed(f"gave up after {self.cfg.max_retries + 1} attempts; last error {_describe(last)}",
                         attempts=self.cfg.max_retries + 1, unavailable=True, down=unreachable)

