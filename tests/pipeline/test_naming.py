"""One name per concept in a project: the held-out share is `eval_fraction` everywhere, fields the pipeline
sets itself are refused with their line, and the serve command carries `--student-system` when training did."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from slmforge.errors import ConfigError
from slmforge.pipeline.project import load_project
from slmforge.pipeline.run import _trained_with_system
from slmforge.train.data import split_by_subject
from tests.pipeline.conftest import write_project


def test_the_old_train_share_key_says_what_to_write(tmp_path):
    path = write_project(tmp_path, split={"ratio": 0.75, "seed": 0})
    with pytest.raises(ConfigError) as e:
        load_project(path)
    assert "eval_fraction: 0.25" in str(e.value) and "project.yaml" in str(e.value)


@pytest.mark.parametrize("section,body,key", [
    ("prefs", {"weak_role": "cheap"}, "prefs.weak_role"),
    ("synth", {"teacher_role": "writer"}, "synth.teacher_role"),
    ("eval", {"judge": {"role": "grader"}}, "eval.judge.role"),
])
def test_fields_the_pipeline_sets_are_refused_with_their_line(tmp_path, section, body, key):
    path = write_project(tmp_path, **{section: body})
    with pytest.raises(ConfigError) as e:
        load_project(path)
    text = path.read_text(encoding="utf-8").splitlines()
    line = next(i for i, ln in enumerate(text, 1) if key.split(".")[-1] in ln)
    assert key in str(e.value) and f"project.yaml:{line}" in str(e.value) and "models." in e.value.fix


def test_train_split_holds_out_whole_subjects_of_every_task():
    rows = [{"subject": f"p{i}", "task": t, "id": f"{t}{i}"} for i in range(10) for t in ("a", "b")]
    rows += [{"subject": "q0", "task": "c", "id": "c0"}, {"subject": "q1", "task": "c", "id": "c1"}]
    train, held = split_by_subject(rows, eval_fraction=0.2, seed=0)
    assert not {r["subject"] for r in train} & {r["subject"] for r in held}
    assert {r["task"] for r in held} == {"a", "b", "c"}  # stratified: task c's two subjects are split
    assert 3 <= len(held) <= 8 and len(train) + len(held) == len(rows)
    assert split_by_subject(rows, eval_fraction=0.0, seed=0) == (rows, [])


def test_serve_command_sends_the_system_prompt_when_training_did(tmp_path: Path):
    train = tmp_path / "train.jsonl"
    row = {"messages": [{"role": "system", "content": "voice"}, {"role": "user", "content": "q"},
                        {"role": "assistant", "content": "a"}]}
    train.write_text(json.dumps(row) + "\n", encoding="utf-8")
    assert _trained_with_system(train)
    train.write_text(json.dumps({"messages": row["messages"][1:]}) + "\n", encoding="utf-8")
    assert not _trained_with_system(train) and not _trained_with_system(tmp_path / "none.jsonl")


def test_serve_command_serves_in_the_dtype_the_student_used(tmp_path: Path):
    from types import SimpleNamespace

    from slmforge.pipeline.run import serve_command
    from slmforge.pipeline.stages import Context

    def ctx(dtype: str) -> Context:
        cfg = SimpleNamespace(student=SimpleNamespace(dtype=dtype))
        return Context(cfg=cfg, lk=SimpleNamespace(root=tmp_path / "kit"), run_dir=tmp_path, roles={}, enabled=set())

    assert serve_command(ctx("fast")).endswith("--dtype fast")
    assert "--dtype" not in serve_command(ctx("auto"))
