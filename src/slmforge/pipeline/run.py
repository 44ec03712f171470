"""``slmforge run PROJECT.yaml``: every stage in order, skipping what is up to date, resuming what was cut.

Run it: ``slmforge run examples/elemental-equation/project.yaml`` (the offline demo), then
``slmforge status runs/demo``. The run dir holds one folder per stage (artifacts, ``config.json``,
``manifest.json``, ``stage.json``), ``ledger.sqlite`` (every model call) and ``summary.json``.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from slmforge.errors import ConfigError
from slmforge.kit import load_kit
from slmforge.llm.config import ModelConfig
from slmforge.pipeline import stages as S
from slmforge.pipeline import training as T
from slmforge.pipeline.project import STAGES, ProjectConfig, load_project
from slmforge.pipeline.state import StageRow, decide, fingerprint, read_record, write_record
from slmforge.runs import Manifest

log = logging.getLogger(__name__)

STAGE_FUNCS: dict[str, Callable[[S.Context, Path, bool], Manifest]] = {
    "model": S.stage_model, "synth": S.stage_synth, "clean": S.stage_clean, "split": S.stage_split,
    "prefs": S.stage_prefs, "sft": T.stage_sft, "merge": T.stage_merge, "dpo": T.stage_dpo, "rm": T.stage_rm,
    "grpo": T.stage_grpo, "eval": T.stage_eval,
}


@dataclass
class RunSummary:
    """The result of :func:`run_project`: what each stage did in this invocation (:class:`StageRow`, state
    ``ran`` / ``resumed`` / ``skipped`` / ``off`` / ``not selected``), the kit directory, plain-language notes,
    where the report is."""

    name: str
    run_dir: str
    stages: list[StageRow]
    kit: str
    notes: list[str]
    report: str | None
    serve_command: str | None

    @property
    def cost_usd(self) -> float:
        """Model spend of the stages that ran in this invocation (USD)."""
        return round(sum(s.cost_usd for s in self.stages if s.state in ("ran", "resumed")), 6)


def unreachable(cfg: ModelConfig, timeout_s: float = 5.0) -> str | None:
    """Why an ``openai``-backend role cannot be used right now (no key, endpoint down), or None when it can.

    Probes ``GET {base_url}/models`` once with the role's key (a few hundred bytes, no tokens billed).
    """
    import httpx

    if cfg.backend == "local":
        return None
    key = os.environ.get(cfg.api_key_env)
    local = bool(cfg.base_url) and ("127.0.0.1" in cfg.base_url or "localhost" in cfg.base_url)
    if not key and not local:
        return f"${cfg.api_key_env} is not set"
    url = (cfg.base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1").rstrip("/") + "/models"
    try:
        r = httpx.get(url, headers={"Authorization": f"Bearer {key or 'no-key'}"}, timeout=timeout_s)
    except httpx.HTTPError as e:
        return f"{url} unreachable ({type(e).__name__})"
    return None if r.status_code < 500 and r.status_code not in (401, 403) else f"{url} answered {r.status_code}"


def _roles(cfg: ProjectConfig, notes: list[str]) -> tuple[dict[str, ModelConfig], dict[str, str]]:
    """The usable model of each declared role (first of its fallback chain that answers), and for the roles
    with none, why."""
    roles, unusable = {}, {}
    for role, mc in cfg.models.items():
        chain = [mc, *mc.fallback]
        reasons = [(m.model, unreachable(m)) for m in chain]
        usable = next((m for m, (_, why) in zip(chain, reasons, strict=True) if why is None), None)
        if usable is None:
            unusable[role] = "; ".join(f"{m}: {why}" for m, why in reasons)
            notes.append(f"role {role!r} not usable (optional, dropped): {unusable[role]}")
            continue
        if usable is not mc:
            notes.append(f"role {role!r}: {mc.model} unusable ({reasons[0][1]}); falling back to {usable.model}")
        roles[role] = usable
    return roles, unusable


def _load(path: str | Path, budget_usd: float | None) -> ProjectConfig:
    cfg, _ = load_project(path)
    return cfg if budget_usd is None else cfg.model_copy(update={"budget_usd": budget_usd})


def check_project(path: str | Path, *, budget_usd: float | None = None) -> list[str]:
    """Validate a project as ``run`` would before its first stage, and describe the run (``run --check``);
    ``budget_usd`` overrides the project's budget (USD) as ``run --budget`` does.

    Raises:
        ConfigError / KitError: every problem found (see :func:`slmforge.pipeline.validate.validate_project`).
    """
    from slmforge.pipeline.validate import describe, validate_project

    cfg = _load(path, budget_usd)
    lk = load_kit(cfg.kit)
    notes: list[str] = []
    roles, unusable = _roles(cfg, notes)
    enabled = enabled_stages(cfg)
    validate_project(cfg, path, enabled, unusable)
    budget = f"budget ${cfg.budget_usd:.2f}" if cfg.budget_usd is not None else "no budget set"
    return [f"kit {lk.kit.name}: {len(lk.subjects)} subjects, {len(lk.kit.tasks)} tasks, {len(lk.golden)} golden",
            *describe(cfg, roles, enabled), f"paid roles: {', '.join(r for r, m in roles.items() if m.backend == 'openai') or 'none'}; {budget}",
            *notes]


def select(until: str | None, only: str | None, from_: str | None) -> list[str]:
    """The stages to run given ``--until`` / ``--only`` / ``--from``.

    Raises:
        ConfigError: an unknown stage name (lists the valid ones).
    """
    for name, value in (("--until", until), ("--only", only), ("--from", from_)):
        if value is not None and value not in STAGES:
            raise ConfigError(f"unknown stage {value!r}", field=name, fix=f"use one of {', '.join(STAGES)}")
    if only:
        return [only]
    lo = STAGES.index(from_) if from_ else 0
    hi = STAGES.index(until) if until else len(STAGES) - 1
    return STAGES[lo: hi + 1]


def enabled_stages(cfg: ProjectConfig) -> set[str]:
    """Stages the project switches on (training methods set to null are off; merge follows SFT)."""
    methods = {"sft": cfg.train.sft, "dpo": cfg.train.dpo, "rm": cfg.train.rm, "grpo": cfg.train.grpo}
    off = {m for m, section in methods.items() if section is None}
    if "sft" in off:
        off |= {"merge", "dpo", "grpo"}
    return set(STAGES) - off


def run_project(path: str | Path, *, until: str | None = None, only: str | None = None, from_: str | None = None,
                budget_usd: float | None = None, on_stage: Callable[[str, str], None] | None = None) -> RunSummary:
    """Run (or resume) a project; returns the summary (also written to ``RUN/summary.json``).

    Args:
        path: project YAML (see :mod:`slmforge.pipeline.project`).
        until / only / from_: stage selection (names of :data:`STAGES`).
        budget_usd: overrides the project's ``budget_usd``: the most the run may spend on model calls, in USD,
            counted over its whole ledger (earlier invocations included), so a resumed run does not start afresh.
        on_stage: called as ``on_stage(stage, event)`` with event ``start`` / ``skip`` / ``done`` (progress display).

    Raises:
        ConfigError / KitError / DataError: a config, kit or data file that cannot work (names file and key).
        ConfigError: a selected stage whose upstream stage has not produced its outputs yet.
        BudgetExceeded: the budget ran out; finished stages and answered calls are kept (rerun resumes).
        KeyboardInterrupt: after the running stage saved what it had (rerun resumes).
    """
    cfg = _load(path, budget_usd)
    lk = load_kit(cfg.kit)
    run_dir = Path(cfg.run_dir) if cfg.run_dir else Path("runs") / cfg.name
    run_dir.mkdir(parents=True, exist_ok=True)
    notes: list[str] = []
    roles, unusable = _roles(cfg, notes)
    enabled = enabled_stages(cfg)
    from slmforge.pipeline.validate import validate_project

    validate_project(cfg, path, enabled, unusable)
    ctx = S.Context(cfg=cfg, lk=lk, run_dir=run_dir.resolve(), roles=roles, enabled=enabled)
    chosen = select(until, only, from_)
    rows: list[StageRow] = []
    records: dict[str, Manifest] = {}
    for stage in STAGES:
        if stage not in enabled:
            rows.append(StageRow(stage, "off"))
            continue
        upstream = _upstream(ctx, stage, records, required=stage in chosen, path=path)
        if upstream is None or stage not in chosen:
            rec = read_record(ctx.dir(stage))
            if rec is not None and rec.status == "done":
                records[stage] = rec
            rows.append(StageRow(stage, "not selected", rec))
            continue
        row = _run_stage(ctx, stage, fingerprint(_settings(cfg, stage, roles, lk.hash), upstream), on_stage)
        records[stage] = row.record
        rows.append(row)
    for rec in records.values():
        notes += [n for n in rec.notes if n.startswith("no ") and n not in notes]
    report = run_dir / "eval" / "report.html"
    summary = RunSummary(cfg.name, str(run_dir), rows, str(lk.root), notes, str(report) if report.is_file() else None,
                         serve_command(ctx) if "merge" in records else None)
    _write_summary(run_dir, summary)
    return summary


def _upstream(ctx: S.Context, stage: str, records: dict[str, Manifest], *, required: bool,
              path: str | Path) -> list[Manifest] | None:
    """The finished records of the enabled stages ``stage`` reads, or None when one has not finished.

    Raises:
        ConfigError: ``required`` (the stage is selected) and an upstream stage has not finished.
    """
    upstream = []
    for u in S.UPSTREAM[stage]:
        if u not in ctx.enabled:
            continue
        rec = records.get(u) or read_record(ctx.dir(u))
        if rec is None or rec.status != "done":
            if required:
                raise ConfigError(f"stage {stage!r} needs the outputs of {u!r}, which has not finished",
                                  field="--only/--from", fix=f"run `slmforge run {path} --until {u}` first")
            return None
        upstream.append(rec)
    return upstream


def _run_stage(ctx: S.Context, stage: str, fp: str, on_stage: Callable[[str, str], None] | None) -> StageRow:
    """Skip, resume or run one stage (:func:`decide`); its record is written as ``running`` first, so a
    kill or an error leaves it resumable and every finished stage as it was."""
    d = ctx.dir(stage)
    action = decide(d, fp)
    if action == "skip":
        if on_stage:
            on_stage(stage, "skip")
        return StageRow(stage, "skipped", read_record(d))
    if on_stage:
        on_stage(stage, "start")
    started = Manifest(stage=stage, fingerprint=fp)
    write_record(d, started)
    rec = STAGE_FUNCS[stage](ctx, d, action == "resume")
    rec.fingerprint, rec.started, rec.finished, rec.status = fp, started.started, time.time(), "done"
    write_record(d, rec)
    if on_stage:
        on_stage(stage, "done")
    return StageRow(stage, "resumed" if action == "resume" else "ran", rec)


def _settings(cfg: ProjectConfig, stage: str, roles: dict[str, ModelConfig], kit_hash: str) -> dict:
    """The part of the project a stage's fingerprint depends on."""
    teacher = roles["teacher"].model_dump(mode="json") if "teacher" in roles else None
    by_stage = {
        "model": {"student": cfg.student, "kit": kit_hash, "import": cfg.import_},
        "synth": {"synth": cfg.synth, "teacher": teacher, "kit": kit_hash, "import": cfg.import_},
        "clean": {"clean": cfg.clean, "teacher": teacher},
        "split": {"split": cfg.split},
        "prefs": {"prefs": cfg.prefs, "teacher": teacher, "weak": roles.get("weak"), "import": cfg.import_},
        "sft": {"train": cfg.train.sft}, "merge": {}, "dpo": {"train": cfg.train.dpo}, "rm": {"train": cfg.train.rm},
        "grpo": {"train": cfg.train.grpo}, "eval": {"eval": cfg.eval, "judge": roles.get("judge"), "kit": kit_hash},
    }
    return by_stage[stage]


