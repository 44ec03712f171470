"""GRPO moves a check-reward on a tiny random-weight model: the call-to-action check on paid-ad prompts.

A CTA cue (「点击」「立即」…) is a few tokens the policy can learn to emit whatever else it writes, so 30
steps at a high learning rate take the check's pass rate from the untrained model's 0.1–0.3 (24 random
tokens) to about 1 (measured for ``trl.seed`` 0–3). The prompts are a fixed set of 4 (2 per step, so every
2 steps see each prompt once, and the compared windows see the same prompts).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from slmforge.train import build_tiny_model, load_train_config, train_grpo
from slmforge.train.grpo import completion_rewards

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data" / "adgenius"
KIT = ROOT / "examples" / "adgenius-replay"


def _mean(xs: list[float]) -> float:
    return sum(xs) / len(xs)


def test_grpo_raises_the_cta_reward_of_a_tiny_model(tmp_path):
    if not (SHARED / "sft_dataset_final.jsonl").is_file():
        pytest.skip(f"shared seed data not found at {SHARED}")
    rows = [json.loads(line) for line in (SHARED / "sft_dataset_final.jsonl").read_text(encoding="utf-8").splitlines()]
    ads = [r for r in rows if "付费广告" in r["messages"][0]["content"]][:4]
    assert len(ads) == 4
    from slmforge.kit import load_kit
    from slmforge.kit.match import task_for_prompt

    lk = load_kit(KIT)  # identity is given at import (as the pipeline's import stage does), never at train time
    for r in ads:
        r["task"], r["subject_id"] = task_for_prompt(lk, r["messages"][0]["content"])
    assert all(r["task"] for r in ads)
    train = tmp_path / "ads.jsonl"
    train.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ads), encoding="utf-8")
    tiny = build_tiny_model(tmp_path / "tiny", [SHARED / "products.csv", SHARED / "sft_dataset_final.jsonl"],
                            vocab_size=3000, hidden_size=32)
    cfg = load_train_config(None, {
        "method": "grpo", "output_dir": str(tmp_path / "grpo"), "model.base": [str(tiny)], "data.train": str(train),
        "data.eval_fraction": 0.0, "lora.enabled": False, "rewards.kit": str(KIT), "rewards.weights": {"cta": 1.0},
        "trl.max_steps": 30, "trl.learning_rate": 3e-2, "trl.lr_scheduler_type": "constant",
        "trl.num_generations": 8, "trl.per_device_train_batch_size": 16, "trl.max_completion_length": 24,
        "trl.save_strategy": "no"})
    run = train_grpo(cfg)
    logged = completion_rewards(run)
    assert {r["step"] for r in logged} == set(range(1, 31)) and len(logged) == 30 * 16
    assert all(set(r["rewards"]) == {"cta_reward"} for r in logged)
    first = _mean([r["reward"] for r in logged if r["step"] <= 4])  # steps 1–4: every prompt twice
    last = _mean([r["reward"] for r in logged if r["step"] > 26])  # steps 27–30: likewise
    assert last > first + 0.25 and last > 0.6, (first, last)
