"""1,000 mixed requests through the official openai SDK with retries off, from as many clients as the
server has slots: not one 5xx and not one 429 (a slot is free the moment a response's last byte is
sent, whatever the request did)."""

from __future__ import annotations

import collections
import threading
import time

import openai

from tests.serve.conftest import API_KEY
from tests.serve.test_limits import _wait_idle

MSG = [{"role": "user", "content": "Write a short ad for Jasmine Pearl."}]
TOTAL = 1000


def _one(sdk: openai.OpenAI, root: str, i: int) -> str:
    """Request number ``i`` of the mix; returns what happened (``ok``, ``400``, …)."""
    kind = i % 10
    model = ("base", "sft")[i // 10 % 2]
    if kind in (0, 1):
        r = sdk.chat.completions.create(model=model, messages=MSG, max_tokens=1, temperature=0)
        assert r.choices[0].finish_reason in ("stop", "length")
    elif kind == 2:
        r = sdk.chat.completions.create(model=model, messages=MSG, max_tokens=2, n=2, seed=i)
        assert len(r.choices) == 2
    elif kind in (3, 4):
        chunks = list(sdk.chat.completions.create(model=model, messages=MSG, max_tokens=2, stream=True,
                                                  stream_options={"include_usage": True}))
        assert chunks[-1].usage is not None
    elif kind == 5:
        chunks = list(sdk.chat.completions.create(model=model, messages=MSG, max_tokens=3, stream=True, n=2,
                                                  stop=["e", "a"], extra_body={"ignore_eos": True}))
        assert sum(1 for c in chunks if c.choices and c.choices[0].finish_reason) == 2
    elif kind == 6:
        r = sdk.post(f"{root}/tokenize", cast_to=object, body={"prompt": "Jasmine Pearl " * (1 + i % 50)})
        assert r["count"] > 0
    elif kind == 7:
        assert {m.id for m in sdk.models.list()} == {"base", "sft"}
    else:  # refused by validation: must be a 400, and must not disturb the others
        bad = {"temperature": 1e-40} if kind == 8 else {"extra_body": {"stream": "yes"}}
        try:
            sdk.chat.completions.create(model=model, messages=MSG, max_tokens=1, **bad)
        except openai.BadRequestError:
            return "400"
        return "unexpected success"
    return "ok"


def test_thousand_mixed_requests_within_the_limit_never_get_429_or_5xx(server):
    _wait_idle(server)
    clients = server.health()["max_concurrency"]
    outcomes: collections.Counter[str] = collections.Counter()
    lock, counter = threading.Lock(), iter(range(TOTAL))

    def client() -> None:
        sdk = openai.OpenAI(base_url=server.base_url, api_key=API_KEY, max_retries=0, timeout=60)
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            try:
                what = _one(sdk, server.root, i)
            except openai.APIStatusError as e:
                what = str(e.status_code)
            except (openai.APIError, AssertionError) as e:
                what = f"{type(e).__name__}: {e}"
            with lock:
                outcomes[what] += 1

    t0 = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    server_errors = sum(n for what, n in outcomes.items() if what.startswith("5"))
    print(f"{TOTAL} requests from {clients} clients in {elapsed:.1f} s: {dict(outcomes)}")
    assert outcomes["429"] == 0 and server_errors == 0, outcomes
    assert outcomes == {"ok": TOTAL * 8 // 10, "400": TOTAL * 2 // 10}, outcomes
    h = _wait_idle(server)
    assert h["in_flight"] == 0
