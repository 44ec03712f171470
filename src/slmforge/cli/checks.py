"""``slmforge check FILE --kit DIR``: run the kit's checks over an SFT or preference file, print pass
rates per task and per strategy, and write per-row findings as JSONL."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

console = Console(width=None if sys.stdout.isatty() else 140)  # pipes and logs get the whole table


def _table(title: str, audit, keys: list[tuple[str, str]]) -> Table:
    names = list(audit.groups[keys[0]][0].results) if keys and audit.groups[keys[0]] else []
    table = Table(title=title)
    table.add_column("task", no_wrap=True)
    table.add_column("side", no_wrap=True)
    for col in ("n", *names, "all"):
        table.add_column(col, justify="right")
    for key in keys:
        rates = audit.pass_rates(key)
        table.add_row(key[0], key[1], str(len(audit.groups[key])), *[f"{100 * rates[n]:.0f}%" for n in names],
                      f"{100 * rates['all']:.0f}%")
    return table


def check(
    file: Path = typer.Argument(..., help="SFT or preference JSONL (TRL, OpenAI, seed formats)."),
    kit: Path = typer.Option(..., "--kit", help="Kit directory (with kit.yaml)."),
    out: Path | None = typer.Option(None, "--out", help="Write per-row reports and findings here (JSONL)."),
    only: list[str] = typer.Option(None, "--check", help="Run only these checks (repeatable; default: every "
                                   "per-text check of slmforge.checks.registry.CHECKS): lexicon, style, constraints, "
                                   "cta, facts, structure, markup, language, degenerate, coverage, informative."),
) -> None:
    """Check every text of FILE against the kit and print pass rates (share of texts passing each check).

    Rows: (task, side) and (*, side), side = completion, chosen or rejected:STRATEGY; columns: the checks
    and all (every check passed).
    """
    from rich.progress import Progress

    from slmforge.checks.audit import DEFAULT_CHECKS, check_file
    from slmforge.data.io import write_jsonl
    from slmforge.kit import load_kit

    lk = load_kit(kit)
    with Progress(console=console, transient=True) as progress:
        bar = progress.add_task(f"checking {file.name}", total=None)
        audit = check_file(file, lk, checks=tuple(only) if only else DEFAULT_CHECKS,
                           on_row=lambda: progress.advance(bar))
    by_task = sorted(k for k in audit.groups if k[0] != "*")
    by_side = sorted(k for k in audit.groups if k[0] == "*")
    console.print(_table("pass rate per task", audit, by_task))
    console.print(_table("pass rate per side / strategy", audit, by_side))
    pairs = [r for r in audit.rows if "reference" in r]
    if pairs:
        minimal = sum(r["reference"]["minimal_fact_edit"] for r in pairs)
        console.print(f"{minimal}/{len(pairs)} rejected sides are minimal fact edits of their chosen side")
    if audit.unmatched:
        console.print(f"[yellow]{audit.unmatched} rows matched no task of the kit[/]: checked without task constraints")
    if out is not None:
        n = write_jsonl(out, audit.rows)
        console.print(f"[green]wrote[/] {n} rows → {out}")


def register(app: typer.Typer) -> None:
    """Attach ``slmforge check``."""
    app.command("check")(check)
