"""slmforge.Client against `slmforge serve` (tiny model) and against the scripted OpenAI-compatible server."""

from __future__ import annotations

import json

import pytest
from pydantic import BaseModel

from slmforge import Client
from slmforge.errors import ConfigError
from slmforge.serve.client import AuthError, BadRequestError, ConnectionFailed, ResponseFormatError
from slmforge.cjk import estimate_prompt_tokens as estimate_tokens
from slmforge.testing.server import ScriptedServer
from tests.serve.conftest import API_KEY, free_port


def test_registry_history_and_copy(server):
    c = Client(server.base_url, api_key=API_KEY, models={"base": "base", "sft": "sft"}, temperature=0, max_tokens=8)
    assert c.models() == ["base", "sft"]
    with pytest.raises(ConfigError, match="no model chosen"):
        c.chat("hi")
    first = c.use("sft").chat("hi")
    assert isinstance(first, str) and c.model == "sft"
    c.use("base").chat("and again")
    assert [m["role"] for m in c.history] == ["user", "assistant", "user", "assistant"]
    streamed = "".join(c.stream("third", remember=False))
    assert streamed == c.chat("third", remember=False)
    assert len(c.history) == 4
    res = c.use("sft").copy("paid_ad_cta", subject_id="Jasmine Pearl", n=1, max_tokens=12)
    assert res.model == "sft" and len(res.drafts) == 1 and "lexicon" in res.drafts[0].report["checks"]
    with pytest.raises(ConfigError, match="no model named"):
        c.use("dpo")


def test_history_is_trimmed_to_the_token_budget(server):
    c = Client(server.base_url, api_key=API_KEY, model="base", max_history_tokens=60, tokenizer="server",
               temperature=0, max_tokens=4)
    for i in range(6):
        c.chat(f"message number {i} about jasmine tea and its harvest")
    assert c.count_tokens(c.history[:-1]) <= 60  # what was last sent: kept history + the new message
    assert 0 < len(c.history) < 12 and c.history[-2]["content"].startswith("message number 5")
    assert c.history[0]["role"] == "user"  # whole turns are dropped, never half of one


def test_typed_errors(server):
    with pytest.raises(AuthError) as e:
        Client(server.base_url, api_key="wrong", model="base", max_retries=0).chat("hi")
    assert e.value.status == 401 and e.value.code == "invalid_api_key"
    with pytest.raises(BadRequestError) as e:
        Client(server.base_url, api_key=API_KEY, model="nope", max_retries=0).chat("hi")
    assert e.value.status == 404
    with pytest.raises(BadRequestError, match="task"):
        Client(server.base_url, api_key=API_KEY, model="base").copy("nope", subject_id="Jasmine Pearl")
    with pytest.raises(ConnectionFailed):
        Client(f"http://127.0.0.1:{free_port()}/v1", model="x", max_retries=0, timeout=2).chat("hi")


class Headline(BaseModel):
    headline: str
    words: int


def test_schema_replies_against_an_openai_style_server(tmp_path):
    seen = []

    def script(req):
        seen.append(req)
        last = req["messages"][-1]["content"]
        return json.dumps({"headline": last.upper(), "words": len(last.split())}) if "ok" in last else "not json"

    registry = tmp_path / "project.yaml"
    registry.write_text("models:\n  teacher: {model: gpt-4o-mini}\n  other: other-model\n")
    with ScriptedServer(script) as srv:
        c = Client(srv.base_url, api_key="k", models=registry, max_retries=0).use("teacher")
        h = c.chat("ok go", schema=Headline)
        assert h == Headline(headline="OK GO", words=2)
        assert seen[-1]["response_format"] == {"type": "json_object"} and seen[-1]["model"] == "gpt-4o-mini"
        assert "JSON Schema" in seen[-1]["messages"][0]["content"]
        with pytest.raises(ResponseFormatError) as e:
            c.chat("fail", schema=Headline)
        assert e.value.raw == "not json"


def test_estimate_tokens_counts_cjk_per_character():
    assert estimate_tokens([{"role": "user", "content": "原素方程"}]) == 4 + 4
    assert estimate_tokens([{"role": "user", "content": "abcdefgh"}]) == 4 + 2
