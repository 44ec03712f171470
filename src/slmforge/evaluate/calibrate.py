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
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from slmforge.data.io import read_jsonl, write_json
from slmforge.errors import ConfigError, DataError
from slmforge.evaluate.config import CandidateSpec, EvalConfig, JudgeConfig
from slmforge.evaluate.existing import spearman
from slmforge.evaluate.judge import evaluation_steps
from slmforge.evaluate.judge_prompts import (
    pairwise_messages, parse_score, parse_winner, pointwise_messages, weighted_score,
)
from slmforge.evaluate.stats import Estimate, bootstrap_ci
from slmforge.kit import LoadedKit, render_student_prompt

RATINGS_FILE = "ratings.jsonl"
CALIBRATION_FILE = "calibration.json"
ALL = "ALL"
OVERALL = "overall"
KEYS = {"id", "task", "subject_id", "instruction", "item_id", "criterion", "rater",
        "text", "score", "text_a", "text_b", "preference"}


@dataclass(frozen=True)
class Rating:
    """One human judgement from ``ratings.jsonl``.

    Attributes:
        line: 1-based line in the ratings file.
        kind: ``"point"`` (text + score) or ``"pair"`` (text_a, text_b, preference).
        task: kit task id.
        instruction: what the writer was asked (given, or the golden item's student prompt).
        criterion: criterion name, or None for the task's rubric-weighted overall.
        text / score: pointwise: the rated text and its score, an integer 1..5.
        text_a / text_b / preference: pair: the two texts and ``"A"``, ``"B"`` or ``"tie"``.
        subject_id / rater / id: optional labels carried into the output.
    """

    line: int
    kind: str
    task: str
    instruction: str
    criterion: str | None = None
    text: str = ""
    score: int | None = None
    text_a: str = ""
    text_b: str = ""
    preference: str | None = None
    subject_id: str | None = None
    rater: str | None = None
    id: str | None = None


def _string(obj: dict[str, Any], key: str, path: Path, line: int, *, required: bool) -> str | None:
    v = obj.get(key)
    if v is None and not required:
        return None
    if not isinstance(v, str) or not v.strip():
        raise DataError("missing or empty" if v is None else f"must be a non-empty string, got {v!r}",
                        file=path, line=line, field=key, fix=f"write `{key}` as a non-empty string")
    return v


def _instruction(lk: LoadedKit, obj: dict[str, Any], task: str, path: Path, line: int) -> str:
    instruction = _string(obj, "instruction", path, line, required=False)
    item_id = _string(obj, "item_id", path, line, required=False)
    if (instruction is None) == (item_id is None):
        raise DataError("give exactly one of `instruction` and `item_id`", file=path, line=line, field="instruction",
                        fix="write the instruction the writer got, or the id of the golden example it answers")
    if instruction is not None:
        return instruction
    golden = {g.id: g for g in lk.golden}
    if item_id not in golden:
        raise DataError(f"unknown golden item {item_id!r}", file=path, line=line, field="item_id",
                        fix=f"use a golden id ({', '.join(list(golden)[:5])} …) or write `instruction`")
    g = golden[item_id]
    if g.task != task:
        raise DataError(f"golden item {item_id!r} belongs to task {g.task!r}, not {task!r}", file=path, line=line,
                        field="task", fix=f"set task to {g.task!r} or use another item_id")
    return render_student_prompt(lk.kit, lk.kit.task(task), lk.subjects[g.subject_id], g.value)


