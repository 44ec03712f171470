"""Read and write records as JSONL (streaming), plus CSV / Parquet through ``datasets`` where asked.

``read_jsonl`` yields ``(line_number, object)`` so that every later error can name ``file:line``.
``write_jsonl`` writes atomically (temp file + rename) so an interrupted stage never leaves a
half-written artifact that a rerun would take for finished.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from slmforge.errors import DataError

M = TypeVar("M", bound=BaseModel)


def read_jsonl(path: str | Path) -> Iterator[tuple[int, Any]]:
    """Stream a JSONL file as ``(1-based line number, parsed JSON)``; blank lines are skipped.

    Raises:
        DataError: file missing / not UTF-8, or a line that is not valid JSON (names file:line).
    """
    path = Path(path)
    try:
        f = path.open(encoding="utf-8-sig")  # a leading BOM is tolerated; `data validate` reports it
    except OSError as e:
        raise DataError(f"cannot open: {e.strerror}", file=path, fix="check the path") from e
    with f:
        i = 0
        try:
            for i, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    yield i, json.loads(line)
                except json.JSONDecodeError as e:
                    raise DataError(f"invalid JSON: {e.msg} (column {e.colno})", file=path, line=i,
                                    fix="fix or remove the line") from e
                except RecursionError as e:
                    raise DataError("invalid JSON: nested too deeply", file=path, line=i,
                                    fix="fix or remove the line") from e
        except UnicodeDecodeError as e:
            raise DataError("not valid UTF-8", file=path, line=i + 1, fix="re-encode the file as UTF-8") from e


def read_records(path: str | Path, model: type[M]) -> list[M]:
    """Read a JSONL file of one record type.

    Raises:
        DataError: bad JSON or a row that does not fit ``model`` (names file:line and field).
    """
    out: list[M] = []
    for line, obj in read_jsonl(path):
        try:
            out.append(model.model_validate(obj))
        except ValidationError as e:
            err = e.errors()[0]
            raise DataError(err["msg"], file=path, line=line, field=".".join(map(str, err["loc"])) or None,
                            fix=f"make the row a valid {model.__name__}") from e
    return out


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` through a temporary file in the same folder and ``os.replace``,
    so a reader or a kill never sees half a file. Creates the parent folder.

    Raises:
        OSError: the folder cannot be written (the temporary file is removed).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_json(path: str | Path, obj: Any) -> Path:
    """Write ``obj`` as indented UTF-8 JSON atomically (:func:`atomic_write_text`)."""
    return atomic_write_text(path, json.dumps(obj, ensure_ascii=False, indent=2, default=str) + "\n")


def write_jsonl(path: str | Path, rows: Iterable[BaseModel | dict[str, Any]]) -> int:
    """Write rows as UTF-8 JSONL atomically; returns the number of rows written."""
    lines = [json.dumps(row.model_dump(mode="json", exclude_none=True) if isinstance(row, BaseModel) else row,
                        ensure_ascii=False) + "\n" for row in rows]
    atomic_write_text(path, "".join(lines))
    return len(lines)


def is_parquet(path: str | Path) -> bool:
    """True when ``path`` names a Parquet file (by its ``.parquet`` suffix)."""
    return Path(path).suffix.lower() == ".parquet"


def read_rows(path: str | Path, *, batch_rows: int = 1024) -> Iterator[tuple[int, Any]]:
    """Stream rows of a JSONL or Parquet file as ``(1-based line or row number, object)``.

    JSONL goes through :func:`read_jsonl` (a UTF-8 byte-order mark on line 1 is tolerated);
    Parquet is read in batches of ``batch_rows`` rows with pyarrow, each row as a plain dict.

    Raises:
        DataError: the file is missing or unreadable, or a JSONL line is not valid JSON.
    """
    path = Path(path)
    if not is_parquet(path):
        yield from read_jsonl(path)
        return
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except (OSError, pa.ArrowException) as e:
        raise DataError(f"cannot read Parquet: {e}", file=path, fix="check the path, or re-export the file") from e
    n = 0
    for batch in pf.iter_batches(batch_size=batch_rows):
        for obj in batch.to_pylist():
            n += 1
            yield n, obj


def write_parquet(path: str | Path, rows: list[dict[str, Any]]) -> int:
    """Write ``rows`` (dicts with the same keys) as one Parquet file, atomically; returns the row count.

    Raises:
        DataError: the rows cannot form one Arrow table (mixed types in a column).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        table = pa.Table.from_pylist(rows)
    except pa.ArrowException as e:
        raise DataError(f"rows do not fit one Parquet schema: {e}", file=path,
                        fix="make each column hold one type in every row") from e
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        pq.write_table(table, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return len(rows)
