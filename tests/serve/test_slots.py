"""Concurrency slots: every path that takes one gives it back — failures before, during and after a
stream starts, clients that leave, unexpected errors — and /tokenize runs inside the limiter, off
the event loop. (A finished stream freeing its slot before its last byte: tests/serve/test_load.py.)"""

from __future__ import annotations

import statistics
import threading
import time

import httpx
import pytest

from slmforge.serve.config import ServeConfig
from tests.serve.conftest import API_KEY
from tests.serve.scripted import ScriptedEngine, serve_in_thread
from tests.serve.test_limits import _wait_idle

AUTH = {"Authorization": f"Bearer {API_KEY}"}
MSG = [{"role": "user", "content": "hello"}]


def _stream_and_leave(url: str, body: dict, *, headers: dict, after_lines: int) -> None:
    """POST a streaming request and close the connection after reading ``after_lines`` lines."""
    with httpx.stream("POST", url, json=body, headers=headers, timeout=30) as r:
        for i, _ in enumerate(r.iter_lines()):
            if i + 1 >= after_lines:
                break


def test_failing_streaming_requests_free_their_slots(server):
    """100 streaming requests that fail (invalid text, context too long, bad sampling values, clients
    that leave before or during the stream), then a good request is served."""
    _wait_idle(server)
    url = f"{server.base_url}/chat/completions"
    stream = {"model": "base", "stream": True, "max_tokens": 40, "ignore_eos": True}
    codes = []
    with httpx.Client(headers={**AUTH, "Content-Type": "application/json"}, timeout=30) as c:
        for i in range(100):
            kind = i % 5
            if kind == 0:  # not valid Unicode: was a 500 that kept its slot
                body = b'{"model": "base", "stream": true, "messages": [{"role": "user", "content": "\\ud800"}]}'
                codes.append(c.post(url, content=body).status_code)
            elif kind == 1:
                codes.append(c.post(url, json={**stream, "max_tokens": 100_000, "messages": MSG}).status_code)
            elif kind == 2:
                codes.append(c.post(url, json={**stream, "temperature": 1e-40, "messages": MSG}).status_code)
            elif kind == 3:  # leaves as soon as the response starts
                _stream_and_leave(url, {**stream, "messages": MSG}, headers=AUTH, after_lines=0)
            else:  # leaves after the first chunk
                _stream_and_leave(url, {**stream, "messages": MSG}, headers=AUTH, after_lines=1)
    assert set(codes) == {400}, codes
    after = _wait_idle(server, timeout=30)
    assert after["in_flight"] == 0
    r = httpx.post(url, json={"model": "base", "messages": MSG, "max_tokens": 2}, headers=AUTH, timeout=30)
    assert r.status_code == 200, r.text


@pytest.fixture
def scripted():
    engine = ScriptedEngine()
    cfg = ServeConfig(model="stub", max_concurrency=2, api_key="k", default_max_tokens=8)
    with serve_in_thread(cfg, engine) as (root, app):
        yield root, app, engine


def test_every_error_path_frees_its_slot(scripted):
    """Failures at each stage of a request on a scripted engine: before the stream (tokenizer), when
    it starts, mid-stream (in-band error event), context too long, and non-streaming crashes (500)."""
    root, app, _ = scripted
    url = f"{root}/v1/chat/completions"
    seen = {}
    with httpx.Client(headers={"Authorization": "Bearer k"}, timeout=10) as c:
        for i in range(100):
            script = ("fail-encode", "fail-start", "fail-mid", "x" * 80, "fail-generate")[i % 5]
            stream = script != "fail-generate"
            r = c.post(url, json={"model": "stub", "messages": [{"role": "user", "content": script}],
                                  "max_tokens": 4, "stream": stream})
            label = "too-long" if script.startswith("x") else script
            seen.setdefault(label, set()).add((r.status_code, r.headers["content-type"].split(";")[0]))
            if r.status_code == 200:
                assert '"type": "server_error"' in r.text and "data: [DONE]" not in r.text
        assert app.state.limiter.in_flight == 0
        ok = c.post(url, json={"model": "stub", "messages": MSG, "stream": True})
    assert ok.status_code == 200 and ok.text.endswith("data: [DONE]\n\n")
    assert seen == {"fail-encode": {(500, "application/json")}, "fail-start": {(200, "text/event-stream")},
                    "fail-mid": {(200, "text/event-stream")}, "too-long": {(400, "application/json")},
                    "fail-generate": {(500, "application/json")}}
    stats = app.state.limiter.stats
    assert stats["admitted"] == 101 and stats["completed"] == 1 and stats["errors"] == 100


