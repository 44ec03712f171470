"""``slmforge data validate|stats|estimate|split|convert``: parse arguments, call ``slmforge.data``, print."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from slmforge.cli import print_error  # defined before slmforge.cli imports this module

console = Console(soft_wrap=True)


def say(*parts: str | tuple[str, str]) -> None:
    """Print one line to stdout from plain strings and ``(text, style)`` pairs, no part read as markup.

    Paths, ids and task names come from user data; ``[new]`` in them must print as ``[new]``.
    """
    console.print(Text.assemble(*parts), highlight=False, soft_wrap=True)


def _table(title: str, columns: list[str]) -> Table:
    """A table whose first column (labels) folds and whose other columns (numbers) never wrap or cut."""
    table = Table(title=Text(title), title_justify="left")
    table.add_column(columns[0], overflow="fold")
    for col in columns[1:]:
        table.add_column(col, justify="right", no_wrap=True, min_width=len(col))
    return table
data_app = typer.Typer(help="Validate, inspect, price, split and convert dataset files.", no_args_is_help=True)

FORMATS_HELP = ("messages, openai-chat, prompt-completion, prompt-only, preference, preference-implicit, "
                "openai-dpo (= together-dpo, fireworks-dpo), verl, alpaca, sharegpt")
KIT_HELP = "Kit directory whose tasks recognise the task of rows without a 'task' column."


def _matcher(kit: Path | None):
    """``prompt text -> task`` from a kit (``slmforge.kit.match``), or None without --kit."""
    if kit is None:
        return None
    from slmforge.kit import load_kit
    from slmforge.kit.match import task_for_prompt

    lk = load_kit(kit)
    return lambda text: task_for_prompt(lk, text)[0]


@data_app.command("validate")
def validate(
    files: list[Path] = typer.Argument(..., help="JSONL or Parquet files."),
    fmt: str | None = typer.Option(None, "--format", "-f", help=f"Force the format: {FORMATS_HELP}."),
    limit: int = typer.Option(0, "--limit", help="Print at most this many problems per file (0 = all)."),
) -> None:
    """Report every problem as file:line: field: code: detail. Exit 0 clean, 1 problems, 2 unreadable."""
    from slmforge.data.validate import validate_file
    from slmforge.errors import DataError

    worst = 0
    for path in files:
        try:
            rep = validate_file(path, fmt=fmt)
        except DataError as e:
            print_error("error:", e)
            worst = 2
            continue
        shown = rep.problems[:limit] if limit else rep.problems
        for p in shown:
            say(str(p))
        if len(shown) < len(rep.problems):
            say(f"... {len(rep.problems) - len(shown)} more")
        if rep.ok:
            say(("ok", "green"), f" {path}: {rep.rows} rows, format {rep.format}")
        else:
            counts = ", ".join(f"{k} {v}" for k, v in sorted(rep.counts().items()))
            say((f"{len(rep.problems)} problem(s)", "red"),
                f" in {path}: {rep.rows} rows, format {rep.format or 'unknown'} ({counts})")
            worst = max(worst, 1)
    raise typer.Exit(worst)


@data_app.command("stats")
def stats(
    file: Path = typer.Argument(..., help="JSONL or Parquet file."),
    tokenizer: str | None = typer.Option(None, "--tokenizer", "-t",
                                         help="Local HF tokenizer folder, tiktoken:o200k_base, or 'estimate' "
                                              "(default: tiktoken when its encoding is cached, else estimate)."),
    fmt: str | None = typer.Option(None, "--format", "-f", help=f"Force the format: {FORMATS_HELP}."),
    kit: Path | None = typer.Option(None, "--kit", help=KIT_HELP),
) -> None:
    """Counts per task and strategy, lengths in characters and tokens, duplicates, rejected-side diversity."""
    from slmforge.data.stats import stats_file

    st = stats_file(file, tokenizer=tokenizer, fmt=fmt, match=_matcher(kit))
    say((str(file), "bold"), f": {st.rows} rows, format {st.format}")
    say("tasks: " + ", ".join(f"{k} {v}" for k, v in st.tasks.most_common()))
    if st.strategies:
        say("strategies: " + ", ".join(f"{k} {v}" for k, v in st.strategies.most_common()))
    # two stacked tables of 7 columns rather than one of 12, so that 80 columns hold 8-digit numbers
    chars = _table("lengths in characters", ["column", "n", "min", "p50", "p90", "max", "mean"])
    unit = "tokens" if st.tokens_exact else "tokens (ESTIMATE: ~1 per CJK char + chars/4)"
    tokens = _table(f"lengths in {unit}, {st.tokenizer}", ["column", "n", "min", "p50", "p90", "max", "mean"])
    for col, ls in st.lengths.items():
        chars.add_row(Text(col), *map(str, (ls.n, ls.min, ls.p50, ls.p90, ls.max, round(ls.mean))))
        tokens.add_row(Text(col), *map(str, (ls.n, ls.tok_min, ls.tok_p50, ls.tok_p90, ls.tok_max, round(ls.tok_mean))))
    console.print(chars)
    console.print(tokens)
    say(f"duplicate rows: {st.duplicate_rows}; repeated prompts: {st.duplicate_prompts}")
    if st.rejected_unique_ratio is not None:
        say(f"rejected-side unique ratio: {st.rejected_unique_ratio:.3f}")


@data_app.command("estimate")
def estimate(
    file: Path = typer.Argument(..., help="JSONL or Parquet file."),
    provider: str = typer.Option("openai", "--provider", help="Provider in the price table."),
    model: str = typer.Option(..., "--model", "-m", help="Model to fine-tune, e.g. gpt-4o-mini-2024-07-18."),
    epochs: int | None = typer.Option(None, "--epochs", help="Fixed epochs (default: OpenAI's default-epochs rule)."),
    price: float | None = typer.Option(None, "--price", help="USD per 1M training tokens, overriding the table."),
    prices: Path | None = typer.Option(None, "--prices", help="Another price table (layout of ft_prices.yaml)."),
    tokenizer: str | None = typer.Option(None, "--tokenizer", "-t", help="As for `data stats`."),
) -> None:
    """Tokens per example, epochs, billed tokens and cost of a hosted fine-tune (OpenAI cookbook method)."""
    from slmforge.data.estimate import estimate_file

    e = estimate_file(file, provider=provider, model=model, epochs=epochs, price_per_1m=price,
                      tokenizer=tokenizer, prices=prices)
    flag = "" if e.tokens_exact else " (ESTIMATE: no exact tokenizer offline)"
    say((str(file), "bold"), f": {e.examples} examples, format {e.format}")
    say(f"tokens per example (with message overhead): min {e.tokens_min}, mean {e.tokens_mean:.0f}, "
        f"max {e.tokens_max}; over 16,385: {e.too_long} — {e.tokenizer}", (flag, "yellow"))
    rule = " (default rule)" if e.epochs_default else ""
    say(f"epochs: {e.epochs}{rule}; tokens per epoch: {e.tokens_per_epoch:,}; billed tokens: {e.billed_tokens:,}")
    say("cost: ", (f"${e.cost_usd:.2f}", "bold"), f" at ${e.price_per_1m:.2f} per 1M training tokens "
        f"({e.provider} {e.model}, prices of {e.price_updated})")


@data_app.command("split")
def split(
    file: Path = typer.Argument(..., help="JSONL or Parquet file."),
    by: str = typer.Option("subject", "--by", help="subject (no subject on both sides) or row."),
    eval_fraction: float = typer.Option(0.2, "--eval-fraction", help="Share of rows held out (the test side)."),
    seed: int = typer.Option(0, "--seed", help="Shuffling seed."),
    subject_key: str = typer.Option("product_name", "--subject-key",
                                    help="Key of the JSON object in the prompt naming the subject (no subject_id)."),
    out_dir: Path | None = typer.Option(None, "--out-dir", "-o", help="Where to write (default: next to FILE)."),
    kit: Path | None = typer.Option(None, "--kit", help=KIT_HELP),
) -> None:
    """Write FILE.train / FILE.test with no subject on both sides; print counts per task on each side."""
    from slmforge.data.split import split_file

    r = split_file(file, by=by, eval_fraction=eval_fraction, seed=seed, subject_key=subject_key, out_dir=out_dir, match=_matcher(kit))
    table = _table(f"split by {r.by}: {r.train_subjects} train / {r.test_subjects} test groups, none on both sides",
                   ["task", "train", "test"])
    for task in sorted(set(r.train_tasks) | set(r.test_tasks)):
        table.add_row(Text(task), str(r.train_tasks[task]), str(r.test_tasks[task]))
    table.add_row(Text("total", style="bold"), str(r.train_rows), str(r.test_rows))
    console.print(table)
    for w in r.warnings:
        say(f"warning: {w}")
    say(f"wrote {r.train_path} and {r.test_path}")


@data_app.command("convert")
def convert(
    src: Path = typer.Argument(..., help="Input JSONL or Parquet file."),
    dst: Path = typer.Argument(..., help="Output file (.parquet for verl)."),
    to: str = typer.Option(..., "--to", help=f"Target format: {FORMATS_HELP}."),
    source_format: str | None = typer.Option(None, "--from", help="Force the input format (default: detected)."),
    system: str | None = typer.Option(None, "--system", help="Inject this system message into every prompt."),
    data_source: str | None = typer.Option(None, "--data-source", help="VeRL data_source (default: input stem)."),
) -> None:
    """Convert between dataset formats; whatever the target cannot hold is reported, never dropped silently."""
    from slmforge.data.convert import convert_file

    r = convert_file(src, dst, to=to, source_format=source_format, system=system, data_source=data_source)
    say(("wrote", "green"), f" {r.output}: {r.rows} rows, {r.source_format} → {r.target_format}")
    if r.system_injected:
        say(f"system message set in {r.system_injected} rows")
    for fld, n in sorted(r.dropped.items()):
        say((f"not representable in {r.target_format}", "yellow"), f": {fld} in {n} rows")


def register(app: typer.Typer) -> None:
    """Attach the ``data`` command group."""
    app.add_typer(data_app, name="data")
