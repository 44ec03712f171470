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

COUNTS = [("calls", "calls"), ("cache_hits", "cache hits"), ("failures", "failures"), ("retries", "retries"),
          ("cost_usd", "USD")]
TOKENS = [("prompt_tokens", "prompt tok"), ("cached_tokens", "cached tok"), ("completion_tokens", "completion tok")]
COLUMNS = COUNTS[:-1] + TOKENS + COUNTS[-1:]
"""(summary key, header) of the table's number columns, in the order of the one wide table."""
KEY_MIN = 12
"""Characters the group column (run id, stage, role, model) gets at least before the wide table is split."""


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


def _cell(key: str, value: float | int | None) -> str:
    """A number as the table shows it: USD with 4 decimals, counts and tokens with thousands separators."""
    return f"${value or 0:,.4f}" if key == "cost_usd" else f"{value or 0:,}"


def _needed(columns: list[tuple[str, str]], rows: list[dict]) -> int:
    """Characters the number ``columns`` take uncut: widest cell or header, plus padding and border each."""
    return 1 + sum(3 + max(len(title), *(len(_cell(key, r[key])) for r in rows)) for key, title in columns)


def _table(title: str | None, by: str, columns: list[tuple[str, str]], rows: list[dict]) -> Table:
    """One ledger table: the group column folds (a long model name wraps), number columns never wrap or cut."""
    table = Table(title=Text(title) if title else None, title_justify="left")
    table.add_column(Text(by), overflow="fold", min_width=min(KEY_MIN, max(len(str(r["key"])) for r in rows)))
    for key, header in columns:
        table.add_column(Text(header), justify="right", no_wrap=True,
                         min_width=max(len(header), *(len(_cell(key, r[key])) for r in rows)))
    for row in rows:
        table.add_row(Text(str(row["key"])), *(_cell(key, row[key]) for key, _ in columns),
                      end_section=row is rows[-2] if len(rows) > 1 else False)
    return table


def ledger_tables(rows: list[dict], by: str, title: str, width: int) -> list[Table | Text]:
    """The tables of ``slmforge ledger`` for a terminal ``width`` characters wide, a total row last in each.

    One table of every column when it fits; else two stacked tables (calls and spend, then tokens), so that
    80 columns hold 13-digit token counts and a long model name (it wraps) without cutting any number or
    header; narrower than those, one block of lines per group.

    Args:
        rows: :meth:`slmforge.llm.ledger.Ledger.summary` rows.
        by: the grouping, the first column's header.
        title: the first table's title (the ledger's path).
        width: the console width in characters.
    """
    total = {key: sum(r[key] or 0 for r in rows) for key, _ in COLUMNS}
    rows = [*rows, {"key": "total", **total}]
    key_width = 3 + min(KEY_MIN, max(len(str(r["key"])) for r in rows))
    if _needed(COLUMNS, rows) + key_width <= width:
        return [_table(title, by, COLUMNS, rows)]
    if max(_needed(COUNTS, rows), _needed(TOKENS, rows)) + key_width <= width:
        return [_table(title, by, COUNTS, rows), _table(None, by, TOKENS, rows)]
    return [Text(title), *(_block(by, row) for row in rows)]


def _block(by: str, row: dict) -> Text:
    """One group as a line ``by: key`` then one ``header: value`` line per column, for terminals too narrow
    for any table (a long key folds; a number is never cut)."""
    lines = "".join(f"\n  {header}: {_cell(key, row[key])}" for key, header in COLUMNS)
    return Text.assemble((f"{by}: {row['key']}", "bold"), lines)


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
    title = f"LLM ledger {path} (prices as of {load_table()['as_of']})"
    for table in ledger_tables(rows, by, title, console.width):
        console.print(table)
    unpriced = sum(r["unpriced"] or 0 for r in rows)
    if unpriced:
        console.print(f"[yellow]warning[/]: {unpriced} calls to models missing from the price table were counted as $0")


def register(app: typer.Typer) -> None:
    """Attach ``slmforge ledger``."""
    app.command("ledger")(ledger)
