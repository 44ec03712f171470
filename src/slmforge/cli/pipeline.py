"""``slmforge run PROJECT.yaml`` and ``slmforge status RUN``: the whole pipeline, and its stage table."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

if TYPE_CHECKING:
    from slmforge.pipeline.state import StageRow

console = Console()


def _fmt_counts(counts: dict) -> str:
    return " ".join(f"{k}={v}" for k, v in counts.items())


def _fmt_metrics(metrics: dict) -> str:
    return " ".join(f"{k}={v:.4g}" for k, v in metrics.items() if isinstance(v, (int, float)))


def print_stages(title: str, rows: list[StageRow]) -> None:
    """The stage table in 80 columns: a narrow table (stage, status, time, cost), then one wrapped line of
    counts and metrics per stage — wrapped at spaces, so no number is ever cut."""
    table = Table(title=escape(title), title_justify="left")
    for col, justify in (("stage", "left"), ("status", "left"), ("time (s)", "right"), ("cost (USD)", "right")):
        table.add_column(col, justify=justify, no_wrap=True)
    for r in rows:  # a stage that did not run now shows no time or cost of its own
        idle = r.state in ("skipped", "not selected", "off", "pending")
        table.add_row(r.stage, r.state, "-" if idle else f"{r.duration_s:.1f}", "-" if idle else f"{r.cost_usd:.4f}")
    console.print(table)
    for r in rows:
        detail = " ".join(p for p in (_fmt_counts(r.counts), _fmt_metrics(r.metrics)) if p)
        if detail:
            console.print(f"{r.stage}: {detail}", markup=False, highlight=False)


def run(
    project: Path = typer.Argument(..., help="Project YAML (kit, models per role, stage settings)."),
    until: str = typer.Option(None, "--until", help="Stop after this stage."),
    only: str = typer.Option(None, "--only", help="Run only this stage (its inputs must exist)."),
    from_: str = typer.Option(None, "--from", help="Start at this stage (earlier ones must be done)."),
    check: bool = typer.Option(False, "--check", help="Validate the whole project and describe the run, then exit."),
    budget: float = typer.Option(None, "--budget", min=0.0, help="Most the run may spend on model calls (USD, "
                                 "over its whole ledger); overrides the project's budget_usd."),
) -> None:
    """Run the pipeline: model → synth → clean → split → prefs → SFT → merge → DPO → RM → GRPO → eval."""
    from slmforge.pipeline.run import check_project, run_project

    if check:
        for line in check_project(project, budget_usd=budget):
            console.print(line, markup=False, highlight=False)
        console.print("project ok", style="green")
        return

    t0, started = time.time(), {}

    def on_stage(stage: str, event: str) -> None:
        if event == "start":
            started[stage] = time.time()
            console.print(f"[bold cyan]▶ {stage}[/] …")
        elif event == "skip":
            console.print(f"[dim]✓ {stage}: up to date, skipped[/]")
        else:
            console.print(f"[green]✓ {stage}[/] in {time.time() - started[stage]:.1f}s")

    summary = run_project(project, until=until, only=only, from_=from_, budget_usd=budget, on_stage=on_stage)
    print_stages(f"run {summary.name}: {summary.run_dir}", summary.stages)
    for note in summary.notes:
        console.print(f"note: {note}", markup=False, highlight=False)
    console.print(f"model spend this run: ${summary.cost_usd:.4f}; wall time {time.time() - t0:.0f}s", highlight=False)
    if summary.report:
        console.print(f"report: {summary.report}", markup=False, highlight=False)
    if summary.serve_command:  # one line, never wrapped, so that a paste runs it whole; also saved as a script
        script = Path(summary.run_dir) / "serve.sh"
        script.write_text("#!/bin/sh\nexec " + summary.serve_command + ' "$@"\n', encoding="utf-8")
        script.chmod(0o755)
        console.print("serve it (or run " + str(script) + "):", markup=False, highlight=False)
        console.print(summary.serve_command, markup=False, highlight=False, soft_wrap=True)


def status(run_dir: Path = typer.Argument(..., help="Run directory (runs/<name>).")) -> None:
    """Show the stage table of a run: status, time, counts, metrics, cost."""
    from slmforge.pipeline.status import run_status

    print_stages(str(run_dir), run_status(run_dir))


def register(app: typer.Typer) -> None:
    """Attach ``run`` and ``status``."""
    app.command("run")(run)
    app.command("status")(status)
