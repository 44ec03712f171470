"""Human ratings of a kit (``ratings.jsonl``): one pointwise score or one pair preference per row."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


from slmforge.data.io import read_jsonl
from slmforge.errors import DataError
from slmforge.kit import LoadedKit, render_student_prompt

RATINGS_FILE = "ratings.jsonl"
KEYS = {"id", "task", "subject_id", "instruction", "item_id", "criterion", "rater",
        "text", "score", "text_a", "text_b", "preference"}


@dataclass(frozen=True)
class Rating:
    """One human judgement from ``ratings.jsonl``.

    Attributes:
        line: 1-based line in the ratings file.
        kind: ``"point"`` (text + score) or ``"pair"`` (text_a, text_b, preference).
        task: kit task id.
        instruction: what the writer was asked (given, or the golden item's student prompt).
        criterion: criterion name, or None for the task's rubric-weighted overall.
        text / score: pointwise: the rated text and its score, an integer 1..5.
        text_a / text_b / preference: pair: the two texts and ``"A"``, ``"B"`` or ``"tie"``.
        subject_id / rater / id: optional labels carried into the output.
    """

    line: int
    kind: str
    task: str
    instruction: str
    criterion: str | None = None
    text: str = ""
    score: int | None = None
    text_a: str = ""
    text_b: str = ""
    preference: str | None = None
    subject_id: str | None = None
    rater: str | None = None
    id: str | None = None


def _string(obj: dict[str, Any], key: str, path: Path, line: int, *, required: bool) -> str | None:
    v = obj.get(key)
    if v is None and not required:
        return None
    if not isinstance(v, str) or not v.strip():
        raise DataError("missing or empty" if v is None else f"must be a non-empty string, got {v!r}",
                        file=path, line=line, field=key, fix=f"write `{key}` as a non-empty string")
    return v


def _instruction(lk: LoadedKit, obj: dict[str, Any], task: str, path: Path, line: int) -> str:
    instruction = _string(obj, "instruction", path, line, required=False)
    item_id = _string(obj, "item_id", path, line, required=False)
    if (instruction is None) == (item_id is None):
        raise DataError("give exactly one of `instruction` and `item_id`", file=path, line=line, field="instruction",
                        fix="write the instruction the writer got, or the id of the golden example it answers")
    if instruction is not None:
        return instruction
    golden = {g.id: g for g in lk.golden}
    if item_id not in golden:
        raise DataError(f"unknown golden item {item_id!r}", file=path, line=line, field="item_id",
                        fix=f"use a golden id ({', '.join(list(golden)[:5])} …) or write `instruction`")
    g = golden[item_id]
    if g.task != task:
        raise DataError(f"golden item {item_id!r} belongs to task {g.task!r}, not {task!r}", file=path, line=line,
                        field="task", fix=f"set task to {g.task!r} or use another item_id")
    return render_student_prompt(lk.kit, lk.kit.task(task), lk.subjects[g.subject_id], g.value)


def _rating(lk: LoadedKit, obj: Any, path: Path, line: int) -> Rating:
    if not isinstance(obj, dict):
        raise DataError("each line must be a JSON object", file=path, line=line, fix="write one rating object a line")
    unknown = sorted(set(obj) - KEYS)
    if unknown:
        raise DataError(f"unknown key {unknown[0]!r}", file=path, line=line, field=unknown[0],
                        fix=f"remove it or correct its spelling; keys: {', '.join(sorted(KEYS))}")
    task_ids = [t.id for t in lk.kit.tasks]
    task = _string(obj, "task", path, line, required=True)
    if task not in task_ids:
        raise DataError(f"unknown task {task!r}", file=path, line=line, field="task", fix=f"use one of {task_ids}")
    subject_id = _string(obj, "subject_id", path, line, required=False)
    if subject_id is not None and subject_id not in lk.subjects:
        raise DataError(f"unknown subject {subject_id!r}", file=path, line=line, field="subject_id",
                        fix="use an id from the kit's catalog, or drop the key")
    criterion = _string(obj, "criterion", path, line, required=False)
    names = [c.name for c in lk.kit.task(task).rubric.criteria]
    if criterion is not None and criterion not in names:
        raise DataError(f"task {task!r} has no criterion {criterion!r}", file=path, line=line, field="criterion",
                        fix=f"use one of {names}, or drop the key to rate the overall quality")
    common = {"line": line, "task": task, "instruction": _instruction(lk, obj, task, path, line),
              "criterion": criterion, "subject_id": subject_id,
              "rater": _string(obj, "rater", path, line, required=False),
              "id": None if obj.get("id") is None else str(obj["id"])}
    point, pair = "text" in obj or "score" in obj, bool({"text_a", "text_b", "preference"} & set(obj))
    if point == pair:
        raise DataError("a rating is either `text` + `score` or `text_a` + `text_b` + `preference`", file=path,
                        line=line, field="score" if point else "text",
                        fix="split it into a pointwise rating and a pair, or add the missing keys")
    if point:
        score = obj.get("score")
        if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
            raise DataError(f"must be an integer from 1 to 5, got {score!r}", file=path, line=line, field="score",
                            fix="write the human score as an integer 1-5")
        return Rating(kind="point", text=_string(obj, "text", path, line, required=True), score=score, **common)
    pref = obj.get("preference")
    if not isinstance(pref, str) or pref.strip().lower() not in ("a", "b", "tie"):
        raise DataError(f"must be 'A', 'B' or 'tie', got {pref!r}", file=path, line=line, field="preference",
                        fix="write which text the rater preferred")
    pref = "tie" if pref.strip().lower() == "tie" else pref.strip().upper()
    return Rating(kind="pair", text_a=_string(obj, "text_a", path, line, required=True),
                  text_b=_string(obj, "text_b", path, line, required=True), preference=pref, **common)


def load_ratings(lk: LoadedKit, path: str | Path | None = None) -> list[Rating]:
    """Read and validate human ratings (format in the module docstring).

    Args:
        lk: the kit the ratings belong to (tasks, criteria, golden items, catalog).
        path: the JSONL file; default ``ratings.jsonl`` in the kit directory.

    Returns:
        the ratings in file order.

    Raises:
        DataError: missing file, invalid JSON, an unknown key, task, criterion, subject or golden item, a
            score outside 1..5, a bad preference, or no rating at all (names file, line and field).
    """
    path = Path(path) if path is not None else lk.root / RATINGS_FILE
    if not path.is_file():
        raise DataError("ratings file not found", file=path,
                        fix=f"write human ratings as JSONL into {RATINGS_FILE} beside kit.yaml (see `slmforge judge "
                            "calibrate --help`), or pass --ratings FILE")
    ratings = [_rating(lk, obj, path, line) for line, obj in read_jsonl(path)]
    if not ratings:
        raise DataError("no ratings", file=path, fix="add at least a few pointwise ratings or preference pairs")
    return ratings


# ---- statistics ------------------------------------------------------------------------------------
