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


train_app = typer.Typer(help="Fine-tune: SFT, DPO, reward model, GRPO (TRL + LoRA), or on a hosted provider.",
                        no_args_is_help=True)


def _parse_sets(sets: list[str]) -> dict:
    import yaml

    from slmforge.errors import ConfigError

    out = {}
    for item in sets:
        key, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"bad --set {item!r}", field="--set", fix="write --set key.path=value")
        out[key] = yaml.safe_load(value)
    return out


def _run(method: str, config: Path | None, output: Path | None, sets: list[str], resume: bool) -> None:
    from slmforge.train import TRAINERS, load_train_config

    overrides = {"method": method, **_parse_sets(sets)}
    if output is not None:
        overrides["output_dir"] = str(output)
    cfg = load_train_config(config, overrides)
    run_dir = TRAINERS[method](cfg, resume=resume)
    import json

    metrics = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))["metrics"]
    for key, value in metrics.items():
        console.print(f"  {key}: {value:.4f}")
    console.print(f"[green]done[/]: {run_dir}")


def _method_command(method: str, doc: str):
    def command(
        config: Path = typer.Option(None, "--config", "-c", help="YAML training config (see train/configs/)."),
        output: Path = typer.Option(None, "--output", "-o", help="Run dir (overrides output_dir)."),
        sets: list[str] = typer.Option([], "--set", help="Override a config key: --set trl.learning_rate=1e-4."),
        resume: bool = typer.Option(False, "--resume", help="Continue from the last checkpoint of the run dir."),
    ) -> None:
        _run(method, config, output, sets, resume)

    command.__doc__ = doc
    train_app.command(method)(command)


_method_command("sft", "Supervised fine-tuning with LoRA and assistant-only loss.")
_method_command("dpo", "Direct Preference Optimization with LoRA (adapter-disabled reference).")
_method_command("rm", "Train a reward model (one-label classifier) and report pairwise accuracy per strategy.")
_method_command("grpo", "GRPO against the kit's checks (+ optional reward model).")


def merge(
    adapter: Path = typer.Argument(..., help="LoRA adapter folder (OUT/adapter of a training run)."),
    out: Path = typer.Argument(..., help="Folder for the merged model + tokenizer."),
    base: str = typer.Option(None, help="Base model (default: the path recorded in the adapter)."),
) -> None:
    """Merge a LoRA adapter into its base model and save a standalone model."""
    from slmforge.train.merge import merge_adapter

    console.print(f"merged model written to [bold]{merge_adapter(adapter, out, base=base)}[/]")


def register(app: typer.Typer) -> None:
    """Attach this stage's commands to the top-level app."""
    app.add_typer(model_app, name="model")
    app.add_typer(train_app, name="train")
    app.command("merge")(merge)
