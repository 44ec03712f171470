"""``slmforge run PROJECT.yaml`` and ``slmforge status RUN``: the whole pipeline, and its stage table."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

console = Console()


def _fmt_counts(counts: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in list(counts.items())[:4])


def _fmt_metrics(metrics: dict) -> str:
    return ", ".join(f"{k}={v:.3g}" for k, v in list(metrics.items())[:3] if isinstance(v, (int, float)))


def run(
    project: Path = typer.Argument(..., help="Project YAML (kit, models per role, stage settings)."),
    until: str = typer.Option(None, "--until", help="Stop after this stage."),
    only: str = typer.Option(None, "--only", help="Run only this stage (its inputs must exist)."),
    from_: str = typer.Option(None, "--from", help="Start at this stage (earlier ones must be done)."),
    check: bool = typer.Option(False, "--check", help="Validate the whole project and describe the run, then exit."),
) -> None:
    """Run the pipeline: model → synth → clean → split → prefs → SFT → merge → DPO → RM → GRPO → eval."""
    from slmforge.pipeline.run import check_project, run_project

    if check:
        for line in check_project(project):
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

    summary = run_project(project, until=until, only=only, from_=from_, on_stage=on_stage)
    table = Table(title=f"run {summary.name} — {summary.run_dir}")
    for col in ("stage", "action", "time (s)", "counts", "metrics", "cost (USD)"):
        table.add_column(col)
    for s in summary.stages:
        table.add_row(s.stage, s.action, f"{s.duration_s:.1f}", _fmt_counts(s.counts), _fmt_metrics(s.metrics),
                      f"{s.cost_usd:.4f}")
    console.print(table)
    for note in summary.notes:
        console.print(f"[yellow]note:[/] {note}")
    console.print(f"model spend this run: ${summary.cost_usd:.4f}; wall time {time.time() - t0:.0f}s")
    if summary.report:
        console.print(f"report: [bold]{summary.report}[/]")
    if summary.serve_command:
        console.print(f"serve it: [bold]{summary.serve_command}[/]")


def status(run_dir: Path = typer.Argument(..., help="Run directory (runs/<name>).")) -> None:
    """Show the stage table of a run: status, time, counts, metrics, cost."""
    from slmforge.pipeline.status import run_status

    table = Table(title=str(run_dir))
    for col in ("stage", "status", "time (s)", "counts", "metrics", "cost (USD)"):
        table.add_column(col)
    for r in run_status(run_dir):
        table.add_row(r.stage, r.status, f"{r.duration_s:.1f}", _fmt_counts(r.counts), _fmt_metrics(r.metrics),
                      f"{r.cost_usd:.4f}")
    console.print(table)


def register(app: typer.Typer) -> None:
    """Attach ``run`` and ``status``."""
    app.command("run")(run)
    app.command("status")(status)