def serve_command(ctx: S.Context) -> str:
    """The command that serves the trained result (merged SFT model, DPO/GRPO adapters as extra model ids)."""
    parts = ["slmforge serve", f"--model {ctx.dir('merge') / 'model'}"]
    for stage in ("dpo", "grpo"):
        if stage in ctx.enabled and (ctx.dir(stage) / "adapter").is_dir():
            parts.append(f"--adapter {stage}={ctx.dir(stage) / 'adapter'}")
    parts.append(f"--kit {ctx.lk.root}")
    if _trained_with_system(ctx.dir("split") / "train.jsonl"):
        parts.append("--student-system")
    if ctx.cfg.student.dtype != "auto":
        parts.append(f"--dtype {ctx.cfg.student.dtype}")
    return " ".join(parts)


def _trained_with_system(train: Path) -> bool:
    """Whether the SFT rows open with a system message (``synth.student_system``, or an imported file that has one),
    so that serving sends the kit's system prompt as training did."""
    if not train.is_file():
        return False
    with train.open(encoding="utf-8") as f:
        first = f.readline()
    return bool(first.strip()) and json.loads(first)["messages"][0]["role"] == "system"


def _write_summary(run_dir: Path, summary: RunSummary) -> None:
    data = asdict(summary) | {"cost_usd": summary.cost_usd}
    (run_dir / "summary.json").write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
