"""Acceptance run of issue 6 on the seed data: tiny → SFT → DPO → RM → GRPO, split by product 80/20.

Run it (CPU; about 7 minutes on 2 shared cores with the defaults: 240 training rows and 64 held-out rows
per method, ``max_length`` 512)::

    nice -n 10 .venv/bin/python benchmarks/train_chain.py [--out runs/bench-chain] [--grpo-steps 30]

Every method reads the seed files in ``../shared/data/adgenius/`` and holds out 20 % of the *products*
(``data.eval_fraction: 0.2``, grouped by ``product_name``), so no product is on both sides. The tiny model
has random weights: SFT therefore trains all its weights (``lora: {enabled: false}``, as the pipeline's
demo does); DPO, the reward model and GRPO train LoRA adapters on top of the SFT model.

Prints one table of the acceptance numbers:

* SFT: held-out loss before / after.
* DPO: held-out reward accuracy (share of pairs whose implicit reward β·log π/π_ref prefers chosen) and margin.
* RM: held-out pairwise accuracy, overall and per rejection strategy (weak / exaggerated / fake).
* GRPO: mean check-reward (sum of the kit's weighted checks) over the first and last ``--window`` steps,
  and per check.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from slmforge.train import build_tiny_model, load_train_config, train_dpo, train_grpo, train_rm, train_sft
from slmforge.train.callbacks import read_metrics

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "adgenius"
KIT = Path(__file__).resolve().parents[1] / "examples" / "elemental-equation"


def _args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="runs/bench-chain")
    ap.add_argument("--max-rows", type=int, default=240, help="training rows per method (0: all)")
    ap.add_argument("--max-eval-rows", type=int, default=64, help="held-out rows per method (0: all)")
    ap.add_argument("--max-length", type=int, default=512, help="tokens per SFT row / preference pair")
    ap.add_argument("--sft-epochs", type=float, default=2)
    ap.add_argument("--sft-lr", type=float, default=3e-3)
    ap.add_argument("--pref-epochs", type=float, default=1, help="DPO and RM epochs")
    ap.add_argument("--pref-lr", type=float, default=5e-3, help="DPO and RM learning rate (LoRA)")
    ap.add_argument("--grpo-steps", type=int, default=30)
    ap.add_argument("--grpo-lr", type=float, default=1e-3)
    ap.add_argument("--grpo-generations", type=int, default=8, help="completions per prompt (the GRPO group)")
    ap.add_argument("--grpo-batch", type=int, default=16, help="completions per step (prompts = batch / generations)")
    ap.add_argument("--grpo-completion-length", type=int, default=64, help="max new tokens per completion")
    ap.add_argument("--grpo-temperature", type=float, default=1.0)
    ap.add_argument("--window", type=int, default=5, help="steps averaged at each end of the GRPO curve")
    return ap.parse_args()


def _manifest(run: Path) -> dict:
    return json.loads((run / "manifest.json").read_text(encoding="utf-8"))


def _mean(xs: list[float]) -> float:
    return sum(xs) / len(xs) if xs else float("nan")


def main() -> None:
    """Run the chain and print its acceptance table."""
    a = _args()
    out = Path(a.out)
    sft, prefs = SHARED / "sft_dataset_final.jsonl", SHARED / "rm_dataset_final.jsonl"
    data = {"data.eval_fraction": 0.2, "data.max_rows": a.max_rows, "data.max_eval_rows": a.max_eval_rows}
    data = {k: v for k, v in data.items() if v}
    seconds: dict[str, float] = {}

    def timed(name, fn, *args):
        t0 = time.perf_counter()
        result = fn(*args)
        seconds[name] = time.perf_counter() - t0
        print(f"[{name}] {seconds[name]:.0f} s → {result}", flush=True)
        return result

    def cfg(method, name, base, train, **over):
        return load_train_config(None, {"method": method, "output_dir": str(out / name), "model.base": [str(base)],
                                        "data.train": str(train), **data, **over})

    tiny = timed("tiny", build_tiny_model, out / "tiny", [SHARED / "products.csv", sft])
    run_sft = timed("sft", train_sft, cfg("sft", "sft", tiny, sft, **{
        "lora.enabled": False, "trl.num_train_epochs": a.sft_epochs, "trl.learning_rate": a.sft_lr,
        "trl.max_length": a.max_length, "trl.per_device_train_batch_size": 8, "trl.logging_steps": 5}))
    policy = run_sft / "model"
    pref = {"trl.num_train_epochs": a.pref_epochs, "trl.learning_rate": a.pref_lr, "trl.max_length": a.max_length,
            "trl.per_device_train_batch_size": 8, "trl.logging_steps": 5}
    run_dpo = timed("dpo", train_dpo, cfg("dpo", "dpo", policy, prefs, **pref))
    run_rm = timed("rm", train_rm, cfg("rm", "rm", policy, prefs, **pref))
    run_grpo = timed("grpo", train_grpo, cfg("grpo", "grpo", policy, sft, **{
        "trl.max_steps": a.grpo_steps, "trl.learning_rate": a.grpo_lr, "trl.num_generations": a.grpo_generations,
        "trl.per_device_train_batch_size": a.grpo_batch, "trl.max_completion_length": a.grpo_completion_length,
        "trl.temperature": a.grpo_temperature, "trl.save_strategy": "no", "rewards.kit": str(KIT)}))
    _table(a, run_sft, run_dpo, run_rm, run_grpo, seconds)


def _table(a, run_sft: Path, run_dpo: Path, run_rm: Path, run_grpo: Path, seconds: dict[str, float]) -> None:
    rows: list[tuple[str, str, str]] = []
    s, sc = _manifest(run_sft)["metrics"], _manifest(run_sft)["counts"]
    rows.append(("SFT held-out loss (before → after)", f"{s['eval_loss_before']:.3f} → {s['eval_loss_after']:.3f}",
                 "falls" if s["eval_loss_after"] < s["eval_loss_before"] else "DOES NOT FALL"))
    d, dc = _manifest(run_dpo)["metrics"], _manifest(run_dpo)["counts"]
    rows.append(("DPO held-out reward accuracy (before → after)",
                 f"{d['eval_reward_accuracy_before']:.3f} → {d['eval_reward_accuracy_after']:.3f}",
                 "> 0.5" if d["eval_reward_accuracy_after"] > 0.5 else "NOT above chance"))
    rows.append(("DPO held-out reward margin (after)", f"{d['eval_reward_margin_after']:.4f}", ""))
    r, rc = _manifest(run_rm)["metrics"], _manifest(run_rm)["counts"]
    rows.append(("RM held-out pairwise accuracy (all)", f"{r['pairwise_accuracy']:.3f}",
                 f"{rc['eval_pairs']} pairs"))
    for k in sorted(k for k in r if k.startswith("pairwise_accuracy/")):
        strategy = k.split("/", 1)[1]
        rows.append((f"RM held-out pairwise accuracy ({strategy})", f"{r[k]:.3f}", f"{int(r[f'pairs/{strategy}'])} pairs"))
    logged = [m for m in read_metrics(run_grpo) if "reward" in m]
    w = a.window
    keys = ["reward"] + sorted({k for m in logged for k in m if k.startswith("rewards/") and k.endswith("/mean")})
    for key in keys:
        first, last = _mean([m[key] for m in logged[:w]]), _mean([m[key] for m in logged[-w:]])
        label = "GRPO mean check-reward" if key == "reward" else f"  {key.removeprefix('rewards/')}"
        rows.append((f"{label} (steps 1–{w} → last {w})", f"{first:.3f} → {last:.3f}",
                     ("rises" if last > first else "DOES NOT RISE") if key == "reward" else ""))
    for key, label in (("entropy", "GRPO policy entropy, nats"), ("completions/mean_length", "GRPO completion length, tokens"),
                       ("completions/clipped_ratio", "GRPO share cut at max length"),
                       ("frac_reward_zero_std", "GRPO groups with equal rewards")):
        if any(key in m for m in logged):  # diagnostics: a near-uniform policy (entropy ≈ ln vocab) learns little
            rows.append((f"{label} (steps 1–{w} → last {w})",
                         f"{_mean([m[key] for m in logged[:w]]):.3f} → {_mean([m[key] for m in logged[-w:]]):.3f}", ""))
    gc = _manifest(run_grpo)["counts"]
    width = max(len(x[0]) for x in rows)
    print("\n## Training chain on the seed data (split by product 80/20)\n")
    print(f"{'metric'.ljust(width)} | value | note")
    print(f"{'-' * width} | ----- | ----")
    for name, value, note in rows:
        print(f"{name.ljust(width)} | {value} | {note}")
    print(f"\nrows: SFT {sc['train_rows']} train / {sc['eval_rows']} held out ({sc['steps']} steps); "
          f"DPO {dc['train_pairs']}/{dc['eval_pairs']} ({dc['steps']} steps); RM {rc['train_pairs']}/{rc['eval_pairs']} "
          f"({rc['steps']} steps); GRPO {gc['steps']} steps × {a.grpo_batch} completions "
          f"({a.grpo_generations} per prompt, ≤{a.grpo_completion_length} tokens, T={a.grpo_temperature})")
    print("seconds: " + ", ".join(f"{k} {v:.0f}" for k, v in seconds.items()) + f"; total {sum(seconds.values()):.0f}")


if __name__ == "__main__":
    main()
