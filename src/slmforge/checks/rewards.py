"""The checks as TRL reward functions, for GRPO (``trl.GRPOTrainer(reward_funcs=...)``).

TRL calls each reward function as ``f(prompts=..., completions=..., **columns)`` where every extra
dataset column arrives as a list aligned with ``completions`` (TRL docs, "Using a custom reward
function"). Our datasets carry ``task`` (task id) and ``subject`` (the record as a JSON string or a
dict); the prompt's text is also read for the constraints it states. Completions may be plain strings
or conversational ``[{"role": "assistant", "content": ...}]`` lists.

Each function returns ``weight × score`` with the weight from ``kit.checks.reward_weights`` (or
``weights``), so the sum of the functions is the kit's weighted reward; pass ``reward_weights`` to
``GRPOConfig`` instead if you prefer TRL to weigh them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from slmforge.checks.run import CHECK_NAMES, run_checks
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


def _subject(value: Any) -> dict | None:
    if value is None or isinstance(value, dict):
        return value
    try:
        parsed = json.loads(value)
    except (TypeError, json.JSONDecodeError):
        return None
    return parsed if isinstance(parsed, dict) else None


def _column(kwargs: dict[str, Any], key: str, n: int) -> list[Any]:
    col = kwargs.get(key)
    return list(col) if isinstance(col, list | tuple) and len(col) == n else [None] * n


def _make(name: str, weight: float, kit: Kit, vocab: Vocabulary | None) -> RewardFunc:
    def reward(completions: list[Any], **kwargs: Any) -> list[float]:
        n = len(completions)
        tasks, subjects = _column(kwargs, "task", n), _column(kwargs, "subject", n)
        prompts = _column(kwargs, "prompts", n) if "prompts" in kwargs else _column(kwargs, "prompt", n)
        out = []
        for c, t, s, p in zip(completions, tasks, subjects, prompts, strict=True):
            task = kit.task(t) if t else None
            subject = _subject(s)
            if name == "facts" and subject is None:
                out.append(weight)  # nothing to ground against: neutral
                continue
            report = run_checks([completion_text(c)], task=task, subject=subject, kit=kit,
                                instruction=prompt_text(p), checks=[name], vocab=vocab)[0]
            out.append(weight * report.results[name].score)
        return out

    reward.__name__ = f"{name}_reward"
    reward.__doc__ = f"TRL reward: {weight} × the {name!r} check's score of each completion, in [0, {weight}]."
    return reward


def reward_functions(kit: Kit, *, weights: dict[str, float] | None = None,
                     vocab: Vocabulary | None = None) -> list[RewardFunc]:
    """One TRL reward function per weighted check.

    Args:
        kit: the kit whose rules become rewards.
        weights: check name → weight; default ``kit.checks.reward_weights``. Checks at weight 0 and
            ``similarity`` (a corpus property, not a per-completion reward) are left out.
        vocab: entity vocabulary for the facts reward (build it once over the catalog).

    Returns:
        Functions ``f(completions, **kwargs) -> list[float]`` named ``<check>_reward``.

    Raises:
        ValueError: a weight names an unknown check.
    """
    weights = kit.checks.reward_weights if weights is None else weights
    unknown = [k for k in weights if k not in CHECK_NAMES]
    if unknown:
        raise ValueError(f"unknown checks in reward weights {unknown}; known: {list(CHECK_NAMES)}")
    return [_make(name, w, kit, vocab) for name, w in weights.items() if w > 0 and name != "similarity"]
