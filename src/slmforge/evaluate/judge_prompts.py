"""Judge prompts and the parsing of judge replies (no model calls here; see :mod:`slmforge.evaluate.judge`).

Candidate texts enter a prompt only through :func:`quote`: a JSON string literal with ``<`` and ``>``
escaped as ``\\u003c`` / ``\\u003e``, inside ``<candidate>`` tags. A text therefore cannot close its
tag, start a new section, or change the reply format; the system prompt tells the judge that the
quoted data is never an instruction. Replies are parsed strictly: one JSON object, an integer
``score`` in 1..5 (or ``winner`` in A / B / tie); anything else is rejected and recorded as a parse
failure with the raw text, never coerced into a score.

Templates live in ``prompts/*.j2`` next to this module (Jinja2).
"""

from __future__ import annotations

import json
import math
import re
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from slmforge.jsontext import strip_fence
from slmforge.kit.schema import Criterion, Kit, Task

_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "prompts"),
    undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=False,
)
LANGUAGES = {"zh": "Chinese", "ja": "Japanese", "ko": "Korean", "en": "English"}
SCORE_TOKENS = ("1", "2", "3", "4", "5")
_SCORE_KEY = re.compile(r'"score"\s*:\s*$')


@cache
def _template(name: str) -> jinja2.Template:
    return _ENV.get_template(name)


