"""Rows that TRL drops for exceeding ``trl.max_length``: a clear ConfigError before training, a note otherwise."""

from __future__ import annotations

import json

import pytest

from slmforge.data.io import write_jsonl
from slmforge.errors import ConfigError
from slmforge.train import load_train_config, train_dpo, train_rm, train_sft

LONG = "This serum is light, calm and quick to sink in; it suits oily skin in summer. " * 4


def _prefs(path, n: int, *, short: int = 0):
    rows = [{"prompt": f"Write a note about serum {i}." + ("" if i < short else " " + LONG),
             "chosen": f"Serum {i} is light." + ("" if i < short else " " + LONG),
             "rejected": f"Serum {i} cures everything overnight!" + ("" if i < short else " " + LONG),
             "method": "exaggerated"} for i in range(n)]
    write_jsonl(path, rows)
    return path


def _cfg(method, tmp_path, tiny_model, train, **over):
    return load_train_config(None, {"method": method, "output_dir": str(tmp_path / method),
                                    "model.base": [str(tiny_model)], "data.train": str(train),
                                    "data.eval_fraction": 0, "trl.max_steps": 1, **over})


def test_rm_with_every_pair_too_long_is_a_config_error(tmp_path, tiny_model):
    cfg = _cfg("rm", tmp_path, tiny_model, _prefs(tmp_path / "p.jsonl", 6), **{"trl.max_length": 16})
    with pytest.raises(ConfigError, match=r"all 6 training rows are longer than trl\.max_length .*= 16 tokens") as e:
        train_rm(cfg)
    assert e.value.field == "trl.max_length" and "raise trl.max_length" in e.value.fix
    assert not list((tmp_path / "rm").glob("checkpoints/checkpoint-*")) and not (tmp_path / "rm" / "metrics.jsonl").exists()


def test_rm_notes_pairs_dropped_for_length_and_trains_on_the_rest(tmp_path, tiny_model):
    cfg = _cfg("rm", tmp_path, tiny_model, _prefs(tmp_path / "p.jsonl", 6, short=4), **{"trl.max_length": 96})
    run = train_rm(cfg)
    notes = json.loads((run / "manifest.json").read_text())["notes"]
    assert any(n.startswith("2 of 6 training rows") and "dropped" in n for n in notes), notes


def test_dpo_with_every_prompt_too_long_is_a_config_error(tmp_path, tiny_model):
    cfg = _cfg("dpo", tmp_path, tiny_model, _prefs(tmp_path / "p.jsonl", 5), **{"trl.max_length": 12})
    with pytest.raises(ConfigError, match=r"all 5 training rows have a prompt at least trl\.max_length .*= 12 tokens"):
        train_dpo(cfg)


def test_sft_with_every_prompt_filling_max_length_is_a_config_error(tmp_path, tiny_model):
    rows = [{"messages": [{"role": "user", "content": f"Describe serum {i}. {LONG}"},
                          {"role": "assistant", "content": "Light and calm."}]} for i in range(5)]
    write_jsonl(tmp_path / "sft.jsonl", rows)
    cfg = _cfg("sft", tmp_path, tiny_model, tmp_path / "sft.jsonl", **{"trl.max_length": 12})
    with pytest.raises(ConfigError, match=r"all 5 training rows have a prompt that fills trl\.max_length") as e:
        train_sft(cfg)
    assert "12" in e.value.fix
