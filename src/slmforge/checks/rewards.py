"""The checks as TRL reward functions, for GRPO (``trl.GRPOTrainer(reward_funcs=...)``).

TRL calls each reward function as ``f(prompts=..., completions=..., **columns)`` where every extra
dataset column arrives as a list aligned with ``completions`` (TRL docs, "Using a custom reward
function"). Our datasets carry the record's identity: ``task`` (task id), ``subject_id`` (looked up in
the kit's catalog, passed once as ``subjects``) and ``instruction`` (the constraints it states are
checked); a ``subject`` column holding the record itself (a dict) also works. Nothing is parsed or
matched per completion. Completions may be plain strings
or conversational ``[{"role": "assistant", "content": ...}]`` lists.

The reward set is the registry's (:data:`slmforge.checks.registry.CHECKS`, every check marked
``reward``). Each function returns ``weight × score`` with the weight from
:func:`~slmforge.checks.registry.check_weights` (``kit.checks.reward_weights`` over each check's default,
or ``weights``), so the sum of the functions is the kit's weighted reward; pass ``reward_weights`` to
``GRPOConfig`` instead if you prefer TRL to weigh them. A check that needs a context the row lacks (facts
or coverage without a subject) scores neutrally: its full weight.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slmforge.checks.registry import CHECKS, check_weights, reward_names
from slmforge.checks.run import run_checks
from slmforge.checks.vocab import Vocabulary
from slmforge.kit.schema import Kit

RewardFunc = Callable[..., list[float]]


def completion_text(completion: Any) -> str:
    """The text of one completion: a string, or the last message's ``content`` of a conversation."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, list) and completion and isinstance(completion[-1], dict):
        return str(completion[-1].get("content") or "")
    return str(completion)


def prompt_text(prompt: Any) -> str | None:
    """The instruction of one prompt: a string, or the last user message of a conversation."""
    if prompt is None or isinstance(prompt, str):
        return prompt
    users = [m["content"] for m in prompt if isinstance(m, dict) and m.get("role") == "user"]
    return users[-1] if users else None


def _column(kwargs: dict[str, Any], key: str, n: int) -> list[Any]:
    col = kwargs.get(key)
    return list(col) if isinstance(col, list | tuple) and len(col) == n else [None] * n


def _make(name: str, weight: float, kit: Kit, vocab: Vocabulary | None, subjects: dict[str, dict] | None) -> RewardFunc:
    needs = CHECKS[name].needs

    def reward(completions: list[Any], **kwargs: Any) -> list[float]:
        n = len(completions)
        tasks, ids, records = _column(kwargs, "task", n), _column(kwargs, "subject_id", n), _column(kwargs, "subject", n)
        instructions = _column(kwargs, "instruction", n)
        prompts = _column(kwargs, "prompts", n) if "prompts" in kwargs else _column(kwargs, "prompt", n)
        out = []
        for c, t, sid, rec, ins, p in zip(completions, tasks, ids, records, instructions, prompts, strict=True):
            task = kit.task(t) if t else None
            subject = (subjects or {}).get(sid) if sid else (rec if isinstance(rec, dict) else None)
            if needs and not (subject is not None and "subject" in needs):
                out.append(weight)  # nothing to check against (no subject, no reference): neutral
                continue
            report = run_checks([completion_text(c)], task=task, subject=subject, kit=kit,
                                instruction=ins if ins is not None else prompt_text(p), checks=[name], vocab=vocab)[0]
            res = report.results.get(name)  # None: the check does not apply to this kit / task
            out.append(weight if res is None else weight * res.score)
        return out

    reward.__name__ = f"{name}_reward"
    reward.__doc__ = f"TRL reward: {weight} × the {name!r} check's score of each completion, in [0, {weight}]."
    return reward


def reward_functions(kit: Kit, *, weights: dict[str, float] | None = None,
                     vocab: Vocabulary | None = None, subjects: dict[str, dict] | None = None) -> list[RewardFunc]:
    """One TRL reward function per weighted reward check of the registry.

    Args:
        kit: the kit whose rules become rewards.
        weights: check name → weight, exactly the rewards wanted; default: every reward check of the
            registry (:func:`~slmforge.checks.registry.reward_names`) at its
            :func:`~slmforge.checks.registry.check_weights` weight. Checks at weight 0 and checks that are
            not rewards (``similarity``, a corpus property) are left out.
        vocab: entity vocabulary for the facts and coverage rewards
            (:func:`slmforge.checks.vocab.kit_vocabulary` of the loaded kit).
        subjects: subject id → catalog record (``LoadedKit.subjects``), for rows that carry ``subject_id``.

    Returns:
        Functions ``f(completions, **kwargs) -> list[float]`` named ``<check>_reward``, in registry order
        for the default set, each in [0, weight].

    Raises:
        ValueError: a weight names an unknown check.
    """
    if weights is None:
        kit_weights = check_weights(kit)
        weights = {n: kit_weights[n] for n in reward_names()}
    unknown = [k for k in weights if k not in CHECKS]
    if unknown:
        raise ValueError(f"unknown checks in reward weights {unknown}; known: {list(CHECKS)}")
    return [_make(name, w, kit, vocab, subjects) for name, w in weights.items() if w > 0 and CHECKS[name].reward]
