"""``/v1/copy``: drafts for one task and subject, each with its check report, behind a guard.

The prompt is the kit's student instruction (``render_student_prompt``, optionally after the kit's
system prompt) — exactly what the fine-tuned model was trained on. Every draft goes through
``slmforge.checks.run_checks`` with the registry's per-text checks (:func:`copy_checks`: lexicon, style,
constraints, CTA, facts, artefacts, degenerate text, coverage, informative content; findings carry
character offsets; facts and coverage use the kit's catalog vocabulary). ``guard`` decides what
happens to a draft that fails a *blocking* check (``ServeConfig.blocking_checks``, by default the
registry's guard checks):

- ``flag``: return it, marked ``flagged``;
- ``retry``: regenerate it up to ``guard_max_retries`` times; the last attempt is returned,
  ``passed`` or ``flagged``, with the history of attempts;
- ``block``: withhold its text (``text: null``, ``status: blocked``), keep the report.

The work is a plain generator of events (``start``, ``delta``, ``retry``, ``draft``, ``done``) so the
same code serves the JSON response and the SSE stream the playground reads.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from slmforge.kit.load import LoadedKit, coerce_value
from slmforge.kit.render import render_student_prompt, system_prompt
from slmforge.kit.schema import FieldSpec, Task
from slmforge.serve.engine import SamplingParams
from slmforge.serve.schemas import CopyRequest

LENGTH_UNITS: dict[str, str] = {"zh": "字", "ja": "文字", "ko": "자", "en": "characters"}
"""The unit the playground writes lengths in, per primary language subtag (other languages: ``characters``).
A length is what the constraints check counts: extended grapheme clusters, line breaks not counted."""

CTA_EXAMPLES = 6
"""How many call-to-action cues the playground names in a task's hint (the kit's own first)."""


def task_mode(lk: LoadedKit, task: Task) -> str:
    """How the playground serves a task: ``chat`` (a conversation with history, ``/v1/legal/ask``) for the
    question–answer families — those of ``checks.legal.families`` when the kit has legal checks, ``qa`` and any
    ``*_qa`` family — and ``form`` (subject, value, drafts with check badges, ``/v1/copy``) for copy."""
    legal = lk.kit.checks.legal
    family = task.family
    if (legal is not None and family in legal.families) or family == "qa" or family.endswith("_qa"):
        return "chat"
    return "form"


def value_field(lk: LoadedKit) -> str | None:
    """The catalog field whose items are a subject's customer values (``values``, else the first list field whose
    name has ``value`` in it): the playground offers them as the copy request's ``value``; ``None``: no such field."""
    fields = [f for f in lk.kit.catalog.fields if f.type == "list"]
    named = [f.name for f in fields if f.name == "values"] or [f.name for f in fields if "value" in f.name.lower()]
    return named[0] if named else None


def kit_info(lk: LoadedKit, *, models: list[str], blocking_checks: list[str]) -> dict[str, Any]:
    """The ``GET /v1/kit`` body: what the playground needs to build its form and chat for this kit.

    Besides the kit's tasks, field schema and catalog: each task's ``mode`` (:func:`task_mode`), the
    ``families`` with their mode, the ``value_field``, the ``length_unit`` of the kit's language
    (:data:`LENGTH_UNITS`), the call-to-action ``cta_cues`` the CTA check accepts (the kit's own first,
    :data:`CTA_EXAMPLES` of them), the punctuation thresholds of the style check (``style``) and the legal
    disclaimer, if any.
    """
    from slmforge.checks.constraints import cta_cues

    k = lk.kit
    lang = k.language.split("-")[0].lower()
    modes = {t.id: task_mode(lk, t) for t in k.tasks}
    families: dict[str, str] = {}
    for t in k.tasks:
        families.setdefault(t.family, modes[t.id])
    cues = list(dict.fromkeys([*k.checks.cta_cues, *cta_cues(k)]))[:CTA_EXAMPLES]
    return {
        "name": k.name, "brand": k.brand, "language": k.language, "id_field": k.catalog.id_field,
        "tasks": [{"id": t.id, "family": t.family, "mode": modes[t.id], "description": t.description,
                   "constraints": t.constraints.model_dump(exclude_defaults=True)} for t in k.tasks],
        "families": [{"id": fam, "mode": mode} for fam, mode in families.items()],
        "fields": [f.model_dump() for f in k.catalog.fields], "value_field": value_field(lk),
        "catalog": [{"id": sid, "fields": s} for sid, s in lk.subjects.items()],
        "models": models, "blocking_checks": blocking_checks,
        "length_unit": LENGTH_UNITS.get(lang, LENGTH_UNITS["en"]), "cta_cues": cues,
        "style": {"max_exclamation_density": k.checks.max_exclamation_density,
                  "max_punct_run": k.checks.max_punct_run, "max_emoji": k.checks.max_emoji},
        "disclaimer": k.checks.legal.disclaimer if k.checks.legal is not None else None,
    }


