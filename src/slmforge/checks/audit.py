"""Check a whole data file (SFT or preference rows, any format ``slmforge.data.formats`` reads, or CSV)
against the rules its prompts state and, given a kit, against the kit: per-row reports and pass-rate
tables per task and per strategy. Run it as ``slmforge check FILE [--kit DIR] [--out findings.jsonl]``.

Every row's prompt is read for the rules it states (「30文字以内」, 「句点なし」, 「絵文字なし」 …,
:mod:`slmforge.checks.stated`), and each side is checked against them, so a pair whose chosen side
breaks a stated rule that its rejected side obeys is named even without a kit. With a kit, rows without
``task`` / ``subject_id`` columns (the seed files) are mapped back to their task and subject from the
prompt text (:func:`slmforge.kit.match.task_for_prompt`), and the rejected side of a pair is also
compared with its chosen side (reference-grounded fact edits), which tells a fact-perturbed negative
("fake") from a weak or exaggerated one.

CSV files (``.csv``, header on line 1, :func:`slmforge.data.io.read_csv`) hold a ``prompt`` (or
``instruction``) column and either ``completion`` or ``chosen`` and ``rejected``, plus optional ``task``,
``subject_id``, ``id`` and ``strategy`` / ``method``; column names are matched case-insensitively.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from slmforge.checks.fact_edits import reference_fact_edits
from slmforge.checks.registry import default_checks
from slmforge.checks.run import run_checks
from slmforge.checks.stated import StatedSummary, judge_stated
from slmforge.checks.types import CheckReport
from slmforge.checks.vocab import Vocabulary, kit_vocabulary
from slmforge.data.formats import Row, detect_format, parse_row, text_of
from slmforge.data.io import read_csv, read_jsonl
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
        rows: one JSON-ready dict per input row: ``line``, ``task``, ``subject_id``, ``strategy``, ``stated``
            (:meth:`slmforge.checks.stated.StatedVerdict.to_dict`) and, with a kit, a report per side
            (``completion`` or ``chosen`` / ``rejected``) plus ``reference`` (fact edits of rejected against
            chosen) for pairs.
        groups: ``(task, side)`` and ``("*", side)`` → list of reports, for the tables; side is
            ``completion``, ``chosen`` or ``rejected:<strategy>``; empty without a kit.
        unmatched: rows whose task could not be recognised (checked without task constraints); 0 without a kit.
        stated: per-rule tallies of the rules the prompts state (:mod:`slmforge.checks.stated`); each row
            also carries its own verdict under ``stated``.
        sides: with a kit, every checked text as ``(row index, side, prompt messages, report)`` (side =
            ``completion``, ``chosen`` or ``rejected``), for scorers that read text and report together
            (:func:`slmforge.evaluate.scorers.score_audit`).
    """

    rows: list[dict[str, Any]] = field(default_factory=list)
    groups: dict[tuple[str, str], list[CheckReport]] = field(default_factory=lambda: defaultdict(list))
    unmatched: int = 0
    stated: StatedSummary = field(default_factory=StatedSummary)
    sides: list[tuple[int, str, list[dict], CheckReport]] = field(default_factory=list)

    def pass_rates(self, key: tuple[str, str]) -> dict[str, float]:
        """Check name → share of the group's texts that passed it (plus ``all``: every check passed)."""
        reports = self.groups[key]
        names = list(reports[0].results) if reports else []
        out = {n: sum(r.results[n].passed for r in reports) / len(reports) for n in names}
        out["all"] = sum(r.passed for r in reports) / len(reports) if reports else 0.0
        return out


CSV_PROMPT = ("prompt", "instruction")
CSV_META = ("task", "subject_id", "id", "strategy", "method")


def _user_text(prompt: list[dict[str, Any]]) -> str:
    users = [m for m in prompt if m.get("role") == "user"]
    return text_of(users[-1:]) if users else text_of(prompt)


