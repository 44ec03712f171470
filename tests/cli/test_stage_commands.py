"""The stage commands work the way `slmforge run` calls their stages: offline `clean --no-rewrite` and
`prefs` (no teacher), `eval --run RUN_DIR` on a finished run's candidates, and `ledger` on a run's ledger."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from slmforge.cli import app
from slmforge.data.io import write_jsonl
from slmforge.data.records import Message, SFTExample
from slmforge.kit import load_kit, render_student_prompt
from slmforge.llm.ledger import Ledger
from tests.conftest import EXAMPLE_KIT


def _golden_sft(kit: Path, path: Path) -> Path:
    """The kit's golden examples as SFT records (what `slmforge run`'s synth stage writes without a teacher)."""
    lk = load_kit(kit)
    recs = [SFTExample(id=g.id, task=g.task, subject_id=g.subject_id,
                       messages=[Message(role="user", content=render_student_prompt(
                           lk.kit, lk.kit.task(g.task), lk.subjects[g.subject_id], g.value)),
                           Message(role="assistant", content=g.text)]) for g in lk.golden]
    write_jsonl(path, recs)
    return path


def _lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


def test_clean_no_rewrite_needs_no_model(tmp_path):
    sft = _golden_sft(EXAMPLE_KIT, tmp_path / "run" / "synth" / "sft.jsonl")
    out = tmp_path / "run" / "clean"
    r = CliRunner().invoke(app, ["clean", str(EXAMPLE_KIT), str(sft), "--out", str(out), "--no-rewrite"])
    assert r.exit_code == 0, r.output
    assert len(_lines(out / "sft.jsonl")) + len(_lines(out / "removed.jsonl")) == len(_lines(sft))
    # rewrites do need a teacher: one line that names both ways out
    r = CliRunner().invoke(app, ["clean", str(EXAMPLE_KIT), str(sft), "--out", str(out)])
    assert r.exit_code == 2 and "--no-rewrite" in r.output and "Traceback" not in r.output


@pytest.fixture(scope="module")
def weak_model(tmp_path_factory) -> Path:
    """A tiny random model built from the example kit's text (the pipeline's offline student)."""
    from slmforge.train.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("weak"), [EXAMPLE_KIT / "products.csv", EXAMPLE_KIT / "golden.jsonl"],
                            vocab_size=600, hidden_size=32, num_layers=1)


def test_prefs_offline_without_teacher(tmp_path, weak_model):
    sft = _golden_sft(EXAMPLE_KIT, tmp_path / "run" / "clean" / "sft.jsonl")
    cfg = tmp_path / "prefs.yaml"
    cfg.write_text("max_tokens: 16\n")
    out = tmp_path / "run" / "prefs"
    r = CliRunner().invoke(app, ["prefs", str(EXAMPLE_KIT), str(sft), "--out", str(out), "--config", str(cfg),
                                 "--weak-model", str(weak_model)])
    assert r.exit_code == 0, r.output
    assert "rule-based" in r.output
    pairs = _lines(out / "prefs.jsonl")
    assert {p["strategy"] for p in pairs} == {"weak", "exaggerated", "fake"}
    assert json.loads((out / "report.json").read_text())["cost_usd"] == 0.0
    # no weak share: no model at all
    out2 = tmp_path / "run" / "prefs2"
    r = CliRunner().invoke(app, ["prefs", str(EXAMPLE_KIT), str(sft), "--out", str(out2),
                                 "--mix", "weak=0,exaggerated=1,fake=1"])
    assert r.exit_code == 0, r.output
    assert {p["strategy"] for p in _lines(out2 / "prefs.jsonl")} == {"exaggerated", "fake"}
    # a weak share with no weak model and no teacher: one line naming the flag
    r = CliRunner().invoke(app, ["prefs", str(EXAMPLE_KIT), str(sft), "--out", str(tmp_path / "p3")])
    assert r.exit_code == 2 and "--weak-model" in r.output and "Traceback" not in r.output


def test_eval_run_evaluates_the_runs_candidates(tmp_path):
    """`eval --run` evaluates what the run's eval stage evaluated (same config), with no YAML."""
    from slmforge.pipeline.run import run_project
    from tests.pipeline.conftest import write_project

    project = write_project(tmp_path, train={
        "sft": {"lora": {"r": 4, "alpha": 8}, "trl": {"max_steps": 2, "per_device_train_batch_size": 4,
                                                      "save_steps": 2, "eval_strategy": "no", "max_length": 512}},
        "dpo": {"lora": {"r": 4, "alpha": 8}, "trl": {"max_steps": 2, "per_device_train_batch_size": 4,
                                                      "save_steps": 2, "eval_strategy": "no", "max_length": 512}},
        "rm": None, "grpo": None})
    summary = run_project(project)
    run = Path(summary.run_dir)
    r = CliRunner().invoke(app, ["eval", "--kit", str(EXAMPLE_KIT), "--run", str(run)])
    assert r.exit_code == 0, r.output
    assert "candidates: base, sft, dpo, prompting, golden" in r.output
    rerun = json.loads((run / "reeval" / "config.json").read_text())
    assert rerun == json.loads((run / "eval" / "config.json").read_text())
    assert (run / "reeval" / "report.html").is_file()
    assert json.loads((run / "reeval" / "manifest.json").read_text())["status"] == "done"
    assert not (run / "eval" / "reeval").exists()

    r = CliRunner().invoke(app, ["eval", "--kit", str(EXAMPLE_KIT), "--run", str(tmp_path / "nowhere")])
    assert r.exit_code == 2 and "not a run directory" in r.output

    # the run knows its kit (summary.json): --kit is not needed
    assert json.loads((run / "summary.json").read_text())["kit"] == str(EXAMPLE_KIT.resolve())
    r = CliRunner().invoke(app, ["eval", "--run", str(run), "--out", str(tmp_path / "again")])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "again" / "report.html").is_file()
    r = CliRunner().invoke(app, ["eval", "--run", str(tmp_path / "nowhere")])
    assert r.exit_code == 2 and "--kit" in r.output
    r = CliRunner().invoke(app, ["eval"])
    assert r.exit_code == 2 and "--kit" in r.output and "Traceback" not in r.output


