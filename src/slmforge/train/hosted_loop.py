"""The hosted fine-tuning loop of seed 004, step by step, on top of :mod:`slmforge.train.hosted`::

    kit records (system + user + assistant) → split by topic → estimate → upload → job → monitor
      → evaluate the ft: model against the base and the prompting baselines → the weakest task
      → extend the training data for that task → second job → before/after table

Each step is one plain function (or an existing one: :func:`slmforge.data.split.split_file`,
:func:`slmforge.evaluate.evaluate`); the same steps from the command line are ``slmforge train hosted``
and ``slmforge eval`` (docs/legal-assistant.en.md, "Hosted fine-tuning"). The whole loop runs offline against
the loopback provider of :mod:`slmforge.testing` in ``tests/pipeline/test_legal_hosted.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from slmforge.data.io import read_records, write_jsonl
from slmforge.data.records import Message, Provenance, SFTExample
from slmforge.evaluate.config import CandidateSpec, EvalConfig, JudgeConfig, Sampling
from slmforge.kit.load import GoldenExample, LoadedKit
from slmforge.kit.render import render_student_prompt, system_prompt
from slmforge.llm.config import ModelConfig
from slmforge.train.hosted import KEY_ENVS, HostedConfig, base_url, follow, make_client, prepare, submit


def kit_records(lk: LoadedKit, golden: Sequence[GoldenExample] | None = None, *,
                system: str | None = None) -> list[SFTExample]:
    """SFT records of golden Q&A pairs as the seed asks for them: a system, a user and an assistant message.

    Args:
        lk: the kit (student templates render the user message).
        golden: the pairs; default: the kit's golden examples (pass ``load_golden(extra.jsonl, …)`` for more).
        system: the system message; default: the kit's system prompt (:func:`slmforge.kit.system_prompt`).

    Returns:
        one record per pair, carrying ``task`` and ``subject_id`` (so splits and evaluation need no matching).
    """
    sys_msg = system if system is not None else system_prompt(lk.kit)
    out = []
    for g in lk.golden if golden is None else golden:
        task = lk.kit.task(g.task)
        user = render_student_prompt(lk.kit, task, lk.subjects[g.subject_id], g.value)
        out.append(SFTExample(id=g.id, task=g.task, subject_id=g.subject_id,
                              messages=[Message(role="system", content=sys_msg), Message(role="user", content=user),
                                        Message(role="assistant", content=g.text)],
                              provenance=Provenance(producer="golden", kit_hash=lk.hash, golden_ids=[g.id])))
    return out


@dataclass
class HostedJob:
    """One finished hosted job.

    Attributes:
        job_id: the provider's job id.
        model: the fine-tuned model id (``ft:…``), or ``None`` when the job did not succeed.
        status: ``succeeded`` / ``failed`` / ``cancelled``.
        estimate: the cost estimate made before upload (:class:`slmforge.data.estimate.Estimate`).
        events: the job's event messages, oldest first.
        output_dir: the run dir (converted files, ``job_id``, ``config.json``, ``manifest.json``).
    """

    job_id: str
    model: str | None
    status: str
    estimate: Any
    events: list[str] = field(default_factory=list)
    output_dir: Path = Path(".")


def run_job(cfg: HostedConfig, *, client: Any = None, confirm: Callable[[Any], bool] | None = None,
            on_event: Callable[[Any], None] | None = None) -> HostedJob | None:
    """Estimate, upload, create the job and follow it to its end (``prepare`` → ``submit`` → ``follow``).

    Args:
        cfg: the job (provider, base model, train / validation files, hyperparameters, output dir).
        client: an ``openai.OpenAI`` client; default: :func:`slmforge.train.hosted.make_client`.
        confirm: called with the estimate before anything is uploaded; ``False`` stops (returns ``None``).
        on_event: called with each job event as it arrives.

    Returns:
        the finished job, or ``None`` when ``confirm`` declined.

    Raises:
        ConfigError: the API key variable is not set.
        DataError: a row that cannot be converted.
        HostedJobFailed: the provider reported the job as failed (the manifest is written first).
    """
    client = client or make_client(cfg)
    files, est = prepare(cfg)
    if confirm is not None and not confirm(est):
        return None
    job_id = submit(cfg, client, files)
    events: list[str] = []

    def seen(event: Any) -> None:
        events.append(event.message)
        if on_event is not None:
            on_event(event)

    job = follow(cfg, client, job_id, on_event=seen)
    return HostedJob(job.id, job.fine_tuned_model, job.status, est, events, Path(cfg.output_dir))


def hosted_model(cfg: HostedConfig, model: str, **overrides: Any) -> ModelConfig:
    """The :class:`~slmforge.llm.config.ModelConfig` that calls ``model`` (base or ``ft:`` id) at the job's provider."""
    return ModelConfig(backend="openai", model=model, base_url=base_url(cfg),
                       api_key_env=cfg.api_key_env or KEY_ENVS[cfg.provider], **overrides)


