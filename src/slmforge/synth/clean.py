"""``slmforge clean``: rule pass with the checks, MinHash near-dup removal, targeted rewrite passes.

Steps, in order (every removed record lands in ``removed.jsonl`` with its step and reason, so
``input = output + removed`` holds exactly and every number of the report can be recounted):

1. **rules** — each record is checked once against the named rules (:mod:`slmforge.synth.rules`: views
   of the check registry's findings, :data:`slmforge.checks.registry.CHECKS`).
2. **dedup** — near-duplicates (MinHash LSH, character n-grams for CJK) are removed, keeping the
   better-scored text of a pair.
3. **rewrite passes** — seed 003 ran two (structure labels + facts, then CTA): only records failing a
   rule of the pass go to the teacher with a rewrite prompt for those defects; the result is
   re-checked; a minimal-edit rewrite must stay above a similarity floor; a record still failing is
   dropped with its reason.
4. **final** — a record that still fails any rule is dropped, attributed to the first rule it fails.

Run it: ``slmforge clean examples/elemental-equation runs/demo/synth/sft.jsonl --out runs/demo/clean``.
"""

from __future__ import annotations

import difflib
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from slmforge.checks.similarity import near_duplicates
from slmforge.data.io import read_records, write_jsonl
from slmforge.data.records import Message, SFTExample
from slmforge.errors import ConfigError, DataError
from slmforge.kit import LoadedKit
from slmforge.runs import Manifest, file_hash, write_stage
from slmforge.synth.config import CleanConfig
from slmforge.synth.generate import TextOut
from slmforge.synth.report import dry_run_report, usage, write_report
from slmforge.synth.rules import RuleOutcome, evaluate
from slmforge.synth.templates import rewrite_messages

SFT_FILE = "sft.jsonl"
REMOVED_FILE = "removed.jsonl"
REPORT_FILE = "report.json"


def similarity(a: str, b: str) -> float:
    """Character similarity in [0, 1]: difflib ``SequenceMatcher.ratio`` (2·matches / total length)."""
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def _evaluate_all(lk: LoadedKit, recs: list[SFTExample], texts: list[str], rules: list[str]) -> list[RuleOutcome]:
    """Rule outcomes for records (grouped by task and subject so the checks run in batches)."""
    groups: dict[tuple, list[int]] = defaultdict(list)
    for i, r in enumerate(recs):
        groups[(r.task, r.subject_id)].append(i)
    out: list[RuleOutcome | None] = [None] * len(recs)
    for (task_id, sid), idx in groups.items():
        res = evaluate([texts[i] for i in idx], lk, lk.kit.task(task_id), lk.subjects.get(sid),
                       recs[idx[0]].instruction, rules)
        for i, o in zip(idx, res, strict=True):
            out[i] = o
    return out


def _check_input(lk: LoadedKit, recs: list[SFTExample], path: Path) -> None:
    tasks = {t.id for t in lk.kit.tasks}
    for n, r in enumerate(recs, 1):
        if r.task not in tasks:
            raise DataError(f"record {r.id!r} has task {r.task!r}, which the kit does not define", file=path,
                            line=n, field="task", fix=f"use the kit the data was made with (tasks: {sorted(tasks)})")
        if not r.completion:
            raise DataError(f"record {r.id!r} has no assistant message", file=path, line=n, field="messages",
                            fix="pass the sft.jsonl written by `slmforge synth`")


