"""ScriptedServer through the official openai SDK: replies, usage, prefix caching, every fault kind."""

from __future__ import annotations

import openai
import pytest

from slmforge.testing.server import ALL_FAULTS, ScriptedServer


def _client(srv: ScriptedServer, timeout: float = 2.0) -> openai.OpenAI:
    return openai.OpenAI(base_url=srv.base_url, api_key="test", max_retries=0, timeout=timeout)


def test_script_reply_usage_and_prefix_cache():
    with ScriptedServer(lambda req: f"seen {len(req['messages'])} messages") as srv:
        client = _client(srv)
        system = {"role": "system", "content": "You are a calm copywriter. " * 10}
        first = client.chat.completions.create(model="m", messages=[system, {"role": "user", "content": "a"}])
        second = client.chat.completions.create(model="m", messages=[system, {"role": "user", "content": "b"}])
        assert first.choices[0].message.content == "seen 2 messages"
        assert first.usage.prompt_tokens == second.usage.prompt_tokens > 60
        assert first.usage.prompt_tokens_details.cached_tokens == 0
        # the static system prompt was seen before: its tokens are reported as cached
        assert 60 < second.usage.prompt_tokens_details.cached_tokens < second.usage.prompt_tokens
        assert srv.stats.requests == srv.stats.completed == 2


def test_models_and_unknown_model():
    with ScriptedServer(models=["known"]) as srv:
        client = _client(srv)
        assert [m.id for m in client.models.list()] == ["known"]
        with pytest.raises(openai.NotFoundError):
            client.chat.completions.create(model="other", messages=[{"role": "user", "content": "x"}])


EXPECTED = {
    "rate_limit": openai.RateLimitError,
    "server_error": openai.InternalServerError,
    "drop": openai.APIConnectionError,
    "hang": openai.APITimeoutError,
    "malformed": ValueError,  # the SDK's json decoding of a body that is not JSON
}


@pytest.mark.parametrize("fault", ALL_FAULTS)
def test_each_fault_kind(fault):
    with ScriptedServer(lambda req: '{"answer": "a long enough reply"}', fault_rate=1.0, faults=[fault],
                        retry_after_s=0.25, hang_s=5) as srv:
        client = _client(srv, timeout=0.3)
        messages = [{"role": "user", "content": "hello"}]
        if fault == "truncated":
            reply = client.chat.completions.create(model="m", messages=messages)
            assert reply.choices[0].finish_reason == "length"
            assert reply.choices[0].message.content == '{"answer": "a lo'
        else:
            with pytest.raises(EXPECTED[fault]) as info:
                client.chat.completions.create(model="m", messages=messages)
            if fault == "rate_limit":
                assert info.value.response.headers["retry-after"] == "0.25"
                assert info.value.response.headers["retry-after-ms"] == "250"
        assert srv.stats.faults[fault] == 1
        assert srv.stats.completed == 0


def test_fault_rate_is_roughly_honoured():
    with ScriptedServer(fault_rate=0.3, faults=["server_error"], seed=1) as srv:
        client = _client(srv)
        for i in range(60):
            try:
                client.chat.completions.create(model="m", messages=[{"role": "user", "content": str(i)}])
            except openai.InternalServerError:
                pass
        assert 6 <= srv.stats.faults["server_error"] <= 30
        assert srv.stats.completed == 60 - srv.stats.faults["server_error"]


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown fault"):
        ScriptedServer(faults=["nope"])
    with pytest.raises(ValueError, match="fault_rate"):
        ScriptedServer(fault_rate=1.5)
