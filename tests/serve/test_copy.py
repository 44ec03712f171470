"""/v1/copy: drafts with check reports and the flag / retry / block guards."""

from __future__ import annotations

import httpx
import pytest

from slmforge.kit import load_kit
from slmforge.serve.copy import CopyInputError, copy_events
from slmforge.serve.engine import SamplingParams
from slmforge.serve.schemas import CopyRequest
from tests.serve.conftest import API_KEY, MINIKIT

AUTH = {"Authorization": f"Bearer {API_KEY}"}
GOOD = "Brew Jasmine Pearl at 80°C for a balanced cup from its harvest origin. Shop now."
BAD = "This miracle tea is INSANE!!! Buy it"


def scripted(texts):
    """A draft generator that returns the given texts in order (as one piece each)."""
    queue = list(texts)

    def stream_fn(messages, params):
        assert "Jasmine Pearl" in messages[-1]["content"]
        yield queue.pop(0)
    return stream_fn


def run(guard, texts, n=1):
    lk = load_kit(MINIKIT)
    req = CopyRequest(task="paid_ad_cta", subject_id="Jasmine Pearl", n=n, guard=guard)
    events = list(copy_events(lk, req, model="m", stream_fn=scripted(texts), params=SamplingParams(max_tokens=8),
                              blocking=["lexicon", "constraints", "cta", "facts"], max_retries=2, with_system=False))
    return events, events[-1]["response"]


def test_guard_retry_regenerates_until_a_draft_passes():
    events, resp = run("retry", [BAD, GOOD])
    d = resp["drafts"][0]
    assert d["status"] == "passed" and d["attempts"] == 2 and d["text"] == GOOD
    assert "lexicon" in d["history"][0]["failed_checks"]
    assert [e["type"] for e in events] == ["start", "delta", "retry", "delta", "draft", "done"]
    assert resp["summary"]["regenerations"] == 1 and resp["summary"]["passed"] == 1


def test_guard_retry_gives_up_after_the_limit_and_flags():
    _, resp = run("retry", [BAD, BAD, BAD])
    d = resp["drafts"][0]
    assert d["status"] == "flagged" and d["attempts"] == 3 and d["text"] == BAD


def test_guard_block_withholds_failing_drafts_and_flag_keeps_them():
    _, resp = run("block", [BAD, GOOD], n=2)
    assert [d["status"] for d in resp["drafts"]] == ["blocked", "passed"]
    assert resp["drafts"][0]["text"] is None and resp["summary"]["returned"] == 1
    _, resp = run("flag", [BAD])
    d = resp["drafts"][0]
    assert d["status"] == "flagged" and d["text"] == BAD
    avoid = [f for f in d["report"]["findings"] if f["check"] == "lexicon" and f["start"] is not None]
    assert any(BAD[f["start"]:f["end"]].lower() == "miracle" for f in avoid)


def test_bad_subject_is_a_clear_error():
    lk = load_kit(MINIKIT)
    with pytest.raises(CopyInputError) as e:
        next(copy_events(lk, CopyRequest(task="paid_ad_cta", subject={"name": "X", "caffeine_mg": "lots"}),
                         model="m", stream_fn=scripted([]), params=SamplingParams(max_tokens=8), blocking=[],
                         max_retries=0, with_system=False))
    assert e.value.param in ("subject.category", "subject.caffeine_mg")


def test_copy_endpoint_on_the_tiny_model(server):
    body = {"model": "sft", "task": "paid_ad_cta", "subject_id": "Jasmine Pearl", "n": 2, "guard": "retry",
            "max_tokens": 16, "seed": 1}
    r = httpx.post(f"{server.base_url}/copy", json=body, headers=AUTH, timeout=120)
    assert r.status_code == 200, r.text
    resp = r.json()
    assert len(resp["drafts"]) == 2 and "Jasmine Pearl" in resp["instruction"]
    for d in resp["drafts"]:
        assert set(d["report"]["checks"]) >= {"lexicon", "style", "constraints", "cta", "facts"}
        assert d["attempts"] == len(d["history"]) and 1 <= d["attempts"] <= 3
        assert d["status"] in ("passed", "flagged")
    r = httpx.post(f"{server.base_url}/copy", json={"task": "nope", "subject_id": "Jasmine Pearl"}, headers=AUTH)
    assert r.status_code == 400 and r.json()["error"]["param"] == "task"
    r = httpx.post(f"{server.base_url}/copy", json={"task": "paid_ad_cta", "subject": {"colour": "red"}}, headers=AUTH)
    assert r.status_code == 400 and r.json()["error"]["param"] == "subject.colour"
