"""The whole training chain in full on the seed data (CPU, tens of minutes): tiny → SFT → merge → DPO → RM → GRPO.

Run it::

    .venv/bin/python benchmarks/train_chain.py [--out runs/bench-chain] [--grpo-steps 30]

Prints the acceptance numbers: SFT eval loss before/after, DPO held-out reward accuracy, RM pairwise
accuracy per strategy, GRPO mean check-reward first/last step.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from slmforge.train import (build_tiny_model, load_train_config, merge_adapter, train_dpo, train_grpo, train_rm,
                            train_sft)

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "adgenius"
KIT = Path(__file__).resolve().parents[1] / "examples" / "elemental-equation"


def main() -> None:
    """Run the chain and print its metrics."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="runs/bench-chain")
    ap.add_argument("--grpo-steps", type=int, default=30)
    a = ap.parse_args()
    out = Path(a.out)
    sft, prefs = SHARED / "sft_dataset_final.jsonl", SHARED / "rm_dataset_final.jsonl"
    tiny = build_tiny_model(out / "tiny", [SHARED / "products.csv", sft])

    def cfg(method, name, base, train, **over):
        return load_train_config(None, {"method": method, "output_dir": str(out / name), "model.base": [str(base)],
                                        "data.train": str(train), **over})

    runs = {"sft": train_sft(cfg("sft", "sft", tiny, sft, **{"trl.num_train_epochs": 2, "trl.learning_rate": 1e-2,
                                                               "trl.max_length": 512}))}
    merged = merge_adapter(runs["sft"] / "adapter", out / "sft-merged")
    runs["dpo"] = train_dpo(cfg("dpo", "dpo", merged, prefs, **{"trl.learning_rate": 5e-3, "trl.max_length": 768}))
    runs["rm"] = train_rm(cfg("rm", "rm", merged, prefs, **{"trl.learning_rate": 5e-3, "trl.max_length": 1024}))
    runs["grpo"] = train_grpo(cfg("grpo", "grpo", merged, sft, **{
        "trl.max_steps": a.grpo_steps, "trl.learning_rate": 1e-3, "trl.max_completion_length": 64,
        "rewards.kit": str(KIT)}))
    for name, run in runs.items():
        print(name, json.dumps(json.loads((run / "manifest.json").read_text())["metrics"], indent=1))


if __name__ == "__main__":
    main()
