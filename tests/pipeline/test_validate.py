"""`slmforge run` validates the whole project before the first stage (issue: fail fast, lose nothing)."""

from __future__ import annotations

import yaml
from typer.testing import CliRunner

from slmforge.cli import app
from tests.pipeline.conftest import FAST_TRL, write_project


def _run(path, *extra):
    return CliRunner().invoke(app, ["--offline", "run", str(path), *extra])


def test_a_typo_under_dpo_trl_fails_before_sft_trains(tmp_path):
    path = write_project(tmp_path, train={"sft": {"trl": FAST_TRL}, "dpo": {"trl": FAST_TRL | {"bta": 0.1}},
                                          "rm": None, "grpo": None})
    res = _run(path)
    assert res.exit_code == 2
    out = res.output.replace("\n", "")
    assert "train.dpo.trl.bta: unknown DPOConfig field" in out
    line = next(i for i, t in enumerate(path.read_text().splitlines(), 1) if "bta:" in t)
    assert f"project.yaml:{line}:" in out
    assert not (tmp_path / "run" / "sft").exists(), "nothing trained"


def test_bad_values_are_caught_up_front_with_every_problem_listed(tmp_path):
    trl_bad = FAST_TRL | {"learning_rate": "3e-3"}
    path = write_project(tmp_path, train={"sft": {"trl": trl_bad}, "dpo": {"trl": FAST_TRL | {"learning_rate": -3e-3}},
                                          "rm": None, "grpo": None})
    res = _run(path, "--check")
    assert res.exit_code == 2
    out = res.output.replace("\n", "")
    assert "2 problems" in out
    assert "train.sft.trl.learning_rate: must be a number, got '3e-3'" in out and "3.0e-3" in out
    assert "train.dpo.trl.learning_rate: must be ≥ 0.0" in out


def test_an_unreachable_role_fails_unless_optional(tmp_path, monkeypatch):
    monkeypatch.delenv("NO_SUCH_KEY", raising=False)
    judge = {"backend": "openai", "model": "gpt-4o-mini", "api_key_env": "NO_SUCH_KEY"}
    path = write_project(tmp_path, models={"judge": judge})
    res = _run(path, "--check")
    assert res.exit_code == 2 and "models.judge: role not usable: gpt-4o-mini: $NO_SUCH_KEY is not set" in res.output.replace("\n", "")
    doc = yaml.safe_load(path.read_text())
    doc["models"]["judge"]["optional"] = True
    path.write_text(yaml.safe_dump(doc))
    res = _run(path, "--check")
    assert res.exit_code == 0, res.output
    assert "judge: none" in res.output and "project ok" in res.output


def test_a_student_that_cannot_load_fails_before_the_first_stage(tmp_path):
    path = write_project(tmp_path, student={"base": ["no-org/no-such-model", str(tmp_path / "missing")]})
    res = _run(path)
    assert res.exit_code == 2
    out = res.output.replace("\n", "")
    assert "student.base: no student base model can load" in out and "HF_HUB_OFFLINE=1" in out
    assert not (tmp_path / "run" / "synth").exists()


def test_a_duplicated_key_is_refused_with_its_line(tmp_path):
    path = write_project(tmp_path)
    path.write_text(path.read_text() + "name: other\n")
    res = _run(path, "--check")
    assert res.exit_code == 2 and "found duplicate key 'name'" in res.output.replace("\n", "")
