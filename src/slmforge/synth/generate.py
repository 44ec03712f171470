"""``slmforge synth``: the teacher writes copy for every subject × task × variant of a kit.

Each request is the static system prompt (voice, lexicon, output format) followed by the task's
teacher template rendered with the subject and ``k`` golden examples sampled per request with a
seeded RNG (seed 001: real examples in the prompt raised quality most). The teacher answers with
structured JSON ``{"text": ...}``. Each record stores the STUDENT prompt (the task's student
template — what the fine-tuned model is trained and served with) and its provenance.

Run it: ``slmforge synth examples/elemental-equation --out runs/demo/synth --models models.yaml``.
Every call goes through the client's ledger, so a rerun (after Ctrl-C or a budget stop) pays
nothing for finished calls.
"""

from __future__ import annotations

import logging
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, Field

from slmforge.data.io import write_jsonl
from slmforge.data.records import Message, Provenance, SFTExample
from slmforge.errors import BudgetExceeded, ConfigError
from slmforge.kit import LoadedKit, Task, template_hash
from slmforge.runs import Manifest, write_stage
from slmforge.synth.config import SynthConfig
from slmforge.synth.report import dry_run_report, usage, write_report
from slmforge.synth.templates import sample_golden, student_messages, teacher_messages
from slmforge.synth.value import propose_values

log = logging.getLogger(__name__)

SFT_FILE = "sft.jsonl"
FAILURES_FILE = "failures.jsonl"
VALUES_FILE = "values.jsonl"
REPORT_FILE = "report.json"


class TextOut(BaseModel):
    """Structured output of the teacher: ``{"text": str}`` (non-empty)."""

    text: str = Field(min_length=1)


@dataclass
class Job:
    """One teacher request: a subject (and value) × task × variant.

    Attributes:
        id: record id ``task:subject_id[#value_index]:variant``.
        task: the task.
        subject_id: catalog id.
        value: product–value mode value, else None.
        variant: 0-based variant number (also offsets the request's sampling seed).
        golden_ids: golden examples sampled into the prompt.
        messages: the teacher's chat messages.
    """

    id: str
    task: Task
    subject_id: str
    value: str | None
    variant: int
    golden_ids: list[str]
    messages: list[dict] = field(repr=False)


def select(lk: LoadedKit, cfg: SynthConfig) -> tuple[list[str], list[Task]]:
    """The subject ids and tasks a run covers, in catalog / kit order.

    Raises:
        ConfigError: ``subjects`` or ``tasks`` names an id the kit does not have.
    """
    sids = list(lk.subjects)
    if cfg.subjects is not None:
        unknown = [s for s in cfg.subjects if s not in lk.subjects]
        if unknown:
            raise ConfigError(f"unknown subject ids {unknown[:5]}", field="subjects",
                              fix=f"use ids from the catalog (field {lk.kit.catalog.id_field!r})")
        sids = [s for s in sids if s in set(cfg.subjects)]
    if cfg.limit_subjects is not None:
        sids = sids[: cfg.limit_subjects]
    task_ids = [t.id for t in lk.kit.tasks]
    if cfg.tasks is not None:
        unknown = [t for t in cfg.tasks if t not in task_ids]
        if unknown:
            raise ConfigError(f"unknown task ids {unknown}", field="tasks", fix=f"use some of {task_ids}")
    tasks = [t for t in lk.kit.tasks if cfg.tasks is None or t.id in cfg.tasks]
    return sids, tasks


def plan(lk: LoadedKit, cfg: SynthConfig, subject_ids: list[str], tasks: list[Task],
         values: dict[str, list[str]] | None = None) -> list[Job]:
    """Every request of the run, in a fixed order (variant, task, subject, value).

    The golden sample of a request depends only on ``(seed, task, subject, value, variant)`` — not on
    which other requests exist — so a subset run asks exactly the same prompts as the full run.

    Args:
        lk: the kit.
        cfg: settings (``variants``, ``k_examples``, ``seed``).
        subject_ids: subjects to cover.
        tasks: tasks to cover.
        values: product–value mode: subject id → values (a subject without values is skipped).

    Returns:
        the jobs; ``len == variants × |tasks| × Σ_subjects max(1, |values|)`` (no values: one each).
    """
    jobs: list[Job] = []
    for variant in range(cfg.variants):
        for task in tasks:
            for sid in subject_ids:
                subject = lk.subjects[sid]
                pairs = [(None, None)] if values is None else list(enumerate(values.get(sid, [])))
                for vi, value in pairs:
                    rng = random.Random(f"{cfg.seed}:{task.id}:{sid}:{value}:{variant}")
                    golden_ids = sample_golden(lk, task, sid, cfg.k_examples, rng)
                    sub = sid if vi is None else f"{sid}#{vi}"
                    jobs.append(Job(id=f"{task.id}:{sub}:{variant}", task=task, subject_id=sid, value=value,
                                    variant=variant, golden_ids=golden_ids,
                                    messages=teacher_messages(lk, task, subject, golden_ids, value)))
    return jobs


