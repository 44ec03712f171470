"""Judge calibration: how well the configured LLM judge agrees with people who rated the same texts.

A kit may carry human ratings in ``ratings.jsonl`` beside ``kit.yaml``, one JSON object a line::

    {"task": "paid_ad_cta", "item_id": "g1", "criterion": "voice", "text": "...", "score": 4, "rater": "ana"}
    {"task": "product_note", "instruction": "Describe ...", "text_a": "...", "text_b": "...", "preference": "B"}

Keys: ``task`` (a kit task); ``instruction`` (what the writer was asked) or ``item_id`` (a golden
example, whose student prompt is then the instruction); optional ``subject_id`` (a catalog id),
``criterion`` (a criterion of the task; absent = the task's rubric-weighted overall), ``rater`` and
``id``; then either ``text`` + ``score`` (integer 1–5, a pointwise rating) or ``text_a`` + ``text_b`` +
``preference`` (``"A"``, ``"B"`` or ``"tie"``, a preference pair).

The judge sees each text exactly as ``slmforge eval`` shows it (:mod:`slmforge.evaluate.judge_prompts`,
the G-Eval steps of :func:`slmforge.evaluate.judge.evaluation_steps`, the same parsers), pairs in both
orders; then, per criterion and over all ratings (``ALL``), each with a percentile-bootstrap 95 %
interval over ratings (:func:`slmforge.evaluate.stats.bootstrap_ci`):

* quadratic-weighted Cohen's κ between the judge's integer score and the human score, categories
  1..5 (Cohen 1968, "Weighted kappa: Nominal scale agreement with provision for scaled disagreement
  or partial credit"): ``κ_w = 1 − Σ w_ij O_ij / Σ w_ij E_ij`` with ``w_ij = (i − j)² / 16``;
* Spearman's ρ between the human score and the judge's score (logprob-weighted when the endpoint
  returned logprobs), average ranks for ties (:func:`slmforge.evaluate.existing.spearman`);
* exact agreement and agreement within ±1 point;
* on pairs: the judge's position-swapped verdict (two orders that disagree are a tie, as in
  :func:`slmforge.evaluate.judge.judge_pairwise`; Zheng et al. 2023, §3.4), agreement
  ``1 − |o_judge − o_human|`` with outcomes 1 / ½ / 0 for text A (a tie against a preference earns ½),
  exact verdict agreement, and the judge's position-consistency rate.

A rating whose judge call failed or could not be parsed is kept in ``calibration.json`` with its
error and counted as ``failed``, never scored. Run::

    slmforge judge calibrate --kit KIT --models models.yaml [--role judge] [--out runs/eval]
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from slmforge.data.io import write_json
from slmforge.errors import ConfigError, DataError
from slmforge.evaluate.config import CandidateSpec, EvalConfig, JudgeConfig
from slmforge.evaluate.judge import evaluation_steps
from slmforge.evaluate.judge_prompts import (
    pairwise_messages, parse_score, parse_winner, pointwise_messages, weighted_score,
)
from slmforge.kit import LoadedKit
from slmforge.evaluate.agreement import pair_metrics, point_metrics
from slmforge.evaluate.ratings import RATINGS_FILE, Rating, load_ratings

CALIBRATION_FILE = "calibration.json"
ALL = "ALL"
OVERALL = "overall"


def _params(jc: JudgeConfig, logprobs: bool) -> dict[str, Any]:
    params: dict[str, Any] = {"temperature": jc.temperature, "max_tokens": jc.max_tokens}
    return params | ({"logprobs": True, "top_logprobs": 5} if logprobs else {})


def _judge_points(lk: LoadedKit, client: Any, jc: JudgeConfig, ratings: list[Rating],
                  steps: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    jobs, batch = [], []
    for k, r in enumerate(ratings):
        task = lk.kit.task(r.task)
        for c in [c for c in task.rubric.criteria if r.criterion in (None, c.name)]:
            jobs.append((k, c.weight))
            batch.append(pointwise_messages(lk.kit, task, c, steps[r.task]["steps"], r.instruction, r.text))
    logprobs = jc.logprobs and client.models[jc.role].backend == "openai"  # as judge_pointwise: local has no logprobs
    results = client.chat_many(jc.role, batch, stage="eval.judge.calibrate.pointwise", **_params(jc, logprobs))
    got: dict[int, list[tuple[float, int, float]]] = {}
    errors: dict[int, str] = {}
    cost: dict[int, float] = {}
    for (k, weight), res in zip(jobs, results, strict=True):
        cost[k] = cost.get(k, 0.0) + res.cost_usd
        raw, _, err = parse_score(res.text) if res.ok else (None, "", res.error or "call failed")
        if raw is None:
            errors.setdefault(k, f"{err}; raw reply: {(res.text or '')[:200]!r}")
            continue
        w = weighted_score(res.logprobs, raw) if logprobs else None
        got.setdefault(k, []).append((weight, raw, w if w is not None else float(raw)))
    out = []
    for k, r in enumerate(ratings):
        row = _row(r) | {"human": r.score, "judge": None, "judge_int": None, "error": errors.get(k),
                         "cost_usd": round(cost.get(k, 0.0), 6)}
        if k not in errors:
            total = sum(w for w, _, _ in got[k])
            raw_mean = sum(w * raw for w, raw, _ in got[k]) / total
            row["judge"] = round(sum(w * s for w, _, s in got[k]) / total, 4)
            row["judge_int"] = math.floor(raw_mean + 0.5)  # overall over several criteria: round half up
        out.append(row)
    return out


def _judge_pairs(lk: LoadedKit, client: Any, jc: JudgeConfig, ratings: list[Rating]) -> list[dict[str, Any]]:
    batch = []
    for r in ratings:
        task = lk.kit.task(r.task)
        batch += [pairwise_messages(lk.kit, task, r.instruction, r.text_a, r.text_b),
                  pairwise_messages(lk.kit, task, r.instruction, r.text_b, r.text_a)]
    results = client.chat_many(jc.role, batch, stage="eval.judge.calibrate.pairwise", **_params(jc, False))
    outcome = {"A": 1.0, "tie": 0.5, "B": 0.0}
    out = []
    for k, r in enumerate(ratings):
        res_ab, res_ba = results[2 * k], results[2 * k + 1]
        w_ab, _, e_ab = parse_winner(res_ab.text) if res_ab.ok else (None, "", res_ab.error)
        w_ba, _, e_ba = parse_winner(res_ba.text) if res_ba.ok else (None, "", res_ba.error)
        row = _row(r) | {"human": r.preference, "judge": None, "verdict_ab": w_ab,
                         "verdict_ba": {"A": "B", "B": "A"}.get(w_ba or "", w_ba), "consistent": None,
                         "error": "; ".join(e for e in (e_ab, e_ba) if e) or None,
                         "cost_usd": round(res_ab.cost_usd + res_ba.cost_usd, 6)}
        if row["error"] is None:
            row["consistent"] = row["verdict_ab"] == row["verdict_ba"]
            row["judge"] = row["verdict_ab"] if row["consistent"] else "tie"
        row["outcomes"] = (outcome[r.preference], outcome[row["judge"]]) if row["judge"] else None
        out.append(row)
    return out


def _row(r: Rating) -> dict[str, Any]:
    return {"line": r.line, "id": r.id, "kind": r.kind, "task": r.task, "criterion": r.criterion or OVERALL,
            "subject_id": r.subject_id, "rater": r.rater}


def _groups(rows: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    names = sorted({r["criterion"] for r in rows})
    return [(n, [r for r in rows if r["criterion"] == n]) for n in names] + ([(ALL, rows)] if rows else [])


def calibrate(lk: LoadedKit, client: Any, *, out_dir: str | Path, judge: JudgeConfig | None = None,
              ratings_path: str | Path | None = None, n_boot: int = 1000, seed: int = 0) -> dict[str, Any]:
    """Judge every human rating of the kit and measure the agreement; write ``out_dir/calibration.json``.

    Args:
        lk: the kit (its ``ratings.jsonl`` unless ``ratings_path``).
        client: :class:`slmforge.llm.client.LLMClient` with the judge's role; calls go through its
            ledger under stages ``eval.judge.calibrate.*`` (a rerun is answered from the cache).
        out_dir: where ``calibration.json`` goes; G-Eval steps are read from / written to its
            ``judge_steps.json``, so pointing it at an eval dir calibrates with that eval's steps.
        judge: judge settings (role, temperature, max_tokens, logprobs); default :class:`JudgeConfig`.
        ratings_path: another ratings file.
        n_boot / seed: bootstrap replicates and seed of the 95 % intervals.

    Returns:
        the calibration dict as written: ``pointwise`` and ``pairwise`` lists of per-criterion rows
        (``criterion`` = name, ``overall`` for ratings without one, ``ALL`` pooled) with the metrics of
        :func:`point_metrics` / :func:`pair_metrics` and ``failed``, plus ``ratings`` (one row per
        rating with the judge's answer or error), ``judge``, ``kit``, ``cost_usd``.

    Raises:
        ConfigError: the judge role has no model in ``client``.
        DataError: the ratings file (see :func:`load_ratings`).
    """
    jc = judge or JudgeConfig()
    if not client.has_role(jc.role):
        raise ConfigError(f"no model for the judge role {jc.role!r} (roles: {sorted(client.models)})", field="--role",
                          fix=f"add `{jc.role}: {{backend: openai, model: ...}}` to the models YAML, or pass --role")
    ratings = load_ratings(lk, ratings_path)
    out = Path(out_dir)
    cfg = EvalConfig(candidates=[CandidateSpec(name="human", kind="golden")], judge=jc)
    points, pairs = [r for r in ratings if r.kind == "point"], [r for r in ratings if r.kind == "pair"]
    steps = evaluation_steps(lk, cfg, client, out) if points else {}
    point_rows = _judge_points(lk, client, jc, points, steps) if points else []
    pair_rows = _judge_pairs(lk, client, jc, pairs) if pairs else []
    pointwise = []
    for name, rows in _groups(point_rows):
        ok = [r for r in rows if r["error"] is None]
        m = point_metrics(np.array([r["human"] for r in ok]), np.array([r["judge_int"] for r in ok]),
                          np.array([r["judge"] for r in ok]), n_boot=n_boot, seed=seed)
        pointwise.append({"criterion": name, **m, "failed": len(rows) - len(ok)})
    pairwise = []
    for name, rows in _groups(pair_rows):
        ok = [r for r in rows if r["error"] is None]
        m = pair_metrics(np.array([r["outcomes"][0] for r in ok]), np.array([r["outcomes"][1] for r in ok]),
                         np.array([r["consistent"] for r in ok]), n_boot=n_boot, seed=seed)
        pairwise.append({"criterion": name, **m, "failed": len(rows) - len(ok)})
    for r in pair_rows:
        del r["outcomes"]
    result = {"kit": lk.kit.name, "kit_hash": lk.hash, "ratings_file": str(ratings_path or lk.root / RATINGS_FILE),
              "judge": {"role": jc.role, "model": client.models[jc.role].model},
              "steps_source": {t: s["source"] for t, s in steps.items()}, "n_boot": n_boot, "seed": seed,
              "pointwise": pointwise, "pairwise": pairwise,
              "cost_usd": round(sum(r["cost_usd"] for r in point_rows + pair_rows), 6),
              "ratings": point_rows + pair_rows}
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / CALIBRATION_FILE, result)
    return result


# ---- presentation ----------------------------------------------------------------------------------
def _cell(m: dict[str, float | None]) -> str:
    if m["value"] is None:
        return "–"
    ci = "" if m["low"] is None else f" [{m['low']:.2f}, {m['high']:.2f}]"
    return f"{m['value']:.2f}{ci}"


def summary_rows(cal: dict[str, Any]) -> list[dict[str, Any]]:
    """Long-format rows ``{"criterion", "metric", "n", "value", "95% CI"}`` of a calibration dict (for the CLI table).

    Values as in the dict (4 decimals); None where a metric is undefined (ρ of a constant judge).
    """
    names = {"pointwise": {"kappa": "κ quadratic", "spearman": "Spearman ρ", "exact": "exact",
                           "within_1": "within ±1"},
             "pairwise": {"agreement": "pair agreement", "exact": "pair exact", "consistency": "position consistency"}}
    out = []
    for kind, metrics in names.items():
        for g in cal[kind]:
            for key, label in metrics.items():
                m = g[key]
                ci = None if m["low"] is None else f"{m['low']:.3f} to {m['high']:.3f}"
                out.append({"criterion": g["criterion"], "metric": label, "n": g["n"], "value": m["value"],
                            "95% CI": ci})
    return out


def calibration_section(path: str | Path) -> dict[str, Any] | None:
    """A report section with the judge's agreement with people, from ``calibration.json``.

    Args:
        path: ``calibration.json`` itself, or a directory (eval output dir or kit dir) that may hold one.

    Returns:
        ``{"id", "title", "intro", "rows"}`` for ``write_report(..., extra_sections=[...])`` — one row per
        criterion (``overall`` = ratings of the overall quality, ``ALL`` = pooled) with κ_w, ρ, exact and
        ±1 agreement and the pair agreement, each as ``"value [low, high]"``; None when there is no file.

    Raises:
        DataError: the file exists but is not a calibration written by ``slmforge judge calibrate``.
    """
    p = Path(path)
    p = p / CALIBRATION_FILE if p.is_dir() else p
    if not p.is_file():
        return None
    try:
        cal = json.loads(p.read_text(encoding="utf-8"))
        point = {g["criterion"]: g for g in cal["pointwise"]}
        pair = {g["criterion"]: g for g in cal["pairwise"]}
        judge = cal["judge"]["model"]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as e:
        raise DataError(f"not a calibration file ({type(e).__name__}: {e})", file=p,
                        fix="rerun `slmforge judge calibrate`, or remove the file") from e
    rows = []
    for name in [n for n in dict.fromkeys([*point, *pair]) if n != ALL] + [ALL]:
        g, q = point.get(name), pair.get(name)
        if g is None and q is None:
            continue
        rows.append({"criterion": name, "ratings": g["n"] if g else 0,
                     "κ quadratic": _cell(g["kappa"]) if g else None,
                     "Spearman ρ": _cell(g["spearman"]) if g else None,
                     "exact": _cell(g["exact"]) if g else None, "within ±1": _cell(g["within_1"]) if g else None,
                     "pairs": q["n"] if q else 0, "pair agreement": _cell(q["agreement"]) if q else None,
                     "position consistency": _cell(q["consistency"]) if q else None})
    failed = sum(g["failed"] for g in cal["pointwise"] + cal["pairwise"] if g["criterion"] == ALL)
    intro = (f"Agreement of the judge ({judge}) with human ratings ({cal.get('ratings_file', p)}): quadratic-weighted "
             "Cohen's κ (Cohen 1968) and Spearman ρ on 1-5 scores, exact and ±1 agreement; on preference pairs the "
             "judge's position-swapped verdict (disagreeing orders = tie), agreement with ties counted ½. Brackets: "
             "95 % bootstrap intervals over ratings. 'overall' rows compare the rubric-weighted overall score."
             + (f" {failed} rating(s) got no usable judge answer and are left out." if failed else ""))
    return {"id": "judge-calibration", "title": "Judge calibration against human ratings", "intro": intro, "rows": rows}
