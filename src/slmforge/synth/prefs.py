"""``slmforge prefs``: preference pairs whose chosen is the cleaned text and whose rejected comes from
named strategies (seed 003's mix: 50 % weak / 30 % exaggerated / 20 % fake).

* **weak** — the bare student prompt (no voice) sent to the ``weak`` role (a local base model by
  default, or any endpoint);
* **exaggerated** — a villain prompt per task family (hype, avoid-terms, fake scarcity,
  pseudo-science); kept only when it fails the lexicon or style check;
* **fake** — a red-team prompt changing 1–2 facts of the chosen text against the subject record;
  kept only when :func:`slmforge.checks.reference_fact_edits` finds 1..N fact edits against the
  chosen and the texts stay very similar.

Strategy counts are exact (largest-remainder allocation of the mix, then a seeded shuffle), not a
coin flip per row. A rejected text that fails verification is retried with a new request seed, and
reported in ``failures.jsonl`` after ``max_attempts``.

Run it: ``slmforge prefs examples/elemental-equation runs/demo/clean/sft.jsonl --out runs/demo/prefs``.
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pydantic import BaseModel, Field

from slmforge.data.io import read_records, write_jsonl
from slmforge.data.records import PreferencePair, Provenance, SFTExample
from slmforge.errors import ConfigError, DataError
from slmforge.kit import LoadedKit
from slmforge.runs import Manifest, file_hash, write_stage
from slmforge.synth.config import PrefsConfig
from slmforge.synth.generate import TextOut
from slmforge.synth.report import dry_run_report, usage, write_report
from slmforge.synth.templates import fake_messages, source_hash, villain_messages, villain_template

PAIRS_FILE = "prefs.jsonl"
FAILURES_FILE = "failures.jsonl"
REPORT_FILE = "report.json"


class FakeOut(BaseModel):
    """Structured output of the fake strategy: the edited text and the changes the red team says it made."""

    text: str = Field(min_length=1)
    changes: list[str] = Field(default_factory=list)


def allocate(n: int, mix: dict[str, float], seed: int) -> list[str]:
    """Assign a strategy to each of ``n`` items with exact counts.

    Method: largest-remainder (Hamilton) apportionment — each strategy gets ``floor(n·share)``, the
    remaining items go to the largest fractional parts (ties: mix order) — so every count is within 1
    of ``n·share`` and the counts sum to ``n``; the labels are then shuffled with ``random.Random(seed)``.

    Args:
        n: number of items.
        mix: strategy → non-negative share (normalised here).
        seed: shuffle seed.

    Returns:
        ``[n]`` strategy names.
    """
    total = sum(mix.values())
    quotas = {s: n * w / total for s, w in mix.items()}
    counts = {s: math.floor(q) for s, q in quotas.items()}
    order = sorted(mix, key=lambda s: (-(quotas[s] - counts[s]), list(mix).index(s)))
    for s in order[: n - sum(counts.values())]:
        counts[s] += 1
    labels = [s for s in mix for _ in range(counts[s])]
    random.Random(seed).shuffle(labels)
    return labels


@dataclass
class Job:
    """One rejected text to produce: the chosen record, its strategy and the verification so far."""

    rec: SFTExample
    strategy: str
    n_edits: int = 1
    attempts: int = 0
    reasons: list[str] = field(default_factory=list)
    results: list = field(default_factory=list)


def _messages(lk: LoadedKit, job: Job) -> list[dict]:
    rec = job.rec
    if job.strategy == "weak":
        return [{"role": "user", "content": rec.instruction}]
    if job.strategy == "exaggerated":
        return villain_messages(lk, lk.kit.task(rec.task), rec.instruction)
    return fake_messages(lk, lk.subjects.get(rec.subject_id, {}), rec.completion, job.n_edits)


def _verify(lk: LoadedKit, cfg: PrefsConfig, job: Job, text: str) -> tuple[str | None, list[dict]]:
    """``(failure reason or None, findings)`` of one rejected candidate."""
    from slmforge.checks import kit_vocabulary, run_checks
    from slmforge.checks.fact_edits import reference_fact_edits

    rec = job.rec
    if not text.strip():
        return "empty text", []
    if text.strip() == rec.completion.strip():
        return "identical to chosen", []
    task = lk.kit.task(rec.task)
    subject = lk.subjects.get(rec.subject_id)
    if job.strategy == "weak":
        rep = run_checks([text], task=task, subject=subject, kit=lk.kit, instruction=rec.instruction,
                         vocab=kit_vocabulary(lk))[0]
        return None, [asdict(f) for f in rep.findings()]
    if job.strategy == "exaggerated":
        rep = run_checks([text], task=task, subject=subject, kit=lk.kit, checks=["lexicon", "style"],
                         vocab=kit_vocabulary(lk))[0]
        if rep.passed:
            return "exaggerated text passes the lexicon and style checks", []
        return None, [asdict(f) for f in rep.findings()]
    diff = reference_fact_edits(text, rec.completion, subject=subject, kit=lk.kit, vocab=kit_vocabulary(lk))
    findings = [{"check": "facts", "code": f"fact_edit_{e.kind}", "message": f"{e.reference!r} → {e.candidate!r}",
                 "start": e.start, "end": e.end, "severity": "error"} for e in diff.edits]
    if not 1 <= len(diff.edits) <= cfg.fake_max_edits:
        return f"{len(diff.edits)} fact edits vs chosen (need 1..{cfg.fake_max_edits})", findings
    if diff.similarity < cfg.fake_similarity:
        return f"similarity {diff.similarity:.2f} to chosen < {cfg.fake_similarity}", findings
    return None, findings + [{"check": "similarity", "code": "similarity", "message": f"{diff.similarity:.3f}",
                              "start": None, "end": None, "severity": "info"}]


def _role(cfg: PrefsConfig, strategy: str) -> str:
    return cfg.weak_role if strategy == "weak" else cfg.red_team_role


def _template_hash(lk: LoadedKit, job: Job) -> str:
    if job.strategy == "weak":
        return "student"
    name = villain_template(lk.kit.task(job.rec.task).family) if job.strategy == "exaggerated" else "fake.j2"
    return source_hash(name)


def build_prefs(lk: LoadedKit, cfg: PrefsConfig, client, in_path: str | Path, out_dir: str | Path) -> Path:
    """Build preference pairs from cleaned SFT records.

    Args:
        lk: the loaded kit.
        cfg: :class:`PrefsConfig`.
        client: an :class:`~slmforge.llm.LLMClient` with the roles ``cfg.weak_role`` (when the mix has weak)
            and ``cfg.red_team_role`` (exaggerated, fake).
        in_path: JSONL of :class:`SFTExample` (``clean``'s ``sft.jsonl``); chosen = the assistant text.
        out_dir: stage directory; receives ``prefs.jsonl`` (:class:`PreferencePair` with ``strategy`` and
            findings), ``failures.jsonl`` (``id``, ``strategy``, ``attempts``, ``reasons``), ``report.json``,
            ``config.json``, ``manifest.json``.

    Returns:
        path of ``prefs.jsonl`` (of ``report.json`` in a dry run, which estimates one attempt per pair).

    Raises:
        DataError: unreadable input or a record of a task the kit does not define.
        ConfigError: the client lacks a role the mix needs.
        BudgetExceeded: the budget was reached; finished calls stay in the ledger, so a rerun resumes.
    """
    started = time.time()
    in_path, out_dir = Path(in_path), Path(out_dir)
    recs = read_records(in_path, SFTExample)[: cfg.limit]
    mix = {s: w for s, w in cfg.mix.items() if w > 0}
    _check_inputs(lk, cfg, client, recs, mix, in_path)
    labels = allocate(len(recs), mix, cfg.seed)
    jobs = [Job(rec=r, strategy=s, n_edits=1 + random.Random(f"{cfg.seed}:{r.id}").randrange(cfg.fake_max_edits))
            for r, s in zip(recs, labels, strict=True)]
    done: dict[int, tuple] = {}
    for attempt in range(1 if client.dry_run else cfg.max_attempts):
        for strategy in mix:
            _attempt(lk, cfg, client, jobs, strategy, attempt, done)
    if client.dry_run:  # one attempt per pair estimated
        return write_report(out_dir / REPORT_FILE, dry_run_report(client, "prefs", len(jobs))
                            | {"allocated": dict(Counter(labels))})
    pairs, failures = _assemble(lk, jobs, done, in_path)
    write_jsonl(out_dir / PAIRS_FILE, pairs)
    write_jsonl(out_dir / FAILURES_FILE, failures)
    use = usage([r for j in jobs for r in j.results], client.ledger)
    report = {"stage": "prefs", "input": len(recs), "pairs": len(pairs), "failed": len(failures),
              "mix": {s: mix[s] / sum(mix.values()) for s in mix},
              "strategies": _per_strategy(jobs, mix, pairs, failures, client.ledger), "usage": use,
              "cost_usd": use["cost_usd"], "spent_usd": use["spent_usd"], "time_s": round(time.time() - started, 3)}
    write_report(out_dir / REPORT_FILE, report)
    manifest = Manifest(stage="prefs", inputs={"kit": lk.hash, "sft": file_hash(in_path)}, started=started,
                        cost_usd=use["cost_usd"], counts={"input": len(recs), "pairs": len(pairs), "failed": len(failures)})
    write_stage(out_dir, manifest, cfg, outputs=[PAIRS_FILE, FAILURES_FILE, REPORT_FILE])
    return out_dir / PAIRS_FILE


def _check_inputs(lk: LoadedKit, cfg: PrefsConfig, client, recs: list[SFTExample], mix: dict[str, float],
                  in_path: Path) -> None:
    """Every record has a known task, a user prompt and an assistant text; the client has every role the mix needs.

    Raises:
        DataError / ConfigError: naming the record's line, or the role and its config field.
    """
    tasks = {t.id for t in lk.kit.tasks}
    for n, r in enumerate(recs, 1):
        if r.task not in tasks or not r.completion or not any(m.role == "user" for m in r.prompt):
            raise DataError(f"record {r.id!r} needs a known task, a user prompt and an assistant text", file=in_path,
                            line=n, fix="pass the sft.jsonl written by `slmforge clean` with the same kit")
    for s in mix:
        if not client.has_role(_role(cfg, s)):
            raise ConfigError(f"strategy {s!r} needs the LLM role {_role(cfg, s)!r}, which the client lacks",
                              field="weak_role" if s == "weak" else "red_team_role",
                              fix="add the role to the models config, or set its share in `mix` to 0")


def _attempt(lk: LoadedKit, cfg: PrefsConfig, client, jobs: list[Job], strategy: str, attempt: int,
             done: dict[int, tuple]) -> None:
    """One attempt for every pending job of ``strategy``: ask its role, verify the answer (:func:`_verify`),
    record a verified text in ``done`` (index → ``(text, findings, result)``) or the reason on the job."""
    pending = [i for i, j in enumerate(jobs) if j.strategy == strategy and i not in done]
    if not pending:
        return
    schema = FakeOut if strategy == "fake" else (None if strategy == "weak" else TextOut)
    results = client.chat_many(_role(cfg, strategy), [_messages(lk, jobs[i]) for i in pending],
                               stage=f"prefs.{strategy}", schema=schema, temperature=cfg.temperature,
                               max_tokens=cfg.max_tokens, seed=cfg.seed + attempt)
    if client.dry_run:
        return
    for i, r in zip(pending, results, strict=True):
        job = jobs[i]
        job.attempts += 1
        job.results.append(r)
        if not r.ok:
            job.reasons.append(f"call failed: {r.error}")
            continue
        if r.finish_reason == "length":
            job.reasons.append("cut off at max_tokens (finish_reason=length)")
            continue
        text = (r.text or "") if schema is None else (r.parsed.text if r.parsed is not None else "")
        reason, findings = _verify(lk, cfg, job, text.strip())
        if reason:
            job.reasons.append(reason)
        else:
            done[i] = (text.strip(), findings, r)


def _assemble(lk: LoadedKit, jobs: list[Job], done: dict[int, tuple],
              in_path: Path) -> tuple[list[PreferencePair], list[dict]]:
    """The verified pairs (with provenance) and the failures (attempts and reasons)."""
    pairs, failures = [], []
    for i, job in enumerate(jobs):
        rec = job.rec
        if i not in done:
            failures.append({"id": rec.id, "task": rec.task, "subject_id": rec.subject_id, "strategy": job.strategy,
                             "attempts": job.attempts, "reasons": job.reasons})
            continue
        text, findings, r = done[i]
        prov = Provenance(producer=job.strategy, model=r.model, strategy=job.strategy, kit_hash=lk.hash,
                          template_hash=_template_hash(lk, job), request_id=r.request_id,
                          source=f"{in_path.name}#{rec.id}", attempts=job.attempts)
        pairs.append(PreferencePair(id=rec.id, task=rec.task, subject_id=rec.subject_id, prompt=rec.prompt,
                                    chosen=rec.completion, rejected=text, strategy=job.strategy,
                                    findings=findings, provenance=prov))
    return pairs, failures


def _per_strategy(jobs: list[Job], mix: dict[str, float], pairs: list[PreferencePair], failures: list[dict],
                  ledger) -> dict[str, dict]:
    """Per strategy: allocated, target, realised, failed, retried, failure reasons and usage (tokens, USD)."""
    out = {}
    n = len(jobs)
    for s in mix:
        js = [j for j in jobs if j.strategy == s]
        out[s] = {"allocated": len(js), "target": round(n * mix[s] / sum(mix.values()), 2),
                  "realised": sum(1 for p in pairs if p.strategy == s),
                  "failed": sum(1 for f in failures if f["strategy"] == s),
                  "retried": sum(1 for j in js if j.attempts > 1),
                  "failure_reasons": dict(Counter(x for j in js for x in j.reasons)),
                  "usage": usage([r for j in js for r in j.results], ledger)}
    return out
