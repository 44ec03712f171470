"""JSON inside model or prompt text: the one place that finds it.

Three readers, for three kinds of caller:

- :func:`json_span` / :func:`find_object` — lenient, for replies whose chatter around the object is
  harmless (structured teacher replies, JSON mode of the server, a kit's subject object in a prompt):
  the text inside a Markdown code fence if there is one, else the whole text, else the span from the
  first ``{`` to the last ``}``.
- :func:`embedded_objects` — every outermost object in a text, left to right (``json.JSONDecoder.raw_decode``),
  for prompts that carry one or more records.
- :func:`strip_fence` — for the strict judge parser (:mod:`slmforge.evaluate.judge_prompts`), which
  then requires exactly one object and no repeated key.

Nesting deeper than Python's recursion limit is treated as "no object" (``RecursionError`` is caught),
so hostile text never crashes a caller.
"""

from __future__ import annotations

import json
import re
from typing import Any

FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)
"""A Markdown code fence (optionally tagged ``json``); group 1 is its body."""

_EDGE_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$")
_decoder = json.JSONDecoder()


def strip_fence(text: str) -> str:
    """``text`` without a code fence around the whole of it (``` or ```json … ```), stripped of blanks."""
    return _EDGE_FENCE.sub("", text.strip())


def _loads_dict(text: str) -> dict[str, Any] | None:
    try:
        obj = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return None
    return obj if isinstance(obj, dict) else None


def json_span(text: str) -> str | None:
    """The text of the JSON object in ``text`` (a string that parses as a JSON object), or None.

    Tries, in order: the body of the first code fence, the whole text, the span from the first ``{`` to
    the last ``}`` of the fence body (or of the text). The span is the text as written, so a caller may
    hand it to a validator that reports its own errors.
    """
    fenced = FENCE.search(text)
    body = fenced.group(1) if fenced else text
    candidates = [body.strip()]
    start, end = body.find("{"), body.rfind("}")
    if 0 <= start < end:
        candidates.append(body[start:end + 1])
    return next((c for c in candidates if _loads_dict(c) is not None), None)


def find_object(text: str) -> dict[str, Any] | None:
    """The JSON object in ``text`` as :func:`json_span` finds it, parsed; None when there is none."""
    span = json_span(text)
    return None if span is None else _loads_dict(span)


def embedded_objects(text: str) -> list[dict[str, Any]]:
    """Every outermost JSON object embedded in ``text``, left to right (arrays and scalars are skipped)."""
    out: list[dict[str, Any]] = []
    i = text.find("{")
    while i != -1:
        try:
            obj, end = _decoder.raw_decode(text, i)
        except (json.JSONDecodeError, RecursionError):
            i = text.find("{", i + 1)
            continue
        if isinstance(obj, dict):
            out.append(obj)
        i = text.find("{", end)
    return out
