"""The named scorer ``"rm+checks"``: a reward model's score combined with the kit's check results.

Rule (lexicographic hybrid)::

    score(text | prompt, subject) = σ(rm(prompt, text) / temperature) − penalty · failed_checks(text)

``rm`` is the reward model's logit (:func:`slmforge.train.rm.score_texts`), σ the logistic function, and
``failed_checks`` the number of checks of :func:`slmforge.checks.run_checks` whose ``passed`` is false
(an ``error`` finding: a contradicted fact, an avoid-term, hype, a missing CTA …). With the default
``penalty = 1`` the rule is lexicographic, because σ lies in (0, 1): a text with fewer failed checks
always scores higher, and the reward model orders texts that fail the same number of checks. Why:
the checks are high-precision binary judgments (on the seed data ≤ 5 % of chosen texts fail facts,
lexicon or style, issue 18) that a reward model trained on a few hundred pairs cannot learn reliably
(fact swaps change one number), while the reward model sees what no rule does (a weak, generic text
that breaks no rule). A weighted sum would let a fluent text buy back a false fact; the lexicographic
rule never does. ``penalty < 1`` turns it into a weighted sum for those who prefer that trade.

Uses: (a) an eval metric column (:func:`add_rm_checks_column`, from the ``rm`` and ``pass.*`` columns
the eval rows already hold), (b) ``slmforge check`` (:func:`score_reports`), (c) a GRPO reward
(:func:`rm_checks_reward`, a TRL reward function). Scores are deterministic for a given reward model
(eval mode, no dropout); ``seed`` seeds torch before scoring so that a model with an untrained head
loads identically too.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from slmforge.checks.types import CheckReport
from slmforge.checks.vocab import Vocabulary
from slmforge.kit.schema import Kit

NAME = "rm+checks"
"""The scorer's name: the eval column, the ``check`` output field and the GRPO reward's ``__name__``."""


def combine(rm: float, failed: int, *, penalty: float = 1.0, temperature: float = 1.0) -> float:
    """``σ(rm / temperature) − penalty · failed`` (see the module docstring for why).

    Args:
        rm: the reward model's logit (unbounded real).
        failed: number of failed checks (≥ 0).
        penalty: cost of one failed check; ≥ 1 makes the rule lexicographic (σ < 1).
        temperature: scale of the logit before the sigmoid (> 0).

    Returns:
        a real score; higher = preferred; in (−penalty·failed, 1 − penalty·failed).

    Raises:
        ValueError: ``temperature`` ≤ 0 or ``failed`` < 0.
    """
    if temperature <= 0 or failed < 0:
        raise ValueError(f"temperature must be > 0 and failed >= 0, got {temperature}, {failed}")
    z = rm / temperature
    sig = 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))
    return sig - penalty * failed


def failed_checks(report: CheckReport, checks: Iterable[str] | None = None) -> int:
    """Number of checks of ``report`` (all of them, or those named in ``checks``) that did not pass."""
    names = set(checks) if checks is not None else None
    return sum(not r.passed for n, r in report.results.items() if names is None or n in names)


def _rm_scores(rm_dir: str | Path, prompts: Sequence[str | list[dict]], texts: Sequence[str], *, seed: int,
               max_length: int) -> list[float]:
    import torch

    from slmforge.train.rm import score_texts

    torch.manual_seed(seed)
    return score_texts(rm_dir, list(prompts), list(texts), max_length=max_length)


def score_reports(rm_dir: str | Path, prompts: Sequence[str | list[dict]], reports: Sequence[CheckReport], *,
                  penalty: float = 1.0, seed: int = 0, max_length: int = 1024) -> list[dict[str, float]]:
    """The ``rm+checks`` score of texts already checked (what ``slmforge check --rm DIR`` adds).

    Args:
        rm_dir: a reward model of :func:`slmforge.train.rm.train_rm` (run dir or its ``model/``).
        prompts: per text, the prompt it answers (string or messages).
        reports: per text, its :class:`~slmforge.checks.types.CheckReport` (``report.text`` is scored).
        penalty: see :func:`combine`.
        seed: torch seed set before scoring.
        max_length: reward-model truncation, tokens.

    Returns:
        per text ``{"rm": logit, "failed": n, "rm+checks": score}``.
    """
    rm = _rm_scores(rm_dir, prompts, [r.text for r in reports], seed=seed, max_length=max_length)
    out = []
    for v, rep in zip(rm, reports, strict=True):
        n = failed_checks(rep)
        out.append({"rm": float(v), "failed": float(n), NAME: combine(float(v), n, penalty=penalty)})
    return out


def add_rm_checks_column(rows: list[dict[str, Any]], *, penalty: float = 1.0) -> None:
    """Add the ``rm+checks`` column to eval rows that hold ``rm`` and ``pass.<check>`` (in place).

    Rows of failed generations (no ``rm``) are left without it. ``pass.all`` is not a check.
    """
    for r in rows:
        if r.get("rm") is None:
            continue
        failed = sum(1 for k, v in r.items() if k.startswith("pass.") and k != "pass.all" and v is not None and v < 1)
        r[NAME] = round(combine(float(r["rm"]), failed, penalty=penalty), 4)


def rm_checks_reward(rm_dir: str | Path, kit: Kit, *, vocab: Vocabulary | None = None,
                     subjects: dict[str, dict] | None = None, weight: float = 1.0, penalty: float = 1.0,
                     seed: int = 0, max_length: int = 1024) -> Callable[..., list[float]]:
    """The scorer as one TRL reward function ``f(prompts, completions, **columns) -> list[float]``.

    Columns as in :mod:`slmforge.checks.rewards` (``task``, ``subject_id`` or ``subject``,
    ``instruction``); pass it to ``trl.GRPOTrainer(reward_funcs=[...])`` instead of the per-check
    rewards plus :func:`slmforge.train.grpo.reward_model_reward`, not besides them.

    Returns:
        a function named ``rm_checks_reward`` giving ``weight ×`` :func:`combine` per completion.
    """
    from slmforge.checks.rewards import _column, completion_text, prompt_text
    from slmforge.checks.run import run_checks

    def reward(prompts: list[Any], completions: list[Any], **kwargs: Any) -> list[float]:
        n = len(completions)
        tasks, ids, records = _column(kwargs, "task", n), _column(kwargs, "subject_id", n), _column(kwargs, "subject", n)
        instructions = _column(kwargs, "instruction", n)
        reports = []
        for c, t, sid, rec, ins, p in zip(completions, tasks, ids, records, instructions, prompts, strict=True):
            subject = (subjects or {}).get(sid) if sid else (rec if isinstance(rec, dict) else None)
            reports += run_checks([completion_text(c)], task=kit.task(t) if t else None, subject=subject, kit=kit,
                                  instruction=ins if ins is not None else prompt_text(p), vocab=vocab)
        scored = score_reports(rm_dir, list(prompts), reports, penalty=penalty, seed=seed, max_length=max_length)
        return [weight * s[NAME] for s in scored]

    reward.__name__ = "rm_checks_reward"
    return reward


def product_halves(subject_ids: Iterable[str], *, seed: int = 0) -> tuple[list[str], list[str]]:
    """A deterministic split of subjects into ``(dev, held_out)`` halves, by product, not by row.

    Subjects are ordered by the SHA-256 of their id (seed 0) or of ``f"{seed}:{id}"`` (another seed),
    independent of file order, and the first ``⌊n / 2⌋`` are dev. Tune on dev only; report held-out
    separately.
    """
    key = (lambda s: s) if seed == 0 else (lambda s: f"{seed}:{s}")
    ids = sorted(set(subject_ids), key=lambda s: hashlib.sha256(key(s).encode()).hexdigest())
    return ids[:len(ids) // 2], ids[len(ids) // 2:]


def pairwise_wins(chosen: Sequence[float], rejected: Sequence[float]) -> list[float]:
    """Per pair 1.0 when the chosen side scores higher, 0.5 on a tie, 0.0 otherwise (mean = pairwise accuracy)."""
    return [1.0 if c > r else 0.5 if c == r else 0.0 for c, r in zip(chosen, rejected, strict=True)]


def score_audit(audit, rm_dir: str | Path, *, seed: int = 0, penalty: float = 1.0,
                n_boot: int = 1000) -> dict[str, dict[str, dict[str, float]]]:
    """``slmforge check --rm DIR``: add ``rm`` and ``rm+checks`` to every checked side of ``audit.rows`` (in
    place) and measure, on the preference pairs, how often each scorer ranks chosen above rejected.

    Args:
        audit: a :class:`slmforge.checks.audit.FileAudit` of a file checked with a kit (``audit.sides``).
        rm_dir: the reward model (see :func:`score_reports`).
        seed: torch seed before scoring, and the bootstrap seed.
        penalty: see :func:`combine`.
        n_boot: bootstrap replicates of the 95 % interval.

    Returns:
        strategy (and ``all``) → scorer (``rm``, ``rm+checks``) → ``{"accuracy", "ci_low", "ci_high", "n"}``
        (ties count one half); empty when the file has no pairs.
    """
    from slmforge.evaluate.stats import bootstrap_ci

    if not audit.sides:
        return {}
    scores = score_reports(rm_dir, [p for _, _, p, _ in audit.sides], [r for *_, r in audit.sides],
                           penalty=penalty, seed=seed)
    by_row: dict[int, dict[str, dict[str, float]]] = {}
    for (i, side, _, _), sc in zip(audit.sides, scores, strict=True):
        audit.rows[i][side].update({"rm": sc["rm"], NAME: sc[NAME]})
        by_row.setdefault(i, {})[side] = sc
    groups: dict[str, list[int]] = {"all": []}
    for i, sides in by_row.items():
        if "chosen" in sides and "rejected" in sides:
            groups["all"].append(i)
            groups.setdefault(audit.rows[i]["strategy"] or "-", []).append(i)
    out: dict[str, dict[str, dict[str, float]]] = {}
    for name, rows in groups.items():
        if not rows:
            continue
        out[name] = {}
        for key in ("rm", NAME):
            wins = pairwise_wins([by_row[i]["chosen"][key] for i in rows], [by_row[i]["rejected"][key] for i in rows])
            est = bootstrap_ci(wins, n_boot=n_boot, seed=seed)
            out[name][key] = {"accuracy": est.value, "ci_low": est.low, "ci_high": est.high, "n": len(rows)}
    return out
