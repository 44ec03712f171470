"""Render the kit's Jinja2 templates: the student prompt (what the fine-tuned model sees) and the
teacher meta-prompt.

Templates get these variables: ``subject`` (dict of the subject's typed fields), ``value``
(product–value mode, else ``None``), ``kit`` (the :class:`~slmforge.kit.schema.Kit`),
``task`` (the :class:`~slmforge.kit.schema.Task`), ``examples`` (list of golden texts, teacher
only) and the helper ``subject_json`` (the subject as compact JSON, lists joined by ", ").
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from slmforge.errors import KitError
from slmforge.kit.schema import Kit, Task

class _FieldsFirst(jinja2.Environment):
    """Jinja2 environment where ``subject.<field>`` reads the field even when a ``dict`` method has its name.

    Jinja2 looks up ``obj.name`` as an attribute first, so a catalog field called ``values``, ``items``
    or ``keys`` would render the dict method (and ``| join`` would fail with a ``TypeError``); here a
    mapping's own key wins.
    """

    def getattr(self, obj: Any, attribute: str) -> Any:
        """``obj[attribute]`` when ``obj`` is a dict holding that key, else Jinja2's lookup (attribute first)."""
        if isinstance(obj, dict) and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)


_ENV = _FieldsFirst(undefined=jinja2.StrictUndefined, keep_trailing_newline=False, autoescape=False)


@lru_cache(maxsize=256)
def _compile(source: str) -> jinja2.Template:
    return _ENV.from_string(source)


def template_hash(source: str) -> str:
    """sha256 (hex, 12 chars) of a template's source; recorded in provenance."""
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:12]


def subject_json(subject: dict[str, Any]) -> str:
    """The subject as one-line JSON with list fields joined by ', ' (the shape seed 003's prompts used)."""
    flat = {k: (", ".join(v) if isinstance(v, list) else v) for k, v in subject.items()}
    return json.dumps(flat, ensure_ascii=False)


def check_templates(kit: Kit, file: Path) -> None:
    """Parse every task template once so syntax errors surface at kit load.

    Raises:
        KitError: names ``tasks[i].student_template`` / ``teacher_template`` and the Jinja2 message.
    """
    for i, task in enumerate(kit.tasks):
        for name, source in (("student_template", task.student_template), ("teacher_template", task.teacher_template)):
            try:
                _compile(source)
            except jinja2.TemplateSyntaxError as e:
                raise KitError(f"template syntax error: {e.message} (template line {e.lineno})", file=file,
                               field=f"tasks[{i}].{name}", fix="fix the Jinja2 template") from e


def _render(source: str, field: str, **variables: Any) -> str:
    try:
        return _compile(source).render(subject_json=subject_json(variables["subject"]), **variables).strip()
    except jinja2.UndefinedError as e:
        raise KitError(f"template uses an undefined variable: {e.message}", field=field,
                       fix="use subject.<field>, value, kit, task or examples") from e
    except TypeError as e:  # a filter applied to a value of the wrong type, e.g. `| join` on a number
        raise KitError(f"template applies a filter or operation to a value of the wrong type: {e}", field=field,
                       fix="check the types of the subject fields the template uses (list fields for `join`)") from e


def render_student_prompt(kit: Kit, task: Task, subject: dict[str, Any], value: str | None = None) -> str:
    """The user prompt the fine-tuned model is trained and served with.

    Raises:
        KitError: the template references a variable that does not exist.
    """
    return _render(task.student_template, f"tasks[{task.id}].student_template",
                   kit=kit, task=task, subject=subject, value=value)


def render_teacher_prompt(
    kit: Kit, task: Task, subject: dict[str, Any], examples: list[str], value: str | None = None
) -> str:
    """The teacher's meta-prompt for one subject (and optional value) with sampled golden ``examples``.

    Raises:
        KitError: the template references a variable that does not exist.
    """
    return _render(task.teacher_template, f"tasks[{task.id}].teacher_template",
                   kit=kit, task=task, subject=subject, value=value, examples=examples)


def system_prompt(kit: Kit) -> str:
    """The static system prompt with voice and lexicon (goes first so providers' prefix caching applies)."""
    lines = [f"You write for {kit.brand}. Persona: {kit.voice.persona}"]
    if kit.voice.principles:
        lines.append("Principles:\n" + "\n".join(f"- {p}" for p in kit.voice.principles))
    if kit.voice.guide:
        lines.append(kit.voice.guide.strip())
    if kit.lexicon.prefer:
        lines.append("Prefer these terms: " + ", ".join(kit.lexicon.prefer))
    if kit.lexicon.avoid:
        lines.append("Never use these terms: " + ", ".join(kit.lexicon.avoid))
    return "\n\n".join(lines)
