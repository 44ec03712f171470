"""``slmforge eval`` (generate, score, judge, report) and ``slmforge report --from-scores FILE``.

    slmforge eval --kit examples/elemental-equation --config eval.yaml --models models.yaml --out runs/eval
    slmforge report --from-scores scores.csv --out runs/report
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

console = Console()


def eval_command(
    kit: Path = typer.Option(..., "--kit", help="Kit directory (kit.yaml, catalog, golden)."),
    config: Path | None = typer.Option(None, "--config", "-c", help="Eval config YAML (candidates, heldout, sampling, judge)."),
    models: Path | None = typer.Option(None, "--models", "-m", help="YAML of role → model config (base, sft, judge …)."),
    generations: Path | None = typer.Option(None, "--generations", "-g",
                                            help="Score outputs that already exist (JSONL/CSV: item_id or prompt, "
                                                 "candidate, text, optional external score columns); no model runs."),
    rm: Path | None = typer.Option(None, "--rm", help="With --generations: a trained reward model run dir (adds `rm`)."),
    out: Path = typer.Option(Path("runs/eval"), "--out", "-o", help="Report directory."),
    ledger: Path | None = typer.Option(None, "--ledger", help="SQLite ledger (default $SLMFORGE_HOME/ledger.sqlite)."),
    budget: float | None = typer.Option(None, "--budget", help="Stop before spending more than this many USD."),
    max_items: int | None = typer.Option(None, "--max-items", help="At most this many held-out items per task."),
    heldout: Path | None = typer.Option(None, "--heldout", help="Held-out SFT JSONL (overrides the config)."),
) -> None:
    """Evaluate candidates on held-out prompts: rule metrics, reward-model and LLM-judge scores, report.

    With --generations, score texts that already exist instead (same metrics, scorecard and report)."""
    from slmforge.errors import ConfigError
    from slmforge.evaluate import evaluate, load_eval_config
    from slmforge.kit import load_kit
    from slmforge.llm.client import LLMClient
    from slmforge.llm.config import load_models
    from slmforge.llm.ledger import default_path

    lk = load_kit(kit)
    if generations is not None:
        from slmforge.evaluate.existing import evaluate_existing

        report_dir = evaluate_existing(lk, generations, out, rm_dir=str(rm) if rm else None)
        console.print(f"report: {report_dir / 'report.html'}", markup=False, highlight=False)
        return
    if config is None or models is None:
        raise ConfigError("--config and --models are needed to generate", field="--config",
                          fix="pass both, or --generations FILE to score outputs that already exist")
    cfg = load_eval_config(config)
    updates = {k: v for k, v in {"max_items": max_items, "heldout": str(heldout) if heldout else None}.items() if v}
    cfg = cfg.model_validate(cfg.model_dump() | updates)
    client = LLMClient(load_models(models), ledger=ledger or default_path(), run_id=f"eval:{out.name}",
                       budget_usd=budget)
    try:
        report_dir = evaluate(lk, cfg, client, out)
    finally:
        client.close()
    console.print(f"[green]report[/]: {report_dir / 'report.html'}  (spent ${client.spent_usd:.4f})")


def report_command(
    from_scores: Path = typer.Option(..., "--from-scores", help="CSV: task, candidate, [item_id, text], score columns."),
    out: Path = typer.Option(Path("runs/report"), "--out", "-o", help="Report directory."),
    pairwise: Path | None = typer.Option(None, "--pairwise", help="Optional pairwise.csv (a, b, outcome, consistent, len_a, len_b)."),
    title: str = typer.Option("Evaluation report", "--title", help="Page title."),
    n_boot: int = typer.Option(1000, "--n-boot", help="Bootstrap replicates for the win-rate intervals."),
) -> None:
    """Build the report's tables and plots from externally produced per-item scores."""
    import csv

    from slmforge.evaluate.report import ReportMeta, read_scores_csv, write_report

    rows = read_scores_csv(from_scores)
    verdicts = []
    if pairwise:
        with pairwise.open(encoding="utf-8-sig", newline="") as f:
            verdicts = list(csv.DictReader(f))
    meta = ReportMeta(title=title, subtitle=f"from {from_scores} · {len(rows)} rows",
                      settings={"from_scores": str(from_scores), "pairwise": str(pairwise) if pairwise else None})
    path = write_report(rows, verdicts, out, meta, n_boot=n_boot)
    console.print(f"[green]report[/]: {path}")


def register(app: typer.Typer) -> None:
    """Attach ``eval`` and ``report``."""
    app.command("eval")(eval_command)
    app.command("report")(report_command)
