"""The LLM judge: G-Eval pointwise scores and blind, position-swapped pairwise comparisons.

* Pointwise (G-Eval, Liu et al. 2023, "G-Eval: NLG Evaluation using GPT-4 with Better Human
  Alignment"): per task, evaluation steps come from the kit's rubric or are generated once by the
  judge and stored in ``judge_steps.json``; then one call per (text, criterion) returns
  ``{"reason", "score"}``. When the endpoint returns logprobs (we ask for ``logprobs=True,
  top_logprobs=5``) the score is the probability-weighted mean over the score tokens 1..5, else the
  raw integer; each score records which (``weighted``).
* Pairwise: each item and pair of candidates is judged twice, once in each order, with neutral
  labels A / B (the judge never sees candidate names; which order goes first is shuffled per item).
  When the two orders disagree the comparison is a tie, and the share of comparisons whose two
  verdicts agree is the position-consistency rate (Zheng et al. 2023, "Judging LLM-as-a-Judge with
  MT-Bench and Chatbot Arena", §3.4: swap positions, count inconsistent verdicts as ties).

Calls go through ``LLMClient.chat_many`` under stages ``eval.judge.*`` so they are cached (resume)
and their cost is in the ledger. Unparseable replies are kept as rows with ``error`` and the raw
reason, and counted in the report.
"""

from __future__ import annotations

import json
import logging
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slmforge.data.records import Generation
from slmforge.evaluate.candidates import HeldoutItem
from slmforge.evaluate.config import EvalConfig, JudgeConfig
from slmforge.evaluate.judge_prompts import (
    default_steps, pairwise_messages, parse_score, parse_steps, parse_winner, pointwise_messages, steps_messages,
    weighted_score,
)
from slmforge.evaluate.metrics import char_length
from slmforge.kit import LoadedKit

log = logging.getLogger(__name__)
STEPS_FILE = "judge_steps.json"


@dataclass
class PointScore:
    """One G-Eval score.

    Attributes:
        item_id / task / candidate / criterion: what was scored.
        score: probability-weighted score in [1, 5] when ``weighted``, else the raw integer; None on failure.
        raw_score: the integer the judge wrote, or None.
        weighted: the score is the logprob-weighted mean.
        reason: the judge's reason.
        error: why no score was obtained (call failed, unparseable, out of scale), else None.
        cost_usd: cost of the call in USD (0 when answered from the ledger cache).
    """

    item_id: str
    task: str
    candidate: str
    criterion: str
    score: float | None
    raw_score: int | None
    weighted: bool
    reason: str
    error: str | None
    cost_usd: float = 0.0


@dataclass
class PairVerdict:
    """Both orders of one comparison of candidates ``a`` and ``b`` on one item.

    Attributes:
        first: the candidate shown in slot A in the first order (shuffled per item).
        winner_ab: verdict with ``a`` in slot A: a candidate name, ``"tie"``, or None (failed).
        winner_ba: verdict with ``b`` in slot A, same values.
        outcome: for ``a``: 1 win, 0.5 tie (including disagreeing orders), 0 loss; None when a verdict failed.
        consistent: both orders gave the same verdict; None when a verdict failed.
        len_a / len_b: text lengths in characters.
        cost_usd: cost of the two calls in USD.
        errors: parse / call errors, '' when none.
    """

    item_id: str
    task: str
    a: str
    b: str
    first: str
    winner_ab: str | None
    winner_ba: str | None
    outcome: float | None
    consistent: bool | None
    len_a: int
    len_b: int
    cost_usd: float = 0.0
    errors: str = ""


def _judge_params(jc: JudgeConfig, *, logprobs: bool) -> dict[str, Any]:
    params: dict[str, Any] = {"temperature": jc.temperature, "max_tokens": jc.max_tokens}
    if logprobs:
        params.update(logprobs=True, top_logprobs=5)
    return params


def evaluation_steps(lk: LoadedKit, cfg: EvalConfig, client: Any, out_dir: Path) -> dict[str, dict[str, Any]]:
    """G-Eval evaluation steps per task: from the kit, from ``out_dir/judge_steps.json``, or generated once.

    Returns:
        task id → ``{"steps": [...], "source": "kit" | "judge" | "default"}``; written to
        ``out_dir/judge_steps.json`` so later runs (and people) reuse the same steps.
    """
    path = out_dir / STEPS_FILE
    stored: dict[str, dict[str, Any]] = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    out: dict[str, dict[str, Any]] = {}
    missing = []
    for task in lk.kit.tasks:
        if task.rubric.evaluation_steps:
            out[task.id] = {"steps": list(task.rubric.evaluation_steps), "source": "kit"}
        elif task.id in stored:
            out[task.id] = stored[task.id]
        else:
            missing.append(task)
    if missing:
        jc = cfg.judge or JudgeConfig()
        results = client.chat_many(jc.role, [steps_messages(lk.kit, t) for t in missing], stage="eval.judge.steps",
                                   progress=False, **_judge_params(jc, logprobs=False))
        for task, res in zip(missing, results, strict=True):
            steps = parse_steps(res.text) if res.ok else None
            if steps is None:
                log.warning("judge gave no usable evaluation steps for %s (%s); using the rubric's own",
                            task.id, res.error or "unparseable")
                out[task.id] = {"steps": default_steps(task), "source": "default"}
            else:
                out[task.id] = {"steps": steps, "source": "judge"}
    out_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, ensure_ascii=False, indent=2), encoding="utf-8")
    return out


