"""Map a user prompt back to the kit task and catalog subject it was rendered from.

Data made elsewhere (seed files, older runs, other tools) carries no ``task`` or ``subject_id``
fields: only the user prompt. Since every prompt of a kit is a rendered student template, the
task is recognisable from the template's literal text (the instruction) and the subject from
the JSON part. ``data stats``, ``check`` and the pipeline's import of already-synthesized data
use :func:`task_for_prompt`.

How it matches (cheapest first):

1. exact: the prompt equals a rendered student prompt (value-free) of some task and subject;
2. task: each task's template is rendered once with a sentinel subject whose every field is a
   marker (and once more with a marker value, for product–value prompts); the literal pieces between markers must all occur, in order, in the prompt, the first
   one as a prefix. The task whose pieces cover the most characters wins (so a longer, more
   specific instruction beats a shorter one that happens to be its prefix);
3. subject: a subject whose ``subject_json`` occurs in the prompt; else the JSON object in the
   prompt is parsed and its id field looked up (so reordered keys or edited fields still match).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from slmforge.jsontext import find_object
from slmforge.kit.load import LoadedKit
from slmforge.kit.render import render_student_prompt, subject_json

_MARK = "\u2063SLMF\u2063"  # invisible separator + tag: never in real copy


@dataclass
class _Matcher:
    exact: dict[str, tuple[str, str]]
    pieces: list[tuple[str, list[str]]]  # task id, literal pieces of its template (value-free first)
    by_json: list[tuple[str, str]]  # subject_json, subject id (longest JSON first)


_CACHE: dict[tuple[int, str], _Matcher] = {}


def _sentinel(lk: LoadedKit) -> dict[str, Any]:
    return {f.name: ([_MARK] if f.type == "list" else _MARK) for f in lk.kit.catalog.fields}


def _pieces(lk: LoadedKit, task_id: str, value: str | None = None) -> list[str]:
    task = lk.kit.task(task_id)
    rendered = render_student_prompt(lk.kit, task, _sentinel(lk), value=value)
    # subject_json of the sentinel is JSON text holding markers; split on the whole JSON first
    rendered = rendered.replace(subject_json(_sentinel(lk)), _MARK)
    return [p for p in rendered.split(_MARK) if p]


def _build(lk: LoadedKit) -> _Matcher:
    exact: dict[str, tuple[str, str]] = {}
    for task in lk.kit.tasks:
        for sid, subject in lk.subjects.items():
            exact.setdefault(render_student_prompt(lk.kit, task, subject), (task.id, sid))
    pieces = [(t.id, _pieces(lk, t.id)) for t in lk.kit.tasks]
    # product-value mode: templates may add text around the value; match those renders too
    pieces += [(t.id, p) for t in lk.kit.tasks if (p := _pieces(lk, t.id, _MARK)) != _pieces(lk, t.id)]
    by_json = sorted(((subject_json(s), sid) for sid, s in lk.subjects.items()), key=lambda x: -len(x[0]))
    return _Matcher(exact=exact, pieces=pieces, by_json=by_json)


def _matcher(lk: LoadedKit) -> _Matcher:
    key = (id(lk), lk.hash)
    if key not in _CACHE:
        _CACHE[key] = _build(lk)
    return _CACHE[key]


def _covers(pieces: list[str], text: str) -> int:
    """Characters of ``pieces`` found in order in ``text`` (first as prefix); -1 when one is missing."""
    if pieces and not text.startswith(pieces[0]):
        return -1
    pos = 0
    for p in pieces:
        i = text.find(p, pos)
        if i < 0:
            return -1
        pos = i + len(p)
    return sum(len(p) for p in pieces)


def _subject_for(lk: LoadedKit, m: _Matcher, text: str) -> str | None:
    for js, sid in m.by_json:
        if js in text:
            return sid
    obj = find_object(text)
    if obj is None:
        return None
    name = obj.get(lk.kit.catalog.id_field)
    if name is None:
        return None
    # with ``duplicate_ids: number`` several subjects share the field value: prefer the closest one
    same = [sid for sid, s in lk.subjects.items() if str(s[lk.kit.catalog.id_field]) == str(name)]
    if len(same) <= 1:
        return same[0] if same else None
    def agreement(sid: str) -> int:
        mine = json.loads(subject_json(lk.subjects[sid]))
        return sum(1 for k, v in mine.items() if obj.get(k) == v)

    return max(same, key=agreement)


def task_for_prompt(lk: LoadedKit, prompt_text: str) -> tuple[str | None, str | None]:
    """The ``(task id, subject id)`` a user prompt was rendered from; ``None`` where unknown.

    Args:
        lk: the loaded kit whose student templates produced the prompts.
        prompt_text: the user message text (leading/trailing whitespace is ignored).

    Returns:
        ``(task_id, subject_id)``: task ``None`` when no task's instruction text matches;
        subject ``None`` when the prompt names no catalog subject.

    Raises:
        KitError: a student template cannot be rendered (see :func:`render_student_prompt`).

    The per-kit tables (every rendered prompt, each template's literal pieces) are built on the
    first call and cached for the kit object: about one render per (task, subject) pair.
    """
    m = _matcher(lk)
    text = prompt_text.strip()
    hit = m.exact.get(text)
    if hit is not None:
        return hit
    best: tuple[int, str | None] = (-1, None)
    for task_id, pieces in m.pieces:
        score = _covers(pieces, text)
        if score > best[0]:
            best = (score, task_id)
    return best[1], _subject_for(lk, m, text)


def instruction_prefix(lk: LoadedKit, task_id: str) -> str:
    """The literal text a task's prompts start with (its instruction up to the first subject value).

    Raises:
        KeyError: unknown task id.
        KitError: the template cannot be rendered.
    """
    for tid, pieces in _matcher(lk).pieces:
        if tid == task_id:
            return pieces[0] if pieces else ""
    raise KeyError(f"unknown task {task_id!r}; the kit has {[t.id for t in lk.kit.tasks]}")


__all__ = ["instruction_prefix", "task_for_prompt"]
