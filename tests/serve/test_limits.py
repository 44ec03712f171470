"""Auth (401), validation (400/404), body size (413), concurrency (429) and client disconnects."""

from __future__ import annotations

import asyncio
import time

import httpx
import openai
import pytest

from tests.serve.conftest import API_KEY

MSG = [{"role": "user", "content": "hello"}]
AUTH = {"Authorization": f"Bearer {API_KEY}"}


def test_auth_required_except_health(server):
    assert httpx.get(f"{server.root}/health").status_code == 200
    r = httpx.get(f"{server.base_url}/models")
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_api_key"
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=server.base_url, api_key="wrong", max_retries=0).models.list()
    r = httpx.post(f"{server.base_url}/copy", json={"task": "paid_ad_cta"})
    assert r.status_code == 401
    assert httpx.get(f"{server.base_url}/models", headers=AUTH).status_code == 200


@pytest.mark.parametrize(("body", "param"), [
    ({"model": "base", "messages": [{"role": "robot", "content": "x"}]}, "messages.0.role"),
    ({"model": "base", "messages": []}, "messages"),
    ({"model": "base", "messages": MSG, "temperature": 5}, "temperature"),
    ({"model": "base", "messages": MSG, "n": 99}, "n"),
    ({"model": "base", "messages": MSG, "stop": ["a", "b", "c", "d", "e"]}, "stop"),
    ({"model": "base", "messages": MSG, "frobnicate": 1}, "frobnicate"),
    ({"model": "base", "messages": MSG, "response_format": {"type": "json_object"}}, None),
    ({"model": "base", "messages": MSG, "max_tokens": 100_000}, "messages"),
])
def test_invalid_requests_get_openai_style_400(server, body, param):
    r = httpx.post(f"{server.base_url}/chat/completions", json=body, headers=AUTH)
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert err["type"] == "invalid_request_error" and err["message"]
    assert err["param"] == param


def test_bad_json_and_unknown_model(server):
    r = httpx.post(f"{server.base_url}/chat/completions", content=b"{not json", headers={**AUTH, "Content-Type": "application/json"})
    assert r.status_code == 400 and "error" in r.json()
    sdk = openai.OpenAI(base_url=server.base_url, api_key=API_KEY, max_retries=0)
    with pytest.raises(openai.NotFoundError) as e:
        sdk.chat.completions.create(model="gpt-7", messages=MSG)
    assert e.value.body["code"] == "model_not_found"
    with pytest.raises(openai.BadRequestError):
        sdk.chat.completions.create(model="base", messages=MSG, temperature=3)


def test_body_size_limit_413(server):
    big = {"model": "base", "messages": [{"role": "user", "content": "x" * 1_100_000}]}
    r = httpx.post(f"{server.base_url}/chat/completions", json=big, headers=AUTH)
    assert r.status_code == 413 and r.json()["error"]["code"] == "request_too_large"

    def chunks():  # chunked transfer, no Content-Length: counted as it arrives
        for _ in range(12):
            yield b"x" * 100_000

    r = httpx.post(f"{server.base_url}/chat/completions", content=chunks(), headers={**AUTH, "Content-Type": "application/json"})
    assert r.status_code == 413


def _wait_idle(server, timeout=20.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        h = server.health()
        if h["in_flight"] == 0:
            return h
        time.sleep(0.1)
    raise AssertionError(f"server still busy: {server.health()}")


def test_disconnect_during_streaming_stops_generation(server):
    _wait_idle(server)
    before = server.health()
    body = {"model": "base", "messages": MSG, "max_tokens": 1900, "stream": True, "ignore_eos": True}
    t0 = time.monotonic()
    with httpx.stream("POST", f"{server.base_url}/chat/completions", json=body, headers=AUTH, timeout=30) as r:
        assert r.status_code == 200
        lines = r.iter_lines()
        got = [next(lines) for _ in range(6)]
        assert any(line.startswith("data: ") for line in got)
    after = _wait_idle(server)
    assert after["cancelled"] == before["cancelled"] + 1
    assert after["completed"] == before["completed"]
    # the model is free again at once: a new request is served right away
    r = httpx.post(f"{server.base_url}/chat/completions", headers=AUTH, timeout=30,
                   json={"model": "base", "messages": MSG, "max_tokens": 4})
    assert r.status_code == 200
    assert time.monotonic() - t0 < 20


def test_concurrency_limit_429(server):
    _wait_idle(server)
    cap = server.health()["max_concurrency"]

    async def main():
        async with httpx.AsyncClient(base_url=server.base_url, headers=AUTH, timeout=60) as client:
            body = {"model": "base", "messages": MSG, "max_tokens": 40, "ignore_eos": True}
            return await asyncio.gather(*[client.post("/chat/completions", json=body) for _ in range(cap + 3)])

    codes = sorted(r.status_code for r in asyncio.run(main()))
    assert codes.count(200) >= cap and codes.count(429) >= 1 and set(codes) <= {200, 429}
    sdk = openai.OpenAI(base_url=server.base_url, api_key=API_KEY, max_retries=0)
    with httpx.Client(base_url=server.base_url, headers=AUTH, timeout=60) as c:
        streams = [c.stream("POST", "/chat/completions", json={"model": "base", "messages": MSG, "max_tokens": 1900,
                                                              "stream": True, "ignore_eos": True}) for _ in range(cap)]
        opened = [s.__enter__() for s in streams]
        try:
            with pytest.raises(openai.RateLimitError) as e:
                sdk.chat.completions.create(model="base", messages=MSG, max_tokens=2)
            assert e.value.response.headers["retry-after"] == "1"
        finally:
            for s, resp in zip(streams, opened):
                s.__exit__(None, None, None)
    assert _wait_idle(server)["in_flight"] == 0