def quote(text: str) -> str:
    """Candidate text as an inert JSON string literal (``<``/``>`` escaped so no tag can be closed).

    ``json.loads(quote(t)) == t`` for every string ``t``.
    """
    return json.dumps(text, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")


def system_message(kit: Kit) -> dict[str, str]:
    """The judge's system message (role, data-not-instructions rule, JSON-only replies)."""
    lang = LANGUAGES.get(kit.language.split("-")[0], kit.language)
    return {"role": "system", "content": _template("system.j2").render(kit=kit, language_name=lang).strip()}


def steps_messages(kit: Kit, task: Task) -> list[dict[str, str]]:
    """Messages that ask the judge for G-Eval evaluation steps of one task (Liu et al. 2023, §2.1 'auto CoT')."""
    return [system_message(kit), {"role": "user", "content": _template("steps.j2").render(kit=kit, task=task).strip()}]


def default_steps(task: Task) -> list[str]:
    """Evaluation steps derived from the rubric itself, used when the judge's steps cannot be parsed."""
    out = ["Read the instruction and the product record it contains."]
    for c in task.rubric.criteria:
        out.append(f"Judge {c.name}: {c.description}; compare the text with the anchors and pick the closest score.")
    return out


def pointwise_messages(
    kit: Kit, task: Task, criterion: Criterion, steps: list[str], instruction: str, text: str, *, label: str = "X"
) -> list[dict[str, str]]:
    """G-Eval form-filling prompt for one (text, criterion): rubric, steps, quoted text → JSON score.

    Args:
        label: neutral id shown in the candidate tag (never the candidate's name: the judge is blind).
    """
    user = _template("pointwise.j2").render(
        task=task, criterion=criterion, steps=steps, instruction_json=quote(instruction),
        candidate_json=quote(text), label=label,
    )
    return [system_message(kit), {"role": "user", "content": user.strip()}]


def pairwise_messages(kit: Kit, task: Task, instruction: str, text_a: str, text_b: str) -> list[dict[str, str]]:
    """Comparative prompt: two quoted texts in slots A and B → JSON winner."""
    user = _template("pairwise.j2").render(
        task=task, instruction_json=quote(instruction), a_json=quote(text_a), b_json=quote(text_b)
    )
    return [system_message(kit), {"role": "user", "content": user.strip()}]


class _DuplicateKey(ValueError):
    """A JSON object in a judge reply repeats a key (``json.loads`` would silently keep the last one)."""


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    dup = sorted({k for k in keys if keys.count(k) > 1})
    if dup:
        raise _DuplicateKey(f"the reply repeats the key {dup[0]!r}")
    return dict(pairs)


def _count_key(obj: Any, key: str) -> int:
    if isinstance(obj, dict):
        return (key in obj) + sum(_count_key(v, key) for v in obj.values())
    if isinstance(obj, list):
        return sum(_count_key(v, key) for v in obj)
    return 0


def _json_object(text: str | None, field: str | None = None) -> tuple[dict[str, Any] | None, str | None]:
    """The judge reply as one JSON object, strictly: ``(object, None)`` or ``(None, why)``.

    A reply that is not exactly one JSON object (after an optional code fence), repeats a key at any
    depth, or carries ``field`` more than once anywhere (e.g. a candidate text that made the judge echo
    ``"score": 5`` inside its reason object) is a judge failure, never "last one wins".
    """
    if not text:
        return None, "empty reply"
    s = strip_fence(text)
    try:
        obj = json.loads(s, object_pairs_hook=_no_duplicates)
    except _DuplicateKey as e:
        return None, str(e)
    except json.JSONDecodeError:
        return None, "reply is not one JSON object"
    if not isinstance(obj, dict):
        return None, "reply is not one JSON object"
    if field and _count_key(obj, field) > 1:
        return None, f"the reply has more than one {field!r} field"
    return obj, None


def parse_steps(text: str | None) -> list[str] | None:
    """``{"steps": [str, ...]}`` → the steps (1..10 non-empty strings), else None."""
    obj, _ = _json_object(text, "steps")
    steps = obj.get("steps") if obj else None
    if not isinstance(steps, list) or not 1 <= len(steps) <= 10 or not all(isinstance(s, str) and s.strip() for s in steps):
        return None
    return [s.strip() for s in steps]


def parse_score(text: str | None) -> tuple[int | None, str, str | None]:
    """Parse a pointwise reply.

    Args:
        text: the judge's raw reply.

    Returns:
        ``(score, reason, error)``: ``score`` an int in 1..5, or None with ``error`` saying why
        (not one JSON object, a repeated key or a second ``score`` field, missing key, not an integer,
        out of scale).
    """
    obj, why = _json_object(text, "score")
    if obj is None:
        return None, "", why
    reason = obj.get("reason")
    reason = reason if isinstance(reason, str) else ""
    score = obj.get("score")
    if isinstance(score, bool) or not isinstance(score, int):
        return None, reason, f"score is not an integer: {score!r}"
    if not 1 <= score <= 5:
        return None, reason, f"score {score} is outside the 1-5 scale"
    return score, reason, None


def parse_winner(text: str | None) -> tuple[str | None, str, str | None]:
    """Parse a pairwise reply → ``(winner in {'A', 'B', 'tie'} or None, reason, error)``."""
    obj, why = _json_object(text, "winner")
    if obj is None:
        return None, "", why
    reason = obj.get("reason") if isinstance(obj.get("reason"), str) else ""
    winner = obj.get("winner")
    if not isinstance(winner, str) or winner.strip().lower() not in ("a", "b", "tie"):
        return None, reason, f"winner must be 'A', 'B' or 'tie', got {winner!r}"
    w = winner.strip()
    return (w.upper() if w.lower() != "tie" else "tie"), reason, None


def weighted_score(logprobs: list[dict[str, Any]] | None, score: int) -> float | None:
    """G-Eval's probability-weighted score (Liu et al. 2023, eq. 1): Σ p(s) · s over s in 1..5.

    Args:
        logprobs: the reply's token logprobs in the OpenAI chat format: a list of
            ``{"token", "logprob", "top_logprobs": [{"token", "logprob"}, ...]}``.
        score: the parsed integer score (the token whose alternatives are weighted).

    Returns:
        the weighted score in [1, 5], from the top-logprob alternatives of the score token that
        follows the ``"score":`` key, renormalised over the tokens "1".."5"; None when that token or
        its alternatives are absent (the caller then keeps the raw score).
    """
    if not logprobs:
        return None
    seen = ""
    for entry in logprobs:
        tok = entry.get("token", "")
        if tok.strip() == str(score) and _SCORE_KEY.search(seen):
            probs: dict[str, float] = {}
            for alt in entry.get("top_logprobs") or [{"token": tok, "logprob": entry.get("logprob", 0.0)}]:
                t = alt.get("token", "").strip()
                if t in SCORE_TOKENS:
                    probs[t] = probs.get(t, 0.0) + math.exp(alt["logprob"])
            total = sum(probs.values())
            if total <= 0:
                return None
            return sum(int(t) * p for t, p in probs.items()) / total
        seen += tok
    return None


def model_family(model: str) -> str | None:
    """Family of a model id (``openai``, ``anthropic``, ``qwen`` …) by its name, or None when unknown.

    ``"deepseek-chat"`` → ``deepseek``; ``"gpt-4o-mini"`` / ``"o3"`` → ``openai``; a path keeps its last part.
    """
    name = model.lower().rsplit("/", 1)[-1]
    families = {
        "openai": ("gpt", "o1", "o3", "o4", "chatgpt", "text-davinci"), "anthropic": ("claude",),
        "google": ("gemini", "gemma"), "qwen": ("qwen", "qwq"), "deepseek": ("deepseek",),
        "meta": ("llama", "meta-llama"), "mistral": ("mistral", "mixtral", "ministral", "codestral"),
        "zhipu": ("glm", "chatglm"), "moonshot": ("moonshot", "kimi"), "yi": ("yi-",),
        "baichuan": ("baichuan",), "microsoft": ("phi",),
    }
    for family, prefixes in families.items():
        if name.startswith(prefixes):
            return family
    return None


def family_warning(judge_model: str | None, teacher_model: str | None) -> str | None:
    """A warning when judge and teacher come from the same model family (self-preference bias,
    Panickssery et al. 2024, "LLM Evaluators Recognize and Favor Their Own Generations"); else None."""
    if not judge_model or not teacher_model:
        return None
    fj, ft = model_family(judge_model), model_family(teacher_model)
    if judge_model == teacher_model or (fj is not None and fj == ft):
        return (f"judge {judge_model!r} and teacher {teacher_model!r} are from the same model family "
                f"({fj or judge_model}); the judge may favour texts that resemble the teacher's — use a judge "
                "from another family")
    return None
