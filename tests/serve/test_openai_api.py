"""The official openai SDK (sync, async, streaming) against `slmforge serve` running a tiny model."""

from __future__ import annotations

import asyncio

import openai
import pytest

from tests.serve.conftest import API_KEY


@pytest.fixture
def sdk(server) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base_url, api_key=API_KEY, max_retries=0, timeout=60)


MSG = [{"role": "user", "content": "Write a short ad for Jasmine Pearl."}]


def test_models_lists_base_and_adapter(sdk):
    models = {m.id: m for m in sdk.models.list()}
    assert set(models) == {"base", "sft"}


def test_greedy_is_deterministic_and_reports_usage(sdk):
    a = sdk.chat.completions.create(model="base", messages=MSG, temperature=0, max_tokens=12)
    b = sdk.chat.completions.create(model="base", messages=MSG, temperature=0, max_tokens=12)
    assert a.choices[0].message.content == b.choices[0].message.content
    assert a.object == "chat.completion" and a.choices[0].message.role == "assistant"
    assert 0 < a.usage.completion_tokens <= 12
    assert a.usage.total_tokens == a.usage.prompt_tokens + a.usage.completion_tokens


def test_adapter_model_id_changes_the_output(sdk):
    kw = dict(messages=MSG, temperature=0, max_tokens=16, extra_body={"ignore_eos": True})
    base = sdk.chat.completions.create(model="base", **kw).choices[0].message.content
    sft = sdk.chat.completions.create(model="sft", **kw).choices[0].message.content
    again = sdk.chat.completions.create(model="base", **kw).choices[0].message.content
    assert base != sft
    assert again == base  # switching back to the base really disables the adapter


def test_n_seed_and_max_tokens(sdk):
    kw = dict(model="sft", messages=MSG, temperature=1.0, max_tokens=10, n=3, seed=7, extra_body={"ignore_eos": True})
    a = sdk.chat.completions.create(**kw)
    b = sdk.chat.completions.create(**kw)
    assert len(a.choices) == 3 and [c.index for c in a.choices] == [0, 1, 2]
    assert [c.message.content for c in a.choices] == [c.message.content for c in b.choices]
    assert all(c.finish_reason == "length" for c in a.choices)
    assert a.usage.completion_tokens == 30


def test_stop_string_cuts_the_text(sdk):
    kw = dict(model="base", messages=MSG, temperature=1.0, seed=3, max_tokens=24, extra_body={"ignore_eos": True})
    full = sdk.chat.completions.create(**kw).choices[0].message.content
    stop = next(ch for ch in full[3:] if ch.strip() and ch != "\ufffd")  # a character after the start
    cut = sdk.chat.completions.create(stop=[stop], **kw).choices[0]
    assert cut.message.content == full[: full.index(stop)]
    assert cut.finish_reason == "stop"


def test_streaming_equals_non_streaming(sdk):
    kw = dict(model="sft", messages=MSG, temperature=0, max_tokens=20, extra_body={"ignore_eos": True})
    whole = sdk.chat.completions.create(**kw)
    chunks = list(sdk.chat.completions.create(stream=True, stream_options={"include_usage": True}, **kw))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert text == whole.choices[0].message.content
    finals = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finals == ["length"]
    assert chunks[-1].usage.completion_tokens == 20 and not chunks[-1].choices


def test_async_client_concurrent_requests(server):
    async def main():
        client = openai.AsyncOpenAI(base_url=server.base_url, api_key=API_KEY, max_retries=0)
        reqs = [client.chat.completions.create(model=m, messages=MSG, temperature=0, max_tokens=8)
                for m in ("base", "sft")]
        out = await asyncio.gather(*reqs)
        stream = await client.chat.completions.create(model="base", messages=MSG, temperature=0, max_tokens=8,
                                                      stream=True)
        streamed = "".join([c.choices[0].delta.content or "" async for c in stream])
        await client.close()
        return out, streamed

    (base, sft), streamed = asyncio.run(main())
    assert base.model == "base" and sft.model == "sft"
    assert streamed == base.choices[0].message.content


def test_json_mode_gives_json_or_422(sdk):
    # A random tiny model never writes JSON: the server retries, then refuses rather than return broken JSON.
    with pytest.raises(openai.UnprocessableEntityError) as e:
        sdk.chat.completions.create(model="base", messages=[{"role": "user", "content": "Reply in JSON."}],
                                    response_format={"type": "json_object"}, max_tokens=8)
    assert e.value.body["code"] == "json_invalid"
