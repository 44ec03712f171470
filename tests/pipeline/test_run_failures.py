"""A run that fails or runs out of budget loses nothing: finished stages keep their records and are
skipped by the next run; answered model calls are not paid again; `--budget` covers the whole run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from slmforge.cli import app
from slmforge.errors import BudgetExceeded
from slmforge.kit import load_kit
from slmforge.llm.ledger import Ledger
from slmforge.pipeline import run as R
from slmforge.pipeline.project import load_project
from slmforge.pipeline.run import run_project
from slmforge.pipeline.stages import Context
from slmforge.pipeline.state import read_record
from slmforge.pipeline.status import run_status
from slmforge.testing.server import ScriptedServer
from tests.conftest import EXAMPLE_KIT
from tests.pipeline.conftest import write_project
from tests.synth.teacher import make_teacher

DATA = ("model", "synth", "clean", "split", "prefs")


def _states(summary) -> dict[str, str]:
    return {s.stage: s.state for s in summary.stages}


def test_a_failed_stage_keeps_the_finished_ones(project, monkeypatch):
    run = Path(yaml.safe_load(project.read_text())["run_dir"])

    def boom(ctx, d, resume):
        raise RuntimeError("disk full")

    monkeypatch.setitem(R.STAGE_FUNCS, "sft", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        run_project(project, until="sft")
    states = {r.stage: r.state for r in run_status(run)}
    assert [states[s] for s in DATA] == ["done"] * 5
    assert states["sft"] == "interrupted"
    before = {s: read_record(run / s).finished for s in DATA}

    monkeypatch.undo()
    summary = run_project(project, until="sft")
    assert [_states(summary)[s] for s in DATA] == ["skipped"] * 5
    assert _states(summary)["sft"] == "resumed"
    assert {s: read_record(run / s).finished for s in DATA} == before  # untouched, not re-run
    assert read_record(run / "sft").status == "done" and (run / "sft" / "adapter").is_dir()


def test_stage_json_is_the_stage_manifest_plus_its_fingerprint(project):
    run = Path(yaml.safe_load(project.read_text())["run_dir"])
    run_project(project, until="split")
    rec = json.loads((run / "clean" / "stage.json").read_text(encoding="utf-8"))
    inner = json.loads((run / "clean" / "manifest.json").read_text(encoding="utf-8"))
    assert rec["fingerprint"] and not inner["fingerprint"]
    assert rec["counts"] == inner["counts"] and rec["inputs"] == inner["inputs"]  # one record, carried over
    assert rec["settings_hash"] == inner["settings_hash"] and rec["versions"]["torch"] == inner["versions"]["torch"]
    assert set(rec["outputs"]) == {"sft.jsonl"} and rec["status"] == "done" and rec["duration_s"] >= 0


def _teacher_project(tmp_path: Path, srv: ScriptedServer) -> Path:
    models = {"teacher": {"backend": "openai", "model": "teach", "base_url": srv.base_url,
                          "price": {"input": 1.0, "output": 2.0}, "max_concurrency": 1}}
    return write_project(tmp_path, models=models, synth={"limit_subjects": 2, "tasks": ["paid_ad_cta"], "max_tokens": 300})


def test_budget_counts_the_whole_ledger_of_the_run(tmp_path):
    with ScriptedServer(make_teacher(load_kit(EXAMPLE_KIT))) as srv:
        path = _teacher_project(tmp_path, srv)
        cfg, _ = load_project(path)
        ctx = Context(cfg=cfg.model_copy(update={"budget_usd": 0.01}), lk=load_kit(cfg.kit),
                      run_dir=Path(cfg.run_dir), roles={}, enabled=set())
        Path(cfg.run_dir).mkdir(parents=True)
        Ledger(ctx.ledger).record(request_hash="h", request=None, run_id=cfg.name, stage="synth", role="teacher",
                                  backend="openai", model="teach", ok=True, cost_usd=0.004, from_cache=False)
        client = ctx.client({})
        assert client.budget_usd == pytest.approx(0.006)  # 0.01 less what earlier stages spent
        client.close()


def test_budget_flag_stops_the_run_and_the_rerun_pays_nothing_twice(tmp_path):
    with ScriptedServer(make_teacher(load_kit(EXAMPLE_KIT))) as srv:
        path = _teacher_project(tmp_path, srv)
        run = tmp_path / "run"
        res = CliRunner().invoke(app, ["--offline", "run", str(path), "--until", "synth", "--budget", "0.002"])
        assert res.exit_code == 3, res.output
        assert "Traceback" not in res.output
        paid = srv.stats.completed
        assert paid >= 1
        assert read_record(run / "model").status == "done" and read_record(run / "synth").status == "running"
        with pytest.raises(BudgetExceeded):
            run_project(path, until="synth", budget_usd=0.002)  # the ledger's spend counts: nothing new is paid
        assert srv.stats.completed == paid

        summary = run_project(path, until="synth", budget_usd=1.0)
        assert _states(summary)["model"] == "skipped" and _states(summary)["synth"] == "resumed"
        rows = Ledger(run / "ledger.sqlite").rows(run_id="t")
        paid_rows = [r for r in rows if not r["from_cache"]]
        assert len(paid_rows) == srv.stats.completed  # every answered call was paid once
        assert len({r["request_hash"] for r in paid_rows}) == len(paid_rows)