def _stated_text(prompt: list[dict[str, Any]]) -> str:
    """System messages and the last user message: where a prompt states its rules."""
    users = [m for m in prompt if m.get("role") == "user"]
    return text_of([m for m in prompt if m.get("role") == "system"] + users[-1:])


def _csv_object(path: str | Path, line: int, rec: dict[str, str | None]) -> tuple[str, dict[str, Any]]:
    """``(format, row object)`` for one CSV record (columns as in the module doc).

    Raises:
        DataError: no prompt / answer column (names line 1 and the columns found), or a short record.
    """
    cols = {k.lower(): v for k, v in rec.items()}
    found = ", ".join(rec) or "none"
    prompt_col = next((c for c in CSV_PROMPT if c in cols), None)
    if prompt_col is None:
        raise DataError(f"no prompt column (columns: {found})", file=path, line=1, field="prompt",
                        fix="name the instruction column prompt or instruction, in a comma-separated header")
    answers = ("chosen", "rejected") if "chosen" in cols or "rejected" in cols else ("completion",)
    for col in answers:
        if col not in cols:
            raise DataError(f"no {col} column (columns: {found})", file=path, line=1, field=col,
                            fix="add a completion column, or both chosen and rejected columns")
    obj: dict[str, Any] = {k: v for k in CSV_META if (v := cols.get(k))}
    for col in (prompt_col, *answers):
        if cols[col] is None:
            raise DataError(f"no {col} cell", file=path, line=line, field=col,
                            fix="give the row a cell for every column of the header")
        obj["prompt" if col == prompt_col else col] = cols[col]
    return ("preference" if len(answers) == 2 else "prompt-completion"), obj


def iter_rows(path: str | Path) -> Iterator[tuple[int, Row]]:
    """``(line, Row)`` for every row of a JSONL or CSV (by suffix ``.csv``) data file.

    A JSONL row ``{task, text, ...}`` (golden examples, Generation records) becomes a completion; any other
    row must be one of :data:`slmforge.data.formats.FORMATS`.

    Raises:
        DataError: unreadable file, bad JSON / CSV, a row of no known format (names file:line and the fix).
    """
    if Path(path).suffix.lower() == ".csv":
        for line, rec in read_csv(path):
            fmt, obj = _csv_object(path, line, rec)
            yield line, parse_row(obj, fmt, file=path, line=line)
        return
    for line, obj in read_jsonl(path):
        if isinstance(obj, dict) and isinstance(obj.get("text"), str) and isinstance(obj.get("task"), str):
            # a text with its task: golden examples, evaluation / serving Generation records
            prompt = obj.get("prompt") if isinstance(obj.get("prompt"), list) else []
            yield line, Row(prompt=prompt, completion=[{"role": "assistant", "content": obj["text"]}],
                            meta={k: obj[k] for k in ("id", "task", "subject_id") if k in obj})
            continue
        fmt = detect_format(obj)
        if fmt is None:
            raise DataError("row matches no known SFT / preference / text format", file=path, line=line,
                            fix="see `slmforge data validate --help` for the formats, or give rows "
                                "{task, subject_id, text}")
        yield line, parse_row(obj, fmt, file=path, line=line)


@dataclass
class _KitContext:
    """What every row's kit checks share: the kit, the check names, the kit's entity vocabulary, the file."""

    lk: LoadedKit
    checks: list[str]
    vocab: Vocabulary
    path: str | Path


