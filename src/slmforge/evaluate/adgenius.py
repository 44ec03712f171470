"""Rule metrics on the AdGenius seed data: golden (``chosen``) against its own rejected sides as candidates.

The rows of ``rm_dataset_final.jsonl`` are split by product (80 / 20, seed 0, the same split as
``slmforge data split --by subject``); on the held-out products the chosen text is the ``golden``
candidate and each rejection strategy (weak / exaggerated / fake) is a candidate of its own. Task
and product come from the prompt through the ``examples/adgenius-replay`` kit. No model is called.

    python -m slmforge.evaluate.adgenius [--data ../shared/data/adgenius] [--out runs/adgenius-rules]

Prints the per-candidate table (check pass rates and scores, lengths, ROUGE-L / chrF against the
chosen text, distinct-n) and writes the full report to ``--out``.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

from slmforge.data.io import read_jsonl
from slmforge.evaluate.metrics import char_length, chrf, rouge_l
from slmforge.evaluate.report import ReportMeta, write_report
from slmforge.evaluate.tables import check_pass_rates, diversity, scores_by_task
from slmforge.kit import LoadedKit, load_kit

ROOT = Path(__file__).resolve().parents[3]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "adgenius"
REPLAY_KIT = ROOT / "examples" / "adgenius-replay"


def heldout_rows(data_dir: Path, *, eval_fraction: float = 0.2, seed: int = 0) -> list[dict[str, Any]]:
    """The rm rows of the products on the test side of a by-product split (file order)."""
    from slmforge.data.split import split_file

    with tempfile.TemporaryDirectory() as tmp:
        rep = split_file(data_dir / "rm_dataset_final.jsonl", by="subject", eval_fraction=eval_fraction, seed=seed, out_dir=tmp)
        return [obj for _, obj in read_jsonl(rep.test_path)]


def rule_metric_rows(lk: LoadedKit, rm_rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Score rows for ``golden`` (chosen, once per prompt) and ``rejected:<method>`` candidates.

    Returns:
        score rows (see :mod:`slmforge.evaluate.tables`) with check scores / passes, length,
        ROUGE-L and chrF against the chosen text (rejected sides only).
    """
    from slmforge.checks import kit_vocabulary, run_checks
    from slmforge.kit.match import task_for_prompt

    rows: list[dict[str, Any]] = []
    seen_prompts: set[str] = set()
    for i, r in enumerate(rm_rows):
        task_id, subject_id = task_for_prompt(lk, r["prompt"])
        if task_id is None:
            continue
        task, subject = lk.kit.task(task_id), lk.subjects.get(subject_id or "")
        pairs = [(f"rejected:{r['method']}", r["rejected"])]
        if r["prompt"] not in seen_prompts:
            seen_prompts.add(r["prompt"])
            pairs.insert(0, ("golden", r["chosen"]))
        reports = run_checks([t for _, t in pairs], task=task, subject=subject, kit=lk.kit, instruction=r["prompt"],
                             references=[r["chosen"]] * len(pairs), vocab=kit_vocabulary(lk))
        for (cand, text), rep in zip(pairs, reports, strict=True):
            row: dict[str, Any] = {"item_id": f"rm{i}", "task": task_id, "candidate": cand, "subject_id": subject_id,
                                   "length_chars": char_length(text), "text": text}
            for name, res in rep.results.items():
                row[f"check.{name}"] = res.score
                row[f"pass.{name}"] = float(res.passed)
            row["check.score"], row["pass.all"] = rep.score, float(rep.passed)
            if cand != "golden":
                row["rougeL"], row["chrF"] = rouge_l(text, r["chosen"]), chrf(text, r["chosen"])
            rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> None:
    """Command-line entry: compute, print and write the AdGenius rule-metric report."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="directory with rm_dataset_final.jsonl")
    ap.add_argument("--out", type=Path, default=ROOT / "runs" / "adgenius-rules", help="report directory")
    args = ap.parse_args(argv)
    from rich.console import Console
    from rich.table import Table

    lk = load_kit(REPLAY_KIT)
    rm_rows = heldout_rows(args.data)
    rows = rule_metric_rows(lk, rm_rows)
    overall = {r["candidate"]: r for r in scores_by_task(rows) if r["task"] == "ALL"}
    passes = {r["candidate"]: r for r in check_pass_rates(rows)}
    div = {r["candidate"]: r for r in diversity(rows) if r["task"] == "ALL"}
    table = Table(title=f"AdGenius held-out products: {len({r['subject_id'] for r in rows})} products, "
                        f"{len(rm_rows)} rm rows")
    metrics = ["n", "pass.all", "pass.lexicon", "pass.style", "pass.constraints", "pass.cta", "pass.facts",
               "check.score", "check.facts", "len mean", "rougeL", "chrF", "distinct_2"]
    cands = list(overall)
    table.add_column("metric")
    for cand in cands:
        table.add_column(cand, justify="right")
    for m in metrics:
        vals = []
        for cand in cands:
            o, p = overall[cand], passes.get(cand, {})
            vals.append(o["n"] if m == "n" else p.get(m.removeprefix("pass.")) if m.startswith("pass.")
                        else sum(r["length_chars"] for r in rows if r["candidate"] == cand) / o["n"] if m == "len mean"
                        else div[cand]["distinct_2"] if m == "distinct_2" else o.get(m))
        table.add_row(m, *["–" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v)) for v in vals])
    Console().print(table)
    meta = ReportMeta(title="AdGenius rule metrics: golden vs its rejected sides", language="zh",
                      subtitle=f"{len(rows)} texts on the held-out products (by-product split 80/20, seed 0)",
                      settings={"data": str(args.data), "kit": str(REPLAY_KIT)})
    path = write_report(rows, [], args.out, meta, n_boot=200)
    print(f"report: {path}")


if __name__ == "__main__":
    main()
