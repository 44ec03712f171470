"""LLMClient against the real-HTTP ScriptedServer: cache, faults, repairs, fallback, budget, dry run."""

from __future__ import annotations

import pytest

from slmforge.errors import BudgetExceeded, ConfigError
from slmforge.llm import LLMClient, ModelConfig, Price
from slmforge.testing.server import ScriptedServer
from tests.llm.conftest import Item, item_script, make_batch

FAST = {"timeout_s": 0.3, "backoff_base_s": 0.01, "backoff_max_s": 0.05}


def _cfg(srv: ScriptedServer, **kw) -> ModelConfig:
    return ModelConfig(backend="openai", model=kw.pop("model", "gpt-4o-mini"), base_url=srv.base_url, **{**FAST, **kw})


def test_cache_answers_rerun_without_calls(ledger_path):
    with ScriptedServer(item_script) as srv:
        client = LLMClient({"teacher": _cfg(srv)}, ledger=ledger_path, run_id="r1")
        first = client.chat_many("teacher", make_batch(5), stage="synth", schema=Item, progress=False)
        assert [r.parsed.item for r in first] == [f"item number {i}" for i in range(5)]
        assert all(r.ok and not r.from_cache and r.attempts == 1 and r.prompt_tokens > 0 for r in first)
        again = LLMClient({"teacher": _cfg(srv)}, ledger=ledger_path, run_id="r2")
        second = again.chat_many("teacher", make_batch(5), stage="synth", schema=Item, progress=False)
        assert srv.stats.requests == 5
        assert all(r.from_cache and r.cost_usd == 0 for r in second)
        assert [r.parsed for r in second] == [r.parsed for r in first]
        assert [r.request_id for r in second] == [r.request_id for r in first]
        # different parameters are a different request
        client.chat("teacher", make_batch(1)[0], stage="synth", schema=Item, temperature=0.1)
        client.chat("teacher", make_batch(1)[0], stage="synth", schema=Item, variant=2)
        assert srv.stats.requests == 7
    by_run = {row["key"]: row for row in again.ledger.summary(by="run")}
    assert by_run["r1"]["calls"] == 7 and by_run["r1"]["cache_hits"] == 0
    assert by_run["r2"]["calls"] == 0 and by_run["r2"]["cache_hits"] == 5


def test_faults_of_every_kind_give_every_record_once(ledger_path):
    n = 300
    with ScriptedServer(item_script, latency_s=0.005, fault_rate=0.3, retry_after_s=0.01, hang_s=2, seed=3) as srv:
        client = LLMClient({"teacher": _cfg(srv, max_retries=12, max_concurrency=16)}, ledger=ledger_path)
        results = client.chat_many("teacher", make_batch(n), stage="synth", schema=Item, progress=False)
        completed = srv.stats.completed
    assert all(r.ok for r in results), [r.error for r in results if not r.ok][:3]
    assert [r.parsed.item for r in results] == [f"item number {i}" for i in range(n)]
    assert len({r.request_id for r in results}) == n  # 0 duplicates
    assert set(srv.stats.faults) == {"rate_limit", "server_error", "drop", "hang", "malformed", "truncated"}
    assert completed == n  # each record answered exactly once
    (summary,) = client.ledger.summary()
    assert summary["calls"] == n and summary["failures"] == 0 and summary["cache_hits"] == 0
    # truncated replies are paid and repaired; every other fault is a retry; all are counted
    # every injected fault cost a retry (truncated replies are paid and repaired); client-side
    # timeouts of slow, not faulted, requests are retries the server may not have seen
    assert summary["retries"] == client.retries >= sum(srv.stats.faults.values())
    assert client.retries == sum(r.attempts - 1 for r in results)
    print(f"\n{n} records, retries={client.retries}, faults={dict(srv.stats.faults)}")


def test_schema_failure_is_kept_with_raw_text_and_reason(ledger_path):
    with ScriptedServer(lambda req: "not json at all") as srv:
        client = LLMClient({"judge": _cfg(srv, max_repairs=2)}, ledger=ledger_path)
        result = client.chat("judge", make_batch(1)[0], stage="judge", schema=Item)
        assert srv.stats.requests == 3  # first try + 2 repairs
        # each repair turn carries the bad reply and the validation error
    assert not result.ok and result.text == "not json at all" and "Item" in result.error
    assert result.attempts == 3
    (row,) = client.ledger.rows()
    assert row["ok"] == 0 and row["response"] == "not json at all" and row["error"] == result.error
    # a failure is not a cache entry: the next run tries again
    with ScriptedServer(item_script) as srv:
        again = LLMClient({"judge": _cfg(srv)}, ledger=ledger_path).chat("judge", make_batch(1)[0], stage="judge",
                                                                          schema=Item)
        assert again.ok and not again.from_cache and srv.stats.requests == 1


