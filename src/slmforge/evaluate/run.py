"""``evaluate(lk, cfg, client, out_dir)``: generate, score, judge and write the report of one evaluation.

Order of work: held-out items → every candidate's texts (ledger-cached) → rule metrics (the checks,
length, ROUGE-L / chrF against golden) → reward-model scores (when ``rm_dir``) → G-Eval pointwise and
swapped pairwise judging (ledger-cached) → ``report.html`` / ``report.md`` / CSVs / plots, plus
``generations.jsonl``, ``judge_scores.jsonl``, ``pairwise.jsonl``, ``config.json`` and
``manifest.json``. An interrupted run resumes from the ledger: rerunning calls only what is missing.

Command line: ``slmforge eval --project project.yaml`` or ``slmforge eval --kit DIR --config eval.yaml``.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from slmforge.data.io import write_json, write_jsonl
from slmforge.data.records import Generation
from slmforge.evaluate.candidates import HeldoutItem, generate, load_heldout
from slmforge.evaluate.config import EvalConfig
from slmforge.evaluate.judge import (
    PairVerdict, PointScore, evaluation_steps, judge_pairwise, judge_pointwise, retry_note,
)
from slmforge.evaluate.judge_prompts import family_warning
from slmforge.evaluate.metrics import bleu, char_length, chrf, rouge_l
from slmforge.evaluate.report import ReportMeta, write_report
from slmforge.evaluate.runinfo import find_run_dir, run_spend, training_curves
from slmforge.evaluate.scorecard import add_cost_per_point, scorecard, small_n_warning
from slmforge.kit import LoadedKit
from slmforge.runs import Manifest, file_hash, write_stage

log = logging.getLogger(__name__)


def rule_rows(lk: LoadedKit, cfg: EvalConfig, items: list[HeldoutItem], gens: list[Generation]) -> list[dict[str, Any]]:
    """One score row per generation with the rule metrics: checks, length, ROUGE-L / chrF vs golden.

    The checks are the check registry's (``cfg.checks``, default: every check whose inputs the item has),
    with the kit's catalog vocabulary, so the columns follow :data:`slmforge.checks.registry.CHECKS`.

    Returns:
        rows with ``item_id, task, candidate, subject_id, length_chars, text, check.<name>, pass.<name>,
        check.score, pass.all, facts.contradicted, facts.unsupported, rougeL, chrF`` (reference metrics
        are left empty for the golden candidate itself and for items without a reference).
    """
    from slmforge.checks import kit_vocabulary, run_checks

    golden_names = {c.name for c in cfg.candidates if c.kind == "golden"}
    by_item: dict[str, list[Generation]] = {}
    for g in gens:
        by_item.setdefault(g.id.rsplit(":", 1)[0], []).append(g)
    rows = []
    for it in items:
        gs = by_item.get(it.id, [])
        if not gs:
            continue
        reports = run_checks([g.text for g in gs], task=lk.kit.task(it.task), subject=lk.subjects.get(it.subject_id or ""),
                             kit=lk.kit, instruction=it.instruction, references=[it.reference] * len(gs),
                             checks=cfg.checks, vocab=kit_vocabulary(lk))
        for g, rep in zip(gs, reports, strict=True):
            row: dict[str, Any] = {"item_id": it.id, "task": it.task, "candidate": g.candidate,
                                   "subject_id": it.subject_id, "length_chars": char_length(g.text), "text": g.text}
            if not g.text.strip():
                rows.append(row)  # a failed generation: no scores, counted in the report
                continue
            for name, res in rep.results.items():
                row[f"check.{name}"] = round(res.score, 4)
                row[f"pass.{name}"] = float(res.passed)
            row["check.score"] = round(rep.score, 4)
            row["pass.all"] = float(rep.passed)
            if "facts" in rep.results:
                codes = [f.code for f in rep.results["facts"].findings]
                row["facts.contradicted"] = float(sum("contradict" in c for c in codes))
                row["facts.unsupported"] = float(sum("unsupported" in c for c in codes))
            if it.reference and g.candidate not in golden_names:
                row["rougeL"] = round(rouge_l(g.text, it.reference), 4)
                row["chrF"] = round(chrf(g.text, it.reference), 2)
                row["BLEU"] = round(bleu(g.text, it.reference, language=lk.kit.language), 2)
            rows.append(row)
    return rows


def add_rm_scores(rows: list[dict[str, Any]], items: list[HeldoutItem], rm_dir: str, *, dtype: str = "auto") -> None:
    """Put the reward model's score (an unbounded logit, higher = preferred) into each scored row as ``rm``,
    and the ``rm+checks`` score of :mod:`slmforge.evaluate.scorers` (from ``rm`` and the ``pass.*`` columns).
    ``dtype``: the reward model's weights dtype name (:data:`slmforge.models.load.DTYPES`)."""
    from slmforge.evaluate.scorers import add_rm_checks_column
    from slmforge.train.rm import score_texts

    scored = [r for r in rows if r["text"].strip()]
    prompts = {it.id: it.instruction for it in items}
    rm = score_texts(rm_dir, [prompts[r["item_id"]] for r in scored], [r["text"] for r in scored], dtype=dtype)
    for r, v in zip(scored, rm, strict=True):
        r["rm"] = round(float(v), 4)
    add_rm_checks_column(rows)