def _rating(lk: LoadedKit, obj: Any, path: Path, line: int) -> Rating:
    if not isinstance(obj, dict):
        raise DataError("each line must be a JSON object", file=path, line=line, fix="write one rating object a line")
    unknown = sorted(set(obj) - KEYS)
    if unknown:
        raise DataError(f"unknown key {unknown[0]!r}", file=path, line=line, field=unknown[0],
                        fix=f"remove it or correct its spelling; keys: {', '.join(sorted(KEYS))}")
    task_ids = [t.id for t in lk.kit.tasks]
    task = _string(obj, "task", path, line, required=True)
    if task not in task_ids:
        raise DataError(f"unknown task {task!r}", file=path, line=line, field="task", fix=f"use one of {task_ids}")
    subject_id = _string(obj, "subject_id", path, line, required=False)
    if subject_id is not None and subject_id not in lk.subjects:
        raise DataError(f"unknown subject {subject_id!r}", file=path, line=line, field="subject_id",
                        fix="use an id from the kit's catalog, or drop the key")
    criterion = _string(obj, "criterion", path, line, required=False)
    names = [c.name for c in lk.kit.task(task).rubric.criteria]
    if criterion is not None and criterion not in names:
        raise DataError(f"task {task!r} has no criterion {criterion!r}", file=path, line=line, field="criterion",
                        fix=f"use one of {names}, or drop the key to rate the overall quality")
    common = {"line": line, "task": task, "instruction": _instruction(lk, obj, task, path, line),
              "criterion": criterion, "subject_id": subject_id,
              "rater": _string(obj, "rater", path, line, required=False),
              "id": None if obj.get("id") is None else str(obj["id"])}
    point, pair = "text" in obj or "score" in obj, bool({"text_a", "text_b", "preference"} & set(obj))
    if point == pair:
        raise DataError("a rating is either `text` + `score` or `text_a` + `text_b` + `preference`", file=path,
                        line=line, field="score" if point else "text",
                        fix="split it into a pointwise rating and a pair, or add the missing keys")
    if point:
        score = obj.get("score")
        if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
            raise DataError(f"must be an integer from 1 to 5, got {score!r}", file=path, line=line, field="score",
                            fix="write the human score as an integer 1-5")
        return Rating(kind="point", text=_string(obj, "text", path, line, required=True), score=score, **common)
    pref = obj.get("preference")
    if not isinstance(pref, str) or pref.strip().lower() not in ("a", "b", "tie"):
        raise DataError(f"must be 'A', 'B' or 'tie', got {pref!r}", file=path, line=line, field="preference",
                        fix="write which text the rater preferred")
    pref = "tie" if pref.strip().lower() == "tie" else pref.strip().upper()
    return Rating(kind="pair", text_a=_string(obj, "text_a", path, line, required=True),
                  text_b=_string(obj, "text_b", path, line, required=True), preference=pref, **common)


def load_ratings(lk: LoadedKit, path: str | Path | None = None) -> list[Rating]:
    """Read and validate human ratings (format in the module docstring).

    Args:
        lk: the kit the ratings belong to (tasks, criteria, golden items, catalog).
        path: the JSONL file; default ``ratings.jsonl`` in the kit directory.

    Returns:
        the ratings in file order.

    Raises:
        DataError: missing file, invalid JSON, an unknown key, task, criterion, subject or golden item, a
            score outside 1..5, a bad preference, or no rating at all (names file, line and field).
    """
    path = Path(path) if path is not None else lk.root / RATINGS_FILE
    if not path.is_file():
        raise DataError("ratings file not found", file=path,
                        fix=f"write human ratings as JSONL into {RATINGS_FILE} beside kit.yaml (see `slmforge judge "
                            "calibrate --help`), or pass --ratings FILE")
    ratings = [_rating(lk, obj, path, line) for line, obj in read_jsonl(path)]
    if not ratings:
        raise DataError("no ratings", file=path, fix="add at least a few pointwise ratings or preference pairs")
    return ratings