def test_retries_exhausted_is_a_failure_record(ledger_path):
    with ScriptedServer(fault_rate=1.0, faults=["server_error"]) as srv:
        client = LLMClient({"t": _cfg(srv, max_retries=2)}, ledger=ledger_path)
        result = client.chat("t", make_batch(1)[0], stage="s")
        assert srv.stats.requests == 3
    assert not result.ok and "HTTP 500" in result.error and result.attempts == 3


def test_fallback_when_endpoint_down(ledger_path, caplog):
    with ScriptedServer(item_script) as srv:
        dead = ModelConfig(backend="openai", model="gpt-4o", base_url="http://127.0.0.1:9/v1", max_retries=1, **FAST)
        teacher = dead.model_copy(update={"fallback": [_cfg(srv)]})
        client = LLMClient({"teacher": teacher}, ledger=ledger_path)
        results = client.chat_many("teacher", make_batch(3), stage="synth", schema=Item, progress=False)
    assert all(r.ok and r.model == "gpt-4o-mini" and r.fallback_from == "gpt-4o" for r in results)
    assert "FALLING BACK" in caplog.text
    rows = client.ledger.rows()
    good = [r for r in rows if r["ok"]]
    assert len(good) == 3 and all(r["fallback_from"] == "gpt-4o" for r in good)
    # the dead endpoint is marked down: later requests go straight to the fallback
    assert sum(1 for r in rows if not r["ok"]) <= 3


def test_fallback_on_unknown_model(ledger_path):
    with ScriptedServer(item_script, models=["gpt-4o-mini"]) as srv:
        primary = _cfg(srv, model="gpt-9", fallback=[_cfg(srv)])
        result = LLMClient({"t": primary}, ledger=ledger_path).chat("t", make_batch(1)[0], stage="s")
    assert result.ok and result.model == "gpt-4o-mini" and result.fallback_from == "gpt-9"


def test_budget_stops_before_exceeding_and_keeps_work(ledger_path):
    price = Price(input=1000.0, output=1000.0)  # USD per 1M tokens: 0.001 USD per token
    with ScriptedServer(item_script, latency_s=0.005) as srv:
        cfg = _cfg(srv, price=price, max_tokens=20, max_concurrency=2)
        client = LLMClient({"t": cfg}, ledger=ledger_path, budget_usd=0.5)
        with pytest.raises(BudgetExceeded):
            client.chat_many("t", make_batch(40), stage="synth", progress=False)
        served = srv.stats.completed
    rows = client.ledger.rows()
    assert 0 < len(rows) == served < 40
    assert client.spent_usd == pytest.approx(sum(r["cost_usd"] for r in rows))
    assert client.spent_usd <= 0.5


def test_dry_run_counts_without_calling(ledger_path):
    with ScriptedServer(item_script) as srv:
        LLMClient({"t": _cfg(srv, max_tokens=100)}, ledger=ledger_path).chat("t", make_batch(1)[0], stage="s")
        dry = LLMClient({"t": _cfg(srv, max_tokens=100)}, ledger=ledger_path, dry_run=True)
        results = dry.chat_many("t", make_batch(4), stage="s", progress=False)
        assert srv.stats.requests == 1
    assert dry.dry.calls == 3 and dry.dry.cache_hits == 1
    assert dry.dry.completion_tokens == 300 and dry.dry.prompt_tokens > 0
    assert dry.dry.cost_usd == pytest.approx((dry.dry.prompt_tokens * 0.15 + 300 * 0.60) / 1e6)
    assert [r.ok for r in results] == [True, False, False, False]
    assert len(dry.ledger.rows()) == 1  # a dry run writes nothing


def test_unknown_role_is_a_config_error(ledger_path):
    client = LLMClient({}, ledger=ledger_path)
    assert not client.has_role("judge")
    with pytest.raises(ConfigError, match="role 'judge'"):
        client.chat("judge", make_batch(1)[0], stage="s")


def test_unpriced_model_costs_zero_with_warning(ledger_path):
    with ScriptedServer() as srv:
        client = LLMClient({"t": _cfg(srv, model="mystery-model")}, ledger=ledger_path)
        result = client.chat("t", make_batch(1)[0], stage="s")
    assert result.ok and result.cost_usd == 0
    (row,) = client.ledger.rows()
    assert "no price" in row["warning"]
    assert client.ledger.summary()[0]["unpriced"] == 1