def copy_checks() -> list[str]:
    """Checks run on every draft: every check of the registry but those needing a reference corpus
    (``similarity``) — a draft has a subject, no reference."""
    from slmforge.checks.registry import default_checks

    return default_checks(subject=True, reference=False, corpus=False)


StreamFn = Callable[[list[dict], SamplingParams], Iterable[str]]
"""Generates one draft: (messages, params) → text pieces. The server passes ``Engine.stream``."""


class CopyInputError(ValueError):
    """A copy request the kit cannot serve; ``param`` names the field (the server answers 400)."""

    def __init__(self, message: str, param: str) -> None:
        super().__init__(message)
        self.param = param


def _coerce(spec: FieldSpec, raw: Any) -> Any:
    try:
        return coerce_value(spec, raw)
    except ValueError as e:
        raise CopyInputError(f"subject field {spec.name!r}: {e}", f"subject.{spec.name}") from e


def resolve_subject(lk: LoadedKit, req: CopyRequest) -> dict[str, Any]:
    """The subject of a request: the catalog entry ``subject_id`` (if any) updated with ``subject``, typed
    by the kit's field schema.

    Raises:
        CopyInputError: unknown subject id, unknown field, missing required field, or a value of the wrong type.
    """
    fields = {f.name: f for f in lk.kit.catalog.fields}
    unknown = sorted(set(req.subject) - set(fields))
    if unknown:
        raise CopyInputError(f"unknown subject fields {unknown}; the kit's fields are {list(fields)}",
                             f"subject.{unknown[0]}")
    base: dict[str, Any] = {}
    if req.subject_id is not None:
        if req.subject_id not in lk.subjects:
            raise CopyInputError(f"no catalog entry {req.subject_id!r}", "subject_id")
        base = dict(lk.subjects[req.subject_id])
    base.update(req.subject)
    return {name: _coerce(spec, base.get(name)) for name, spec in fields.items()}


def resolve_task(lk: LoadedKit, task_id: str) -> Task:
    """The kit's task ``task_id``.

    Raises:
        CopyInputError: no such task (lists the kit's task ids).
    """
    try:
        return lk.kit.task(task_id)
    except KeyError as e:
        raise CopyInputError(str(e.args[0]), "task") from e


def copy_messages(lk: LoadedKit, task: Task, subject: dict, value: str | None, *, with_system: bool) -> list[dict]:
    """Chat messages of a copy request: [system prompt,] student instruction."""
    msgs = [{"role": "user", "content": render_student_prompt(lk.kit, task, subject, value)}]
    if with_system:
        msgs.insert(0, {"role": "system", "content": system_prompt(lk.kit)})
    return msgs


