"""Inside a pipeline run dir: training curves per trained stage in the report, and the scorecard's cost
per quality point (USD / tokens of the data stages, training minutes), from a synthetic run dir."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from slmforge.evaluate import CandidateSpec, EvalConfig, evaluate
from slmforge.evaluate.report import ReportMeta, write_report
from slmforge.evaluate.runinfo import RunSpend, StageSpend, find_run_dir, run_spend, training_curves
from slmforge.evaluate.scorecard import add_cost_per_point
from slmforge.kit import load_kit
from slmforge.llm.client import LLMClient
from slmforge.llm.config import ModelConfig
from slmforge.llm.ledger import Ledger
from slmforge.testing.server import ScriptedServer

GOOD_AD = "Jasmine Pearl: a calm, balanced green tea. Brew at 80°C and order your first tin today."


def _stage(run: Path, stage: str, *, cost: float = 0.0, seconds: float = 0.0) -> Path:
    d = run / stage
    d.mkdir(parents=True, exist_ok=True)
    rec = {"stage": stage, "fingerprint": "f", "status": "done", "outputs": {}, "counts": {}, "metrics": {},
           "cost_usd": cost, "started": 1000.0, "finished": 1000.0 + seconds, "notes": []}
    (d / "stage.json").write_text(json.dumps(rec), encoding="utf-8")
    return d


def make_run(run: Path, *, paid: bool = True) -> Path:
    """synth/clean/prefs with teacher spend, sft with metrics.jsonl, dpo with only a checkpoint's
    trainer_state.json, rm with no history at all."""
    _stage(run, "synth", cost=0.30 if paid else 0.0, seconds=50)
    _stage(run, "clean", cost=0.10 if paid else 0.0, seconds=5)
    _stage(run, "prefs", cost=0.05 if paid else 0.0, seconds=9)
    sft = _stage(run, "sft", seconds=600)
    rows = [{"step": 0, "epoch": 0, "eval_loss": 2.8}, {"step": 4, "epoch": 0.5, "loss": 2.5},
            {"step": 8, "epoch": 1.0, "loss": 2.1}, {"step": 8, "epoch": 1.0, "eval_loss": 2.0},
            {"step": 8, "epoch": 1.0, "train_runtime": 600.0, "train_loss": 2.3}]
    (sft / "metrics.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + '\n{"step": 9, "lo', encoding="utf-8")
    dpo = _stage(run, "dpo", seconds=120)
    ckpt = dpo / "checkpoints" / "checkpoint-2"
    ckpt.mkdir(parents=True)
    history = [{"step": 1, "loss": 0.69, "rewards/accuracies": 0.0, "rewards/margins": 0.0},
               {"step": 2, "loss": 0.65, "rewards/accuracies": 1.0, "rewards/margins": 0.08}]
    (ckpt / "trainer_state.json").write_text(json.dumps({"global_step": 2, "log_history": history}), encoding="utf-8")
    (dpo / "checkpoints" / "checkpoint-1").mkdir()  # an older checkpoint without state: ignored
    _stage(run, "rm", seconds=60)  # trained, but no history: no curve
    ledger = Ledger(run / "ledger.sqlite")
    for stage, p, c in (("synth", 8000, 2000), ("synth.values", 500, 500), ("clean", 1500, 500), ("prefs.weak", 700, 300),
                        ("eval.generate.base", 9999, 9999)):
        ledger.record(request_hash=f"h-{stage}", request={"x": stage}, run_id="r", stage=stage, role="teacher",
                      backend="openai", model="m", ok=True, response="x", prompt_tokens=p, completion_tokens=c)
    ledger.close()
    return run


def test_curves_per_trained_stage_and_a_stage_without_history_is_absent(tmp_path):
    run = make_run(tmp_path / "run")
    curves = {c.stage: c for c in training_curves(run)}
    assert set(curves) == {"sft", "dpo"}
    assert curves["sft"].panels == {"loss": {"loss": [(4, 2.5), (8, 2.1)], "eval_loss": [(0, 2.8), (8, 2.0)]}}
    assert curves["sft"].duration_s == pytest.approx(600)
    assert curves["dpo"].panels["accuracy"] == {"rewards/accuracies": [(1, 0.0), (2, 1.0)]}
    assert set(curves["dpo"].panels) == {"loss", "reward", "accuracy"}
    assert curves["dpo"].source.endswith("checkpoint-2/trainer_state.json")

    out = run / "eval"
    rows = [{"item_id": "i0", "task": "ad", "candidate": "sft", "text": "t", "check.score": 0.5}]
    html = write_report(rows, [], out, ReportMeta(title="t"), n_boot=100, curves=list(curves.values())).read_text()
    assert 'id="training-curves"' in html
    for stage in ("sft", "dpo"):
        png = (out / "plots" / f"curve_{stage}.png").read_bytes()
        assert base64.b64encode(png).decode() in html  # the figure is embedded
    assert "curve_rm" not in html and not (out / "plots" / "curve_rm.png").exists()
    md = (out / "report.md").read_text()
    assert "![curve_sft](plots/curve_sft.png)" in md and "curve_rm" not in md
    assert "| sft | 8 | 2.500 | 2.100 | 2.800 | 2.000 | 10.000 | metrics.jsonl |" in md
    assert "| dpo | 2 | 0.690 | 0.650 | – | – | 2.000 | trainer_state.json |" in md


def test_curve_axes_are_labelled(tmp_path, monkeypatch):
    from slmforge.evaluate import plots

    seen = []
    monkeypatch.setattr(plots, "_save", lambda fig, path: seen.append(
        [(ax.get_xlabel(), ax.get_ylabel()) for ax in fig.axes]) or path)
    plots.training_curve_plots(training_curves(make_run(tmp_path / "run")), tmp_path / "plots")
    assert seen == [[("step", "loss")], [("step", "loss"), ("step", "reward"), ("step", "accuracy")]]


def test_no_run_dir_no_curves(tmp_path):
    assert find_run_dir(tmp_path / "report") is None
    assert find_run_dir(make_run(tmp_path / "run") / "eval") == (tmp_path / "run").resolve()


def test_run_spend_reads_stage_records_and_ledger_tokens(tmp_path):
    spend = run_spend(make_run(tmp_path / "run")).stages
    assert spend["synth"] == StageSpend(0.30, 11000, 50.0)
    assert spend["clean"].tokens == 2000 and spend["prefs"].tokens == 1000  # prefs.weak counts for prefs
    assert spend["sft"].duration_s == pytest.approx(600) and spend["sft"].tokens == 0
    assert "eval" not in spend and "grpo" not in spend


def _card(delta_sft: float, delta_dpo: float) -> list[dict]:
    rows = []
    for cand, delta in (("sft", delta_sft), ("dpo", delta_dpo), ("custom", 0.5)):
        rows.append({"candidate": cand, "against": "base", "metric": "pass.all", "mean": 0.5 + delta,
                     "against_mean": 0.5, "delta": delta, "ci_low": delta / 2, "ci_high": delta * 2, "n": 20})
    return rows


SPEND = RunSpend({"synth": StageSpend(0.30, 10000, 50), "clean": StageSpend(0.10, 2000, 5),
                  "prefs": StageSpend(0.05, 1000, 9), "sft": StageSpend(0.0, 0, 600), "dpo": StageSpend(0.0, 0, 120)})


def test_cost_per_quality_point_by_stage():
    card = _card(0.25, -0.01)
    add_cost_per_point(card, SPEND)
    sft, dpo, custom = card
    assert (sft["spent_usd"], sft["spent_tokens"], sft["training_min"]) == (pytest.approx(0.40), 12000, 10.0)
    assert set(sft["spent_by_stage"]) == {"synth", "clean", "sft"}  # sft was not trained on the pairs
    assert sft["points"] == 25.0 and sft["usd_per_point"] == pytest.approx(0.016)
    assert sft["tokens_per_point"] == 480.0 and sft["training_min_per_point"] == pytest.approx(0.4)
    assert sft["cost_per_point"] == ("$0.02, 480 tokens and 0.4 training minutes per +1 pass-rate point "
                                     "(gain over base: +25 points)")
    assert dpo["spent_usd"] == pytest.approx(0.45) and dpo["training_min"] == 12.0  # sft + dpo minutes
    assert dpo["cost_per_point"] == "n/a (no gain)" and dpo["usd_per_point"] is None
    assert "cost_per_point" not in custom  # not a pipeline stage: nothing to charge it with


def test_zero_cost_run_shows_training_minutes_only():
    free = RunSpend({k: StageSpend(0.0, v.tokens, v.duration_s) for k, v in SPEND.stages.items()})
    card = _card(0.10, 0.0)
    add_cost_per_point(card, free)
    assert card[0]["cost_per_point"] == "1.0 training minutes per +1 pass-rate point (gain over base: +10 points)"
    assert card[1]["cost_per_point"] == "n/a (no gain)"  # delta 0 is no gain either


def test_evaluate_in_a_run_dir_writes_cost_per_point_and_curves(minikit_path, tmp_path):
    lk = load_kit(minikit_path)
    run = make_run(tmp_path / "run")
    cfg = EvalConfig(candidates=[CandidateSpec(name="base"), CandidateSpec(name="sft")], judge=None, n_boot=100)
    with ScriptedServer(lambda req: "ok") as bad, ScriptedServer(lambda req: GOOD_AD) as good:
        models = {"base": ModelConfig(backend="openai", model="b", base_url=bad.base_url, max_retries=0),
                  "sft": ModelConfig(backend="openai", model="s", base_url=good.base_url, max_retries=0)}
        out = evaluate(lk, cfg, LLMClient(models, ledger=tmp_path / "eval-ledger.sqlite"), run / "eval")
    card = json.loads((out / "scorecard.json").read_text())
    assert card and all(r["candidate"] == "sft" for r in card)
    assert all({"delta", "ci_low", "ci_high", "sentence", "n", "wins"} <= set(r) for r in card)  # existing fields stay
    for r in card:
        assert r["spent_usd"] == pytest.approx(0.40) and r["training_min"] == 10.0
        assert (r["cost_per_point"] == "n/a (no gain)") == (r["delta"] <= 0)
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Cost per quality point" in html
    assert all(f"sft vs base, {label}: {r['cost_per_point']}" in html
               for r, label in zip(card, ("overall check score", "all-checks pass rate"), strict=True))
    assert "synth $0.30 (11,000 tokens)" in html and "sft 10.0 min" in html
    assert 'id="training-curves"' in html and 'alt="curve_sft"' in html and 'alt="curve_rm"' not in html
