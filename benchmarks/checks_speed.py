"""Speed of the checks on the seed preference file: 612 pairs = 1,224 texts (target: all checks ≤ 2 s).

Run:  .venv/bin/python benchmarks/checks_speed.py [--repeat 3]

Prints, for the same texts in the same run:
* the baseline: the cheapest possible filter, NFKC + casefold of each text and a substring search
  of the avoid-terms (what any lexicon check must at least do);
* each check alone, and all of them together (lexicon, style, constraints with extraction from the
  instruction, CTA, record-grounded facts) plus the reference-grounded fact edits of every pair;
* the ratio of each to the baseline. Caches are cleared before every timed pass
  (``slmforge.checks.text.clear_caches``), so nothing is reused between passes. Mapping rows to their task and subject (kit matching) is not timed.
"""

from __future__ import annotations

import argparse
import json
import time
import unicodedata
from pathlib import Path

from slmforge.checks import run_checks
from slmforge.checks.fact_edits import reference_fact_edits
from slmforge.checks.text import clear_caches
from slmforge.checks.vocab import build_vocabulary
from slmforge.kit import load_kit
from slmforge.kit.match import task_for_prompt

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT.parent / "shared" / "data" / "adgenius" / "rm_dataset_final.jsonl"
KIT = ROOT / "examples" / "adgenius-replay"


def _best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        clear_caches()
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    """Time the checks and print a table of seconds and ratios to the baseline."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3, help="timed passes per row of the table (best is shown)")
    args = ap.parse_args()
    if not SEED.is_file() or not (KIT / "kit.yaml").is_file():
        print(f"skipped: needs {SEED} and {KIT}/kit.yaml")
        return
    lk = load_kit(KIT)
    kit = lk.kit
    vocab = build_vocabulary(kit, lk.subjects.values())
    rows = [json.loads(line) for line in SEED.read_text(encoding="utf-8").splitlines()]
    items = []
    for r in rows:
        task_id, sid = task_for_prompt(lk, r["prompt"])
        items.append((r, kit.task(task_id), lk.subjects[sid]))
    texts = [t for r, _, _ in items for t in (r["chosen"], r["rejected"])]
    avoid = [unicodedata.normalize("NFKC", a).casefold() for a in kit.lexicon.avoid]

    def baseline() -> None:
        for t in texts:
            norm = unicodedata.normalize("NFKC", t).casefold()
            [a in norm for a in avoid]

    def only(names: list[str]):
        def run() -> None:
            for r, task, subject in items:
                run_checks([r["chosen"], r["rejected"]], task=task, subject=subject, kit=kit,
                           instruction=r["prompt"], checks=names, vocab=vocab)
        return run

    def reference() -> None:
        for r, _, subject in items:
            reference_fact_edits(r["rejected"], r["chosen"], subject=subject, kit=kit, vocab=vocab)

    def everything() -> None:
        only(["lexicon", "style", "constraints", "cta", "facts"])()
        reference()

    base = _best(baseline, args.repeat)
    print(f"{len(items)} pairs, {len(texts)} texts, best of {args.repeat}")
    print(f"{'pass':<42}{'seconds':>10}{'× baseline':>12}")
    print(f"{'baseline: NFKC + casefold + avoid substrings':<42}{base:>10.3f}{1.0:>12.1f}")
    for label, fn in [("lexicon", only(["lexicon"])), ("style", only(["style"])),
                      ("constraints (+ extraction)", only(["constraints"])), ("cta", only(["cta"])),
                      ("facts (record-grounded)", only(["facts"])), ("reference fact edits (612 pairs)", reference),
                      ("ALL checks + reference edits", everything)]:
        s = _best(fn, args.repeat)
        print(f"{label:<42}{s:>10.3f}{s / base:>12.1f}")
    total = _best(everything, args.repeat)
    print(f"target: all checks over {len(texts)} texts <= 2 s -> {'OK' if total <= 2 else 'MISSED'} ({total:.2f} s)")


if __name__ == "__main__":
    main()
