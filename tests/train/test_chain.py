"""The whole chain at toy size on the seed data: tiny → SFT (+resume) → merge → DPO → RM → GRPO."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from slmforge.train import (build_tiny_model, load_train_config, merge_adapter, train_dpo, train_grpo, train_rm,
                            train_sft)
from slmforge.train.callbacks import read_metrics

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data" / "adgenius"
TINY = {"trl.max_length": 96, "trl.per_device_train_batch_size": 4, "trl.per_device_eval_batch_size": 4,
        "data.max_eval_rows": 8}


def _cfg(method, out, base, train, **over):
    tiny = {k: v for k, v in TINY.items() if method != "grpo" or "max_length" not in k and "eval" not in k}
    return load_train_config(None, {"method": method, "output_dir": str(out), "model.base": base,
                                    "data.train": str(train), **tiny, **over})


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    if not (SHARED / "rm_dataset_final.jsonl").is_file():
        pytest.skip(f"shared seed data not found at {SHARED}")
    shared_data = SHARED
    tmp = tmp_path_factory.mktemp("chain")
    tiny = build_tiny_model(tmp / "tiny", [shared_data / "products.csv", shared_data / "sft_dataset_final.jsonl"],
                            vocab_size=3000, hidden_size=32)
    sft = shared_data / "sft_dataset_final.jsonl"
    prefs = shared_data / "rm_dataset_final.jsonl"
    first = _cfg("sft", tmp / "sft", ["no/such-model", str(tiny)], sft, **{
        "data.max_rows": 16, "trl.max_steps": 2, "trl.save_strategy": "steps", "trl.save_steps": 1,
        "trl.learning_rate": 1e-2, "trl.eval_strategy": "no"})
    train_sft(first)
    resumed = first.model_copy(update={"trl": first.trl | {"max_steps": 4}})
    runs = {"tiny": tiny, "sft": train_sft(resumed, resume=True)}
    runs["merged"] = merge_adapter(runs["sft"] / "adapter", tmp / "merged")
    runs["dpo"] = train_dpo(_cfg("dpo", tmp / "dpo", [str(runs["merged"])], prefs, **{
        "data.max_rows": 8, "trl.max_steps": 2, "trl.learning_rate": 5e-3}))
    runs["rm"] = train_rm(_cfg("rm", tmp / "rm", [str(runs["merged"])], prefs, **{
        "data.max_rows": 8, "data.max_eval_rows": 12, "trl.max_steps": 2, "trl.learning_rate": 5e-3,
        "trl.max_length": 1024}))  # RewardTrainer drops pairs longer than max_length
    runs["grpo"] = train_grpo(_cfg("grpo", tmp / "grpo", [str(runs["merged"])], sft, **{
        "data.max_rows": 8, "trl.max_steps": 2, "trl.max_completion_length": 12,
        "rewards.kit": str(ROOT / "examples" / "elemental-equation"), "rewards.reward_model": str(runs["rm"])}))
    return runs


def _manifest(run: Path) -> dict:
    return json.loads((run / "manifest.json").read_text(encoding="utf-8"))


def test_every_run_writes_its_artifacts(chain):
    for name in ("sft", "dpo", "rm", "grpo"):
        run = chain[name]
        m = _manifest(run)
        assert m["status"] == "done" and m["stage"] == f"train_{name}"
        assert (run / "config.json").is_file() and (run / "metrics.png").stat().st_size > 1000
        assert read_metrics(run), name
        assert (run / ("model" if name == "rm" else "adapter")).is_dir()


def test_sft_falls_back_resumes_and_lowers_eval_loss(chain):
    m = _manifest(chain["sft"])
    assert any("no/such-model" in n for n in m["notes"]) and any("fell back" in n for n in m["notes"])
    assert m["counts"]["steps"] == 4  # 2 steps, then resumed from checkpoint-2 up to 4
    steps = [r["step"] for r in read_metrics(chain["sft"]) if "loss" in r]
    assert steps == [1, 2, 3, 4]
    assert m["metrics"]["eval_loss_after"] < m["metrics"]["eval_loss_before"]
    adapter_cfg = json.loads((chain["sft"] / "adapter" / "adapter_config.json").read_text())
    assert Path(adapter_cfg["base_model_name_or_path"]).is_absolute()
    assert not adapter_cfg["modules_to_save"]


def test_merge_gives_the_same_greedy_output_as_adapter_plus_base(chain):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(chain["merged"])
    x = tok.apply_chat_template([{"role": "user", "content": "请为原素方程的精华写一条文案"}], add_generation_prompt=True,
                                return_tensors="pt", return_dict=True)
    merged = AutoModelForCausalLM.from_pretrained(chain["merged"])
    base = AutoModelForCausalLM.from_pretrained(chain["tiny"])
    adapted = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(chain["tiny"]), chain["sft"] / "adapter")
    with torch.no_grad():
        assert not torch.equal(merged(**x).logits, base(**x).logits)  # the adapter changed something
        g_merged = merged.generate(**x, max_new_tokens=16, do_sample=False)
        g_adapted = adapted.generate(**x, max_new_tokens=16, do_sample=False)
    assert g_merged.tolist() == g_adapted.tolist()


def test_dpo_and_rm_report_held_out_metrics(chain):
    dpo = _manifest(chain["dpo"])["metrics"]
    assert dpo["eval_reward_accuracy_before"] == 0.0  # adapter starts as identity: policy == reference
    assert 0.0 <= dpo["eval_reward_accuracy_after"] <= 1.0 and "eval_reward_margin_after" in dpo
    rm = _manifest(chain["rm"])["metrics"]
    strategies = {k.split("/")[1] for k in rm if k.startswith("pairs/")}
    assert strategies and strategies <= {"weak", "exaggerated", "fake"}
    assert sum(rm[f"pairs/{s}"] for s in strategies) == 12


def test_grpo_logs_each_reward_component(chain):
    rows = [r for r in read_metrics(chain["grpo"]) if "reward" in r]
    assert len(rows) == 2
    for key in ("rewards/lexicon_reward/mean", "rewards/style_reward/mean", "rewards/reward_model/mean"):
        assert all(key in r for r in rows), key
    m = _manifest(chain["grpo"])["metrics"]
    assert 0.0 < m["reward_model_first"] < 1.0  # sigmoid-normalised reward model score