def judge_pointwise(
    lk: LoadedKit, cfg: EvalConfig, client: Any, items: list[HeldoutItem], gens: list[Generation],
    steps: dict[str, dict[str, Any]],
) -> list[PointScore]:
    """G-Eval scores for every generation and every criterion of its task.

    Args:
        items: held-out items (for the instruction shown to the judge).
        gens: the candidates' texts (``Generation.id`` = ``item_id:candidate``).
        steps: output of :func:`evaluation_steps`.

    Returns:
        one :class:`PointScore` per (generation, criterion); empty texts get ``error="no text"``.
    """
    jc = cfg.judge or JudgeConfig()
    by_id = {it.id: it for it in items}
    jobs: list[tuple[Generation, str]] = []
    batch: list[list[dict[str, str]]] = []
    out: list[PointScore] = []
    for g in gens:
        item_id = g.id.rsplit(":", 1)[0]
        task = lk.kit.task(g.task)
        for c in task.rubric.criteria:
            if not g.text.strip():
                out.append(PointScore(item_id, g.task, g.candidate, c.name, None, None, False, "", "no text"))
                continue
            jobs.append((g, c.name))
            batch.append(pointwise_messages(lk.kit, task, c, steps[g.task]["steps"], by_id[item_id].instruction, g.text))
    logprobs = jc.logprobs and client.models[jc.role].backend == "openai"  # local generate has no logprobs
    results = client.chat_many(jc.role, batch, stage="eval.judge.pointwise", **_judge_params(jc, logprobs=logprobs))
    for (g, crit), res in zip(jobs, results, strict=True):
        item_id = g.id.rsplit(":", 1)[0]
        if not res.ok:
            out.append(PointScore(item_id, g.task, g.candidate, crit, None, None, False, "", res.error or "call failed",
                                  res.cost_usd))
            continue
        raw, reason, err = parse_score(res.text)
        if raw is None:
            out.append(PointScore(item_id, g.task, g.candidate, crit, None, None, False, reason,
                                  f"{err}; raw reply: {(res.text or '')[:200]!r}", res.cost_usd))
            continue
        w = weighted_score(res.logprobs, raw) if logprobs else None
        out.append(PointScore(item_id, g.task, g.candidate, crit, w if w is not None else float(raw), raw,
                              w is not None, reason, None, res.cost_usd))
    return out


def _verdict(winner: str | None, in_a: str, in_b: str) -> str | None:
    return None if winner is None else {"A": in_a, "B": in_b, "tie": "tie"}[winner]


def judge_pairwise(
    lk: LoadedKit, cfg: EvalConfig, client: Any, items: list[HeldoutItem], gens: list[Generation]
) -> list[PairVerdict]:
    """Blind comparisons of every configured pair on every item, each in both orders.

    Returns:
        one :class:`PairVerdict` per (item, pair) where both texts are non-empty.
    """
    jc = cfg.judge or JudgeConfig()
    text = {g.id: g.text for g in gens}
    jobs: list[tuple[HeldoutItem, str, str, str]] = []
    batch: list[list[dict[str, str]]] = []
    for it in items:
        task = lk.kit.task(it.task)
        for a, b in cfg.pairs():
            ta, tb = text.get(f"{it.id}:{a}", ""), text.get(f"{it.id}:{b}", "")
            if not ta.strip() or not tb.strip():
                continue
            first = a if random.Random(f"{cfg.seed}:{it.id}:{a}:{b}").random() < 0.5 else b
            jobs.append((it, a, b, first))
            orders = [(ta, tb), (tb, ta)] if first == a else [(tb, ta), (ta, tb)]
            for in_a, in_b in orders:
                batch.append(pairwise_messages(lk.kit, task, it.instruction, in_a, in_b))
    if not batch:
        return []
    results = client.chat_many(jc.role, batch, stage="eval.judge.pairwise", **_judge_params(jc, logprobs=False))
    out = []
    for k, (it, a, b, first) in enumerate(jobs):
        r_ab, r_ba = results[2 * k], results[2 * k + 1]
        if first == b:
            r_ab, r_ba = r_ba, r_ab
        w_ab, _, e_ab = parse_winner(r_ab.text) if r_ab.ok else (None, "", r_ab.error)
        w_ba, _, e_ba = parse_winner(r_ba.text) if r_ba.ok else (None, "", r_ba.error)
        v_ab, v_ba = _verdict(w_ab, a, b), _verdict(w_ba, b, a)
        if v_ab is None or v_ba is None:
            outcome, consistent = None, None
        else:
            consistent = v_ab == v_ba
            verdict = v_ab if consistent else "tie"
            outcome = 1.0 if verdict == a else 0.0 if verdict == b else 0.5
        errors = "; ".join(e for e in (e_ab, e_ba) if e)
        out.append(PairVerdict(it.id, it.task, a, b, first, v_ab, v_ba, outcome, consistent,
                               char_length(text[f"{it.id}:{a}"]), char_length(text[f"{it.id}:{b}"]),
                               r_ab.cost_usd + r_ba.cost_usd, errors))
    return out