def add_judge_scores(lk: LoadedKit, rows: list[dict[str, Any]], scores: list[PointScore]) -> None:
    """Put ``judge.<criterion>`` and the rubric-weighted ``judge.overall`` into the rows (in place)."""
    index = {(r["item_id"], r["candidate"]): r for r in rows}
    for s in scores:
        if s.score is not None and (s.item_id, s.candidate) in index:
            index[(s.item_id, s.candidate)][f"judge.{s.criterion}"] = round(s.score, 4)
    for r in rows:
        crits = lk.kit.task(r["task"]).rubric.criteria
        got = [(c.weight, r[f"judge.{c.name}"]) for c in crits if f"judge.{c.name}" in r]
        if got:
            r["judge.overall"] = round(sum(w * v for w, v in got) / sum(w for w, _ in got), 4)


def _meta(lk: LoadedKit, cfg: EvalConfig, client: Any, items: list[HeldoutItem], gens: list[Generation],
          scores: list[PointScore], verdicts: list[PairVerdict], steps: dict[str, Any]) -> ReportMeta:
    warnings, notes = [], []
    jc = cfg.judge
    if jc is not None and client.has_role(jc.role):
        w = family_warning(client.models[jc.role].model, jc.teacher_model)
        if w:
            warnings.append(w)
    failed = [g for g in gens if not g.text.strip()]
    if failed:
        warnings.append(f"{len(failed)} of {len(gens)} generations are empty or failed (kept as rows without scores)")
    bad = [s for s in scores if s.error]
    if bad:
        warnings.append(f"{len(bad)} of {len(scores)} pointwise judge scores failed or were rejected "
                        f"(e.g. {bad[0].error[:160]})")
    bad_pairs = [v for v in verdicts if v.outcome is None]
    if bad_pairs:
        warnings.append(f"{len(bad_pairs)} of {len(verdicts)} pairwise comparisons have an unusable verdict")
    if retry_note(scores, verdicts):
        notes.append(retry_note(scores, verdicts))
    if scores:
        n_w = sum(s.weighted for s in scores if s.score is not None)
        n_ok = sum(s.score is not None for s in scores)
        mode = ("probability-weighted over score tokens 1-5 (endpoint returned logprobs)" if n_w == n_ok and n_ok
                else "the raw integer the judge wrote (endpoint returned no logprobs)" if n_w == 0
                else f"probability-weighted for {n_w} of {n_ok} scores, raw for the rest")
        notes.append(f"G-Eval scores are {mode}. Evaluation steps: "
                     + ", ".join(f"{t}: {v['source']}" for t, v in steps.items()) + ".")
    gen_cost = sum(float(g.provenance.model_extra.get("cost_usd", 0.0)) for g in gens)
    judge_cost = sum(s.cost_usd for s in scores) + sum(v.cost_usd for v in verdicts)
    notes.append(f"Cost (USD, from the ledger; cache hits are free): generation ${gen_cost:.4f}, judge ${judge_cost:.4f}.")
    tasks = sorted({it.task for it in items})
    subtitle = (f"kit {lk.kit.name} ({lk.kit.language}, hash {lk.hash}) · {len(items)} held-out items in "
                f"{len(tasks)} tasks · candidates: {', '.join(c.name for c in cfg.candidates)} · "
                f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC")
    judge_model = client.models[jc.role].label() if jc is not None and client.has_role(jc.role) else None
    settings = cfg.model_dump(mode="json") | {"judge_model": judge_model,
                                              "candidate_models": {c.name: client.models[c.client_role].label()
                                                                   for c in cfg.candidates
                                                                   if c.client_role and client.has_role(c.client_role)}}
    return ReportMeta(title=f"Evaluation — {lk.kit.brand}", subtitle=subtitle, language=lk.kit.language,
                      warnings=warnings, notes=notes, settings=settings)


def candidate_scorecard(cfg: EvalConfig, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Scorecard rows of every fine-tuned candidate against ``base`` and each prompting baseline.

    The references are the candidate named ``base`` and every ``kind: prompting`` candidate; the
    fine-tuned candidates are the other ``kind: model`` candidates.
    """
    against = [c.name for c in cfg.candidates if c.name == "base" or c.kind == "prompting"]
    tuned = [c.name for c in cfg.candidates if c.kind == "model" and c.name not in against]
    return scorecard(rows, tuned, against, n_boot=cfg.n_boot, seed=cfg.seed)


def evaluate(lk: LoadedKit, cfg: EvalConfig, client: Any, out_dir: str | Path, *, run_dir: str | Path | None = None) -> Path:
    """Run one evaluation and write its report directory.

    Args:
        lk: the loaded kit (tasks, rubrics, golden examples).
        cfg: candidates, held-out source, sampling and judge settings.
        client: an ``slmforge.llm.LLMClient`` with a role per generating candidate and the judge role.
        out_dir: the report directory (created; files are overwritten, the ledger keeps the calls).
        run_dir: the pipeline run the candidates come from (training curves and cost per quality point
            in the report); default: ``out_dir``'s parent when it is a run dir
            (:func:`slmforge.evaluate.runinfo.find_run_dir`), else none.

    Returns:
        ``out_dir`` (holding ``report.html``, ``report.md``, CSVs, ``plots/``, JSONL records, manifest).

    Raises:
        ConfigError: a candidate or judge role missing from the client, or an empty held-out selection.
        DataError: an unreadable held-out file.
        BudgetExceeded: the client's budget ran out (what was generated is in the ledger; rerun resumes).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    manifest = Manifest(stage="eval", inputs={"kit": lk.hash} | ({"heldout": file_hash(cfg.heldout)} if cfg.heldout else {}))
    items = load_heldout(lk, cfg)
    log.info("eval: %d held-out items, %d candidates", len(items), len(cfg.candidates))
    gens = generate(lk, cfg, client, items)
    write_jsonl(out / "generations.jsonl", gens)
    rows = rule_rows(lk, cfg, items, gens)
    if cfg.rm_dir:
        add_rm_scores(rows, items, cfg.rm_dir, dtype=cfg.rm_dtype)
    scores: list[PointScore] = []
    verdicts: list[PairVerdict] = []
    steps: dict[str, Any] = {}
    if cfg.judge is not None and (cfg.judge.pointwise or cfg.judge.pairwise):
        if not client.has_role(cfg.judge.role):
            from slmforge.errors import ConfigError

            raise ConfigError(f"the judge role {cfg.judge.role!r} is not configured", field="judge.role",
                              fix="add a judge model to the project's models, or set `judge: null` to skip judging")
        if cfg.judge.pointwise:
            steps = evaluation_steps(lk, cfg, client, out)
            scores = judge_pointwise(lk, cfg, client, items, gens, steps)
            add_judge_scores(lk, rows, scores)
        if cfg.judge.pairwise:
            verdicts = judge_pairwise(lk, cfg, client, items, gens)
    write_jsonl(out / "judge_scores.jsonl", [asdict(s) for s in scores])
    write_jsonl(out / "pairwise.jsonl", [asdict(v) for v in verdicts])
    meta = _meta(lk, cfg, client, items, gens, scores, verdicts, steps)
    card = candidate_scorecard(cfg, rows)
    run = Path(run_dir) if run_dir is not None else find_run_dir(out)
    if run is not None:
        add_cost_per_point(card, run_spend(run))
    write_json(out / "scorecard.json", card)
    if small_n_warning(card):
        meta.warnings.append(small_n_warning(card))
    per_task = {t.id: sum(it.task == t.id for it in items) for t in lk.kit.tasks}
    short = {t: n for t, n in per_task.items() if n < 3 and (not cfg.tasks or t in cfg.tasks)}
    if short:
        meta.warnings.append("tasks with fewer than 3 held-out items cannot be judged: "
                             + ", ".join(f"{t} ({n})" for t, n in short.items()))
    from slmforge.evaluate.calibrate import calibration_section

    calibration = calibration_section(out) or calibration_section(lk.root)
    write_report(rows, [asdict(v) for v in verdicts], out, meta, n_boot=cfg.n_boot, seed=cfg.seed, worst_n=cfg.worst_n,
                 scorecard=card, extra_sections=[calibration] if calibration else None,
                 curves=training_curves(run) if run is not None else None)
    manifest.counts = {"items": len(items), "generations": len(gens), "judge_scores": len(scores),
                       "pairwise": len(verdicts), "failed_generations": sum(not g.text.strip() for g in gens)}
    manifest.cost_usd = round(sum(s.cost_usd for s in scores) + sum(v.cost_usd for v in verdicts)
                              + sum(float(g.provenance.model_extra.get("cost_usd", 0.0)) for g in gens), 6)
    manifest.notes = meta.warnings + meta.notes
    write_stage(out, manifest, cfg, outputs=["report.html", "report.md", "scorecard.json", "generations.jsonl"])
    return out
