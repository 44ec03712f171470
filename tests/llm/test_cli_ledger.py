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


LONG_MODELS = ["accounts/fireworks/models/llama-v3p1-405b-instruct-long-name", "gpt-4o-mini-2024-07-18", "m[new]"]


def _big_ledger(path) -> None:
    """Three models, three calls each, with 9- to 10-digit token counts and five-digit dollar costs."""
    from slmforge.llm.ledger import Ledger

    led = Ledger(path)
    for i, model in enumerate(LONG_MODELS):
        for j in range(3):
            led.record(request_hash=f"h{i}{j}", request={"i": i}, run_id="r1", stage="synth", role="teacher",
                       backend="openai", model=model, ok=1, response="x", prompt_tokens=123_456_789,
                       cached_tokens=98_765_432, completion_tokens=987_654_321, cost_usd=12_345.678912, attempts=3)
    led.close()


def test_ledger_table_fits_80_columns_without_cutting(tmp_path):
    db = tmp_path / "ledger.sqlite"
    _big_ledger(db)
    out = CliRunner(env={"COLUMNS": "80"}).invoke(app, ["ledger", str(tmp_path), "--by", "model"])
    assert out.exit_code == 0, out.output
    assert "…" not in out.output
    assert max(map(len, out.output.splitlines())) <= 80
    for number in ("370,370,367", "296,296,296", "2,962,962,963", "1,111,111,101", "888,888,888", "8,888,888,889",
                   "$37,037.0367", "$111,111.1102"):
        assert number in out.output, number
    for header in ("calls", "cache hits", "failures", "retries", "prompt tok", "cached tok", "completion tok", "USD"):
        assert header in out.output, header
    # a long model name folds over lines rather than being cut; `m[new]` is not read as Rich markup
    assert "accounts/fireworks" in out.output and "gpt-4o-mini-2024-07-18" in out.output and "m[new]" in out.output


def test_ledger_narrower_than_any_table_lists_each_group(tmp_path):
    db = tmp_path / "ledger.sqlite"
    _big_ledger(db)
    out = CliRunner(env={"COLUMNS": "40"}).invoke(app, ["ledger", "--db", str(db), "--by", "model"])
    assert out.exit_code == 0, out.output
    assert "…" not in out.output and max(map(len, out.output.splitlines())) <= 40
    assert "  completion tok: 8,888,888,889" in out.output and "  USD: $111,111.1102" in out.output
