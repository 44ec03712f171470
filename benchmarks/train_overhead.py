"""Overhead of ``slmforge train sft`` over TRL's own ``trl sft`` CLI: tokens/s and peak RSS of the same run.

Run it (CPU, a few minutes)::

    nice -n 10 .venv/bin/python benchmarks/train_overhead.py [--rows 200] [--repeats 3] [--threads 1]

Both sides train the same tiny random-weight Qwen2 model (``slmforge.train.tiny.build_tiny_model`` on the
seed catalog + SFT texts) on the first ``--rows`` rows of the seed SFT file with the same settings: LoRA
r=16 / alpha=32 / dropout 0.05 on all linear layers, assistant-only loss, fp32, no gradient
checkpointing, batch 8, learning rate 2e-4, 1 epoch, ``max_length`` 512, seed 0, no eval, no checkpoints.

* **slmforge**: ``load_train_config(None, {...})`` then ``train_sft(cfg)`` (our wrapper: data checks,
  metrics JSONL + plot, manifest) in a fresh Python process.
* **trl**: ``.venv/bin/trl sft`` (TRL's CLI, which runs ``trl/scripts/sft.py`` through ``accelerate launch``)
  reading the same rows from a local JSONL folder (``--dataset_name DIR`` → ``datasets.load_dataset(DIR)``).

Each run is its own process tree; its peak RSS is ``ru_maxrss`` from ``os.wait4`` (Linux: the largest
resident set of the process and its waited-for children, e.g. the process ``accelerate launch`` starts).
Throughput is the Trainer's own ``train_tokens_per_second`` (``include_num_input_tokens_seen=True``: every
input token of the batches, padding included — the same batches on both sides since the seed is the same;
TRL's argument parser does not take ``non_padding``) — training loop only; wall time of the whole process
is printed too. Runs
alternate (trl, slmforge, slmforge, trl, …) and the best of ``--repeats`` is kept on each side, since the
machine is shared. Goals (issue 6): tokens/s at most 5 % lower, peak RSS at most 1.1×.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "adgenius"
ROOT = Path(__file__).resolve().parents[1]
TRL_CLI = Path(sys.executable).with_name("trl")
SETTINGS = {"learning_rate": 2e-4, "num_train_epochs": 1, "max_length": 512, "per_device_train_batch_size": 8,
            "seed": 0, "logging_steps": 1, "save_strategy": "no", "eval_strategy": "no", "report_to": "none",
            "bf16": False, "gradient_checkpointing": False, "use_cpu": True, "assistant_only_loss": True,
            "include_num_input_tokens_seen": True, "dataloader_num_workers": 0}
LORA = {"r": 16, "alpha": 32, "dropout": 0.05, "target_modules": "all-linear"}
_METRIC = r"'{}': '?([0-9.eE+-]+)'?"


def _args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="runs/bench-overhead", help="work folder (model, data, run dirs, logs)")
    ap.add_argument("--rows", type=int, default=200, help="rows of the seed SFT file to train on")
    ap.add_argument("--epochs", type=float, default=1)
    ap.add_argument("--repeats", type=int, default=3, help="runs per side; the best is kept")
    ap.add_argument("--threads", type=int, default=1, help="OMP/torch threads of each run (same on both sides)")
    ap.add_argument("--worker", help=argparse.SUPPRESS)  # internal: run the slmforge side from a JSON config
    return ap.parse_args()


def _prepare(out: Path, rows: int) -> tuple[Path, Path]:
    """Build the tiny model and write the first ``rows`` SFT rows (``messages`` only) to ``out/data/train.jsonl``."""
    from slmforge.train.tiny import build_tiny_model

    sft = SHARED / "sft_dataset_final.jsonl"
    model = build_tiny_model(out / "tiny", [SHARED / "products.csv", sft])
    data = out / "data"
    data.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps({"messages": json.loads(x)["messages"]}, ensure_ascii=False)
             for x in sft.read_text(encoding="utf-8").splitlines() if x.strip()][:rows]
    (data / "train.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return model, data


def _slmforge_cmd(model: Path, data: Path, run: Path, epochs: float) -> list[str]:
    doc = {"method": "sft", "output_dir": str(run), "model.base": [str(model)], "data.train": str(data / "train.jsonl"),
           "data.eval_fraction": 0, **{f"lora.{k}": v for k, v in LORA.items()},
           **{f"trl.{k}": v for k, v in SETTINGS.items()}, "trl.num_train_epochs": epochs}
    return [sys.executable, __file__, "--worker", json.dumps(doc)]


def _trl_cmd(model: Path, data: Path, run: Path, epochs: float) -> list[str]:
    flags = {**SETTINGS, "num_train_epochs": epochs, "model_name_or_path": str(model), "dataset_name": str(data),
             "output_dir": str(run), "dtype": "float32", "use_peft": True, "lora_r": LORA["r"],
             "lora_alpha": LORA["alpha"], "lora_dropout": LORA["dropout"], "lora_target_modules": LORA["target_modules"]}
    return [str(TRL_CLI), "sft", *[a for k, v in flags.items() for a in (f"--{k}", str(v))]]


def _run(name: str, cmd: list[str], log: Path, threads: int) -> dict[str, float]:
    """Run ``cmd`` as its own process; returns wall seconds, peak RSS (MiB) and the Trainer's throughput."""
    env = os.environ | {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "OMP_NUM_THREADS": str(threads),
                        "MKL_NUM_THREADS": str(threads), "TOKENIZERS_PARALLELISM": "false", "PYTHONUNBUFFERED": "1"}
    t0 = time.perf_counter()
    with log.open("w", encoding="utf-8") as f:
        proc = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    text = log.read_text(encoding="utf-8", errors="replace")
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{name} failed (exit {os.waitstatus_to_exitcode(status)}); see {log}:\n{text[-2000:]}")
    found = {k: re.findall(_METRIC.format(k), text) for k in ("train_tokens_per_second", "train_runtime",
                                                              "num_input_tokens_seen", "train_loss")}
    if not found["train_tokens_per_second"]:
        sys.exit(f"{name}: no train_tokens_per_second in {log}")
    return {"wall_s": wall, "peak_rss_mib": usage.ru_maxrss / 1024,
            **{k: float(v[-1]) for k, v in found.items() if v}}


