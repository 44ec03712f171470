"""Configs: every shipped YAML loads; bad keys fail with the file and key named; Ctrl-C callback."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from slmforge.errors import ConfigError
from slmforge.train.callbacks import InterruptCallback
from slmforge.train.config import load_train_config
from slmforge.train.data import read_preference_rows, split_by_subject

CONFIGS = Path(__file__).resolve().parents[2] / "src" / "slmforge" / "train" / "configs"


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_training_configs_load(path):
    cfg = load_train_config(path)
    assert cfg.method == path.stem and cfg.model.base


@pytest.mark.parametrize("path", sorted((CONFIGS / "accelerate").glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_accelerate_configs_parse(path):
    doc = yaml.safe_load(path.read_text())
    assert doc["distributed_type"] in {"DEEPSPEED", "FSDP"} and doc["num_processes"] >= 1


def test_bad_keys_name_file_and_field(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("method: sft\noutput_dir: x\nmodel: {base: [m]}\ndata: {train: t.jsonl}\ntrl: {learning_rat: 1}\n")
    with pytest.raises(ConfigError, match=r"bad.yaml: trl.learning_rat: unknown SFTConfig field"):
        load_train_config(path)
    with pytest.raises(ConfigError, match=r"lora.r"):
        load_train_config(path, {"trl": {}, "lora.r": 0})


def test_split_keeps_each_product_on_one_side(shared_data):
    rows = read_preference_rows(shared_data / "rm_dataset_final.jsonl")
    train, held = split_by_subject(rows, eval_fraction=0.2, seed=0)
    assert len(train) + len(held) == len(rows) == 612
    assert {r["subject"] for r in train}.isdisjoint({r["subject"] for r in held})
    assert len({r["subject"] for r in held}) == round(len({r["subject"] for r in rows}) * 0.2)
    assert {r["strategy"] for r in rows} == {"weak", "exaggerated", "fake"}


def test_interrupt_callback_saves_then_stops():
    from transformers import TrainerControl

    cb, control = InterruptCallback(), TrainerControl()
    cb.on_step_end(None, None, control)
    assert not control.should_save and not control.should_training_stop
    cb._handler(2, None)  # first Ctrl-C: remember it
    cb.on_step_end(None, None, control)
    assert control.should_save and control.should_training_stop
    with pytest.raises(KeyboardInterrupt):  # second Ctrl-C: abort now
        cb._handler(2, None)