def _record(lk: LoadedKit, cfg: SynthConfig, job: Job, result, text: str) -> SFTExample:
    prompt = student_messages(lk, job.task, lk.subjects[job.subject_id], job.value, system=cfg.student_system)
    prov = Provenance(producer="teacher", model=result.model, kit_hash=lk.hash,
                      template_hash=template_hash(job.task.teacher_template), golden_ids=job.golden_ids,
                      request_id=result.request_id, variant=job.variant)
    if job.value is not None:
        prov.value = job.value
    messages = [Message(**m) for m in prompt] + [Message(role="assistant", content=text)]
    return SFTExample(id=job.id, task=job.task.id, subject_id=job.subject_id, messages=messages, provenance=prov)


def run_jobs(client, role: str, jobs: list[Job], *, stage: str, cfg: SynthConfig) -> list:
    """Send the jobs to the teacher, one ``chat_many`` batch per variant (the variant offsets ``seed``).

    Returns:
        one :class:`~slmforge.llm.ChatResult` per job, in job order.
    """
    results: list = [None] * len(jobs)
    for variant in sorted({j.variant for j in jobs}):
        idx = [i for i, j in enumerate(jobs) if j.variant == variant]
        out = client.chat_many(role, [jobs[i].messages for i in idx], stage=stage, schema=TextOut,
                               temperature=cfg.temperature, max_tokens=cfg.max_tokens, seed=cfg.seed + variant)
        for i, r in zip(idx, out, strict=True):
            results[i] = r
    return results


def budget_stop(e: BudgetExceeded, client, out_dir: Path, *, started: float, requested: int) -> BudgetExceeded:
    """The budget stop of synthesis, its message saying what was produced and where.

    A budget stop leaves ``out_dir`` without ``sft.jsonl`` (records are written once every request is
    answered); the answers already paid for are in the ledger, and a rerun gets them at no cost.

    Args:
        e: the client's stop (spent and budget, USD).
        client: the LLMClient whose ledger recorded the calls of this synthesis.
        out_dir: the stage directory.
        started: ``time.time()`` when synthesis began; ledger rows from then on are this synthesis'.
        requested: teacher requests planned in the phase that stopped.

    Returns:
        a :class:`BudgetExceeded` with the same spend and budget and the specific message.
    """
    since = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(started))
    rows = [r for r in client.ledger.rows(run_id=client.run_id)
            if r["stage"].startswith("synth") and r["created_at"] >= since and r["ok"]]
    paid, reused = sum(not r["from_cache"] for r in rows), sum(bool(r["from_cache"]) for r in rows)
    head = f"budget of ${e.budget_usd:.4f} reached (spent ${e.spent_usd:.4f})"
    if not rows:
        msg = (f"{head} before the first teacher call, which alone could cost more: nothing was produced and "
               f"nothing was written to {out_dir}; rerun with a higher --budget")
    else:
        msg = (f"{head} after {paid} paid and {reused} ledger-answered of {requested} teacher requests: no "
               f"{SFT_FILE} was written to {out_dir} yet; the answers are kept in the ledger {client.ledger.path}, "
               "so a rerun with a higher --budget pays nothing for them")
    stop = BudgetExceeded(e.spent_usd, e.budget_usd)
    stop.args = (msg,)  # str(stop) is args[0]: the specific message replaces the generic one
    return stop


