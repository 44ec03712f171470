"""A budget stop of `slmforge synth` says what was produced and where, never "what was produced is kept"
when nothing was: before the first call nothing is produced; after some calls their answers are in the
ledger and no sft.jsonl is written yet (a rerun with a higher budget reuses them for free)."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from slmforge.cli import app
from slmforge.kit import load_kit


def _synth(minikit_path, tmp_path, srv, price: str, budget: str):
    models = tmp_path / "models.yaml"
    models.write_text(f"teacher: {{backend: openai, model: teach, base_url: '{srv.base_url}', price: {price}, "
                      "max_concurrency: 1}\n")
    out = tmp_path / "run" / "synth"
    r = CliRunner().invoke(app, ["synth", str(minikit_path), "--out", str(out), "--models", str(models),
                                 "--budget", budget])
    return r, out, " ".join(r.output.split())


def test_budget_before_the_first_call_says_nothing_was_produced(minikit_path, scripted, tmp_path):
    srv = scripted(load_kit(minikit_path))
    r, out, text = _synth(minikit_path, tmp_path, srv, "{input: 10.0, output: 20.0}", "0.003")
    assert r.exit_code == 3, r.output
    assert "what was produced is kept" not in text
    assert "nothing was produced" in text and str(out) in text
    assert not (out / "sft.jsonl").exists() and srv.stats.requests == 0


def test_budget_after_some_calls_says_where_the_answers_are(minikit_path, scripted, tmp_path):
    srv = scripted(load_kit(minikit_path))
    # a request is estimated at ≈ $0.0024 before it is sent (its prompt at $1/M + 1024 completion tokens at
    # $2/M) and costs ≈ $0.0003: a $0.0028 budget lets the first one or two through
    r, out, text = _synth(minikit_path, tmp_path, srv, "{input: 1.0, output: 2.0}", "0.0028")
    assert r.exit_code == 3, r.output
    assert "what was produced is kept" not in text
    m = re.search(r"after (\d+) paid and 0 ledger-answered of 12 teacher requests", text)
    assert m and int(m.group(1)) == srv.stats.completed >= 1, text
    assert "no sft.jsonl was written" in text and str(tmp_path / "run" / "ledger.sqlite") in text
    assert not (out / "sft.jsonl").exists() and srv.stats.requests >= 1
