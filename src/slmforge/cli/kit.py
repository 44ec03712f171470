"""``slmforge kit init NAME --language xx`` (a starter kit) and ``slmforge kit validate DIR`` (load a kit and
report what it holds, or every problem with its fix)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

console = Console()
kit_app = typer.Typer(help="Start, inspect and validate brand kits.", no_args_is_help=True)


@kit_app.command("init")
def init(name: str = typer.Argument(..., help="Kit name (also the brand name unless --brand)."),
         language: str = typer.Option(..., "--language", "-l", help="Language of the copy: en, zh, ja or ko "
                                                                    "(BCP-47, e.g. zh-Hans)."),
         out: Path | None = typer.Option(None, "--out", "-o", help="Kit directory to create (default: ./NAME, "
                                                                   "lower case, spaces as dashes)."),
         brand: str | None = typer.Option(None, "--brand", help="Brand name as it appears in copy."),
         force: bool = typer.Option(False, "--force", help="Overwrite the files of an existing kit.")) -> None:
    """Write a starter kit that passes `slmforge kit validate --strict`: kit.yaml (voice, lexicon, one task), 5 products, 5 golden texts.

    Starter texts exist for en, zh, ja and ko; replace them with the brand's own."""
    import re

    from slmforge.kit.scaffold import scaffold_kit

    default = re.sub(r"[^\w.-]+", "-", name.strip()).strip("-.").lower() or "kit"
    path = scaffold_kit(name, language, out or Path(default), brand=brand, force=force)
    console.print(Text.assemble(("wrote", "green"), f" {path.parent}: kit.yaml, products.csv, golden.jsonl, "
                                "README.md"), highlight=False)
    console.print(f"next: edit the placeholder texts, then run  slmforge kit validate --strict {path.parent}",
                  markup=False, highlight=False, soft_wrap=True)


@kit_app.command("validate")
def validate(path: Path = typer.Argument(..., help="Kit directory (with kit.yaml) or the kit.yaml file."),
             strict: bool = typer.Option(False, "--strict", help="Exit 2 when a golden text fails the kit's checks "
                                                                  "or a task has fewer than 5 golden examples.")) -> None:
    """Validate kit.yaml, its catalog and golden examples, render every template once, check every golden
    text with the kit's own checks and count golden examples per task; report every problem at once."""
    from slmforge.kit import load_kit, render_student_prompt, render_teacher_prompt
    from slmforge.kit.quality import coverage_problems, golden_problems

    lk = load_kit(path)
    first = next(iter(lk.subjects.values()))
    table = Table(title=Text(f"kit {lk.kit.name} ({lk.kit.language}) — hash {lk.hash}"))
    for col in ("task", "family", "golden", "max chars", "CTA", "criteria"):
        table.add_column(col)
    for t in lk.kit.tasks:
        render_student_prompt(lk.kit, t, first)
        render_teacher_prompt(lk.kit, t, first, [g.text for g in lk.golden_for(t.id)[:2]])
        table.add_row(Text(t.id), Text(t.family), str(len(lk.golden_for(t.id))), str(t.constraints.max_chars or "-"),
                      "yes" if t.constraints.cta_required else "no", str(len(t.rubric.criteria)))
    console.print(table)
    problems = coverage_problems(lk) + golden_problems(lk)
    for p in problems:
        console.print(f"{'error' if strict else 'warning'}: {p}", markup=False, highlight=False)
    summary = f"{len(lk.subjects)} subjects, {len(lk.kit.tasks)} tasks, {len(lk.golden)} golden examples"
    if problems and strict:
        console.print(f"{len(problems)} problem(s) (--strict): {summary}", markup=False, highlight=False)
        raise typer.Exit(2)
    warnings = f", {len(problems)} warning(s)" if problems else ""
    console.print(Text.assemble(("ok", "green"), f": {summary}{warnings}"), highlight=False)


def register(app: typer.Typer) -> None:
    """Attach the ``kit`` command group."""
    app.add_typer(kit_app, name="kit")
