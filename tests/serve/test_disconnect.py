"""A client that leaves stops its generation, streaming or not: the engine's cancel event is set at
once (even while the request still waits for the model), the slot is freed and counted as
``cancelled``."""

from __future__ import annotations

import time

import httpx
import pytest

from slmforge.serve.config import ServeConfig
from tests.serve.conftest import API_KEY
from tests.serve.scripted import ScriptedEngine, serve_in_thread
from tests.serve.test_limits import _wait_idle

AUTH = {"Authorization": f"Bearer {API_KEY}"}
WAIT = [{"role": "user", "content": "wait"}]  # the scripted engine blocks until cancelled (10 s at most)


def _until(cond, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


@pytest.mark.parametrize("stream", [False, True])
def test_leaving_client_cancels_at_once(stream):
    engine = ScriptedEngine()
    with serve_in_thread(ServeConfig(model="stub", max_concurrency=2, default_max_tokens=8), engine) as (root, app):
        body = {"model": "stub", "messages": WAIT, "stream": stream}
        if stream:  # leave after the first chunk (the role), while the model has no token yet
            with httpx.stream("POST", f"{root}/v1/chat/completions", json=body, timeout=10) as r:
                assert r.status_code == 200 and '"role": "assistant"' in next(r.iter_lines())
        else:  # leave after 0.3 s without an answer
            with pytest.raises(httpx.ReadTimeout):
                httpx.post(f"{root}/v1/chat/completions", json=body, timeout=httpx.Timeout(10, read=0.3))
        _until(lambda: app.state.limiter.in_flight == 0)
        assert len(engine.cancelled_after) == 1
        assert engine.cancelled_after[0] is not None and engine.cancelled_after[0] < 1.0, engine.cancelled_after
        assert app.state.limiter.stats["cancelled"] == 1 and app.state.limiter.stats["completed"] == 0


def test_leaving_copy_client_cancels(server):
    """/v1/copy without streaming: a long draft is abandoned; its generation stops and frees the slot.

    Eight drafts of up to 1800 tokens with guard=retry: the batch runs until its longest draft ends, so it
    outlasts the 0.5 s read timeout even when the random tiny model ends some drafts early (with three
    drafts it once finished in time on CI)."""
    _wait_idle(server)
    before = server.health()
    body = {"task": "paid_ad_cta", "subject_id": "Jasmine Pearl", "max_tokens": 1800, "n": 8, "guard": "retry"}
    t0 = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(f"{server.base_url}/copy", json=body, headers=AUTH, timeout=httpx.Timeout(30, read=0.5))
    after = _wait_idle(server, timeout=10)
    assert after["cancelled"] == before["cancelled"] + 1 and after["completed"] == before["completed"]
    assert time.monotonic() - t0 < 10


def test_leaving_non_streaming_client_stops_the_model(server):
    """A non-streaming 1900-token request (tens of seconds on the tiny model) abandoned after 0.5 s:
    the model is free again within a few seconds and the request counts as cancelled."""
    _wait_idle(server)
    before = server.health()
    body = {"model": "base", "messages": [{"role": "user", "content": "hello"}], "max_tokens": 1900,
            "ignore_eos": True}
    t0 = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(f"{server.base_url}/chat/completions", json=body, headers=AUTH, timeout=httpx.Timeout(30, read=0.5))
    after = _wait_idle(server, timeout=10)
    assert after["cancelled"] == before["cancelled"] + 1 and after["completed"] == before["completed"]
    r = httpx.post(f"{server.base_url}/chat/completions", headers=AUTH, timeout=30,
                   json={"model": "base", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 2})
    assert r.status_code == 200
    assert time.monotonic() - t0 < 10


def test_stop_string_ends_only_its_own_choice(server):
    """Streaming ``n=2``: a stop string that ends choice 0 leaves choice 1 whole (each choice has its
    own cancel event; the client-gone one is separate). Choice ``i`` streams with seed ``seed + i``, so
    it equals a non-streaming ``n=1`` request with that seed."""
    import openai

    sdk = openai.OpenAI(base_url=server.base_url, api_key=API_KEY, max_retries=0, timeout=60)
    kw = dict(model="base", messages=[{"role": "user", "content": "hello"}], max_tokens=12, temperature=1.0,
              extra_body={"ignore_eos": True})
    for seed in range(0, 40, 2):
        full = [sdk.chat.completions.create(seed=seed + i, **kw).choices[0].message.content for i in (0, 1)]
        stop = next((ch for ch in full[0][2:] if ch.strip() and ch != "\ufffd" and ch not in full[1]), None)
        if stop is not None:
            break
    else:
        pytest.skip("no seed whose first choice has a character the second lacks")
    chunks = list(sdk.chat.completions.create(seed=seed, n=2, stop=[stop], stream=True, **kw))
    texts = ["".join(c.choices[0].delta.content or "" for c in chunks if c.choices and c.choices[0].index == i)
             for i in (0, 1)]
    assert texts == [full[0][:full[0].index(stop)], full[1]]
