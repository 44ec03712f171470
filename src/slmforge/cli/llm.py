"""``slmforge ledger``: spend, tokens, calls, cache hits and failures from the LLM ledger.

    slmforge ledger --db runs/r1/ledger.sqlite --by stage
    slmforge ledger --run r1 --by model --json
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

COLUMNS = [("calls", "calls"), ("cache_hits", "cache hits"), ("failures", "failures"), ("retries", "retries"),
           ("prompt_tokens", "prompt tok"), ("cached_tokens", "cached tok"), ("completion_tokens", "completion tok")]


def ledger(
    db: Path = typer.Option(None, "--db", help="Ledger file; default $SLMFORGE_HOME/ledger.sqlite."),
    run: str = typer.Option(None, "--run", help="Only this run id."),
    by: str = typer.Option("run", "--by", help="Group by run, stage, role or model."),
    as_json: bool = typer.Option(False, "--json", help="Print the rows as JSON instead of a table."),
) -> None:
    """Show spend (USD), tokens, calls, cache hits, retries and failures per run / stage / role / model."""
    from slmforge.errors import UserError
    from slmforge.llm.ledger import Ledger, default_path
    from slmforge.llm.prices import load_table

    console = Console()
    path = db or default_path()
    if not path.is_file():
        raise UserError("no ledger here", file=path, fix="pass --db with a run's ledger.sqlite, or run a stage first")
    rows = Ledger(path).summary(by=by, run_id=run)
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(title=f"LLM ledger {path} (prices as of {load_table()['as_of']})")
    table.add_column(by)
    for _, title in COLUMNS:
        table.add_column(title, justify="right")
    table.add_column("USD", justify="right", no_wrap=True)
    total = {key: sum(r[key] or 0 for r in rows) for key, _ in COLUMNS + [("cost_usd", "")]}
    for row in [*rows, {"key": "total", **total}]:
        table.add_row(str(row["key"]), *(f"{row[key] or 0:,}" for key, _ in COLUMNS), f"${row['cost_usd'] or 0:,.4f}",
                      end_section=row["key"] != "total" and row is rows[-1])
    console.print(table)
    unpriced = sum(r["unpriced"] or 0 for r in rows)
    if unpriced:
        console.print(f"[yellow]warning[/]: {unpriced} calls to models missing from the price table were counted as $0")


def register(app: typer.Typer) -> None:
    """Attach ``slmforge ledger``."""
    app.command("ledger")(ledger)
