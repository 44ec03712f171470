"""`slmforge eval --generations`: outputs that already exist get the numbers `eval` computes on generated ones."""

from __future__ import annotations

import csv
import json

import pytest
from typer.testing import CliRunner

from slmforge.cli import app
from slmforge.evaluate import CandidateSpec, EvalConfig, Sampling, evaluate, read_scores_csv
from slmforge.evaluate.existing import spearman
from slmforge.kit import load_kit
from slmforge.llm.client import LLMClient
from slmforge.llm.config import ModelConfig
from slmforge.testing.server import ScriptedServer

METRICS = ("check.score", "pass.all", "rougeL", "chrF", "check.cta", "check.facts")


def _hosted(req):
    user = req["messages"][-1]["content"]
    name = json.loads(user.split("\n\n", 1)[1])["name"] if "\n\n" in user else "tea"
    return f"{name}: a calm, balanced cup with a clear origin. Order your first tin today."


def test_existing_outputs_reproduce_generated_numbers(minikit_path, tmp_path):
    lk = load_kit(minikit_path)
    with ScriptedServer(_hosted) as srv:
        hosted = ModelConfig(backend="openai", model="m", base_url=srv.base_url, max_retries=0)
        client = LLMClient({"base": hosted, "sft": hosted.model_copy(update={"model": "m2"})},
                           ledger=tmp_path / "ledger.sqlite")
        cfg = EvalConfig(candidates=[CandidateSpec(name="base"), CandidateSpec(name="sft"),
                                     CandidateSpec(name="golden", kind="golden")],
                         sampling=Sampling(max_tokens=40), judge=None, n_boot=100)
        generated = evaluate(lk, cfg, client, tmp_path / "generated")
        client.close()
    gens = [json.loads(line) for line in (generated / "generations.jsonl").read_text().splitlines()]
    src = tmp_path / "existing.csv"
    with src.open("w", newline="") as f:
        w = csv.DictWriter(f, ["item_id", "candidate", "text", "human"])
        w.writeheader()
        for i, g in enumerate(gens):
            w.writerow({"item_id": g["id"].rsplit(":", 1)[0], "candidate": g["candidate"], "text": g["text"], "human": i % 5})
    res = CliRunner().invoke(app, ["eval", "--kit", str(minikit_path), "--generations", str(src), "--out", str(tmp_path / "ex")])
    assert res.exit_code == 0, res.output
    key = lambda r: (r["item_id"], r["candidate"])  # noqa: E731
    want = {key(r): r for r in read_scores_csv(generated / "scores.csv")}
    got = {key(r): r for r in read_scores_csv(tmp_path / "ex" / "scores.csv")}
    assert set(got) == set(want) and len(got) == 3 * 4
    for k, r in want.items():
        for m in METRICS:
            assert got[k].get(m) == r.get(m), (k, m)
    assert json.loads((tmp_path / "ex" / "scorecard.json").read_text()) == json.loads(
        (generated / "scorecard.json").read_text())
    corr = list(csv.DictReader((tmp_path / "ex" / "correlations.csv").open()))
    assert {c["external"] for c in corr} == {"human"} and "check.score" in {c["metric"] for c in corr}


def test_bad_rows_name_file_line_and_field(minikit_path, tmp_path):
    src = tmp_path / "bad.jsonl"
    src.write_text(json.dumps({"item_id": "g1", "candidate": "x", "text": "t"}) + "\n"
                   + json.dumps({"item_id": "nope", "candidate": "x", "text": "t"}) + "\n")
    res = CliRunner().invoke(app, ["eval", "--kit", str(minikit_path), "--generations", str(src), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "bad.jsonl:2: item_id: unknown item_id 'nope'" in res.output.replace("\n", "")


def test_spearman_matches_the_definition():
    import numpy as np

    assert spearman(np.array([1, 2, 3, 4.0]), np.array([10, 20, 30, 40.0])) == pytest.approx(1.0)
    assert spearman(np.array([1, 2, 3, 4.0]), np.array([4, 3, 2, 1.0])) == pytest.approx(-1.0)
    assert spearman(np.array([1, 2, 2, 3.0]), np.array([1, 2, 3, 4.0])) == pytest.approx(0.9486833, abs=1e-6)
