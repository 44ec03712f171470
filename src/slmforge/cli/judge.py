"""``slmforge judge calibrate``: measure the LLM judge against the human ratings a kit carries.

    slmforge judge calibrate --kit examples/elemental-equation --models models.yaml --out runs/eval

Writes ``OUT/calibration.json`` (see :mod:`slmforge.evaluate.calibrate`) and prints κ, ρ and agreement per
criterion; ``slmforge eval`` with the same ``--out`` shows them in its report.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

console = Console()
judge_app = typer.Typer(help="Check the LLM judge against people.", no_args_is_help=True)


def _fmt(v: object) -> str:
    return "–" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)


@judge_app.command("calibrate")
def calibrate_command(
    kit: Path = typer.Option(..., "--kit", help="Kit directory; its ratings.jsonl holds the human ratings."),
    models: Path = typer.Option(..., "--models", "-m", help="YAML of role → model config (with the judge's role)."),
    role: str = typer.Option("judge", "--role", help="Client role of the judge."),
    out: Path = typer.Option(Path("runs/eval"), "--out", "-o",
                             help="Where calibration.json goes (the eval dir, so its report shows it; its "
                                  "judge_steps.json is reused)."),
    config: Path | None = typer.Option(None, "--config", "-c",
                                       help="Eval config YAML whose `judge:` settings to use (temperature, max tokens, "
                                            "logprobs), so the judge is calibrated as the eval runs it."),
    ratings: Path | None = typer.Option(None, "--ratings", help="Ratings JSONL (default: KIT/ratings.jsonl)."),
    ledger: Path | None = typer.Option(None, "--ledger", help="SQLite ledger (default $SLMFORGE_HOME/ledger.sqlite)."),
    budget: float | None = typer.Option(None, "--budget", help="Stop before spending more than this many USD."),
    n_boot: int = typer.Option(1000, "--n-boot", min=50, help="Bootstrap replicates of the 95 % intervals."),
) -> None:
    """Ask the judge to score the kit's human-rated texts; report κ (quadratic), Spearman ρ, exact / ±1 and
    pairwise agreement with 95 % bootstrap intervals, per criterion and overall."""
    from slmforge.evaluate.calibrate import CALIBRATION_FILE, calibrate, summary_rows
    from slmforge.evaluate.config import JudgeConfig, load_eval_config
    from slmforge.kit import load_kit
    from slmforge.llm.client import LLMClient
    from slmforge.llm.config import load_models
    from slmforge.llm.ledger import default_path

    lk = load_kit(kit)
    base = (load_eval_config(config).judge if config else None) or JudgeConfig()
    jc = base.model_copy(update={"role": role})
    client = LLMClient(load_models(models), ledger=ledger or default_path(), run_id=f"calibrate:{out.name}",
                       budget_usd=budget)
    try:
        cal = calibrate(lk, client, out_dir=out, judge=jc, ratings_path=ratings, n_boot=n_boot)
    finally:
        client.close()
    table = Table(title=f"judge {cal['judge']['model']} vs human ratings", width=80)
    for col, justify in (("criterion", "left"), ("metric", "left"), ("n", "right"), ("value", "right"),
                         ("95% CI", "right")):
        table.add_column(col, justify=justify)
    for r in summary_rows(cal):
        table.add_row(r["criterion"], r["metric"], str(r["n"]), _fmt(r["value"]), r["95% CI"] or "–")
    console.print(table)
    failed = sum(g["failed"] for g in cal["pointwise"] + cal["pairwise"] if g["criterion"] == "ALL")
    if failed:
        console.print(f"[yellow]warning[/]: {failed} rating(s) got no usable judge answer (see `error` in "
                      f"{CALIBRATION_FILE})")
    console.print(f"[green]calibration[/]: {out / CALIBRATION_FILE}  (spent ${client.spent_usd:.4f})")


def register(app: typer.Typer) -> None:
    """Attach the ``judge`` command group."""
    app.add_typer(judge_app, name="judge")
