"""``slmforge ledger`` is correct to the cent against the price table."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from slmforge.cli import app
from slmforge.llm import LLMClient, ModelConfig
from slmforge.llm.prices import load_table
from slmforge.testing.server import ScriptedServer, count_tokens
from tests.llm.conftest import make_batch

REPLY = "A calm, gentle serum for sensitive skin. " * 50  # 2,050 characters = 513 tokens on the server


def test_ledger_spend_to_the_cent(ledger_path):
    n = 40
    with ScriptedServer(lambda req: REPLY) as srv:
        client = LLMClient({"teacher": ModelConfig(backend="openai", model="gpt-4o", base_url=srv.base_url),
                            "judge": ModelConfig(backend="openai", model="gpt-4o-mini", base_url=srv.base_url)},
                           ledger=ledger_path, run_id="r1")
        teacher = client.chat_many("teacher", make_batch(n), stage="synth", progress=False)
        judge = client.chat_many("judge", make_batch(n), stage="judge", progress=False)
        client.chat_many("judge", make_batch(n), stage="judge", progress=False)  # all cache hits
    prices = load_table()["models"]
    expected = {}
    for stage, results, model in (("synth", teacher, "gpt-4o"), ("judge", judge, "gpt-4o-mini")):
        p = prices[model]
        prompt = sum(r.prompt_tokens for r in results)
        cached = sum(r.cached_tokens for r in results)
        completion = n * count_tokens(REPLY)
        assert sum(r.completion_tokens for r in results) == completion
        expected[stage] = ((prompt - cached) * p.input + cached * p.cached_input + completion * p.output) / 1e6
    assert expected["synth"] > 0.2  # dollars, so that cents matter

    result = CliRunner().invoke(app, ["ledger", "--db", str(ledger_path), "--by", "stage", "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["key"]: r for r in json.loads(result.output)}
    for stage, usd in expected.items():
        assert round(rows[stage]["cost_usd"], 2) == round(usd, 2)
        assert abs(rows[stage]["cost_usd"] - usd) < 1e-9
    assert rows["judge"]["cache_hits"] == n and rows["judge"]["calls"] == n and rows["synth"]["failures"] == 0

    table = CliRunner(env={"COLUMNS": "200"}).invoke(app, ["ledger", "--db", str(ledger_path), "--by", "model"])
    assert table.exit_code == 0
    assert f"${expected['synth']:,.4f}" in table.output and f"${sum(expected.values()):,.4f}" in table.output


def test_ledger_errors_are_one_line(tmp_path):
    result = CliRunner().invoke(app, ["ledger", "--db", str(tmp_path / "none.sqlite")])
    assert result.exit_code == 2 and "no ledger here" in result.output
    bad = tmp_path / "bad.sqlite"
    bad.write_text("not a database")
    assert CliRunner().invoke(app, ["ledger", "--db", str(bad)]).exit_code == 2
