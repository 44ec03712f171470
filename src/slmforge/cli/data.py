"""``slmforge data validate|stats|estimate|split|convert``: parse arguments, call ``slmforge.data``, print."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)
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
            err_console.print(f"[bold red]error:[/] {e}", highlight=False)
            worst = 2
            continue
        shown = rep.problems[:limit] if limit else rep.problems
        for p in shown:
            console.print(str(p), highlight=False, soft_wrap=True, markup=False)
        if len(shown) < len(rep.problems):
            console.print(f"... {len(rep.problems) - len(shown)} more", highlight=False)
        if rep.ok:
            console.print(f"[green]ok[/] {path}: {rep.rows} rows, format {rep.format}", highlight=False)
        else:
            counts = ", ".join(f"{k} {v}" for k, v in sorted(rep.counts().items()))
            console.print(f"[red]{len(rep.problems)} problem(s)[/] in {path}: {rep.rows} rows, "
                          f"format {rep.format or 'unknown'} ({counts})", highlight=False)
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
    console.print(f"[bold]{file}[/]: {st.rows} rows, format {st.format}", highlight=False)
    console.print("tasks: " + ", ".join(f"{k} {v}" for k, v in st.tasks.most_common()), highlight=False)
    if st.strategies:
        console.print("strategies: " + ", ".join(f"{k} {v}" for k, v in st.strategies.most_common()), highlight=False)
    unit = "tokens" if st.tokens_exact else "tokens (ESTIMATE: ~1 per CJK char + chars/4)"
    table = Table(title=f"lengths: characters and {unit} — {st.tokenizer}")
    for col in ("column", "n", "chars min", "p50", "p90", "max", "mean", "tokens min", "p50", "p90", "max", "mean"):
        table.add_column(col, justify="right")
    for col, ls in st.lengths.items():
        table.add_row(col, str(ls.n), str(ls.min), str(ls.p50), str(ls.p90), str(ls.max), f"{ls.mean:.0f}",
                      str(ls.tok_min), str(ls.tok_p50), str(ls.tok_p90), str(ls.tok_max), f"{ls.tok_mean:.0f}")
    console.print(table)
    console.print(f"duplicate rows: {st.duplicate_rows}; repeated prompts: {st.duplicate_prompts}", highlight=False)
    if st.rejected_unique_ratio is not None:
        console.print(f"rejected-side unique ratio: {st.rejected_unique_ratio:.3f}", highlight=False)


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
    flag = "" if e.tokens_exact else " [yellow](ESTIMATE: no exact tokenizer offline)[/]"
    console.print(f"[bold]{file}[/]: {e.examples} examples, format {e.format}", highlight=False)
    console.print(f"tokens per example (with message overhead): min {e.tokens_min}, mean {e.tokens_mean:.0f}, "
                  f"max {e.tokens_max}; over 16,385: {e.too_long} — {e.tokenizer}{flag}", highlight=False)
    rule = " (default rule)" if e.epochs_default else ""
    console.print(f"epochs: {e.epochs}{rule}; tokens per epoch: {e.tokens_per_epoch:,}; "
                  f"billed tokens: {e.billed_tokens:,}", highlight=False)
    console.print(f"cost: [bold]${e.cost_usd:.2f}[/] at ${e.price_per_1m:.2f} per 1M training tokens "
                  f"({e.provider} {e.model}, prices of {e.price_updated})", highlight=False)


@data_app.command("split")
def split(
    file: Path = typer.Argument(..., help="JSONL or Parquet file."),
    by: str = typer.Option("subject", "--by", help="subject (no subject on both sides) or row."),
    ratio: float = typer.Option(0.8, "--ratio", help="Share of rows for the train side."),
    seed: int = typer.Option(0, "--seed", help="Shuffling seed."),
    subject_key: str = typer.Option("product_name", "--subject-key",
                                    help="Key of the JSON object in the prompt naming the subject (no subject_id)."),
    out_dir: Path | None = typer.Option(None, "--out-dir", "-o", help="Where to write (default: next to FILE)."),
    kit: Path | None = typer.Option(None, "--kit", help=KIT_HELP),
) -> None:
    """Write FILE.train / FILE.test with no subject on both sides; print counts per task on each side."""
    from slmforge.data.split import split_file

    r = split_file(file, by=by, ratio=ratio, seed=seed, subject_key=subject_key, out_dir=out_dir, match=_matcher(kit))
    table = Table(title=f"split by {r.by}: {r.train_subjects} train / {r.test_subjects} test groups, none on both sides")
    for col in ("task", "train", "test"):
        table.add_column(col, justify="right" if col != "task" else "left")
    for task in sorted(set(r.train_tasks) | set(r.test_tasks)):
        table.add_row(task, str(r.train_tasks[task]), str(r.test_tasks[task]))
    table.add_row("[bold]total[/]", str(r.train_rows), str(r.test_rows))
    console.print(table)
    for w in r.warnings:
        console.print(f"warning: {w}", markup=False, highlight=False)
    console.print(f"wrote {r.train_path} and {r.test_path}", markup=False, highlight=False)


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
    console.print(f"[green]wrote[/] {r.output}: {r.rows} rows, {r.source_format} → {r.target_format}", highlight=False)
    if r.system_injected:
        console.print(f"system message set in {r.system_injected} rows", highlight=False)
    for fld, n in sorted(r.dropped.items()):
        console.print(f"[yellow]not representable in {r.target_format}[/]: {fld} in {n} rows", highlight=False)


def register(app: typer.Typer) -> None:
    """Attach the ``data`` command group."""
    app.add_typer(data_app, name="data")
