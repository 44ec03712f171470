"""``slmforge data split FILE --by subject --ratio 0.8 --seed N``: a train/test split with no subject on both sides.

Rows are grouped by subject (:func:`~slmforge.data.fields.subject_of`: the ``subject_id`` column, else a key
of the JSON object in the prompt); the groups are shuffled with ``seed`` and given to the train side until
it holds ``ratio`` of the rows, the rest to the test side. So a product never leaks from training into
evaluation. JSONL rows are copied byte for byte; Parquet rows are rewritten as Parquet.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from slmforge.data.fields import TaskMatcher, subject_of, task_of
from slmforge.data.formats import read_parsed
from slmforge.data.io import is_parquet, read_rows, write_parquet
from slmforge.errors import DataError


@dataclass
class SplitReport:
    """The result of :func:`split_file`.

    Attributes:
        train_path / test_path: the files written.
        train_rows / test_rows: rows on each side; train_subjects / test_subjects: distinct subjects.
        train_tasks / test_tasks: rows per task on each side.
        warnings: tasks with fewer than :data:`MIN_TEST_PER_TASK` held-out rows (plain language).
    """

    source: str
    format: str
    by: str
    train_path: str
    test_path: str
    train_rows: int = 0
    test_rows: int = 0
    train_subjects: int = 0
    test_subjects: int = 0
    train_tasks: Counter[str] = field(default_factory=Counter)
    test_tasks: Counter[str] = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)


#: fewer held-out rows than this in a task and the split warns that the task cannot be judged.
MIN_TEST_PER_TASK = 3


def stratify(groups: dict[str, list[int]], tasks: dict[int, str], train_keys: list[str]) -> list[str]:
    """Move subjects from train to test until every task with ≥ 2 subjects has a held-out subject.

    The split stays by subject (a subject's rows move together). For each task in name order with no
    held-out row, the train subject picked last that has the task moves over, provided the task keeps
    a train subject. Deterministic for a given ``train_keys`` order.

    Args:
        groups: subject → row line numbers.
        tasks: line number → task.
        train_keys: subjects on the train side, in the order they were picked.

    Returns:
        the new train subjects (same order, minus the moved ones).
    """
    by_task: dict[str, set[str]] = {}
    for key, lines in groups.items():
        for ln in lines:
            by_task.setdefault(tasks[ln], set()).add(key)
    train = list(train_keys)
    for task in sorted(by_task):
        subjects = by_task[task]
        if len(subjects) < 2 or subjects - set(train):
            continue
        movable = [k for k in reversed(train) if k in subjects]
        if len(movable) >= 2:
            train.remove(movable[0])
    return train


def split_file(path: str | Path, *, by: str = "subject", ratio: float = 0.8, seed: int = 0,
               subject_key: str = "product_name", out_dir: str | Path | None = None, fmt: str | None = None,
               match: TaskMatcher | None = None) -> SplitReport:
    """Split ``path`` into ``<stem>.train<ext>`` and ``<stem>.test<ext>`` in ``out_dir`` (default: next to it).

    Args:
        path: JSONL / Parquet file in any supported format.
        by: ``subject`` (group rows by subject) or ``row`` (plain random split).
        ratio: share of rows for the train side, in (0, 1).
        seed: shuffling seed; the same seed gives the same split.
        subject_key: key of the prompt's JSON object naming the subject when there is no ``subject_id``.
        out_dir: where to write the two files.
        fmt: force the input format.
        match: ``prompt text -> task`` for the per-task counts of rows without a ``task`` column.

    Raises:
        DataError: bad ``by`` / ``ratio``, unreadable file, fewer than two groups, or a row without a subject.
    """
    path = Path(path)
    if by not in ("subject", "row"):
        raise DataError(f"cannot split by {by!r}", field="--by", fix="use --by subject or --by row")
    if not 0 < ratio < 1:
        raise DataError(f"ratio must be between 0 and 1 (got {ratio})", field="--ratio", fix="e.g. --ratio 0.8")
    groups: dict[str, list[int]] = {}
    tasks: dict[int, str] = {}
    fmt_seen = "?"
    for line, fmt_seen, row in read_parsed(path, fmt):
        key = str(line) if by == "row" else subject_of(row, subject_key=subject_key)
        if key is None:
            raise DataError(f"no subject: no subject_id column and no JSON object with {subject_key!r} in the prompt",
                            file=path, line=line, field="subject_id",
                            fix="pass --subject-key KEY, add a subject_id column, or use --by row")
        groups.setdefault(key, []).append(line)
        tasks[line] = task_of(row, match)
    if len(groups) < 2:
        raise DataError(f"only {len(groups)} {by} group(s); a split needs at least two", file=path,
                        fix="use --by row, or add rows for more subjects")
    order = sorted(groups)
    random.Random(seed).shuffle(order)
    target = ratio * len(tasks)
    train_keys: list[str] = []
    n_train = 0
    for key in order:
        if n_train < target and len(train_keys) < len(order) - 1:
            train_keys.append(key)
            n_train += len(groups[key])
    if by == "subject":
        train_keys = stratify(groups, tasks, train_keys)
    train_lines = {ln for k in train_keys for ln in groups[k]}
    out_dir = Path(out_dir) if out_dir else path.parent
    suffix = path.suffix or ".jsonl"
    rep = SplitReport(str(path), fmt_seen, by, str(out_dir / f"{path.stem}.train{suffix}"),
                      str(out_dir / f"{path.stem}.test{suffix}"), train_subjects=len(train_keys),
                      test_subjects=len(order) - len(train_keys))
    for line, task in tasks.items():
        side = rep.train_tasks if line in train_lines else rep.test_tasks
        side[task] += 1
    rep.train_rows, rep.test_rows = len(train_lines), len(tasks) - len(train_lines)
    all_tasks = sorted(set(rep.train_tasks) | set(rep.test_tasks))
    rep.warnings = [f"task {t!r} has {rep.test_tasks[t]} held-out row(s) (fewer than {MIN_TEST_PER_TASK}): "
                    "its results cannot be judged" for t in all_tasks if rep.test_tasks[t] < MIN_TEST_PER_TASK]
    _write_sides(path, train_lines, Path(rep.train_path), Path(rep.test_path))
    return rep


def _write_sides(path: Path, train_lines: set[int], train_path: Path, test_path: Path) -> None:
    train_path.parent.mkdir(parents=True, exist_ok=True)
    if is_parquet(path):
        sides: tuple[list[dict[str, Any]], list[dict[str, Any]]] = ([], [])
        for line, obj in read_rows(path):
            sides[line not in train_lines].append(obj)
        write_parquet(train_path, sides[0])
        write_parquet(test_path, sides[1])
        return
    raw = path.read_bytes().split(b"\n")
    tmp_train, tmp_test = train_path.with_name(f".{train_path.name}.tmp"), test_path.with_name(f".{test_path.name}.tmp")
    with tmp_train.open("wb") as tr, tmp_test.open("wb") as te:
        for i, data in enumerate(raw, 1):
            if data.strip():
                (tr if i in train_lines else te).write(data.rstrip(b"\r") + b"\n")
    tmp_train.replace(train_path)
    tmp_test.replace(test_path)
