"""Acceptance run of issue 6 on the seed data: tiny → SFT → DPO → RM → GRPO, split by product 80/20.

Run it (CPU; about 4 minutes on 2 shared cores with the defaults)::

    nice -n 10 .venv/bin/python benchmarks/train_chain.py [--out runs/bench-chain] [--grpo-steps 30] [--seed 0]

Every method reads the seed files in ``../shared/data/adgenius/`` and holds out 20 % of the *products*
(``data.eval_fraction: 0.2``, grouped by ``product_name``), so no product is on both sides. The checks come
from the replay kit ``examples/adgenius-replay`` (its templates match the seed's instructions, so every
prompt gets its task's constraints and its product record for the facts check). The tiny model has random
weights: SFT therefore trains all its weights (``lora: {enabled: false}``, as the pipeline's demo does) on
every training row; DPO and the reward model train LoRA adapters on top of the SFT model; GRPO trains all
weights of the 0.6M-parameter SFT model at a constant learning rate, with a KL penalty to the SFT policy
(``beta`` 0.04, as in the GRPO paper; without it some seeds drift into digit-and-punctuation noise).

GRPO runs twice from the same SFT model with the same seed: once with ``--grpo-lr`` and once with learning
rate 0 (the control: same prompts in the same order, the policy never changes). Its prompt set has
``--window`` × prompts-per-step prompts, so the first and the last window of steps each see every prompt
once, with fresh completions; the rise is then measured *paired by prompt* (mean over prompts of the
last-window minus first-window mean reward, with its standard error over prompts), and the trained run's
last window is compared with the control's on the same prompts.

Prints one table of the acceptance numbers:

* SFT: held-out loss before / after.
* DPO: held-out reward accuracy (share of pairs whose implicit reward β·log π/π_ref prefers chosen) and margin.
* RM: held-out pairwise accuracy, overall and per rejection strategy (weak / exaggerated / fake).
* GRPO: mean check-reward (sum of the kit's weighted checks, max 5) over the first and last ``--window``
  steps, and per check; the paired rise ± standard error and t = rise / SE; the same for the lr-0 control;
  trained minus control over the last window. "rises" needs t ≥ 2 and the trained last window above the control's.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from slmforge.train import build_tiny_model, load_train_config, train_dpo, train_grpo, train_rm, train_sft
from slmforge.train.callbacks import read_metrics
from slmforge.train.grpo import completion_rewards

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "adgenius"
KIT = Path(__file__).resolve().parents[1] / "examples" / "adgenius-replay"


def _args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="runs/bench-chain")
    ap.add_argument("--seed", type=int, default=0, help="seed of the split, the row samples and training")
    ap.add_argument("--max-rows", type=int, default=240, help="DPO / RM training rows (0: all)")
    ap.add_argument("--sft-rows", type=int, default=0, help="SFT training rows (0: all)")
    ap.add_argument("--max-eval-rows", type=int, default=64, help="held-out rows per method (0: all)")
    ap.add_argument("--max-length", type=int, default=512, help="tokens per SFT row / preference pair")
    ap.add_argument("--sft-epochs", type=float, default=3)
    ap.add_argument("--sft-lr", type=float, default=5e-3)
    ap.add_argument("--pref-epochs", type=float, default=1, help="DPO and RM epochs")
    ap.add_argument("--pref-lr", type=float, default=5e-3, help="DPO and RM learning rate (LoRA)")
    ap.add_argument("--grpo-steps", type=int, default=30)
    ap.add_argument("--grpo-lr", type=float, default=1e-3, help="constant; all weights (0.6M) are trained")
    ap.add_argument("--grpo-generations", type=int, default=8, help="completions per prompt (the GRPO group)")
    ap.add_argument("--grpo-batch", type=int, default=16, help="completions per step (prompts = batch / generations)")
    ap.add_argument("--grpo-completion-length", type=int, default=64, help="max new tokens per completion")
    ap.add_argument("--grpo-temperature", type=float, default=1.0)
    ap.add_argument("--grpo-beta", type=float, default=0.04,
                    help="KL weight to the SFT policy (GRPO paper's 0.04; keeps the tiny policy from drifting)")
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
    data = {"data.eval_fraction": 0.2, "data.max_eval_rows": a.max_eval_rows, "data.seed": a.seed, "trl.seed": a.seed}
    data = {k: v for k, v in data.items() if v or k.endswith("seed")}
    rows = {k: {"data.max_rows": n} if n else {} for k, n in (("sft", a.sft_rows), ("pref", a.max_rows))}
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

    if a.grpo_batch % a.grpo_generations:
        raise SystemExit("--grpo-batch must be a multiple of --grpo-generations")

    tiny = timed("tiny", build_tiny_model, out / "tiny", [SHARED / "products.csv", sft])
    run_sft = timed("sft", train_sft, cfg("sft", "sft", tiny, sft, **{
        **rows["sft"], "lora.enabled": False, "trl.num_train_epochs": a.sft_epochs, "trl.learning_rate": a.sft_lr,
        "trl.max_length": a.max_length, "trl.per_device_train_batch_size": 8, "trl.logging_steps": 5}))
    policy = run_sft / "model"
    pref = {"trl.num_train_epochs": a.pref_epochs, "trl.learning_rate": a.pref_lr, "trl.max_length": a.max_length,
            "trl.per_device_train_batch_size": 8, "trl.logging_steps": 5, **rows["pref"]}
    run_dpo = timed("dpo", train_dpo, cfg("dpo", "dpo", policy, prefs, **pref))
    run_rm = timed("rm", train_rm, cfg("rm", "rm", policy, prefs, **pref))
    grpo = {"data.max_rows": a.window * a.grpo_batch // a.grpo_generations,  # each window sees every prompt once
            "lora.enabled": False, "trl.lr_scheduler_type": "constant", "trl.logging_steps": 1,
            "trl.max_steps": a.grpo_steps, "trl.num_generations": a.grpo_generations,
            "trl.per_device_train_batch_size": a.grpo_batch, "trl.max_completion_length": a.grpo_completion_length,
            "trl.temperature": a.grpo_temperature, "trl.beta": a.grpo_beta, "trl.save_strategy": "no",
            "rewards.kit": str(KIT)}
    run_grpo = timed("grpo", train_grpo, cfg("grpo", "grpo", policy, sft, **grpo, **{"trl.learning_rate": a.grpo_lr}))
    run_ctrl = timed("grpo lr 0", train_grpo, cfg("grpo", "grpo-lr0", policy, sft, **grpo, **{"trl.learning_rate": 0.0}))
    _table(a, run_sft, run_dpo, run_rm, run_grpo, run_ctrl, seconds)


def _by_prompt(run: Path, steps: range) -> dict[str, float]:
    """Mean total check-reward per prompt over the completions of ``steps`` (1-based, inclusive)."""
    sums: dict[str, list[float]] = {}
    for r in completion_rewards(run):
        if r["step"] in steps:
            sums.setdefault(r["prompt"], []).append(r["reward"])
    return {p: _mean(v) for p, v in sums.items()}


def _paired(after: dict[str, float], before: dict[str, float]) -> tuple[float, float, int]:
    """Mean over shared prompts of ``after − before``, its standard error (sd / √n) and n."""
    d = [after[p] - before[p] for p in after if p in before]
    if len(d) < 2:
        return float("nan"), float("nan"), len(d)
    m = _mean(d)
    return m, (sum((x - m) ** 2 for x in d) / (len(d) - 1) / len(d)) ** 0.5, len(d)


def _grpo_rows(a, run: Path, ctrl: Path) -> list[tuple[str, str, str]]:
    w, n = a.window, a.grpo_steps
    first, last = range(1, w + 1), range(n - w + 1, n + 1)
    rise = _paired(_by_prompt(run, last), _by_prompt(run, first))
    noise = _paired(_by_prompt(ctrl, last), _by_prompt(ctrl, first))
    vs = _paired(_by_prompt(run, last), _by_prompt(ctrl, last))
    t = rise[0] / rise[1] if rise[1] > 0 else float("nan")
    ok = t >= 2 and vs[0] > 0
    return [(f"GRPO rise, last − first {w} steps, paired by prompt", f"{rise[0]:+.3f} ± {rise[1]:.3f} (t = {t:.1f})",
             f"{rise[2]} prompts; {'rises (significant)' if ok else 'DOES NOT RISE significantly'}"),
            (f"GRPO lr-0 control, last − first {w} steps, paired", f"{noise[0]:+.3f} ± {noise[1]:.3f}",
             "the noise floor: same prompts, policy unchanged"),
            (f"GRPO trained − lr-0 control, last {w} steps, paired", f"{vs[0]:+.3f} ± {vs[1]:.3f}",
             f"{vs[2]} prompts")]


def _table(a, run_sft: Path, run_dpo: Path, run_rm: Path, run_grpo: Path, run_ctrl: Path,
           seconds: dict[str, float]) -> None:
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
    control = [m for m in read_metrics(run_ctrl) if "reward" in m]
    w = a.window
    keys = ["reward"] + sorted({k for m in logged for k in m if k.startswith("rewards/") and k.endswith("/mean")})
    for key in keys:
        first, last = _mean([m[key] for m in logged[:w]]), _mean([m[key] for m in logged[-w:]])
        c_first, c_last = _mean([m[key] for m in control[:w]]), _mean([m[key] for m in control[-w:]])
        label = "GRPO mean check-reward" if key == "reward" else f"  {key.removeprefix('rewards/')}"
        rows.append((f"{label} (steps 1–{w} → last {w})", f"{first:.3f} → {last:.3f}",
                     f"lr-0 control {c_first:.3f} → {c_last:.3f}"))
    rows += _grpo_rows(a, run_grpo, run_ctrl)
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
          f"({a.grpo_generations} per prompt, {a.window * a.grpo_batch // a.grpo_generations} prompts, "
          f"≤{a.grpo_completion_length} tokens, T={a.grpo_temperature}, β={a.grpo_beta}, lr {a.grpo_lr} constant, "
          f"all weights); seed {a.seed}")
    print("seconds: " + ", ".join(f"{k} {v:.0f}" for k, v in seconds.items()) + f"; total {sum(seconds.values()):.0f}")


if __name__ == "__main__":
    main()
