"""Static-first layout gets cached prompt tokens on the server; dynamic-first does not."""

from __future__ import annotations

from slmforge.llm import LLMClient, ModelConfig
from slmforge.llm.layout import shared_prefix_chars, static_first
from slmforge.testing.server import ScriptedServer

VOICE = ["Voice: a calm, precise dermatologist.", "Lexicon: prefer 'barrier', never 'miracle'.",
         "Rubric: accuracy, tone, CTA. " * 20]


def test_static_first_is_cached_and_recorded(tmp_path):
    good = [static_first(VOICE, f"Write about product {i}.") for i in range(6)]
    bad = [[{"role": "user", "content": f"Write about product {i}.\n\n" + "\n\n".join(VOICE)}] for i in range(6)]
    assert shared_prefix_chars(good) > 600 > 30 > shared_prefix_chars(bad)
    with ScriptedServer() as srv:
        cfg = ModelConfig(backend="openai", model="gpt-4o-mini", base_url=srv.base_url, max_concurrency=1)
        client = LLMClient({"t": cfg}, ledger=tmp_path / "l.sqlite")
        cached_good = sum(r.cached_tokens for r in client.chat_many("t", good, stage="good", progress=False))
        cached_bad = sum(r.cached_tokens for r in client.chat_many("t", bad, stage="bad", progress=False))
    assert cached_bad == 0 and cached_good > 5 * 150  # every request after the first reuses the prefix
    by_stage = {r["key"]: r for r in client.ledger.summary(by="stage")}
    assert by_stage["good"]["cached_tokens"] == cached_good and by_stage["bad"]["cached_tokens"] == 0
    assert by_stage["good"]["cost_usd"] < by_stage["bad"]["cost_usd"]