# ---- statistics ------------------------------------------------------------------------------------
def quadratic_kappa(human: np.ndarray, judge: np.ndarray, *, k: int = 5) -> float:
    """Quadratic-weighted Cohen's κ (Cohen 1968) of two integer ratings on the scale 1..k.

    Args:
        human / judge: integer scores in 1..k, shape ``[n]``.
        k: number of categories (5 for the judge's scale).

    Returns:
        κ_w in [−1, 1]: 1 = identical, 0 = no better than the raters' marginals predict (e.g. a judge
        that always gives the same score); ``nan`` when empty or when the expected disagreement is 0
        (both sides constant at the same value).
    """
    h, j = np.asarray(human, int) - 1, np.asarray(judge, int) - 1
    if len(h) == 0:
        return float("nan")
    observed = np.zeros((k, k))
    np.add.at(observed, (h, j), 1.0)
    observed /= len(h)
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0))
    i = np.arange(k)
    w = (i[:, None] - i[None, :]) ** 2 / (k - 1) ** 2
    den = float((w * expected).sum())
    return float("nan") if den == 0 else 1 - float((w * observed).sum()) / den


def _ci(values: np.ndarray, stat: Callable[[np.ndarray], float], n_boot: int, seed: int) -> dict[str, float | None]:
    # a statistic undefined on every replicate (a constant judge's ρ) is nan, not an error: no All-NaN warning
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        est: Estimate = bootstrap_ci(values, stat, n_boot=n_boot, seed=seed)
    clean = lambda v: None if math.isnan(v) else round(v, 4) + 0.0  # noqa: E731 - JSON has no NaN; + 0.0: no -0.0
    return {"value": clean(est.value), "low": clean(est.low), "high": clean(est.high)}


def point_metrics(human: np.ndarray, judge_int: np.ndarray, judge_score: np.ndarray, *, n_boot: int = 1000,
                  seed: int = 0) -> dict[str, Any]:
    """κ_w, Spearman ρ, exact and ±1 agreement, each ``{"value", "low", "high"}`` (95 % bootstrap, None = undefined).

    Args:
        human: human scores, integers 1..5, shape ``[n]``.
        judge_int: the judge's integer scores 1..5 (κ, exact, ±1), shape ``[n]``.
        judge_score: the judge's scores as reported (logprob-weighted when available; ρ), shape ``[n]``.
        n_boot / seed: bootstrap replicates and seed (ratings are resampled with replacement).
    """
    t = np.stack([np.asarray(human, float), np.asarray(judge_int, float), np.asarray(judge_score, float)], axis=1)
    return {"n": len(t),
            "kappa": _ci(t, lambda a: quadratic_kappa(a[:, 0], a[:, 1]), n_boot, seed),
            "spearman": _ci(t, lambda a: spearman(a[:, 0], a[:, 2]), n_boot, seed),
            "exact": _ci(t[:, 0] == t[:, 1], np.mean, n_boot, seed),
            "within_1": _ci(np.abs(t[:, 0] - t[:, 1]) <= 1, np.mean, n_boot, seed)}


def pair_metrics(human: np.ndarray, judge: np.ndarray, consistent: np.ndarray, *, n_boot: int = 1000,
                 seed: int = 0) -> dict[str, Any]:
    """Agreement on preference pairs, each ``{"value", "low", "high"}`` (95 % bootstrap).

    Args:
        human / judge: outcome for text A, 1 (A preferred), 0.5 (tie), 0 (B), shape ``[n]``.
        consistent: whether the judge's two orders agreed, shape ``[n]``.
        n_boot / seed: bootstrap replicates and seed.

    Returns:
        ``agreement`` (mean ``1 − |judge − human|``: a tie against a preference earns ½), ``exact`` (same
        verdict) and ``consistency`` (position-consistency rate), with ``n``.
    """
    h, j = np.asarray(human, float), np.asarray(judge, float)
    return {"n": len(h), "agreement": _ci(1 - np.abs(j - h), np.mean, n_boot, seed),
            "exact": _ci(j == h, np.mean, n_boot, seed),
            "consistency": _ci(np.asarray(consistent, float), np.mean, n_boot, seed)}


# ---- judging ---------------------------------------------------------------------------------------
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