def synthesize(lk: LoadedKit, cfg: SynthConfig, client, out_dir: str | Path) -> Path:
    """Generate SFT data with the teacher.

    Args:
        lk: the loaded kit.
        cfg: :class:`SynthConfig`.
        client: an :class:`~slmforge.llm.LLMClient` with the ``cfg.teacher_role`` role.
        out_dir: stage directory; receives ``sft.jsonl`` (:class:`SFTExample`), ``failures.jsonl``
            (``id``, ``task``, ``subject_id``, ``reason``, ``raw`` text, ``request_id``), ``values.jsonl``
            (value mode), ``report.json``, ``config.json`` and ``manifest.json``.

    Returns:
        path of ``sft.jsonl`` (of ``report.json`` in a dry run, which writes only the cost estimate).

    Raises:
        ConfigError: unknown subject/task ids, or the client has no ``cfg.teacher_role`` role.
        BudgetExceeded: the budget was reached; finished calls stay in the ledger, so a rerun resumes (the
            message says how many requests were answered, and that no ``sft.jsonl`` was written).
    """
    started = time.time()
    out_dir = Path(out_dir)
    if not client.has_role(cfg.teacher_role):
        raise ConfigError(f"the LLM client has no {cfg.teacher_role!r} role", field="teacher_role",
                          fix="add the role to the models config or pass --teacher-role")
    sids, tasks = select(lk, cfg)
    values, value_results, value_failures = _values(lk, cfg, client, sids, out_dir, started) if cfg.value_mode \
        else (None, [], [])
    failures: list[dict] = list(value_failures)
    jobs = plan(lk, cfg, sids, tasks, values)
    log.info("synth: %d requests (%d subjects × %d tasks × %d variants)", len(jobs), len(sids), len(tasks), cfg.variants)
    try:
        results = run_jobs(client, cfg.teacher_role, jobs, stage="synth", cfg=cfg)
    except BudgetExceeded as e:
        raise budget_stop(e, client, out_dir, started=started, requested=len(jobs)) from None
    if client.dry_run:
        return write_report(out_dir / REPORT_FILE, dry_run_report(client, "synth", len(jobs) + len(value_results)))
    records = _records(lk, cfg, jobs, results, failures)
    write_jsonl(out_dir / SFT_FILE, records)
    write_jsonl(out_dir / FAILURES_FILE, failures)
    gen_usage, val_usage = usage(results, client.ledger), usage(value_results, client.ledger)
    report = {
        "stage": "synth", "kit": lk.kit.name, "kit_hash": lk.hash,
        "subjects": len(sids), "tasks": [t.id for t in tasks], "variants": cfg.variants,
        "requested": len(jobs), "received": len(records), "parse_failures": len(failures) - len(value_failures),
        "value_failures": len(value_failures),
        "failure_reasons": dict(Counter(f["reason"] for f in failures)),
        "per_task": {t.id: sum(1 for r in records if r.task == t.id) for t in tasks},
        "usage": {"generate": gen_usage, "values": val_usage},
        "cost_usd": round(gen_usage["cost_usd"] + val_usage["cost_usd"], 8),
        "spent_usd": round(gen_usage["spent_usd"] + val_usage["spent_usd"], 8),
        "time_s": round(time.time() - started, 3),
    }
    write_report(out_dir / REPORT_FILE, report)
    outputs = [SFT_FILE, FAILURES_FILE, REPORT_FILE] + ([VALUES_FILE] if cfg.value_mode else [])
    manifest = Manifest(stage="synth", inputs={"kit": lk.hash}, started=started, cost_usd=report["cost_usd"],
                        counts={"requested": len(jobs), "received": len(records), "failures": len(failures)})
    write_stage(out_dir, manifest, cfg, outputs=outputs)
    return out_dir / SFT_FILE


def _values(lk: LoadedKit, cfg: SynthConfig, client, sids: list[str], out_dir: Path,
            started: float) -> tuple[dict[str, list[str]], list, list[dict]]:
    """Value mode (seed 001): the teacher proposes values per product, written to ``values.jsonl``; a dry run
    estimates with placeholder values. Returns ``(values, results, failures)``.

    Raises:
        BudgetExceeded: with the message of :func:`budget_stop`.
    """
    try:
        proposals = propose_values(lk, cfg, client, sids)
    except BudgetExceeded as e:
        raise budget_stop(e, client, out_dir, started=started, requested=len(sids)) from None
    values = proposals.values
    if client.dry_run:  # no real values yet: estimate with placeholders
        values = {s: [f"value {i + 1}" for i in range(cfg.values_per_product)] for s in sids}
    else:
        write_jsonl(out_dir / VALUES_FILE, ({"subject_id": s, "values": v} for s, v in values.items()))
    return values, proposals.results, proposals.failures


def _records(lk: LoadedKit, cfg: SynthConfig, jobs: list, results: list, failures: list[dict]) -> list[SFTExample]:
    """The SFT records of the answered jobs; each unanswered one is appended to ``failures`` with its reason."""
    records: list[SFTExample] = []
    for job, r in zip(jobs, results, strict=True):
        text = r.parsed.text.strip() if r.ok and r.parsed is not None else ""
        if text:
            records.append(_record(lk, cfg, job, r, text))
            continue
        reason = r.error or ("empty text" if r.ok else "no parsed output")
        failures.append({"id": job.id, "task": job.task.id, "subject_id": job.subject_id, "stage": "generate",
                         "reason": reason, "raw": r.text, "request_id": r.request_id})
    return records
