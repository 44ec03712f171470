"""What a row is about: its task, its subject (product) and its rejected-side strategy.

Rows written by slmforge carry ``task`` / ``subject_id`` / ``strategy`` columns. Imported files such as
the AdGenius seed do not: there the subject is the JSON object embedded in the user prompt (key chosen
by ``subject_key``, default ``product_name``), the strategy is the ``method`` column, and the task is
recognisable only from the instruction text (a kit's matcher, passed in as ``match``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slmforge.data.formats import Row
from slmforge.jsontext import embedded_objects

UNKNOWN = "unknown"

TaskMatcher = Callable[[str], "str | None"]


def prompt_text(row: Row) -> str:
    """The user-side text of the prompt (user message contents joined by newlines)."""
    return "\n".join(m["content"] for m in row.prompt if m.get("role") == "user" and isinstance(m.get("content"), str))


def subject_of(row: Row, *, subject_key: str = "product_name") -> str | None:
    """The subject id of ``row``: its ``subject_id`` column, else ``subject_key`` of a JSON object in the prompt.

    Returns:
        The id as a string, or ``None`` when neither is present.
    """
    return subject_from(row.meta.get("subject_id"), prompt_text(row), subject_key=subject_key)


def subject_from(subject_id: Any, text: str, *, subject_key: str = "product_name") -> str | None:
    """The one rule for a row's subject: ``subject_id`` when set, else ``subject_key`` of the first JSON object
    in ``text`` (the prompt's user side) that has it, else None."""
    if subject_id not in (None, ""):
        return str(subject_id)
    for obj in embedded_objects(text):
        if obj.get(subject_key) not in (None, ""):
            return str(obj[subject_key])
    return None


def task_of(row: Row, match: TaskMatcher | None = None) -> str:
    """The task of ``row``: its ``task`` column, else ``match(prompt text)``, else ``"unknown"``."""
    task = row.meta.get("task")
    if isinstance(task, str) and task:
        return task
    if match is not None:
        return match(prompt_text(row)) or UNKNOWN
    return UNKNOWN


def strategy_of(row: Row) -> str | None:
    """The rejected-side strategy of a preference row: ``strategy``, ``method``, or ``provenance.strategy``."""
    for key in ("strategy", "method"):
        if isinstance(row.meta.get(key), str):
            return row.meta[key]
    prov = row.meta.get("provenance")
    if isinstance(prov, dict) and isinstance(prov.get("strategy"), str):
        return prov["strategy"]
    return None
