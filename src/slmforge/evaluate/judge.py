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
and their cost is in the ledger. A reply that the strict parser rejects (not one JSON object, a
repeated ``score`` / ``winner`` field, out of scale) is re-asked up to ``JudgeConfig.retries`` times as
a fresh request: the same messages with ``variant={"judge_retry": k}``, which enters only the
ledger's request hash (:meth:`slmforge.llm.client.LLMClient.achat`), so the retry is not answered
from the cached rejected reply, while a rerun of the evaluation still finds both in the ledger.
Retries run under stage ``eval.judge.<kind>.retry``. Replies still rejected are kept as rows with
``error`` and the raw reason; retries and final failures are counted in the report
(:func:`retry_note`).
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Callable
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
from slmforge.llm.results import ChatResult

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
        cost_usd: cost of the call in USD, retries included (0 when answered from the ledger cache).
        retries: times the call was re-asked because its reply was rejected (0..``JudgeConfig.retries``).
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
    retries: int = 0


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
        cost_usd: cost of the two calls in USD, retries included.
        errors: parse / call errors, '' when none.
        retries: re-asks of the two calls together because a reply was rejected.
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
    retries: int = 0


def _judge_params(jc: JudgeConfig, *, logprobs: bool) -> dict[str, Any]:
    params: dict[str, Any] = {"temperature": jc.temperature, "max_tokens": jc.max_tokens}
    if logprobs:
        params.update(logprobs=True, top_logprobs=5)
    return params


@dataclass
class _Asked:
    """One judge request after its retries: the last result, its parse, retries made, total cost (USD)."""

    result: ChatResult
    parsed: tuple[Any, str, str | None]
    retries: int
    cost_usd: float


def _ask(client: Any, jc: JudgeConfig, batch: list[list[dict[str, str]]], *, stage: str,
         parse: Callable[[str | None], tuple[Any, str, str | None]], params: dict[str, Any],
         progress: bool = True) -> list[_Asked]:
    """Send ``batch`` and re-ask every request whose reply ``parse`` rejects, up to ``jc.retries`` times.

    Args:
        parse: reply text → ``(value or None, reason, error)`` (:func:`parse_score`, :func:`parse_winner`).
        params: judge sampling parameters (:func:`_judge_params`).

    Returns:
        one :class:`_Asked` per request, in order. A failed call (``ok=False``, the client already
        retried the transport) is not re-asked; a retry is the same messages with
        ``variant={"judge_retry": k}`` (only the ledger hash changes), under ``<stage>.retry``.
    """
    results = client.chat_many(jc.role, batch, stage=stage, progress=progress, **params)
    out = [_Asked(r, parse(r.text) if r.ok else (None, "", r.error or "call failed"), 0, r.cost_usd) for r in results]
    for attempt in range(1, jc.retries + 1):
        redo = [i for i, a in enumerate(out) if a.result.ok and a.parsed[0] is None]
        if not redo:
            break
        log.info("judge: re-asking %d rejected replies (%s, retry %d of %d)", len(redo), stage, attempt, jc.retries)
        again = client.chat_many(jc.role, [batch[i] for i in redo], stage=f"{stage}.retry", progress=False,
                                 variant={"judge_retry": attempt}, **params)
        for i, r in zip(redo, again, strict=True):
            a = out[i]
            a.result, a.retries, a.cost_usd = r, a.retries + 1, a.cost_usd + r.cost_usd
            a.parsed = parse(r.text) if r.ok else (None, "", r.error or "call failed")
    return out


def retry_note(scores: list[PointScore], verdicts: list[PairVerdict]) -> str | None:
    """One report line counting judge retries and what they gave, or None when nothing was re-asked.

    Example: ``"Judge retries: 1 retry of rejected replies (pointwise 1, pairwise 0); 1 recovered,
    0 still rejected after retrying (counted as failures)."``
    """
    n_point, n_pair = sum(s.retries for s in scores), sum(v.retries for v in verdicts)
    if not n_point + n_pair:
        return None
    recovered = sum(s.error is None for s in scores if s.retries) + sum(
        v.outcome is not None for v in verdicts if v.retries)
    failed = sum(s.error is not None for s in scores if s.retries) + sum(
        v.outcome is None for v in verdicts if v.retries)
    total = n_point + n_pair
    return (f"Judge retries: {total} {'retry' if total == 1 else 'retries'} of rejected replies (pointwise {n_point}, "
            f"pairwise {n_pair}); {recovered} recovered, {failed} still rejected after retrying (counted as failures).")


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
    asked = _ask(client, jc, batch, stage="eval.judge.pointwise", parse=parse_score,
                 params=_judge_params(jc, logprobs=logprobs)) if batch else []
    for (g, crit), a in zip(jobs, asked, strict=True):
        item_id, res = g.id.rsplit(":", 1)[0], a.result
        raw, reason, err = a.parsed
        if raw is None:
            why = err if not res.ok else f"{err}; raw reply: {(res.text or '')[:200]!r}"
            out.append(PointScore(item_id, g.task, g.candidate, crit, None, None, False, reason, why, a.cost_usd,
                                  a.retries))
            continue
        w = weighted_score(res.logprobs, raw) if logprobs else None
        out.append(PointScore(item_id, g.task, g.candidate, crit, w if w is not None else float(raw), raw,
                              w is not None, reason, None, a.cost_usd, a.retries))
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
    asked = _ask(client, jc, batch, stage="eval.judge.pairwise", parse=parse_winner,
                 params=_judge_params(jc, logprobs=False))
    out = []
    for k, (it, a, b, first) in enumerate(jobs):
        r_ab, r_ba = asked[2 * k], asked[2 * k + 1]
        if first == b:
            r_ab, r_ba = r_ba, r_ab
        (w_ab, _, e_ab), (w_ba, _, e_ba) = r_ab.parsed, r_ba.parsed
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
                               r_ab.cost_usd + r_ba.cost_usd, errors, r_ab.retries + r_ba.retries))
    return out
