"""Validation speed: ``slmforge data validate`` over 100,000 synthetic records; target ≤ 10 s.

Run: ``.venv/bin/python benchmarks/validate_speed.py [--rows 100000] [--kind messages|preference]``

Prints the validation time and its ratio to a baseline measured in the same run on the same file:
reading it and calling ``json.loads`` on every line (the least any JSONL validator must do).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

from slmforge.data.validate import validate_file

TARGET_S = 10.0
WORDS = "原素方程 精华 烟酰胺 屏障 修护 温和 控油 clean skin serum hydration barrier niacinamide 10% daily".split()


def synth_rows(n: int, kind: str, seed: int = 0):
    """``n`` distinct synthetic rows of ``kind`` with realistic lengths (~200-char prompt, ~300-char answer)."""
    rng = random.Random(seed)
    for i in range(n):
        prompt = f"请为产品 {i} 写一条文案\n\n" + json.dumps({"product_name": f"P{i % 500}", "category": "精华",
                                                              "core_ingredients": "10%烟酰胺, 锌PCA"}, ensure_ascii=False)
        answer = " ".join(rng.choices(WORDS, k=60))
        if kind == "messages":
            yield {"messages": [{"role": "user", "content": prompt}, {"role": "assistant", "content": answer}]}
        else:
            yield {"prompt": prompt, "chosen": answer, "rejected": " ".join(rng.choices(WORDS, k=30)), "method": "weak"}


def main() -> int:
    """Generate the file, time the baseline and the validator, print both and the ratio; exit 1 over target."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--kind", choices=["messages", "preference"], default="messages")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "synthetic.jsonl"
        with path.open("w", encoding="utf-8") as f:
            for row in synth_rows(args.rows, args.kind):
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
        size_mb = path.stat().st_size / 1e6

        t0 = time.perf_counter()
        with path.open(encoding="utf-8") as f:
            n = sum(1 for line in f if json.loads(line) is not None)
        baseline = time.perf_counter() - t0

        t0 = time.perf_counter()
        report = validate_file(path)
        elapsed = time.perf_counter() - t0

    assert n == args.rows and report.rows == args.rows and report.ok, report.counts()
    print(f"rows: {args.rows:,} ({args.kind}, {size_mb:.1f} MB), format detected: {report.format}")
    print(f"baseline json.loads per line: {baseline:.2f} s")
    print(f"slmforge validate_file:        {elapsed:.2f} s  ({elapsed / baseline:.1f}x baseline, "
          f"{args.rows / elapsed:,.0f} rows/s)")
    print(f"target ≤ {TARGET_S:.0f} s: {'PASS' if elapsed <= TARGET_S else 'FAIL'}")
    return 0 if elapsed <= TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