def _ledger_run(root: Path) -> Path:
    """A run dir whose ledger holds 3 calls of run `demo` ($0.25 each); the user ledger stays empty."""
    run = root / "runs" / "demo"
    (run / "synth").mkdir(parents=True)
    (run / "synth" / "stage.json").write_text("{}")
    led = Ledger(run / "ledger.sqlite")
    for i in range(3):
        led.record(request_hash=f"h{i}", request={"i": i}, run_id="demo", stage="synth", role="teacher",
                   backend="openai", model="m", ok=True, cost_usd=0.25)
    led.close()
    return run


def test_ledger_reads_the_run_dir(tmp_path, monkeypatch):
    run = _ledger_run(tmp_path)
    runner = CliRunner()

    def rows(*args: str) -> list[dict]:
        res = runner.invoke(app, ["ledger", *args, "--json"])
        assert res.exit_code == 0, res.output
        return json.loads(res.output)

    expected = [{"key": "demo", "calls": 3, "cost_usd": 0.75}]
    pick = lambda rs: [{k: r[k] for k in ("key", "calls", "cost_usd")} for r in rs]  # noqa: E731
    assert pick(rows(str(run))) == expected
    assert pick(rows("--run", str(run))) == expected
    monkeypatch.chdir(run)
    assert pick(rows()) == expected
    monkeypatch.chdir(run / "synth")
    assert pick(rows()) == expected
    monkeypatch.chdir(tmp_path)  # not a run dir: the user ledger, which does not exist here
    res = runner.invoke(app, ["ledger"])
    assert res.exit_code == 2 and "no ledger here" in res.output
    # --run with a run id (not a dir) still filters the rows of a given ledger
    assert rows("--db", str(run / "ledger.sqlite"), "--run", "other") == []
    res = runner.invoke(app, ["ledger", str(tmp_path)])
    assert res.exit_code == 2 and "no ledger.sqlite in this run directory" in res.output


def test_ledger_help_says_where_it_looks():
    res = CliRunner(env={"COLUMNS": "200"}).invoke(app, ["ledger", "--help"])
    assert res.exit_code == 0
    text = " ".join(res.output.split())
    assert "RUN_DIR/ledger.sqlite" in text and "inside a run dir" in text and "$SLMFORGE_HOME/ledger.sqlite" in text
