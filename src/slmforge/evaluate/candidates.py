"""Held-out items and the candidates' texts for them.

Held-out items come from an SFT JSONL (``SFTExample`` rows, or the seed shape ``{"messages": [...]}``
whose task and subject are recovered from the instruction) or, without one, from the kit's golden
examples (the student prompt rendered for the golden subject). Each item keeps its reference text,
which is the ``golden`` candidate.

Candidates:

* ``model`` — a client role (local base / SFT / DPO / GRPO / merged, a hosted id, any endpoint)
  answers the item's prompt messages as they are;
* ``golden`` — the reference texts;
* ``prompting`` — the baseline of seed 004: the role (default ``base``) gets the kit's system prompt,
  ``few_shot`` golden examples of the same task as user/assistant turns (never the item's own
  subject), optionally a plan-then-write instruction, then the item's prompt.

Every generation goes through ``LLMClient.chat_many`` with the fixed sampling settings, so it is
cached in the ledger: a rerun after an interruption only generates what is missing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from slmforge.data.io import read_jsonl
from slmforge.data.records import Generation, Provenance, SFTExample, instruction_of
from slmforge.errors import DataError
from slmforge.evaluate.config import CandidateSpec, EvalConfig
from slmforge.kit import LoadedKit, render_student_prompt, system_prompt

log = logging.getLogger(__name__)

PLAN_THEN_WRITE = ("First write a short plan (3-5 bullet points: angle, facts to use, structure), then a line "
                   "'COPY:' followed by the final copy only.")
PLAN_MARKER = "COPY:"


@dataclass
class HeldoutItem:
    """One held-out prompt with its reference.

    Attributes:
        id: item id (golden id or SFT row id).
        task: kit task id.
        subject_id: catalog subject id, or None when unknown.
        prompt: chat messages (dicts with ``role`` / ``content``) before the answer.
        reference: the golden / SFT answer text, or None.
        source: ``file:line`` or ``golden:<id>``.
    """

    id: str
    task: str
    subject_id: str | None
    prompt: list[dict[str, str]]
    reference: str | None
    source: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def instruction(self) -> str:
        """Content of the last user message (what the writer was asked; :func:`slmforge.data.records.instruction_of`)."""
        return instruction_of(self.prompt)


def _from_golden(lk: LoadedKit) -> list[HeldoutItem]:
    items = []
    for g in lk.golden:
        task = lk.kit.task(g.task)
        subject = lk.subjects[g.subject_id]
        prompt = [{"role": "user", "content": render_student_prompt(lk.kit, task, subject, g.value)}]
        items.append(HeldoutItem(g.id, g.task, g.subject_id, prompt, g.text, source=f"golden:{g.id}"))
    return items


def _from_sft(lk: LoadedKit, path: Path) -> list[HeldoutItem]:
    from slmforge.kit.match import task_for_prompt

    items = []
    task_ids = {t.id for t in lk.kit.tasks}
    for line, obj in read_jsonl(path):
        if not isinstance(obj, dict) or not isinstance(obj.get("messages"), list):
            raise DataError("a held-out row needs a `messages` list", file=path, line=line, field="messages",
                            fix="use SFTExample rows or the seed shape {\"messages\": [...]}")
        row = dict(obj)
        row.setdefault("id", f"{path.stem}-{line}")
        try:
            ex = SFTExample.model_validate({k: v for k, v in row.items() if k in SFTExample.model_fields})
        except ValueError as e:
            raise DataError(f"not a chat example: {e}", file=path, line=line, fix="fix the messages") from e
        prompt = [m.model_dump() for m in ex.prompt]
        task, subject_id = ex.task, ex.subject_id
        if task is None or subject_id is None:
            found_task, found_subject = task_for_prompt(lk, prompt[-1]["content"] if prompt else "")
            task, subject_id = task or found_task, subject_id or found_subject
            if task is None:
                raise DataError("cannot tell the task of this row from its instruction", file=path, line=line,
                                field="task", fix="add `task` (and `subject_id`) fields to the row, or use the kit "
                                "whose student templates produced these prompts")
        if task not in task_ids:
            raise DataError(f"unknown task {task!r}", file=path, line=line, field="task",
                            fix=f"use one of {sorted(task_ids)}")
        items.append(HeldoutItem(ex.id, task, subject_id, prompt, ex.completion or None, source=f"{path}:{line}"))
    return items


def load_heldout(lk: LoadedKit, cfg: EvalConfig) -> list[HeldoutItem]:
    """The held-out items, filtered to ``cfg.tasks`` and capped at ``cfg.max_items`` per task (file order).

    Raises:
        DataError: unreadable held-out file, a row without messages, or whose task cannot be found.
        ConfigError: the selection is empty (names the tasks asked for).
    """
    items = _from_sft(lk, Path(cfg.heldout)) if cfg.heldout else _from_golden(lk)
    if cfg.tasks:
        items = [it for it in items if it.task in cfg.tasks]
    if cfg.max_items:
        per_task: dict[str, int] = {}
        kept = []
        for it in items:
            per_task[it.task] = per_task.get(it.task, 0) + 1
            if per_task[it.task] <= cfg.max_items:
                kept.append(it)
        items = kept
    if not items:
        from slmforge.errors import ConfigError

        raise ConfigError(f"no held-out items for tasks {cfg.tasks or 'all'}", field="heldout",
                          fix="point `heldout` at a JSONL with these tasks, or add golden examples to the kit")
    return items


def prompting_messages(lk: LoadedKit, spec: CandidateSpec, item: HeldoutItem) -> list[dict[str, str]]:
    """The prompting baseline's messages: system prompt, few-shot golden turns, the item's prompt.

    Few-shot examples are the first ``spec.few_shot`` golden examples of the item's task whose
    subject differs from the item's (so the reference never leaks into its own prompt).
    """
    msgs = [{"role": "system", "content": system_prompt(lk.kit)}]
    task = lk.kit.task(item.task)
    shots = [g for g in lk.golden_for(item.task) if g.subject_id != item.subject_id and g.id != item.id]
    for g in shots[: spec.few_shot]:
        msgs.append({"role": "user", "content": render_student_prompt(lk.kit, task, lk.subjects[g.subject_id], g.value)})
        msgs.append({"role": "assistant", "content": g.text})
    user = [m for m in item.prompt if m["role"] != "system"]
    if spec.plan_then_write and user:
        user = user[:-1] + [{"role": "user", "content": user[-1]["content"] + "\n\n" + PLAN_THEN_WRITE}]
    return msgs + user


def strip_plan(text: str) -> str:
    """The copy after the last ``COPY:`` line of a plan-then-write reply (the whole text when absent)."""
    head, sep, tail = text.rpartition(PLAN_MARKER)
    return tail.strip() if sep else text.strip()


def generate(lk: LoadedKit, cfg: EvalConfig, client: Any, items: list[HeldoutItem]) -> list[Generation]:
    """Texts of every candidate for every item (cached in the client's ledger).

    Args:
        lk: the kit.
        cfg: eval settings (candidates, sampling).
        client: an ``slmforge.llm.LLMClient`` with a role for each generating candidate.
        items: held-out items, length n.

    Returns:
        ``len(cfg.candidates) * n`` generations, candidate-major. A failed call keeps its row with
        ``text=""`` and ``provenance.error`` (counted in the report), never dropped.

    Raises:
        ConfigError: a candidate's role is not configured in the client.
        BudgetExceeded: from the client, when the spend would pass its budget.
    """
    from slmforge.errors import ConfigError

    out: list[Generation] = []
    s = cfg.sampling
    for spec in cfg.candidates:
        role = spec.client_role
        if spec.kind == "golden":
            for it in items:
                if it.reference is None:
                    log.warning("item %s has no reference text; golden candidate left empty", it.id)
                out.append(Generation(id=f"{it.id}:{spec.name}", candidate=spec.name, task=it.task,
                                      subject_id=it.subject_id, prompt=it.prompt, text=it.reference or "",
                                      provenance=Provenance(producer="golden", source=it.source)))
            continue
        if not client.has_role(role):
            raise ConfigError(f"candidate {spec.name!r} needs client role {role!r}, which is not configured",
                              field=f"candidates[{spec.name}].role", fix=f"add a `{role}` model to the project's models")
        batch = [prompting_messages(lk, spec, it) if spec.kind == "prompting" else it.prompt for it in items]
        results = client.chat_many(role, batch, stage=f"eval.generate.{spec.name}", temperature=s.temperature,
                                   top_p=s.top_p, max_tokens=s.max_tokens, seed=s.seed)
        for it, msgs, res in zip(items, batch, results, strict=True):
            text = (res.text or "") if res.ok else ""
            if spec.plan_then_write:
                text = strip_plan(text)
            extra = {} if res.ok else {"error": res.error}
            prov = Provenance(producer="model", model=res.model, request_id=res.request_id,
                              cost_usd=res.cost_usd, **extra)
            out.append(Generation(id=f"{it.id}:{spec.name}", candidate=spec.name, task=it.task,
                                  subject_id=it.subject_id, prompt=msgs, text=text, provenance=prov))
    return out