def _kit_row(ctx: _KitContext, audit: FileAudit, row: Row, out: dict[str, Any], sides: list[tuple[str, str]]) -> None:
    """Run the kit's checks on one row's sides; fills ``out`` (reports, task, subject, reference) and the groups.

    Raises:
        DataError: the prompt states a length (or line, hashtag) range that leaves no valid text under the
            task's constraints, e.g. 「20文字以内」 for a task with ``min_chars: 40`` (names file:line).
    """
    lk = ctx.lk
    instruction = _user_text(row.prompt) if row.prompt else None
    task_id, subject_id = row.meta.get("task"), row.meta.get("subject_id")
    if (task_id is None or subject_id is None) and instruction:
        found_task, found_subject = task_for_prompt(lk, instruction)
        task_id, subject_id = task_id or found_task, subject_id or found_subject
    audit.unmatched += task_id is None
    task = lk.kit.task(task_id) if task_id in {t.id for t in lk.kit.tasks} else None
    subject = lk.subjects.get(subject_id) if subject_id else None
    out.update(task=task_id, subject_id=subject_id)
    texts = [t for _, t in sides]
    try:
        reports = run_checks(texts, task=task, subject=subject, kit=lk.kit, instruction=instruction,
                             checks=ctx.checks, vocab=ctx.vocab)
    except ValidationError as e:  # merge_constraints: the prompt's range and the task's do not overlap
        raise DataError(f"the prompt's rules contradict task {task_id}'s constraints: {e.errors()[0]['msg']}",
                        file=ctx.path, line=out["line"], field="prompt",
                        fix="make the prompt agree with the task's constraints in kit.yaml, or check without --kit") from e
    for (side, _), rep in zip(sides, reports, strict=True):
        out[side.split(":")[0]] = rep.to_dict()
        audit.sides.append((len(audit.rows), side.split(":")[0], row.prompt or [], rep))
        audit.groups[(task_id or "?", side)].append(rep)
        audit.groups[("*", side)].append(rep)
    if row.chosen is not None:
        diff = reference_fact_edits(texts[1], texts[0], subject=subject, kit=lk.kit, vocab=ctx.vocab)
        out["reference"] = {"similarity": round(diff.similarity, 4), "minimal_fact_edit": diff.is_minimal_fact_edit(),
                            "edits": [{"kind": e.kind, "chosen": e.reference, "rejected": e.candidate,
                                       "start": e.start, "end": e.end} for e in diff.edits]}


def check_file(path: str | Path, lk: LoadedKit | None, *, checks: Sequence[str] | None = DEFAULT_CHECKS,
               on_row: Callable[[], None] | None = None) -> FileAudit:
    """Run the stated-rule checks and, with a kit, the kit's checks over every row of a data file.

    Args:
        path: SFT or preference JSONL (TRL, OpenAI, seed formats …) or CSV (module doc).
        lk: the loaded kit (tasks, catalog, glossary), or ``None``: only the rules each prompt states are
            checked (language guessed from the prompt's script).
        checks: which kit checks to run; ``None``: every per-text check of the registry (:data:`DEFAULT_CHECKS`).
        on_row: called after each row (progress bars).

    Returns:
        :class:`FileAudit`.

    Raises:
        DataError: unreadable file, a row of no known format or a bad CSV (names file:line), or an empty file.
    """
    ctx = None
    if lk is not None:
        names = list(checks) if checks is not None else default_checks(subject=True, reference=False, corpus=False)
        ctx = _KitContext(lk, names, kit_vocabulary(lk), path)
    audit = FileAudit()
    for line, row in iter_rows(path):
        strategy = row.meta.get("strategy") or row.meta.get("method")
        out: dict[str, Any] = {"line": line, "task": row.meta.get("task"), "subject_id": row.meta.get("subject_id"),
                               "strategy": strategy}
        if "id" in row.meta:
            out["id"] = row.meta["id"]
        sides = ([("completion", text_of(row.completion))] if row.chosen is None
                 else [("chosen", text_of(row.chosen)), (f"rejected:{strategy or '-'}", text_of(row.rejected))])
        if ctx is not None:
            _kit_row(ctx, audit, row, out, sides)
        verdict = judge_stated(_stated_text(row.prompt), {s.split(":")[0]: t for s, t in sides},
                               lk.kit.language if lk is not None else None)
        audit.stated.add(verdict)
        out["stated"] = verdict.to_dict()
        audit.rows.append(out)
        if on_row is not None:
            on_row()
    if not audit.rows:
        raise DataError("no rows", file=path, fix="pass a JSONL or CSV file with at least one row")
    return audit
