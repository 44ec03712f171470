"""GRPO learns on a real model: SmolLM2-135M-Instruct, LoRA, the kit's checks as the reward.

The reward is the mean of eight of the kit's checks on a paid ad (constraints, CTA, coverage,
informative content, degenerate text, lexicon, style, facts — each in [0, 1], weight 1): dense enough
that a group of four completions nearly always differs, unlike a CTA alone (the base writes a CTA in
~5 % of its ads, so most groups of four carry no signal; a first version with the CTA as the only reward
rose 0.025 → 0.175 while its learning-rate-0 control rose 0.025 → 0.125 — noise).

Four fixed paid-ad prompts (real subject ids, so coverage and facts see the record), two per step with
four completions each; LoRA on the top 16 of the 30 layers, as in the demo. The learning-rate-0 control
has the same seed and prompts: what rises beyond it is learning, not sampling noise. Measured on 2 idle
CPU cores, ~6 minutes a run: `pytest -m slow -s tests/models/test_grpo_real.py` prints the numbers.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
KIT = ROOT / "examples" / "elemental-equation-en"
CHECKS = ("constraints", "cta", "coverage", "informative", "degenerate", "lexicon", "style", "facts")


def _mean(xs: list[float]) -> float:
    return sum(xs) / len(xs)


def _run(smollm2: Path, train: Path, out: Path, lr: float) -> tuple[float, float]:
    from slmforge.train import load_train_config, train_grpo
    from slmforge.train.grpo import completion_rewards

    cfg = load_train_config(None, {
        "method": "grpo", "output_dir": str(out), "model.base": [str(smollm2)], "data.train": str(train),
        "data.eval_fraction": 0.0, "lora.r": 16, "lora.alpha": 32, "lora.dropout": 0.0,
        "lora.target_modules": r".*layers\.(1[4-9]|2[0-9])\.self_attn\.[qkvo]_proj",
        "rewards.kit": str(KIT), "rewards.weights": dict.fromkeys(CHECKS, 1.0),
        "trl.max_steps": 30, "trl.learning_rate": lr, "trl.lr_scheduler_type": "constant",
        "trl.num_generations": 4, "trl.per_device_train_batch_size": 8, "trl.max_completion_length": 40,
        "trl.temperature": 1.0, "trl.save_strategy": "no", "trl.seed": 0})
    logged = completion_rewards(train_grpo(cfg))
    first = _mean([r["reward"] / len(CHECKS) for r in logged if r["step"] <= 5])
    last = _mean([r["reward"] / len(CHECKS) for r in logged if r["step"] >= 26])
    return first, last


@pytest.mark.slow
def test_grpo_raises_the_check_reward_of_smollm2_beyond_an_lr0_control(smollm2, tmp_path):
    from slmforge.kit import load_kit
    from slmforge.kit.render import render_student_prompt

    lk = load_kit(KIT)
    task = lk.kit.task("paid_ad_cta")
    subjects = list(lk.subjects.items())[:4]
    train = tmp_path / "ads.jsonl"
    train.write_text("".join(json.dumps({"task": task.id, "subject_id": sid, "messages": [
        {"role": "user", "content": render_student_prompt(lk.kit, task, s)},
        {"role": "assistant", "content": "-"}]}) + "\n" for sid, s in subjects))
    t0 = time.time()
    first, last = _run(smollm2, train, tmp_path / "grpo", lr=1e-3)
    t1 = time.time()
    c_first, c_last = _run(smollm2, train, tmp_path / "control", lr=0.0)
    print(f"GRPO mean check reward: steps 1-5 {first:.3f} -> steps 26-30 {last:.3f}; lr-0 control {c_first:.3f} -> "
          f"{c_last:.3f}; {t1 - t0:.0f} s + {time.time() - t1:.0f} s")
    assert last - first > 0.04, (first, last)
    assert (last - first) - (c_last - c_first) > 0.03, (first, last, c_first, c_last)
