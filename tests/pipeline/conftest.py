"""Small project files for pipeline tests: the example kit (or the seed replay) with a few training steps."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.conftest import EXAMPLE_KIT, ROOT

FAST_TRL = {"max_steps": 4, "per_device_train_batch_size": 4, "learning_rate": 1.0e-3, "logging_steps": 1,
            "max_length": 1024, "save_steps": 2, "eval_strategy": "no"}


def write_project(tmp: Path, **over) -> Path:
    """A demo-like project over the example kit with tiny sizes; ``over`` replaces top-level sections."""
    doc = {
        "name": "t", "kit": str(EXAMPLE_KIT), "run_dir": str(tmp / "run"),
        "student": {"tiny": {"vocab_size": 600, "hidden_size": 32, "num_layers": 1}},
        "prefs": {"max_tokens": 24},
        "train": {"sft": {"lora": {"r": 4, "alpha": 8}, "trl": FAST_TRL},
                  "dpo": {"lora": {"r": 4, "alpha": 8}, "trl": FAST_TRL},
                  "rm": {"lora": {"r": 4, "alpha": 8}, "trl": FAST_TRL}, "grpo": None},
        "eval": {"max_items": 1, "sampling": {"max_tokens": 16}, "n_boot": 50},
    }
    doc.update(over)
    path = tmp / "project.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def project(tmp_path) -> Path:
    """Path of a small demo project in a temp dir (run dir inside it)."""
    return write_project(tmp_path)


@pytest.fixture
def replay_project(tmp_path, shared_data) -> Path:
    """The shipped adgenius-replay project at reduced size (6 products, a few steps)."""
    doc = yaml.safe_load((ROOT / "examples/adgenius-replay/project.yaml").read_text(encoding="utf-8"))
    base = ROOT / "examples/adgenius-replay"
    doc["kit"] = str(base)
    doc["import"] = {k: str((base / v).resolve()) for k, v in doc["import"].items()} | {"limit_subjects": 6}
    doc["run_dir"] = str(tmp_path / "run")
    doc["student"] = {"tiny": {"vocab_size": 800, "hidden_size": 32, "num_layers": 1}}
    for m in ("sft", "dpo", "rm"):
        doc["train"][m]["trl"] = FAST_TRL
    doc["eval"] = {"max_items": 1, "sampling": {"max_tokens": 16}, "n_boot": 50}
    path = tmp_path / "project.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path