def clean(lk: LoadedKit, cfg: CleanConfig, client, in_path: str | Path, out_dir: str | Path) -> Path:
    """Clean SFT records: rules, near-dup removal, targeted rewrites.

    Args:
        lk: the loaded kit.
        cfg: :class:`CleanConfig`.
        client: an :class:`~slmforge.llm.LLMClient` (``cfg.teacher_role`` is needed only when a record
            goes to a rewrite pass).
        in_path: JSONL of :class:`SFTExample` (``synth``'s ``sft.jsonl``).
        out_dir: stage directory; receives ``sft.jsonl`` (kept records, text rewritten where fixed, provenance
            ``clean`` = rules flagged / rewritten), ``removed.jsonl`` (``id``, ``step``, ``rule``, ``reason``,
            ``text``), ``report.json``, ``config.json``, ``manifest.json``.

    Returns:
        path of the cleaned ``sft.jsonl`` (of ``report.json`` in a dry run, which estimates the first
        rewrite pass and writes nothing else).

    Raises:
        DataError: unreadable input, or a record of a task the kit does not define.
        ConfigError: rewrites are needed but the client has no ``cfg.teacher_role`` role.
        BudgetExceeded: the budget was reached; finished rewrites stay in the ledger, so a rerun resumes.
    """
    started = time.time()
    in_path, out_dir = Path(in_path), Path(out_dir)
    recs = read_records(in_path, SFTExample)
    _check_input(lk, recs, in_path)
    st = _State(recs, [r.completion for r in recs])
    st.outcomes = _evaluate_all(lk, recs, st.texts, cfg.rules)
    st.flagged = {r.id: sorted(o.failed) for r, o in zip(recs, st.outcomes, strict=True)}
    n_dups = _dedup(st, cfg)
    for p, pass_rules in enumerate(cfg.rewrite_passes, 1):
        requests = _rewrite_pass(st, lk, cfg, client, p, pass_rules)
        if requests is not None:  # a dry run estimates the first pass only: later passes depend on its answers
            return write_report(out_dir / REPORT_FILE, dry_run_report(client, "clean", requests) | {"steps": st.steps})
    kept = _final_filter(st, cfg)
    _write_records(st, kept, out_dir)
    use = usage(st.results, client.ledger)
    report = {"stage": "clean", "input": len(recs), "output": len(kept), "removed": len(st.removed),
              "steps": st.steps, "rules": _per_rule(st, kept, cfg.rules),
              "near_duplicates": n_dups, "usage": use, "cost_usd": use["cost_usd"], "spent_usd": use["spent_usd"],
              "time_s": round(time.time() - started, 3)}
    write_report(out_dir / REPORT_FILE, report)
    manifest = Manifest(stage="clean", inputs={"kit": lk.hash, "sft": file_hash(in_path)}, started=started,
                        cost_usd=use["cost_usd"],
                        counts={"input": len(recs), "output": len(kept), "removed": len(st.removed)})
    write_stage(out_dir, manifest, cfg, outputs=[SFT_FILE, REMOVED_FILE, REPORT_FILE])
    return out_dir / SFT_FILE


@dataclass
class _State:
    """What the steps of :func:`clean` share: the records, their current texts and rule outcomes, which are
    still alive, and what was removed or rewritten (every removal with its step and reason)."""

    recs: list[SFTExample]
    texts: list[str]
    outcomes: list[RuleOutcome] = field(default_factory=list)
    flagged: dict[str, list[str]] = field(default_factory=dict)
    alive: list[int] = field(default_factory=list)
    removed: list[dict] = field(default_factory=list)
    rewrites: dict[int, list[dict]] = field(default_factory=lambda: defaultdict(list))
    steps: list[dict] = field(default_factory=list)
    results: list = field(default_factory=list)


def _dedup(st: _State, cfg: CleanConfig) -> int:
    """Step 2: drop near-duplicates, keeping the better-scored text of each pair; returns how many went."""
    dups = near_duplicates(st.texts, [o.score for o in st.outcomes], threshold=cfg.dedup_threshold, n=cfg.ngram,
                           num_perm=cfg.num_perm)
    for d in dups:
        st.removed.append({"id": st.recs[d.index].id, "step": "dedup", "rule": "near_duplicate",
                           "reason": f"near-duplicate of {st.recs[d.kept].id} (Jaccard ≈ {d.jaccard})",
                           "kept": st.recs[d.kept].id, "text": st.texts[d.index]})
    dup_idx = {d.index for d in dups}
    st.alive = [i for i in range(len(st.recs)) if i not in dup_idx]
    st.steps.append({"step": "dedup", "in": len(st.recs), "removed": len(dups), "kept": len(st.alive)})
    return len(dups)


