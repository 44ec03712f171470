"""Every written kit runs offline end to end with the tiny student (reduced size): model → synth (golden)
→ clean → split → prefs → SFT → merge → DPO → RM → eval, with a scorecard and a report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from slmforge.pipeline.run import run_project
from tests.conftest import ROOT

KITS = ["elemental-equation", "elemental-equation-en", "ko-pv-copy", "ja-ad-rules", "ja-legal"]
TRL = {"max_steps": 2, "per_device_train_batch_size": 4, "learning_rate": 1.0e-3, "logging_steps": 1,
       "max_length": 1024, "eval_strategy": "no", "save_strategy": "no"}


@pytest.mark.parametrize("kit", KITS)
def test_kit_runs_offline_end_to_end(kit, tmp_path):
    doc = {"name": f"e2e-{kit}", "kit": str(ROOT / "examples" / kit), "run_dir": str(tmp_path / "run"),
           "student": {"tiny": {"vocab_size": 600, "hidden_size": 32, "num_layers": 1}},
           "prefs": {"max_tokens": 16},
           "train": {m: {"lora": {"r": 4, "alpha": 8}, "trl": TRL, "max_rows": 8, "max_eval_rows": 4}
                     for m in ("sft", "dpo", "rm")} | {"grpo": None},
           "eval": {"max_items": 1, "sampling": {"max_tokens": 12}, "n_boot": 50}}
    path = tmp_path / "project.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    summary = run_project(path)
    assert {s.stage: s.state for s in summary.stages} | {"grpo": "off"} == {
        "model": "ran", "synth": "ran", "clean": "ran", "split": "ran", "prefs": "ran", "sft": "ran",
        "merge": "ran", "dpo": "ran", "rm": "ran", "grpo": "off", "eval": "ran"}
    run = Path(summary.run_dir)
    assert (run / "eval" / "report.html").is_file()
    card = json.loads((run / "eval" / "scorecard.json").read_text())
    assert {(r["candidate"], r["against"]) for r in card} >= {("sft", "base"), ("sft", "prompting")}
    test_tasks = {json.loads(x)["task"] for x in (run / "split" / "test.jsonl").read_text().splitlines()}
    assert len(test_tasks) >= 2, "the held-out side covers several tasks"
