"""``slmforge ledger``: spend, tokens, calls, cache hits and failures from the LLM ledger.

    slmforge ledger runs/demo --by stage          # the run's own ledger (runs/demo/ledger.sqlite)
    cd runs/demo && slmforge ledger               # inside a run dir: its ledger
    slmforge ledger --db runs/r1/ledger.sqlite --by model --json
    slmforge ledger --run r1                      # rows of run id r1 in the user ledger
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

COLUMNS = [("calls", "calls"), ("cache_hits", "cache hits"), ("failures", "failures"), ("retries", "retries"),
           ("prompt_tokens", "prompt tok"), ("cached_tokens", "cached tok"), ("completion_tokens", "completion tok")]


LEDGER_FILE = "ledger.sqlite"


def find_ledger(db: Path | None, run_dir: Path | None, cwd: Path) -> Path:
    """The ledger ``slmforge ledger`` reads, first match wins: ``db``; ``run_dir/ledger.sqlite``; the run dir
    the command runs in (``cwd/ledger.sqlite``, or the parent's from a stage folder such as ``runs/demo/sft``);
    ``$SLMFORGE_HOME/ledger.sqlite``.

    Raises:
        UserError: ``run_dir`` is given but holds no ledger.
    """
    from slmforge.errors import UserError
    from slmforge.llm.ledger import default_path

    if db is not None:
        return db
    if run_dir is not None:
        if not (run_dir / LEDGER_FILE).is_file():
            raise UserError(f"no {LEDGER_FILE} in this run directory", file=run_dir,
                            fix="pass the run dir of a `slmforge run` (runs/<name>), or --db FILE")
        return run_dir / LEDGER_FILE
    if (cwd / LEDGER_FILE).is_file():
        return cwd / LEDGER_FILE
    stage_folder = (cwd / "stage.json").is_file() or (cwd / "manifest.json").is_file()
    if stage_folder and (cwd.parent / LEDGER_FILE).is_file():
        return cwd.parent / LEDGER_FILE
    return default_path()


def ledger(
    run_dir: Path = typer.Argument(None, metavar="RUN_DIR", show_default=False,
                                   help="Run directory whose ledger.sqlite to read (e.g. runs/demo)."),
    db: Path = typer.Option(None, "--db", help="Ledger file (overrides RUN_DIR)."),
    run: str = typer.Option(None, "--run", help="A run directory (as RUN_DIR), or a run id: only that run's rows."),
    by: str = typer.Option("run", "--by", help="Group by run, stage, role or model."),
    as_json: bool = typer.Option(False, "--json", help="Print the rows as JSON instead of a table."),
) -> None:
    """Show spend (USD), tokens, calls, cache hits, retries and failures per run / stage / role / model.

    Where it looks (first match wins): --db FILE; RUN_DIR/ledger.sqlite (or --run RUN_DIR); ./ledger.sqlite when run inside a run dir, or ../ledger.sqlite inside one of its stage folders; $SLMFORGE_HOME/ledger.sqlite. The table's title names the file it read.
    """
    from slmforge.errors import UserError
    from slmforge.llm.ledger import Ledger
    from slmforge.llm.prices import load_table

    console = Console()
    run_id = run
    if run_dir is None and run is not None and Path(run).is_dir():  # --run RUN_DIR: the run's ledger, all rows
        run_dir, run_id = Path(run), None
    path = find_ledger(db, run_dir, Path.cwd())
    if not path.is_file():
        raise UserError("no ledger here", file=path, fix="pass a run dir (slmforge ledger runs/<name>) or --db "
                        "with a run's ledger.sqlite, or run a stage first")
    rows = Ledger(path).summary(by=by, run_id=run_id)
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(title=Text(f"LLM ledger {path} (prices as of {load_table()['as_of']})"))
    table.add_column(by)
    for _, title in COLUMNS:
        table.add_column(title, justify="right")
    table.add_column("USD", justify="right", no_wrap=True)
    total = {key: sum(r[key] or 0 for r in rows) for key, _ in COLUMNS + [("cost_usd", "")]}
    for row in [*rows, {"key": "total", **total}]:
        table.add_row(Text(str(row["key"])), *(f"{row[key] or 0:,}" for key, _ in COLUMNS), f"${row['cost_usd'] or 0:,.4f}",
                      end_section=row["key"] != "total" and row is rows[-1])
    console.print(table)
    unpriced = sum(r["unpriced"] or 0 for r in rows)
    if unpriced:
        console.print(f"[yellow]warning[/]: {unpriced} calls to models missing from the price table were counted as $0")


def register(app: typer.Typer) -> None:
    """Attach ``slmforge ledger``."""
    app.command("ledger")(ledger)