def test_unexpected_errors_are_openai_style_500(scripted):
    root, _, _ = scripted
    r = httpx.post(f"{root}/v1/chat/completions", headers={"Authorization": "Bearer k"},
                   json={"model": "stub", "messages": [{"role": "user", "content": "fail-generate"}]})
    assert r.status_code == 500 and r.headers["content-type"] == "application/json"
    assert r.json()["error"]["type"] == "server_error" and "generation failed" in r.json()["error"]["message"]


def test_tokenize_is_limited_and_off_the_event_loop(server):
    """While three clients tokenize ~900 kB prompts (about a second each on this machine), /health
    answers in well under 0.5 s (median of 15) — and answers *while* tokenizations hold their slots,
    which an event loop busy tokenizing could not do. The tokenizer and the JSON rendering run in a
    worker thread; a /tokenize beyond the free slots gets 429."""
    _wait_idle(server)
    big = {"prompt": "jasmine tea harvest " * 45_000}
    stop, codes = threading.Event(), []

    def tokenize_loop() -> None:
        with httpx.Client(headers=AUTH, timeout=60) as c:
            while not stop.is_set():
                codes.append(c.post(f"{server.root}/tokenize", json=big).status_code)

    clients = [threading.Thread(target=tokenize_loop) for _ in range(3)]
    for t in clients:
        t.start()
    try:
        time.sleep(1.0)
        latencies, busy = [], []
        for _ in range(15):
            t0 = time.monotonic()
            h = server.health()
            latencies.append(time.monotonic() - t0)
            busy.append(h["in_flight"])
            time.sleep(0.05)
        extra = httpx.post(f"{server.root}/tokenize", json={"prompt": "hi"}, headers=AUTH, timeout=30)
    finally:
        stop.set()
        for t in clients:
            t.join()
    assert statistics.median(latencies) < 0.5, latencies
    assert max(busy) >= 2, busy  # answered while tokenize requests held their slots
    assert extra.status_code in (200, 429)
    assert set(codes) <= {200, 429} and codes.count(200) >= 3, codes
    assert _wait_idle(server)["in_flight"] == 0


def test_tokenize_gets_429_when_the_limiter_is_full(scripted):
    root, app, engine = scripted
    headers = {"Authorization": "Bearer k"}
    body = {"model": "stub", "messages": [{"role": "user", "content": "wait"}], "stream": True}
    with httpx.Client(headers=headers, timeout=20) as c:
        held = [c.stream("POST", f"{root}/v1/chat/completions", json=body) for _ in range(2)]
        for h in held:
            h.__enter__()
        try:
            r = c.post(f"{root}/tokenize", json={"prompt": "hi"})
            assert r.status_code == 429 and r.json()["error"]["code"] == "rate_limit_exceeded"
        finally:
            for h in held:
                h.__exit__(None, None, None)
    deadline = time.monotonic() + 5
    while app.state.limiter.in_flight and time.monotonic() < deadline:
        time.sleep(0.02)
    r = httpx.post(f"{root}/tokenize", json={"prompt": "hi"}, headers=headers)
    assert r.status_code == 200 and r.json()["count"] == 2
