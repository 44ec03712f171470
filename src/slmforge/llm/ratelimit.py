"""Requests-per-minute and tokens-per-minute limits as token buckets, and a prompt-token estimate.

A bucket holds up to one minute's allowance and refills continuously at ``per_minute / 60`` per
second, as in OpenAI's cookbook ``api_request_parallel_processor.py``. Callers *reserve* what they
need: the balance may go negative and the caller sleeps until it is paid back, so waiters are
served in arrival order without an asyncio lock (the bucket is shared by event loops and threads).
"""

from __future__ import annotations

import asyncio
import threading
import time


class TokenBucket:
    """A per-minute allowance (requests or tokens) refilled continuously.

    Args:
        per_minute: the allowance per 60 s (capacity of the bucket).
    """

    def __init__(self, per_minute: int) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.balance = self.capacity
        self.updated = time.monotonic()
        self._lock = threading.Lock()

    def reserve(self, amount: float) -> float:
        """Take ``amount`` now (capped at the capacity); returns the seconds to wait before using it."""
        with self._lock:
            now = time.monotonic()
            self.balance = min(self.capacity, self.balance + (now - self.updated) * self.rate)
            self.updated = now
            self.balance -= min(amount, self.capacity)
            return 0.0 if self.balance >= 0 else -self.balance / self.rate

    async def acquire(self, amount: float = 1.0) -> None:
        """Wait until ``amount`` is available (asyncio sleep, FIFO by reservation order)."""
        wait = self.reserve(amount)
        if wait > 0:
            await asyncio.sleep(wait)


class RateLimiter:
    """The rpm and tpm buckets of one model (either may be ``None`` = unlimited).

    Args:
        rpm: requests per minute.
        tpm: tokens per minute (prompt estimate + completion cap of each request).
    """

    def __init__(self, rpm: int | None, tpm: int | None) -> None:
        self.requests = TokenBucket(rpm) if rpm else None
        self.tokens = TokenBucket(tpm) if tpm else None

    async def acquire(self, tokens: int) -> None:
        """Wait for one request slot and ``tokens`` tokens."""
        if self.requests is not None:
            await self.requests.acquire(1)
        if self.tokens is not None:
            await self.tokens.acquire(tokens)
