"""CLI of the `train` stage: ``slmforge model tiny``, ``slmforge train sft|dpo|rm|grpo|hosted``, ``slmforge merge``.

Only parses arguments, calls :mod:`slmforge.train` and prints; heavy imports happen inside commands.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

console = Console()

model_app = typer.Typer(help="Build or inspect base models.", no_args_is_help=True)


@model_app.command("tiny")
def tiny(
    out: Path = typer.Argument(..., help="Folder to write the model + tokenizer to."),
    files: list[Path] = typer.Argument(None, help="More corpus files (so `--corpus a b c` works)."),
    corpus: list[Path] = typer.Option([], "--corpus", help="JSONL / CSV / TXT files to train the tokenizer on."),
    vocab_size: int = typer.Option(8000, help="Target vocabulary size (tokens)."),
    hidden_size: int = typer.Option(64, help="Model width."),
    num_layers: int = typer.Option(2, help="Decoder layers."),
    seed: int = typer.Option(0, help="Seed of the random weights."),
) -> None:
    """Build a tiny random-weight Qwen2 model with a BPE tokenizer trained on the corpus (seconds, CPU)."""
    from slmforge.errors import ConfigError
    from slmforge.train.tiny import build_tiny_model

    paths = [*corpus, *(files or [])]
    if not paths:
        raise ConfigError("no corpus files given", field="--corpus", fix="pass --corpus FILE [FILE…]")
    path = build_tiny_model(out, paths, vocab_size=vocab_size, hidden_size=hidden_size,
                            num_layers=num_layers, seed=seed)
    console.print(f"tiny model written to [bold]{path}[/]")


def register(app: typer.Typer) -> None:
    """Attach this stage's commands to the top-level app."""
    app.add_typer(model_app, name="model")
