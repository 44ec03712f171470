"""``slmforge check FILE [--kit DIR]``: check an SFT or preference file (JSONL or CSV) against the rules
its prompts state and, with a kit, against the kit's checks; print pass rates per task and per strategy
and the stated-rule table, and write per-row findings and verdicts as JSONL.

Every text that comes from the user (file names, task ids, strategy names) is printed literally
(:func:`rich.markup.escape`), so ``pairs[new].jsonl`` or a task ``ad[v2]`` is not read as Rich markup.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from slmforge.errors import UserError

if TYPE_CHECKING:
    from slmforge.checks.audit import FileAudit
    from slmforge.checks.stated import StatedSummary

console = Console(width=None if sys.stdout.isatty() else 140)  # pipes and logs get the whole table


def _table(title: str, audit: FileAudit, keys: list[tuple[str, str]], *, detail: bool = True) -> Table:
    """Pass rates per (task, side): one column per check when ``detail``, else only n and all."""
    names = list(audit.groups[keys[0]][0].results) if keys and audit.groups[keys[0]] and detail else []
    table = Table(title=title)
    table.add_column("task", no_wrap=True)
    table.add_column("side", no_wrap=True)
    for col in ("n", *names, "all"):
        table.add_column(col, justify="right")
    for key in keys:
        rates = audit.pass_rates(key)
        table.add_row(escape(key[0]), escape(key[1]), str(len(audit.groups[key])),
                      *[f"{100 * rates[n]:.0f}%" for n in names], f"{100 * rates['all']:.0f}%")
    return table


def print_rates(title: str, audit: FileAudit, keys: list[tuple[str, str]]) -> None:
    """The pass-rate table; when it is wider than the terminal (e.g. 80 columns), a narrow table (task, side,
    n, all) and then one line of per-check rates per group, wrapped at spaces — no header or number is cut."""
    table = _table(title, audit, keys)
    if console.measure(table, options=console.options.update_width(10_000)).maximum <= console.width:
        console.print(table)
        return
    console.print(_table(title, audit, keys, detail=False))
    for key in keys:
        rates = audit.pass_rates(key)
        cells = " · ".join(f"{n} {100 * v:.0f}%" for n, v in rates.items() if n != "all")
        console.print(f"{key[0]} / {key[1]}: {cells}", markup=False, highlight=False)


def stated_table(summary: StatedSummary, title: str = "rules stated in the prompts") -> Table:
    """The per-rule table of a :class:`~slmforge.checks.stated.StatedSummary`, at most 80 columns wide.

    Rows: rule families (:data:`slmforge.checks.stated.RULES`); columns: ``prompts`` (rows stating the
    rule), ``<side> breaks`` (texts breaking it) per side, and for pairs ``only chosen`` / ``only rejected``
    (pairs where that side breaks the rule and the other obeys it).
    """
    from slmforge.checks.stated import RULES

    pairs = "chosen" in summary.sides
    table = Table(title=title, caption="only chosen: chosen breaks the rule, rejected obeys it" if pairs else None,
                  collapse_padding=True)
    table.add_column("rule", no_wrap=True)
    table.add_column("prompts", justify="right")
    for side in summary.sides:
        table.add_column(f"{side}\nbreaks", justify="right")
    if pairs:
        table.add_column("only\nchosen", justify="right")
        table.add_column("only\nrejected", justify="right")
    for key, t in summary.ordered():
        cells = [str(t.broken[s]) for s in summary.sides]
        if pairs:
            cells += [str(t.only["chosen"]), str(t.only["rejected"])]
        table.add_row(RULES[key], str(t.stated), *cells)
    return table


def _print_stated(summary: StatedSummary, *, quiet_if_none: bool) -> None:
    v = summary.verdicts
    n = sum(v.values())
    stating = n - v["no_rules"]
    if not stating:
        if quiet_if_none:
            return
        console.print(f"no prompt states a rule the checks read (length, 句点なし, 絵文字なし …): {n} rows")
        return
    console.print(stated_table(summary))
    if "chosen" in summary.sides:
        pairs = stating - v["breaks"] - v["obeys"]
        console.print(f"{v['chosen_worse'] + v['mixed']}/{pairs} pairs: chosen breaks a stated rule that rejected "
                      f"obeys ({v['mixed']} of them also the reverse); {v['rejected_worse'] + v['mixed']}/{pairs} "
                      "the reverse", markup=False, highlight=False)
    if v["breaks"] or v["obeys"]:
        console.print(f"{v['breaks']}/{v['breaks'] + v['obeys']} completions break a stated rule", highlight=False)


def check(
    file: Path = typer.Argument(..., help="SFT or preference file: JSONL (TRL, OpenAI, seed formats) or CSV "
                                "(prompt / instruction, completion or chosen + rejected, optional task, method)."),
    kit: Path | None = typer.Option(None, "--kit", help="Kit directory (with kit.yaml); without it only the rules "
                                    "each prompt states are checked."),
    out: Path | None = typer.Option(None, "--out", help="Write per-row reports, findings and verdicts here (JSONL)."),
    only: list[str] = typer.Option(None, "--check", help="Run only these kit checks (repeatable; needs --kit; "
                                   "default: every per-text check of slmforge.checks.registry.CHECKS): lexicon, style, "
                                   "constraints, cta, facts, structure, markup, language, degenerate, coverage, "
                                   "informative."),
    rm: Path | None = typer.Option(None, "--rm", help="A reward model (run dir of `slmforge train rm` or its model/): "
                                   "adds the rm and rm+checks scores per text and their pairwise accuracy per "
                                   "strategy; needs --kit."),
    seed: int = typer.Option(0, "--seed", help="Torch and bootstrap seed of --rm scoring."),
) -> None:
    """Check every text of FILE against the rules its prompts state (and the kit's checks, with --kit).

    Stated rules: one row per rule family, how many prompts state it, how many texts break it, and how many
    pairs have a chosen side that breaks it while the rejected side obeys it. With --kit also pass rates:
    rows (task, side) and (*, side), side = completion, chosen or rejected:STRATEGY; columns: the checks and
    all (every check passed).
    """
    from rich.progress import Progress

    from slmforge.checks.audit import DEFAULT_CHECKS, check_file
    from slmforge.data.io import write_jsonl
    from slmforge.kit import load_kit

    if only and kit is None:
        raise UserError("--check selects kit checks", field="--check", fix="add --kit DIR, or drop --check")
    if rm is not None and kit is None:
        raise UserError("--rm combines the reward model with the kit's checks", field="--rm",
                        fix="add --kit DIR, or drop --rm")
    lk = load_kit(kit) if kit is not None else None
    with Progress(console=console, transient=True) as progress:
        bar = progress.add_task(f"checking {escape(file.name)}", total=None)
        audit = check_file(file, lk, checks=tuple(only) if only else DEFAULT_CHECKS,
                           on_row=lambda: progress.advance(bar))
    console.print(f"{escape(str(file))}: {len(audit.rows)} rows", highlight=False)
    if lk is not None:
        by_task = sorted(k for k in audit.groups if k[0] != "*")
        by_side = sorted(k for k in audit.groups if k[0] == "*")
        print_rates("pass rate per task", audit, by_task)
        print_rates("pass rate per side / strategy", audit, by_side)
        pairs = [r for r in audit.rows if "reference" in r]
        if pairs:
            minimal = sum(r["reference"]["minimal_fact_edit"] for r in pairs)
            console.print(f"{minimal}/{len(pairs)} rejected sides are minimal fact edits of their chosen side")
        if audit.unmatched:
            console.print(f"[yellow]{audit.unmatched} rows matched no task of the kit[/]: checked without task "
                          "constraints")
    _print_stated(audit.stated, quiet_if_none=lk is not None)
    if rm is not None:
        from slmforge.evaluate.scorers import score_audit

        console.print(_scorer_table(score_audit(audit, rm, seed=seed)))
    if out is not None:
        n = write_jsonl(out, audit.rows)
        console.print(f"[green]wrote[/] {n} rows → {escape(str(out))}", highlight=False)


def _scorer_table(acc: dict[str, dict[str, dict[str, float]]]) -> Table:
    """Pairwise accuracy (chosen scored above rejected) per strategy of the reward model alone and of rm+checks."""
    table = Table(title="pairwise accuracy (95% CI)")
    for col in ("strategy", "n", "rm", "rm+checks"):
        table.add_column(col, justify="left" if col == "strategy" else "right")
    for name, by in acc.items():
        cells = [f"{v['accuracy']:.3f} [{v['ci_low']:.2f}–{v['ci_high']:.2f}]" for v in (by["rm"], by["rm+checks"])]
        table.add_row(escape(name), str(by["rm"]["n"]), *cells)
    return table


def register(app: typer.Typer) -> None:
    """Attach ``slmforge check``."""
    app.command("check")(check)
