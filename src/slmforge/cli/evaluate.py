"""``slmforge eval`` (generate, score, judge, report) and ``slmforge report --from-scores FILE``.

    slmforge eval --kit examples/elemental-equation --config eval.yaml --models models.yaml --out runs/eval
    slmforge eval --kit examples/elemental-equation --run runs/demo     # a finished run's candidates
    slmforge report --from-scores scores.csv --out runs/report
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.text import Text

from slmforge.errors import UserError

console = Console()
RERUN_DIR = "reeval"
"""Folder of a run dir that ``eval --run`` writes to by default (``eval/`` belongs to the pipeline's stage)."""


def run_context(run_dir: Path, kit: Path, *, max_items: int | None, max_tokens: int | None, models: Path | None):
    """The pipeline context of a finished run, rebuilt from its directory, for ``eval --run``.

    The student is the run's tiny model (``model/model``) or the base chain of ``model/student.json``; the
    trained stages are those whose ``stage.json`` says ``done``; the eval settings (items, sampling,
    bootstrap, few-shot) are those the run's eval stage used (``eval/config.json``), else the project
    defaults, with ``max_items`` / ``max_tokens`` (new tokens) over them; the roles are those of
    ``models`` (a judge), else none.

    Raises:
        UserError: ``run_dir`` is not a run directory, or its ``split`` stage has not finished.
    """
    import json

    from slmforge.errors import ConfigError
    from slmforge.kit import load_kit
    from slmforge.llm.config import load_models
    from slmforge.pipeline.project import STAGES, ProjectConfig
    from slmforge.pipeline.stages import Context
    from slmforge.pipeline.state import read_record

    records = {s: read_record(run_dir / s) for s in STAGES}
    done = {s for s, rec in records.items() if rec is not None and rec.status == "done"}
    if not any(records.values()):
        raise UserError("not a run directory (no stage.json in any stage folder)", file=run_dir,
                        fix="pass runs/<name> of a `slmforge run`")
    if "split" not in done or "model" not in done:
        raise ConfigError("the run has no finished held-out split and student yet", file=run_dir, field="--run",
                          fix="run `slmforge run PROJECT.yaml --until split` (or further) first")
    if (run_dir / "model" / "model").is_dir():
        student: dict = {"tiny": {}}
    else:
        student = {"base": json.loads((run_dir / "model" / "student.json").read_text(encoding="utf-8"))["base"]}
    section: dict = {}
    if (run_dir / "eval" / "config.json").is_file():  # the settings the run's own eval stage used
        used = json.loads((run_dir / "eval" / "config.json").read_text(encoding="utf-8"))
        section = {k: used[k] for k in ("max_items", "sampling", "n_boot")}
        section["few_shot"] = next(c["few_shot"] for c in used["candidates"] if c["kind"] == "prompting")
    if max_items is not None:
        section["max_items"] = max_items
    if max_tokens is not None:
        section["sampling"] = section.get("sampling", {}) | {"max_tokens": max_tokens}
    cfg = ProjectConfig.model_validate({"name": run_dir.resolve().name, "kit": str(kit), "student": student,
                                        "eval": section})
    return Context(cfg=cfg, lk=load_kit(kit), run_dir=run_dir.resolve(), roles=load_models(models) if models else {},
                   enabled=done)


def _run_kit(run_dir: Path) -> Path:
    """The kit directory a run used (``summary.json``).

    Raises:
        UserError: the run dir has no summary naming its kit (an older run, or not a run dir).
    """
    import json

    path = run_dir / "summary.json"
    kit = json.loads(path.read_text(encoding="utf-8")).get("kit") if path.is_file() else None
    if not kit:
        raise UserError("the run does not say which kit it used", file=path, field="--kit",
                        fix="pass --kit DIR (the project's kit)")
    return Path(kit)


def _eval_run(kit: Path, run_dir: Path, out: Path | None, models: Path | None, ledger: Path | None,
              budget: float | None, max_items: int | None, max_tokens: int | None, heldout: Path | None) -> None:
    """``eval --run``: the candidates of the pipeline's eval stage (:func:`slmforge.pipeline.training.eval_setup`)."""
    from slmforge.evaluate import evaluate
    from slmforge.llm.client import LLMClient
    from slmforge.pipeline.training import eval_setup

    ctx = run_context(run_dir, kit, max_items=max_items, max_tokens=max_tokens, models=models)
    cfg, roles, notes = eval_setup(ctx)
    if heldout:
        cfg = cfg.model_copy(update={"heldout": str(heldout)})
    out = out or run_dir / RERUN_DIR
    for note in notes:
        console.print(f"note: {note}", markup=False, highlight=False)
    console.print("candidates: " + ", ".join(c.name for c in cfg.candidates), markup=False, highlight=False)
    client = LLMClient(roles, ledger=ledger or ctx.ledger, run_id=f"eval:{ctx.cfg.name}", budget_usd=budget)
    try:
        report_dir = evaluate(ctx.lk, cfg, client, out, run_dir=run_dir)
    finally:
        client.close()
    console.print(Text.assemble(("report", "green"), f": {report_dir / 'report.html'}",
                                f"  (spent ${client.spent_usd:.4f})"), highlight=False)


def eval_command(
    kit: Path | None = typer.Option(None, "--kit", help="Kit directory (kit.yaml, catalog, golden); with --run, "
                                    "default: the run's kit (its summary.json)."),
    config: Path | None = typer.Option(None, "--config", "-c", help="Eval config YAML (candidates, heldout, sampling, judge)."),
    models: Path | None = typer.Option(None, "--models", "-m", help="YAML of role → model config (base, sft, judge …)."),
    generations: Path | None = typer.Option(None, "--generations", "-g",
                                            help="Score outputs that already exist (JSONL/CSV: item_id or prompt, "
                                                 "candidate, text, optional external score columns); no model runs."),
    rm: Path | None = typer.Option(None, "--rm", help="With --generations: a trained reward model run dir (adds `rm`)."),
    run: Path | None = typer.Option(None, "--run", help="A finished `slmforge run` dir: evaluate its candidates "
                                                         "(base, sft, dpo, grpo, prompting, golden) on its held-out "
                                                         "split, as its eval stage does; no --config needed."),
    out: Path | None = typer.Option(None, "--out", "-o", help=f"Report directory (default: runs/eval; with --run, "
                                                              f"RUN/{RERUN_DIR})."),
    ledger: Path | None = typer.Option(None, "--ledger", help="SQLite ledger (default $SLMFORGE_HOME/ledger.sqlite; "
                                                              "with --run, the run's ledger)."),
    budget: float | None = typer.Option(None, "--budget", help="Stop before spending more than this many USD."),
    max_items: int | None = typer.Option(None, "--max-items", help="At most this many held-out items per task."),
    heldout: Path | None = typer.Option(None, "--heldout", help="Held-out SFT JSONL (overrides the config)."),
    max_tokens: int | None = typer.Option(None, "--max-tokens", min=1,
                                          help="Max new tokens per generation (overrides the config's sampling)."),
) -> None:
    """Evaluate candidates on held-out prompts: rule metrics, reward-model and LLM-judge scores, report.

    With --run RUN_DIR, evaluate a finished run's trained models exactly as its eval stage does (a judge only when --models has a `judge` role).

    With --generations, score texts that already exist instead (same metrics, scorecard and report)."""
    from slmforge.errors import ConfigError
    from slmforge.evaluate import evaluate, load_eval_config
    from slmforge.kit import load_kit
    from slmforge.llm.client import LLMClient
    from slmforge.llm.config import load_models
    from slmforge.llm.ledger import default_path

    if run is not None:
        if config is not None or generations is not None:
            raise ConfigError("--run derives the candidates from the run", field="--config/--generations",
                              fix="drop --config and --generations, or drop --run")
        _eval_run(kit or _run_kit(run), run, out, models, ledger, budget, max_items, max_tokens, heldout)
        return
    if kit is None:
        raise UserError("no kit", field="--kit", fix="pass --kit DIR (the kit the texts were written for)")
    out = out or Path("runs/eval")
    lk = load_kit(kit)
    if generations is not None:
        from slmforge.evaluate.existing import evaluate_existing

        report_dir = evaluate_existing(lk, generations, out, rm_dir=str(rm) if rm else None)
        console.print(f"report: {report_dir / 'report.html'}", markup=False, highlight=False)
        return
    if config is None or models is None:
        raise ConfigError("--config and --models are needed to generate", field="--config",
                          fix="pass both, or --run RUN_DIR to evaluate a finished run, or --generations FILE "
                              "to score outputs that already exist")
    cfg = load_eval_config(config)
    updates = {k: v for k, v in {"max_items": max_items, "heldout": str(heldout) if heldout else None}.items() if v}
    if max_tokens:
        updates["sampling"] = cfg.sampling.model_dump() | {"max_tokens": max_tokens}
    cfg = cfg.model_validate(cfg.model_dump() | updates)
    client = LLMClient(load_models(models), ledger=ledger or default_path(), run_id=f"eval:{out.name}",
                       budget_usd=budget)
    try:
        report_dir = evaluate(lk, cfg, client, out)
    finally:
        client.close()
    console.print(Text.assemble(("report", "green"), f": {report_dir / 'report.html'}",
                                f"  (spent ${client.spent_usd:.4f})"), highlight=False)


def report_command(
    from_scores: Path = typer.Option(..., "--from-scores", help="CSV: task, candidate, [item_id, text], score columns."),
    out: Path = typer.Option(Path("runs/report"), "--out", "-o", help="Report directory."),
    pairwise: Path | None = typer.Option(None, "--pairwise", help="Optional pairwise.csv (a, b, outcome, consistent, len_a, len_b)."),
    title: str = typer.Option("Evaluation report", "--title", help="Page title."),
    n_boot: int = typer.Option(1000, "--n-boot", help="Bootstrap replicates for the win-rate intervals."),
) -> None:
    """Build the report's tables and plots from externally produced per-item scores."""
    import csv

    from slmforge.evaluate.report import ReportMeta, read_scores_csv, write_report

    rows = read_scores_csv(from_scores)
    verdicts = []
    if pairwise:
        with pairwise.open(encoding="utf-8-sig", newline="") as f:
            verdicts = list(csv.DictReader(f))
    meta = ReportMeta(title=title, subtitle=f"from {from_scores} · {len(rows)} rows",
                      settings={"from_scores": str(from_scores), "pairwise": str(pairwise) if pairwise else None})
    path = write_report(rows, verdicts, out, meta, n_boot=n_boot)
    console.print(Text.assemble(("report", "green"), f": {path}"), highlight=False)


def register(app: typer.Typer) -> None:
    """Attach ``eval`` and ``report``."""
    app.command("eval")(eval_command)
    app.command("report")(report_command)
