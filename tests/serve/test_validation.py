"""Malformed and out-of-range parameters are OpenAI-style 400s naming the field, never a 500 — on
/v1/chat/completions (streaming or not), /v1/copy and /tokenize of the real server."""

from __future__ import annotations

import httpx
import pytest

from tests.serve.conftest import API_KEY

AUTH = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}
MSG = '[{"role": "user", "content": "hello"}]'
SURROGATE = r'"a\ud800b"'  # a JSON escape of a lone high surrogate: valid JSON, not valid Unicode


def chat(extra: str, messages: str = MSG) -> str:
    return '{"model": "base", "max_tokens": 2, "messages": %s, %s}' % (messages, extra)


CHAT_CASES = [
    (chat('"seed": 18446744073709551616'), "seed"),  # 2**64
    (chat('"seed": -1180591620717411303424'), "seed"),  # -2**70
    (chat('"temperature": 1e-40'), "temperature"),
    (chat('"temperature": NaN'), "temperature"),  # Python's json module reads NaN
    (chat('"repetition_penalty": 1e-40'), "repetition_penalty"),
    (chat('"repetition_penalty": 0'), "repetition_penalty"),
    (chat('"repetition_penalty": -1.5'), "repetition_penalty"),
    (chat('"repetition_penalty": Infinity'), "repetition_penalty"),
    (chat('"top_p": 0'), "top_p"),
    (chat('"top_p": 1.0000001'), "top_p"),
    (chat('"max_tokens": -5'), "max_tokens"),
    (chat('"max_tokens": 1180591620717411303424'), "messages"),  # context_length_exceeded, as on OpenAI
    (chat('"max_tokens": 3.5'), "max_tokens"),
    (chat('"stream": "yes"'), "stream"),
    (chat('"stream": 1'), "stream"),
    (chat('"ignore_eos": "false"'), "ignore_eos"),
    (chat('"n": 0'), "n"),
    (chat('"n": 9'), "n"),  # over --max-n (8)
    (chat('"n": true'), "n"),
    (chat('"n": "2"'), "n"),
    (chat('"stop": %s' % SURROGATE), "stop"),
    (chat('"user": %s' % SURROGATE), "user"),
    (chat('"n": 1', messages='[{"role": "user", "content": %s}]' % SURROGATE), "messages.0.content"),
    (chat('"n": 1', messages='[{"role": "user", "content": [{"type": "text", "text": %s}]}]' % SURROGATE),
     "messages.0.content"),
    ('{"model": %s, "messages": %s}' % (SURROGATE, MSG), "model"),
    (chat('%s: 1' % SURROGATE), None),  # an unknown field whose name is not valid Unicode
]


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize(("body", "param"), CHAT_CASES)
def test_chat_parameters_are_400_not_500(server, body, param, stream):
    if stream and '"stream"' not in body:
        body = body[:-1] + ', "stream": true}'
    r = httpx.post(f"{server.base_url}/chat/completions", content=body.encode(), headers=AUTH, timeout=30)
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/json"
    err = r.json()["error"]
    assert set(err) == {"message", "type", "param", "code"}
    assert err["type"] == "invalid_request_error" and err["message"]
    if param is not None:
        assert err["param"] == param


COPY = '{"task": "paid_ad_cta", "subject_id": "Jasmine Pearl", "max_tokens": 4, %s}'


@pytest.mark.parametrize(("body", "param"), [
    (COPY % '"value": %s' % SURROGATE, "value"),
    (COPY % '"subject": {"name": %s}' % SURROGATE, "subject"),
    (COPY % '"subject": {%s: "x"}' % SURROGATE, "subject"),
    (COPY % '"subject": {"notes": ["jasmine", %s]}' % SURROGATE, "subject"),
    (COPY % '"subject": {"caffeine_mg": 1e999}', "subject"),  # inf: int(inf) would overflow
    (COPY % '"subject": {"caffeine_mg": {"mg": 5}}', "subject"),
    ('{"task": %s}' % SURROGATE, "task"),
    (COPY % '"seed": 18446744073709551616', "seed"),
    (COPY % '"temperature": 1e-40', "temperature"),
    (COPY % '"top_p": 0', "top_p"),
    (COPY % '"n": 0', "n"),
    (COPY % '"n": 99', "n"),
    (COPY % '"stream": "yes"', "stream"),
    (COPY % '"max_tokens": 1000000', "max_tokens"),
    (COPY % '"max_tokens": 1000000, "stream": true', "max_tokens"),  # 400 before the stream, not in-band
])
def test_copy_parameters_are_400_not_500(server, body, param):
    r = httpx.post(f"{server.base_url}/copy", content=body.encode(), headers=AUTH, timeout=60)
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert err["type"] == "invalid_request_error" and err["param"] == param


@pytest.mark.parametrize(("body", "param"), [
    ('{"prompt": %s}' % SURROGATE, "prompt"),
    ('{"messages": [{"role": "user", "content": %s}]}' % SURROGATE, "messages.0.content"),
    ('{"prompt": "hi", "add_special_tokens": "no"}', "add_special_tokens"),
    ('{"prompt": 5}', "prompt"),
])
def test_tokenize_parameters_are_400_not_500(server, body, param):
    r = httpx.post(f"{server.root}/tokenize", content=body.encode(), headers=AUTH, timeout=30)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["param"] == param


def test_valid_edge_values_are_accepted(server):
    """The limits are the documented ones, not tighter: int64 seeds, temperature 0.01, JSON ints for floats."""
    for extra in ('"seed": 9223372036854775807', '"seed": -9223372036854775808', '"temperature": 0.01',
                  '"temperature": 0', '"temperature": 2', '"top_p": 1', '"repetition_penalty": 1.2'):
        r = httpx.post(f"{server.base_url}/chat/completions", content=chat(extra).encode(), headers=AUTH, timeout=30)
        assert r.status_code == 200, (extra, r.text)