def check_draft(lk: LoadedKit, task: Task, subject: dict, instruction: str, text: str,
                blocking: Iterable[str]) -> tuple[dict, list[str]]:
    """Run the copy checks on one draft.

    Returns:
        (``CheckReport.to_dict()``, names of the blocking checks that failed).
    """
    from slmforge.checks import kit_vocabulary, run_checks

    report = run_checks([text], task=task, subject=subject, kit=lk.kit, instruction=instruction,
                        checks=copy_checks(), vocab=kit_vocabulary(lk))[0]
    failed = [name for name, r in report.results.items() if name in set(blocking) and not r.passed]
    return report.to_dict(), failed


def copy_events(lk: LoadedKit, req: CopyRequest, *, model: str, stream_fn: StreamFn, params: SamplingParams,
                blocking: Iterable[str], max_retries: int, with_system: bool,
                cancel: threading.Event | None = None) -> Iterator[dict]:
    """Generate and check ``req.n`` drafts, yielding progress events (blocking; run in a worker thread).

    Events: ``{"type": "start", ...}``, ``{"type": "delta", "index", "attempt", "text"}`` (not with
    ``guard: block``), ``{"type": "retry", "index", "attempt", "failed_checks"}``,
    ``{"type": "draft", "index", "draft": {...}}``, and last ``{"type": "done", "response": {...}}``
    whose ``response`` is the full ``/v1/copy`` JSON body.

    Args:
        lk: the loaded kit.
        req: the request (task, subject, n, guard …).
        model: model id, echoed in the response.
        stream_fn: generates one draft as text pieces.
        params: sampling settings of one draft (``n`` is ignored: drafts are generated one by one).
        blocking: checks whose failure triggers the guard.
        max_retries: regenerations per failing draft with ``guard: retry``.
        with_system: put the kit's system prompt first.
        cancel: set to stop between drafts (client gone).

    Raises:
        CopyInputError: unknown task / subject / fields (raised before any generation).
    """
    task = resolve_task(lk, req.task)
    subject = resolve_subject(lk, req)
    messages = copy_messages(lk, task, subject, req.value, with_system=with_system)
    instruction = messages[-1]["content"]
    t0 = time.perf_counter()
    yield {"type": "start", "model": model, "task": task.id, "n": req.n, "guard": req.guard,
           "subject": subject, "instruction": instruction}
    drafts, regenerations = [], 0
    for index in range(req.n):
        history: list[dict] = []
        attempt = 0
        while True:
            attempt += 1
            p = SamplingParams(**{**params.__dict__, "n": 1,
                                  "seed": None if params.seed is None else params.seed + 1000 * index + attempt})
            pieces = []
            for piece in stream_fn(messages, p):
                pieces.append(piece)
                if req.guard != "block":
                    yield {"type": "delta", "index": index, "attempt": attempt, "text": piece}
            text = "".join(pieces).strip()
            report, failed = check_draft(lk, task, subject, instruction, text, blocking)
            history.append({"attempt": attempt, "failed_checks": failed, "score": report["score"]})
            if failed and req.guard == "retry" and attempt <= max_retries and not (cancel and cancel.is_set()):
                regenerations += 1
                yield {"type": "retry", "index": index, "attempt": attempt, "failed_checks": failed}
                continue
            break
        status = "passed" if not failed else ("blocked" if req.guard == "block" else "flagged")
        draft = {"index": index, "text": None if status == "blocked" else text, "status": status,
                 "failed_checks": failed, "attempts": attempt, "history": history, "report": report}
        drafts.append(draft)
        yield {"type": "draft", "index": index, "draft": draft}
        if cancel and cancel.is_set():
            break
    counts = {s: sum(d["status"] == s for d in drafts) for s in ("passed", "flagged", "blocked")}
    summary = {"requested": req.n, "returned": len(drafts) - counts["blocked"], **counts,
               "regenerations": regenerations, "blocking_checks": list(blocking),
               "latency_s": round(time.perf_counter() - t0, 3)}
    yield {"type": "done", "response": {
        "id": f"copy-{uuid.uuid4().hex[:24]}", "object": "copy", "created": int(time.time()), "model": model,
        "task": task.id, "guard": req.guard, "subject": subject, "instruction": instruction,
        "drafts": drafts, "summary": summary}}
