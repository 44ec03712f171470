"""``slmforge synth`` / ``slmforge clean`` / ``slmforge prefs``: parse flags, build the LLM client, call the
library (:mod:`slmforge.synth`), print the stage report.

Examples::

    slmforge synth examples/elemental-equation --out runs/demo/synth --models models.yaml --budget 2
    slmforge clean examples/elemental-equation runs/demo/synth/sft.jsonl --out runs/demo/clean --models models.yaml
    slmforge prefs examples/elemental-equation runs/demo/clean/sft.jsonl --out runs/demo/prefs --models models.yaml

``models.yaml`` maps roles (``teacher``, ``weak``) to model configs (see ``slmforge.llm.config``); instead,
``--teacher-model`` / ``--base-url`` (and ``--weak-model`` / ``--weak-base-url``) name one endpoint per role.
All calls go through one SQLite ledger (default ``<out>/../ledger.sqlite``), so rerunning a stage after
Ctrl-C or a budget stop pays nothing for finished calls.

Without a teacher the stages work offline, as ``slmforge run`` does: ``clean --no-rewrite`` only filters,
and ``prefs`` makes the exaggerated and fake rejected sides by rule (weak ones from ``--weak-model``, a
local model folder)::

    slmforge clean KIT runs/demo/synth/sft.jsonl --out runs/demo/clean --no-rewrite
    slmforge prefs KIT runs/demo/clean/sft.jsonl --out runs/demo/prefs --weak-model runs/demo/model/model
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

console = Console()

KIT = typer.Argument(..., help="Kit directory (with kit.yaml).")
OUT = typer.Option(..., "--out", "-o", help="Stage output directory.")
CONFIG = typer.Option(None, "--config", "-c", help="Stage config YAML (fields of the stage's config model).")
MODELS = typer.Option(None, "--models", help="YAML mapping role → model config (teacher, weak, …).")
TEACHER = typer.Option(None, "--teacher-model", help="Teacher model id (OpenAI-compatible endpoint).")
BASE_URL = typer.Option(None, "--base-url", help="Endpoint of --teacher-model (ends with /v1).")
LEDGER = typer.Option(None, "--ledger", help="SQLite ledger of all calls (default: <out>/../ledger.sqlite).")
BUDGET = typer.Option(None, "--budget", help="Stop before spending more than this many USD in this run.")
DRY_RUN = typer.Option(False, "--dry-run", help="Estimate requests and cost; call no model.")


def _client(out: Path, models: Path | None, teacher: str | None, base_url: str | None, ledger: Path | None,
            budget: float | None, dry_run: bool, weak: str | None = None, weak_base_url: str | None = None, *,
            required: str | None = "pass --models models.yaml or --teacher-model ID"):
    """Build the LLM client from --models and/or the per-role flags (flags override the file).

    Args:
        required: the fix shown when no model is given at all; None: a client without roles is fine
            (the stage needs no model, e.g. ``clean --no-rewrite``).

    Raises:
        ConfigError: no model given while ``required``, or a models file that does not validate.
    """
    from slmforge.errors import ConfigError
    from slmforge.llm import LLMClient
    from slmforge.llm.config import load_models

    flags: dict = {}
    if teacher:
        flags["teacher"] = {"backend": "openai", "model": teacher, "base_url": base_url}
    if weak:
        flags["weak"] = ({"backend": "openai", "model": weak, "base_url": weak_base_url} if weak_base_url
                         else {"backend": "local", "model": weak})
    parsed = load_models(models, flags)
    if not parsed and required:
        raise ConfigError("no model given", field="--models", fix=required)
    ledger = ledger or out.resolve().parent / "ledger.sqlite"
    return LLMClient(parsed, ledger=ledger, run_id=out.resolve().parent.name, budget_usd=budget, dry_run=dry_run)


def _print(report_path: Path, keys: list[str]) -> None:
    import json

    from rich.text import Text

    rep = json.loads(report_path.read_text(encoding="utf-8"))
    if rep.get("dry_run"):
        keys = ["requested", "calls", "cache_hits", "estimated_prompt_tokens", "estimated_completion_tokens",
                "estimated_cost_usd"]
    line = Text()
    for k in keys:
        if k in rep:
            line.append_text(Text.assemble("  " if line else "", (k, "bold"), f"={rep[k]}"))
    console.print(line, highlight=False)
    console.print(Text.assemble(("done", "green"), f": {report_path.parent}"), highlight=False)


def synth(
    kit: Path = KIT, out: Path = OUT, config: Path | None = CONFIG, models: Path | None = MODELS,
    teacher_model: str | None = TEACHER, base_url: str | None = BASE_URL, ledger: Path | None = LEDGER,
    budget: float | None = BUDGET, dry_run: bool = DRY_RUN,
    tasks: str | None = typer.Option(None, help="Comma-separated task ids (default: all)."),
    limit_subjects: int | None = typer.Option(None, help="Use only the first N subjects."),
    variants: int | None = typer.Option(None, help="Texts per subject × task."),
    k_examples: int | None = typer.Option(None, help="Golden examples sampled into each prompt."),
    seed: int | None = typer.Option(None, help="Sampling seed."),
    value_mode: bool | None = typer.Option(None, "--value-mode/--no-value-mode",
                                           help="Product–value mode: the teacher proposes values per product."),
) -> None:
    """Generate SFT data with the teacher: subject × task × variants → sft.jsonl + failures + report."""
    from slmforge.kit import load_kit
    from slmforge.synth import SynthConfig, load_config, synthesize

    lk = load_kit(kit)
    cfg = load_config(config, SynthConfig, tasks=tasks.split(",") if tasks else None, limit_subjects=limit_subjects,
                      variants=variants, k_examples=k_examples, seed=seed, value_mode=value_mode)
    client = _client(out, models, teacher_model, base_url, ledger, budget, dry_run)
    path = synthesize(lk, cfg, client, out)
    _print(path.parent / "report.json", ["requested", "received", "parse_failures", "cost_usd", "spent_usd", "time_s"])


def clean(
    kit: Path = KIT, in_path: Path = typer.Argument(..., help="sft.jsonl to clean."), out: Path = OUT,
    config: Path | None = CONFIG, models: Path | None = MODELS, teacher_model: str | None = TEACHER,
    base_url: str | None = BASE_URL, ledger: Path | None = LEDGER, budget: float | None = BUDGET,
    dry_run: bool = DRY_RUN,
    dedup_threshold: float | None = typer.Option(None, help="MinHash Jaccard threshold of near-duplicates."),
    no_rewrite: bool = typer.Option(False, "--no-rewrite", help="Only filter; send nothing to a teacher (no model "
                                                                "needed)."),
) -> None:
    """Clean SFT data: rule pass, near-duplicate removal, targeted rewrites → sft.jsonl + removed.jsonl + report."""
    from slmforge.kit import load_kit
    from slmforge.synth import CleanConfig, clean as run_clean, load_config

    lk = load_kit(kit)
    cfg = load_config(config, CleanConfig, dedup_threshold=dedup_threshold, rewrite_passes=[] if no_rewrite else None)
    needs = "pass --models models.yaml or --teacher-model ID for the rewrites, or --no-rewrite to only filter"
    client = _client(out, models, teacher_model, base_url, ledger, budget, dry_run,
                     required=needs if cfg.rewrite_passes else None)
    path = run_clean(lk, cfg, client, in_path, out)
    _print(path.parent / "report.json", ["input", "output", "removed", "near_duplicates", "cost_usd", "time_s"])


def prefs(
    kit: Path = KIT, in_path: Path = typer.Argument(..., help="Cleaned sft.jsonl (chosen texts)."), out: Path = OUT,
    config: Path | None = CONFIG, models: Path | None = MODELS, teacher_model: str | None = TEACHER,
    base_url: str | None = BASE_URL, ledger: Path | None = LEDGER, budget: float | None = BUDGET,
    dry_run: bool = DRY_RUN,
    weak_model: str | None = typer.Option(None, help="Weak model: HF id / folder (local) or endpoint model id."),
    weak_base_url: str | None = typer.Option(None, help="Endpoint of --weak-model (omit for a local model)."),
    mix: str | None = typer.Option(None, help="Strategy mix, e.g. weak=0.5,exaggerated=0.3,fake=0.2."),
    seed: int | None = typer.Option(None, help="Assignment seed."),
) -> None:
    """Build preference pairs (chosen = cleaned text; rejected by weak / exaggerated / fake strategies).

    Without a teacher (no `teacher` role, no --teacher-model) it works offline as `slmforge run` does: exaggerated and fake rejected sides are rule-based perturbations, weak ones come from --weak-model."""
    from slmforge.errors import ConfigError
    from slmforge.kit import load_kit
    from slmforge.synth import PrefsConfig, build_prefs, load_config
    from slmforge.synth.perturb import build_offline_prefs

    parsed_mix = None
    if mix:
        try:
            parsed_mix = {k.strip(): float(v) for k, v in (part.split("=") for part in mix.split(","))}
        except ValueError as e:
            raise ConfigError(f"cannot read --mix {mix!r}", field="--mix", fix="write name=share pairs, "
                              "e.g. weak=0.5,exaggerated=0.3,fake=0.2") from e
    lk = load_kit(kit)
    cfg = load_config(config, PrefsConfig, mix=parsed_mix, seed=seed)
    client = _client(out, models, teacher_model, base_url, ledger, budget, dry_run, weak_model, weak_base_url,
                     required=None)
    if client.has_role(cfg.red_team_role):
        path = build_prefs(lk, cfg, client, in_path, out)
    else:
        if cfg.mix.get("weak", 0) > 0 and not client.has_role(cfg.weak_role):
            raise ConfigError("the weak strategy needs a weak model, and no teacher is configured either",
                              field="--weak-model", fix="pass --weak-model with a local model folder or hub id "
                              "(e.g. runs/demo/model/model), or --mix weak=0,exaggerated=0.6,fake=0.4")
        if dry_run:
            raise ConfigError("--dry-run estimates teacher calls, and no teacher is configured", field="--dry-run",
                              fix="drop --dry-run (offline rejected sides cost nothing), or pass --teacher-model")
        weak_note = f"; weak ones from {client.models[cfg.weak_role].model}" if client.has_role(cfg.weak_role) else ""
        console.print(f"no {cfg.red_team_role!r} role: exaggerated and fake rejected sides are rule-based "
                      f"perturbations{weak_note}", markup=False, highlight=False)
        path = build_offline_prefs(lk, cfg, client, in_path, out)
    _print(path.parent / "report.json", ["input", "pairs", "failed", "cost_usd", "time_s"])


def register(app: typer.Typer) -> None:
    """Attach ``synth``, ``clean`` and ``prefs``."""
    app.command("synth")(synth)
    app.command("clean")(clean)
    app.command("prefs")(prefs)
