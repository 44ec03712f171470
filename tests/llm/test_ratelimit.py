"""Token buckets and the prompt-token estimate."""

from __future__ import annotations

import asyncio
import time

import pytest

from slmforge.cjk import estimate_prompt_tokens, estimate_tokens
from slmforge.llm.ratelimit import RateLimiter, TokenBucket


def test_bucket_allows_a_minute_then_paces():
    bucket = TokenBucket(60)  # 1 per second
    assert all(bucket.reserve(1) == 0 for _ in range(60))
    assert bucket.reserve(1) == pytest.approx(1.0, abs=0.05)
    assert bucket.reserve(1) == pytest.approx(2.0, abs=0.05)  # waiters queue in reservation order


def test_limiter_waits_for_tokens():
    limiter = RateLimiter(rpm=None, tpm=600)  # 10 tokens per second

    async def run() -> float:
        start = time.perf_counter()
        await limiter.acquire(600)
        await limiter.acquire(3)  # bucket empty: 0.3 s
        return time.perf_counter() - start

    assert 0.25 <= asyncio.run(run()) < 1.0


def test_estimates():
    assert estimate_tokens("abcdefgh") == 2
    assert estimate_tokens("原素方程") == 4  # CJK: one token per character
    assert estimate_prompt_tokens([{"role": "user", "content": "abcd"}]) == 5
