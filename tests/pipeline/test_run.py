"""`slmforge run`: stage order, skipping, downstream re-runs, resume after a kill, status and summary."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from slmforge.cli import app
from slmforge.errors import ConfigError
from slmforge.pipeline.project import STAGES, load_project
from slmforge.pipeline.run import run_project, select
from slmforge.pipeline.status import run_status
from slmforge.testing.server import ScriptedServer
from tests.evaluate.test_evaluate_e2e import _render_in_browser, judge_script
from tests.pipeline.conftest import write_project


def actions(summary) -> dict[str, str]:
    return {s.stage: s.state for s in summary.stages}


def test_select_stages():
    assert select(None, None, None) == STAGES
    assert select("split", None, None) == ["model", "synth", "clean", "split"]
    assert select(None, "prefs", None) == ["prefs"]
    assert select(None, None, "dpo") == ["dpo", "rm", "grpo", "eval"]
    with pytest.raises(ConfigError, match="unknown stage"):
        select("trian", None, None)


def test_project_errors_name_the_key(tmp_path):
    path = write_project(tmp_path, split={"eval_fraction": 0.2, "sed": 1})
    with pytest.raises(ConfigError) as e:
        load_project(path)
    assert "split.sed" in str(e.value) and "project.yaml" in str(e.value)
    res = CliRunner().invoke(app, ["run", str(path)])
    assert res.exit_code == 2 and "split.sed" in res.output and "Traceback" not in res.output


def test_data_stages_skip_and_downstream_rerun(project):
    s1 = run_project(project, until="prefs")
    assert [actions(s1)[s] for s in ("model", "synth", "clean", "split", "prefs")] == ["ran"] * 5
    assert actions(s1)["sft"] == "not selected"
    assert any("golden examples only" in n for n in s1.notes)
    run = Path(yaml.safe_load(project.read_text())["run_dir"])
    pairs = [json.loads(x) for x in (run / "prefs" / "train.jsonl").read_text().splitlines()]
    test_pairs = [json.loads(x) for x in (run / "prefs" / "test.jsonl").read_text().splitlines()]
    assert {p["strategy"] for p in pairs + test_pairs} == {"weak", "exaggerated", "fake"}
    split_test = {json.loads(x)["subject_id"] for x in (run / "split" / "test.jsonl").read_text().splitlines()}
    assert split_test and all(p["subject_id"] in split_test for p in test_pairs)
    assert not any(p["subject_id"] in split_test for p in pairs)

    s2 = run_project(project, until="prefs")
    assert all(actions(s2)[s] == "skipped" for s in ("model", "synth", "clean", "split", "prefs"))

    doc = yaml.safe_load(project.read_text())
    doc["clean"] = {"dedup_threshold": 0.95}
    project.write_text(yaml.safe_dump(doc, allow_unicode=True))
    s3 = run_project(project, until="prefs")
    a = actions(s3)
    assert a["model"] == a["synth"] == "skipped"
    assert a["clean"] == a["split"] == a["prefs"] == "ran"

    rows = {r.stage: r for r in run_status(run)}
    assert rows["prefs"].state == "done" and rows["sft"].state == "pending"
    assert rows["prefs"].counts["pairs"] == len(pairs) + len(test_pairs)


def test_only_needs_upstream(project):
    with pytest.raises(ConfigError, match="has not finished"):
        run_project(project, only="sft")


def test_full_run_kill_during_training_resumes(project, tmp_path, artifacts_dir):
    """SIGKILL while SFT trains; the rerun skips finished stages, resumes SFT and finishes with a report
    judged by a scripted judge on loopback, which renders in headless Chromium."""
    with ScriptedServer(judge_script) as judge:
        _kill_and_resume(project, judge.base_url, artifacts_dir)
        assert judge.stats.completed > 0


def _kill_and_resume(project: Path, judge_url: str, artifacts_dir: Path) -> None:
    doc = yaml.safe_load(project.read_text())
    doc["train"]["sft"]["trl"] = doc["train"]["sft"]["trl"] | {"max_steps": 40, "save_steps": 1}
    doc["models"] = {"judge": {"backend": "openai", "model": "judge-model", "base_url": judge_url}}
    project.write_text(yaml.safe_dump(doc, allow_unicode=True))
    run = Path(doc["run_dir"])
    env = os.environ | {"PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "slmforge.cli", "--offline", "run", str(project)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    ckpts = run / "sft" / "checkpoints"
    # kill as soon as the second checkpoint folder appears: most likely while it is being written, so
    # the resume has to skip a checkpoint cut off mid-save (train.runner.last_checkpoint)
    while time.time() < deadline and not (ckpts.is_dir() and len(list(ckpts.glob("checkpoint-*"))) >= 2):
        time.sleep(0.005)
        assert proc.poll() is None, "the run ended before training was checkpointed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert json.loads((run / "sft" / "stage.json").read_text())["status"] == "running"
    assert run_status(run)[STAGES.index("sft")].state == "interrupted"

    summary = run_project(project)
    a = actions(summary)
    assert all(a[s] == "skipped" for s in ("model", "synth", "clean", "split", "prefs"))
    assert a["sft"] == "resumed" and a["merge"] == a["dpo"] == a["rm"] == a["eval"] == "ran"
    assert a["grpo"] == "off"
    assert summary.report and Path(summary.report).is_file()
    assert "slmforge serve --model" in summary.serve_command and "--adapter dpo=" in summary.serve_command
    assert summary.cost_usd == 0.0
    saved = json.loads((run / "summary.json").read_text())
    assert saved["report"] == summary.report
    assert all(r.state == "done" for r in run_status(run) if r.stage != "grpo")
    html = Path(summary.report).read_text(encoding="utf-8")
    for name in ("base", "sft", "dpo", "prompting", "golden"):
        assert name in html
    assert "judge." in html and not any("no judge" in n for n in summary.notes)
    _render_in_browser(Path(summary.report), artifacts_dir / "pipeline-report.png")

    res = CliRunner().invoke(app, ["status", str(run)])
    assert res.exit_code == 0 and "done" in res.output


def test_replay_reduced(replay_project):
    """The seed data as given: import → split by product → SFT → DPO → RM → eval, at reduced size."""
    summary = run_project(replay_project)
    a = actions(summary)
    assert a["synth"] == "ran" and a["eval"] == "ran"
    counts = {s.stage: s.counts for s in summary.stages}
    assert counts["synth"]["records"] == 6 * 9
    assert counts["prefs"]["pairs"] == 6 * 9
    assert counts["split"]["test_subjects"] >= 1 and counts["split"]["train_subjects"] >= 1
    assert summary.report and Path(summary.report).is_file()
