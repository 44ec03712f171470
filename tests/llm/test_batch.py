"""Batch API mode end to end against the test server's /v1/files and /v1/batches."""

from __future__ import annotations

import pytest

from slmforge.llm import LLMClient, ModelConfig
from slmforge.llm.batch import collect_batches, run_batch, submit_batch
from slmforge.llm.prices import cost_usd, load_table
from slmforge.testing.server import ScriptedServer
from tests.llm.conftest import Item, item_script, make_batch


def _client(srv: ScriptedServer, ledger) -> LLMClient:
    return LLMClient({"judge": ModelConfig(backend="openai", model="gpt-4o-mini", base_url=srv.base_url)},
                     ledger=ledger, run_id="b1")


def test_submit_collect_resume_and_discount(ledger_path):
    with ScriptedServer(item_script) as srv:
        srv.app.state.batch_delay_s = 0.3
        client = _client(srv, ledger_path)
        batch_id = submit_batch(client, "judge", make_batch(6), stage="judge", schema=Item)
        assert batch_id and client.ledger.open_batches(stage="judge")[0]["n_requests"] == 6
        # a "new process" resubmits nothing that is already in flight
        again = _client(srv, ledger_path)
        assert submit_batch(again, "judge", make_batch(6), stage="judge", schema=Item) is None
        assert collect_batches(again, stage="judge") == {batch_id: "in_progress"}
        results = run_batch(again, "judge", make_batch(8), stage="judge", schema=Item, poll_s=0.05, timeout_s=10)
        assert len(srv.app.state.batches) == 2  # the open one was resumed, only the 2 missing were submitted
        assert srv.stats.requests == 0  # no live calls: everything came from the batches
    assert [r.parsed.item for r in results] == [f"item number {i}" for i in range(8)]
    assert all(r.ok and r.from_cache for r in results)
    paid = [r for r in again.ledger.rows() if not r["from_cache"]]
    assert len(paid) == 8
    p = load_table()["models"]["gpt-4o-mini"]
    for row in paid:
        live = cost_usd(p, row["prompt_tokens"], row["cached_tokens"], row["completion_tokens"])
        assert row["cost_usd"] == pytest.approx(live * 0.5)


def test_failed_lines_are_recorded_then_called_live(ledger_path):
    with ScriptedServer(item_script) as srv:
        srv.app.state.batch_delay_s = 0.5  # time to tamper with the input file before it runs
        client = _client(srv, ledger_path)
        batch = make_batch(3)
        submit_batch(client, "judge", batch, stage="judge")
        # make one line fail on the server side by renaming its custom_id
        (entry,) = srv.app.state.files.values()
        entry["content"] = entry["content"].replace(b'"custom_id": "req-1', b'"custom_id": "fail-req-1')
        items = client.ledger.batch_items(next(iter(srv.app.state.batches)))
        bad_id = next(k for k in items if k.startswith("req-1"))
        client.ledger.conn.execute("UPDATE batch_items SET custom_id = ? WHERE custom_id = ?", ("fail-" + bad_id, bad_id))
        results = run_batch(client, "judge", batch, stage="judge", poll_s=0.05, timeout_s=10)
        assert srv.stats.requests == 1  # only the failed line was called live
    assert all(r.ok for r in results) and [r.from_cache for r in results] == [True, False, True]
    assert sum(1 for r in client.ledger.rows() if not r["ok"]) == 1