def _rewrite_pass(st: _State, lk: LoadedKit, cfg: CleanConfig, client, p: int, pass_rules: list[str]) -> int | None:
    """Step 3, pass ``p``: the records failing a rule of the pass go to the teacher; each rewrite is kept
    or the record dropped (:func:`_why_rejected`). Returns None, or in a dry run the number of requests the
    pass would send (nothing applied).

    Raises:
        ConfigError: records need a rewrite and the client has no ``cfg.teacher_role``.
    """
    targets = [i for i in st.alive if set(st.outcomes[i].failed) & set(pass_rules)]
    step = {"step": f"rewrite{p}", "rules": list(pass_rules), "in": len(st.alive), "flagged": len(targets),
            "rewritten": 0, "removed": 0}
    if targets and not client.has_role(cfg.teacher_role):
        raise ConfigError(f"{len(targets)} records need a rewrite but the LLM client has no "
                          f"{cfg.teacher_role!r} role", field="teacher_role",
                          fix="add the role to the models config, or set rewrite_passes: [] to only filter")
    defects = {i: [r for r in pass_rules if r in st.outcomes[i].failed] for i in targets}
    batch = [rewrite_messages(lk, defects[i], [m for r in defects[i] for m in st.outcomes[i].failed[r]],
                              st.recs[i].instruction, st.texts[i],
                              minimal=all(r in cfg.minimal_edit_rules for r in defects[i])) for i in targets]
    results = client.chat_many(cfg.teacher_role, batch, stage=f"clean.rewrite{p}", schema=TextOut,
                               temperature=cfg.temperature, max_tokens=cfg.max_tokens, seed=cfg.seed) if batch else []
    st.results += results
    if client.dry_run:
        st.steps.append(step)
        return len(batch)
    new_texts = {i: r.parsed.text.strip() for i, r in zip(targets, results, strict=True)
                 if r.ok and r.parsed is not None and r.parsed.text.strip()}
    ok_idx = list(new_texts)
    new_outcomes = dict(zip(ok_idx, _evaluate_all(lk, [st.recs[i] for i in ok_idx], [new_texts[i] for i in ok_idx],
                                                   cfg.rules), strict=True))
    dropped: set[int] = set()
    for i, r in zip(targets, results, strict=True):
        rule, reason = _why_rejected(st.texts[i], new_texts.get(i), new_outcomes.get(i), defects[i], pass_rules,
                                     cfg, r.error)
        if reason:
            dropped.add(i)
            st.removed.append({"id": st.recs[i].id, "step": f"rewrite{p}", "rule": rule, "reason": reason,
                               "text": st.texts[i], "rewrite": new_texts.get(i), "request_id": r.request_id})
            continue
        st.rewrites[i].append({"pass": p, "rules": defects[i], "request_id": r.request_id,
                               "similarity": round(similarity(st.texts[i], new_texts[i]), 4)})
        st.texts[i], st.outcomes[i] = new_texts[i], new_outcomes[i]
        step["rewritten"] += 1
    st.alive = [i for i in st.alive if i not in dropped]
    step["removed"], step["kept"] = len(dropped), len(st.alive)
    st.steps.append(step)
    return None


def _why_rejected(old: str, new: str | None, outcome: RuleOutcome | None, defects: list[str], pass_rules: list[str],
                  cfg: CleanConfig, error: str | None) -> tuple[str, str | None]:
    """``(rule, reason)`` why a rewrite is not taken (reason None: it is): the call failed, a minimal-edit
    rewrite drifted below ``cfg.similarity_floor``, or the new text still fails a rule of the pass."""
    if new is None or outcome is None:
        return defects[0], f"rewrite call failed: {error or 'empty or unparsable output'}"
    if all(x in cfg.minimal_edit_rules for x in defects) and (sim := similarity(old, new)) < cfg.similarity_floor:
        return defects[0], f"minimal-edit rewrite too different (similarity {sim:.2f} < {cfg.similarity_floor})"
    still = [x for x in pass_rules if x in outcome.failed]
    if still:
        return still[0], f"still fails after rewrite: {'; '.join(outcome.failed[still[0]])}"
    return defects[0], None


def _final_filter(st: _State, cfg: CleanConfig) -> list[int]:
    """Step 4: drop what still fails any rule (attributed to the first); returns the kept indices."""
    step = {"step": "final", "in": len(st.alive), "removed": 0}
    kept: list[int] = []
    for i in st.alive:
        failing = [r for r in cfg.rules if r in st.outcomes[i].failed]
        if failing:
            st.removed.append({"id": st.recs[i].id, "step": "final", "rule": failing[0],
                               "reason": "; ".join(st.outcomes[i].failed[failing[0]]), "failed": failing,
                               "text": st.texts[i]})
            step["removed"] += 1
        else:
            kept.append(i)
    step["kept"] = len(kept)
    st.steps.append(step)
    return kept


def _write_records(st: _State, kept: list[int], out_dir: Path) -> None:
    """``sft.jsonl`` (kept records with their final text and ``provenance.clean``) and ``removed.jsonl``."""
    out_recs = []
    for i in kept:
        rec = st.recs[i]
        prov = rec.provenance.model_copy(update={"clean": {"flagged": st.flagged[rec.id], "rewrites": st.rewrites[i]}})
        msgs = list(rec.messages[:-1]) + [Message(role="assistant", content=st.texts[i])]
        out_recs.append(rec.model_copy(update={"messages": msgs, "provenance": prov}))
    write_jsonl(out_dir / SFT_FILE, out_recs)
    write_jsonl(out_dir / REMOVED_FILE, st.removed)


def _per_rule(st: _State, kept: list[int], rules: list[str]) -> dict[str, dict[str, int]]:
    """Per rule: records flagged on input, rewritten for it, removed for it, and flagged but kept."""
    kept_ids = {st.recs[i].id for i in kept}
    out = {}
    for rule in rules:
        ids = [rid for rid, f in st.flagged.items() if rule in f]
        out[rule] = {
            "in": len(ids),
            "rewritten": sum(1 for rw in st.rewrites.values() for x in rw if rule in x["rules"]),
            "removed": sum(1 for x in st.removed if x["rule"] == rule),
            "kept": sum(1 for rid in ids if rid in kept_ids),
        }
    return out