def main() -> None:
    """Alternate the two sides ``--repeats`` times and print the best of each and the ratios."""
    a = _args()
    if a.worker:
        from slmforge.train import load_train_config, train_sft

        train_sft(load_train_config(None, json.loads(a.worker)))
        return
    out = Path(a.out).resolve()
    model, data = _prepare(out, a.rows)
    sides = {"trl": _trl_cmd, "slmforge": _slmforge_cmd}
    results: dict[str, list[dict]] = {k: [] for k in sides}
    for i in range(a.repeats):
        order = ["trl", "slmforge"] if i % 2 == 0 else ["slmforge", "trl"]
        for name in order:
            run = out / f"run-{name}"
            shutil.rmtree(run, ignore_errors=True)
            r = _run(name, sides[name](model, data, run, a.epochs), out / f"{name}-{i}.log", a.threads)
            results[name].append(r)
            print(f"  {name:9s} #{i + 1}: {r['train_tokens_per_second']:8.0f} tokens/s  "
                  f"train {r['train_runtime']:6.1f} s  wall {r['wall_s']:6.1f} s  peak RSS {r['peak_rss_mib']:6.0f} MiB  "
                  f"loss {r.get('train_loss', float('nan')):.4f}", flush=True)
    best = {k: max(v, key=lambda r: r["train_tokens_per_second"]) for k, v in results.items()}
    rss = {k: min(r["peak_rss_mib"] for r in v) for k, v in results.items()}
    wall = {k: min(r["wall_s"] for r in v) for k, v in results.items()}
    tps_ratio = best["slmforge"]["train_tokens_per_second"] / best["trl"]["train_tokens_per_second"]
    rss_ratio = rss["slmforge"] / rss["trl"]
    print(f"\n## SFT overhead: slmforge train_sft vs TRL's `trl sft` CLI ({a.rows} rows, {a.epochs:g} epoch, "
          f"{int(best['trl'].get('num_input_tokens_seen', 0))} tokens, {a.threads} thread(s), best of {a.repeats})\n")
    print("side      | tokens/s | train s | wall s | peak RSS MiB | train loss")
    print("--------- | -------- | ------- | ------ | ------------ | ----------")
    for k in ("trl", "slmforge"):
        print(f"{k:9s} | {best[k]['train_tokens_per_second']:8.0f} | {best[k]['train_runtime']:7.1f} | "
              f"{wall[k]:6.1f} | {rss[k]:12.0f} | {best[k].get('train_loss', float('nan')):.4f}")
    slower = (1 - tps_ratio) * 100
    print(f"\ntokens/s ratio slmforge/trl: {tps_ratio:.3f} ({abs(slower):.1f} % {'slower' if slower > 0 else 'faster'}; "
          "goal ≤ 5 % slower: "
          f"{'met' if slower <= 5 else 'NOT met'})")
    print(f"peak RSS ratio slmforge/trl: {rss_ratio:.3f}× (goal ≤ 1.1×: {'met' if rss_ratio <= 1.1 else 'NOT met'})")
    print(f"wall-time ratio (whole process, incl. imports, data prep, saving): {wall['slmforge'] / wall['trl']:.3f}")


if __name__ == "__main__":
    main()
