"""``slmforge data split FILE --by subject --eval-fraction 0.2 --seed N``: a train/test split with no subject on
both sides.

Rows are grouped by subject (:func:`~slmforge.data.fields.subject_of`: the ``subject_id`` column, else a key
of the JSON object in the prompt); the groups are shuffled with ``seed`` and given to the train side until
it holds ``1 - eval_fraction`` of the rows, the rest to the test (held-out) side; then every task with two
subjects or more gets a held-out subject (:func:`stratify`). So a product never leaks from training into
evaluation. JSONL rows are copied byte for byte; Parquet rows are rewritten as Parquet. The same
assignment (:func:`assign_groups`) splits the training data of ``slmforge train`` when no eval file is given.

``eval_fraction`` is the one name of the held-out share everywhere (project ``split.eval_fraction``, train
config ``data.eval_fraction``, ``--eval-fraction``).
"""

from __future__ import annotations

import os
import random
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from slmforge.data.fields import TaskMatcher, subject_of, task_of
from slmforge.data.formats import read_parsed
from slmforge.data.io import check_output_path, is_parquet, read_rows, scan_jsonl, write_parquet
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


def assign_groups(groups: dict[str, list[int]], tasks: dict[int, str], *, eval_fraction: float, seed: int,
                  stratified: bool = True) -> list[str]:
    """The groups (subjects) of the train side: shuffled with ``seed``, taken until they hold
    ``1 - eval_fraction`` of the rows (at least one group stays held out), then :func:`stratify` (when
    ``stratified``) so that every task with ≥ 2 subjects has a held-out one.

    Args:
        groups: group key → row ids (any hashable ids, e.g. line numbers).
        tasks: row id → task.
        eval_fraction: share of rows to hold out, in (0, 1).
        seed: shuffling seed; the same seed gives the same split.

    Returns:
        the train-side keys, in the order they were taken.
    """
    order = sorted(groups)
    random.Random(seed).shuffle(order)
    target = (1 - eval_fraction) * sum(len(v) for v in groups.values())
    train_keys: list[str] = []
    n_train = 0
    for key in order:
        if n_train < target and len(train_keys) < len(order) - 1:
            train_keys.append(key)
            n_train += len(groups[key])
    return stratify(groups, tasks, train_keys) if stratified else train_keys


def split_file(path: str | Path, *, by: str = "subject", eval_fraction: float = 0.2, seed: int = 0,
               subject_key: str = "product_name", out_dir: str | Path | None = None, fmt: str | None = None,
               match: TaskMatcher | None = None) -> SplitReport:
    """Split ``path`` into ``<stem>.train<ext>`` and ``<stem>.test<ext>`` in ``out_dir`` (default: next to it).

    Args:
        path: JSONL / Parquet file in any supported format.
        by: ``subject`` (group rows by subject) or ``row`` (plain random split).
        eval_fraction: share of rows for the test (held-out) side, in (0, 1).
        seed: shuffling seed; the same seed gives the same split.
        subject_key: key of the prompt's JSON object naming the subject when there is no ``subject_id``.
        out_dir: where to write the two files.
        fmt: force the input format.
        match: ``prompt text -> task`` for the per-task counts of rows without a ``task`` column.

    Raises:
        DataError: bad ``by`` / ``eval_fraction``; ``out_dir`` (or a folder above it) is a file, an output name is
            a folder, or the files cannot be written; unreadable file, fewer than two groups, or a row
            without a subject. Paths are checked before the file is read, and on any error the earlier
            outputs are kept as they were.
    """
    path = Path(path)
    if by not in ("subject", "row"):
        raise DataError(f"cannot split by {by!r}", field="--by", fix="use --by subject or --by row")
    if not 0 < eval_fraction < 1:
        raise DataError(f"the held-out share must be between 0 and 1 (got {eval_fraction})", field="--eval-fraction",
                        fix="e.g. --eval-fraction 0.2")
    out_dir = check_output_path(Path(out_dir) if out_dir else path.parent, field="--out-dir", folder=True)
    suffix = path.suffix or ".jsonl"
    train_path, test_path = (check_output_path(out_dir / f"{path.stem}.{side}{suffix}", field="--out-dir",
                                               fix="move that folder away, or pass another --out-dir")
                             for side in ("train", "test"))
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
        try:
            tasks[line] = task_of(row, match)
        except DataError as e:
            raise DataError(e.message, file=path, line=line, field=e.field, fix=e.fix) from e
    if len(groups) < 2:
        raise DataError(f"only {len(groups)} {by} group(s); a split needs at least two", file=path,
                        fix="use --by row, or add rows for more subjects")
    train_keys = assign_groups(groups, tasks, eval_fraction=eval_fraction, seed=seed, stratified=by == "subject")
    train_lines = {ln for k in train_keys for ln in groups[k]}
    rep = SplitReport(str(path), fmt_seen, by, str(train_path), str(test_path), train_subjects=len(train_keys),
                      test_subjects=len(groups) - len(train_keys))
    for line, task in tasks.items():
        side = rep.train_tasks if line in train_lines else rep.test_tasks
        side[task] += 1
    rep.train_rows, rep.test_rows = len(train_lines), len(tasks) - len(train_lines)
    all_tasks = sorted(set(rep.train_tasks) | set(rep.test_tasks))
    rep.warnings = [f"task {t!r} has {rep.test_tasks[t]} held-out row(s) (fewer than {MIN_TEST_PER_TASK}): "
                    "its results cannot be judged" for t in all_tasks if rep.test_tasks[t] < MIN_TEST_PER_TASK]
    _write_sides(path, train_lines, train_path, test_path)
    return rep


def _write_sides(path: Path, train_lines: set[int], train_path: Path, test_path: Path) -> None:
    """Write both sides to temporary files next to their targets, then move both into place.

    JSONL lines are copied byte for byte (minus a BOM and with LF endings), numbered by the same reader
    as the first pass. An error leaves any earlier output untouched and no temporary file behind.
    """
    if is_parquet(path):
        sides: tuple[list[dict[str, Any]], list[dict[str, Any]]] = ([], [])
        for line, obj in read_rows(path):
            sides[line not in train_lines].append(obj)
        with _atomic_pair(train_path, test_path) as (tmp_train, tmp_test):
            write_parquet(tmp_train, sides[0])
            write_parquet(tmp_test, sides[1])
        return
    with _atomic_pair(train_path, test_path) as (tmp_train, tmp_test), \
            tmp_train.open("wb") as tr, tmp_test.open("wb") as te:
        for ln in scan_jsonl(path):
            if not ln.blank:  # a bad line raised in the first pass
                (tr if ln.number in train_lines else te).write(ln.raw + b"\n")


@contextmanager
def _atomic_pair(*targets: Path) -> Iterator[tuple[Path, ...]]:
    """Yield one temporary path per target (same folder, this process's id in the name); when the block
    ends without error, move them all into place; always remove what is left of them.

    Raises:
        DataError: a target folder cannot be created or written (names the folder and the fix).
    """
    tmps = [t.with_name(f".{t.name}.{os.getpid()}.tmp") for t in targets]
    try:
        for t in targets:
            t.parent.mkdir(parents=True, exist_ok=True)
        yield tuple(tmps)
        for tmp, t in zip(tmps, targets, strict=True):
            os.replace(tmp, t)
    except OSError as e:
        raise DataError(f"cannot write: {e.strerror}", file=targets[0].parent, field="--out-dir",
                        fix="give a folder you can write to") from e
    finally:
        for tmp in tmps:
            tmp.unlink(missing_ok=True)