def loop_eval_config(*, heldout: str | Path | None, few_shot: int = 2, judge: bool = True,
                     sampling: Sampling | None = None) -> EvalConfig:
    """Candidates of seed 004's comparison: ``base``, the fine-tuned ``ft``, the hybrid prompting baseline on the
    base (system prompt + ``few_shot`` golden answers + plan-then-write, i.e. chain of thought) and the same
    hybrid on the fine-tuned model (``ft_hybrid``, seed 004 exercise 3-2).

    The client needs roles ``base``, ``ft`` and (with ``judge``) ``judge``. ``ft_hybrid`` is scored like the
    other prompting candidates (a reference the tuned model is compared with in the scorecard).
    """
    return EvalConfig(
        candidates=[CandidateSpec(name="base"), CandidateSpec(name="ft"),
                    CandidateSpec(name="prompting", kind="prompting", role="base", few_shot=few_shot,
                                  plan_then_write=True),
                    CandidateSpec(name="ft_hybrid", kind="prompting", role="ft", few_shot=few_shot,
                                  plan_then_write=True)],
        heldout=str(heldout) if heldout else None, sampling=sampling or Sampling(temperature=0.3, max_tokens=640),
        judge=JudgeConfig(pairwise=False) if judge else None, n_boot=200)


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def task_means(rows: list[dict[str, Any]], candidate: str, metric: str) -> dict[str, float]:
    """Mean of ``metric`` per task for one candidate's score rows (rows without the metric are skipped).

    Raises:
        ValueError: no row of ``candidate`` has ``metric`` (names the metrics there are).
    """
    by_task: dict[str, list[float]] = {}
    for r in rows:
        if r["candidate"] == candidate and isinstance(r.get(metric), int | float):
            by_task.setdefault(r["task"], []).append(float(r[metric]))
    if not by_task:
        have = sorted({k for r in rows if r["candidate"] == candidate for k in r if "." in k})
        raise ValueError(f"no {metric!r} scores for candidate {candidate!r}; metrics: {have}")
    return {t: sum(v) / len(v) for t, v in sorted(by_task.items())}


def weakest_task(rows: list[dict[str, Any]], candidate: str,
                 metric: str = "check.score") -> tuple[str, dict[str, float]]:
    """The task where ``candidate`` scores lowest on ``metric`` (ties: the first in task order), with every mean.

    Args:
        rows: score rows of an evaluation (``read_scores_csv(out / "scores.csv")``).
        candidate: e.g. ``ft``.
        metric: a score column, e.g. ``check.score`` (rule checks, 0–1) or ``judge.overall`` (rubric, 1–5).
    """
    means = task_means(rows, candidate, metric)
    return min(means, key=means.__getitem__), means


def extend_records(train: str | Path, extra: Sequence[SFTExample], task: str, out: str | Path) -> Path:
    """Write the training file plus the ``extra`` records of ``task`` (ids already in it are skipped) to ``out``.

    Raises:
        DataError: ``train`` is not a JSONL of SFT records.
        ValueError: ``extra`` holds no record of ``task``.
    """
    rows = read_records(train, SFTExample)
    have = {r.id for r in rows}
    added = [r for r in extra if r.task == task and r.id not in have]
    if not added:
        raise ValueError(f"no extra records of task {task!r} to add (extra tasks: {sorted({r.task for r in extra})})")
    write_jsonl(out, [*rows, *added])
    return Path(out)


def before_after(before: list[dict[str, Any]], after: list[dict[str, Any]], *, candidate: str,
                 metrics: Sequence[str] = ("check.score", "pass.all", "judge.overall")) -> list[dict[str, Any]]:
    """Per task (and ``all``) the mean of each metric for ``candidate`` in two evaluations, and the change.

    Returns:
        rows ``{"task", "metric", "before", "after", "delta"}``; a metric absent from both evaluations is
        left out, one absent from one side has ``None`` there.
    """
    out = []
    for metric in metrics:
        if not any(isinstance(r.get(metric), int | float) for r in before + after):
            continue
        tasks = sorted({r["task"] for r in before + after if r["candidate"] == candidate})
        for task in [*tasks, "all"]:
            def mean(rows: list[dict[str, Any]], task: str = task) -> float | None:
                return _mean([float(r[metric]) for r in rows if r["candidate"] == candidate
                              and (task == "all" or r["task"] == task) and isinstance(r.get(metric), int | float)])

            b, a = mean(before), mean(after)
            out.append({"task": task, "metric": metric, "before": b, "after": a,
                        "delta": None if a is None or b is None else a - b})
    return out


def markdown_table(rows: list[dict[str, Any]]) -> str:
    """The :func:`before_after` rows as a Markdown table (3 decimals, ``-`` for a missing value)."""
    def cell(v: float | None, sign: str = "") -> str:
        return "-" if v is None else f"{v:{sign}.3f}"

    lines = ["| task | metric | before | after | delta |", "|---|---|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['task']} | {r['metric']} | {cell(r['before'])} | {cell(r['after'])} | "
                     f"{cell(r['delta'], '+')} |")
    return "\n".join(lines) + "\n"
