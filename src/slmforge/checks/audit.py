"""Check a whole data file (SFT or preference rows, any format ``slmforge.data.formats`` reads) against a
kit: per-row reports and pass-rate tables per task and per strategy. Run it as
``slmforge check FILE --kit DIR [--out findings.jsonl]``.

Rows without ``task`` / ``subject_id`` columns (the seed files) are mapped back to their task and
subject from the prompt text (:func:`slmforge.kit.match.task_for_prompt`). The rejected side of a
pair is also compared with its chosen side (reference-grounded fact edits), which tells a
fact-perturbed negative ("fake") from a weak or exaggerated one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from slmforge.checks.facts import reference_fact_edits
from slmforge.checks.registry import default_checks
from slmforge.checks.run import run_checks
from slmforge.checks.types import CheckReport
from slmforge.checks.vocab import kit_vocabulary
from slmforge.data.formats import Row, detect_format, parse_row, text_of
from slmforge.data.io import read_jsonl
from slmforge.errors import DataError
from slmforge.kit.load import LoadedKit
from slmforge.kit.match import task_for_prompt

DEFAULT_CHECKS: tuple[str, ...] | None = None
"""``None``: every per-text check of the registry (all but corpus checks such as ``similarity``), the same
set for every row so that the tables line up (facts and coverage pass a row without a subject)."""


@dataclass
class FileAudit:
    """What :func:`check_file` found.

    Attributes:
        rows: one JSON-ready dict per input row: ``line``, ``task``, ``subject_id``, ``strategy`` and a
            report per side (``completion`` or ``chosen`` / ``rejected``), plus ``reference`` (fact edits
            of rejected against chosen) for pairs.
        groups: ``(task, side)`` and ``("*", side)`` → list of reports, for the tables; side is
            ``completion``, ``chosen`` or ``rejected:<strategy>``.
        unmatched: rows whose task could not be recognised (checked without task constraints).
    """

    rows: list[dict[str, Any]] = field(default_factory=list)
    groups: dict[tuple[str, str], list[CheckReport]] = field(default_factory=lambda: defaultdict(list))
    unmatched: int = 0

    def pass_rates(self, key: tuple[str, str]) -> dict[str, float]:
        """Check name → share of the group's texts that passed it (plus ``all``: every check passed)."""
        reports = self.groups[key]
        names = list(reports[0].results) if reports else []
        out = {n: sum(r.results[n].passed for r in reports) / len(reports) for n in names}
        out["all"] = sum(r.passed for r in reports) / len(reports) if reports else 0.0
        return out


def _user_text(prompt: list[dict[str, Any]]) -> str:
    users = [m for m in prompt if m.get("role") == "user"]
    return text_of(users[-1:]) if users else text_of(prompt)


def check_file(path: str | Path, lk: LoadedKit, *, checks: Sequence[str] | None = DEFAULT_CHECKS,
               on_row: Callable[[], None] | None = None) -> FileAudit:
    """Run the checks over every row of a JSONL data file.

    Args:
        path: SFT or preference JSONL (TRL, OpenAI, seed formats …).
        lk: the loaded kit (tasks, catalog, glossary).
        checks: which checks to run; ``None``: every per-text check of the registry (:data:`DEFAULT_CHECKS`).
        on_row: called after each row (progress bars).

    Returns:
        :class:`FileAudit`.

    Raises:
        DataError: unreadable file, a row of no known format (names file:line), or an empty file.
    """
    vocab = kit_vocabulary(lk)
    checks = list(checks) if checks is not None else default_checks(subject=True, reference=False, corpus=False)
    audit = FileAudit()
    for line, obj in read_jsonl(path):
        if isinstance(obj, dict) and isinstance(obj.get("text"), str) and isinstance(obj.get("task"), str):
            # a text with its task: golden examples, evaluation / serving Generation records
            prompt = obj.get("prompt") if isinstance(obj.get("prompt"), list) else []
            row = Row(prompt=prompt, completion=[{"role": "assistant", "content": obj["text"]}],
                      meta={k: obj[k] for k in ("id", "task", "subject_id") if k in obj})
        else:
            fmt = detect_format(obj)
            if fmt is None:
                raise DataError("row matches no known SFT / preference / text format", file=path, line=line,
                                fix="see `slmforge data validate --help` for the formats, or give rows "
                                    "{task, subject_id, text}")
            row = parse_row(obj, fmt, file=path, line=line)
        instruction = _user_text(row.prompt) if row.prompt else None
        task_id, subject_id = row.meta.get("task"), row.meta.get("subject_id")
        if (task_id is None or subject_id is None) and instruction:
            found_task, found_subject = task_for_prompt(lk, instruction)
            task_id, subject_id = task_id or found_task, subject_id or found_subject
        audit.unmatched += task_id is None
        task = lk.kit.task(task_id) if task_id in {t.id for t in lk.kit.tasks} else None
        subject = lk.subjects.get(subject_id) if subject_id else None
        strategy = row.meta.get("strategy") or row.meta.get("method")
        out: dict[str, Any] = {"line": line, "task": task_id, "subject_id": subject_id, "strategy": strategy}
        if "id" in row.meta:
            out["id"] = row.meta["id"]
        sides = ([("completion", text_of(row.completion))] if row.chosen is None
                 else [("chosen", text_of(row.chosen)), (f"rejected:{strategy or '-'}", text_of(row.rejected))])
        texts = [t for _, t in sides]
        reports = run_checks(texts, task=task, subject=subject, kit=lk.kit, instruction=instruction,
                             checks=checks, vocab=vocab)
        for (side, _), rep in zip(sides, reports, strict=True):
            out[side.split(":")[0]] = rep.to_dict()
            audit.groups[(task_id or "?", side)].append(rep)
            audit.groups[("*", side)].append(rep)
        if row.chosen is not None:
            diff = reference_fact_edits(texts[1], texts[0], subject=subject, kit=lk.kit, vocab=vocab)
            out["reference"] = {"similarity": round(diff.similarity, 4), "minimal_fact_edit": diff.is_minimal_fact_edit(),
                                "edits": [{"kind": e.kind, "chosen": e.reference, "rejected": e.candidate,
                                           "start": e.start, "end": e.end} for e in diff.edits]}
        audit.rows.append(out)
        if on_row is not None:
            on_row()
    if not audit.rows:
        raise DataError("no rows", file=path, fix="pass a JSONL file with at least one row")
    return audit
