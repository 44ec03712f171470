"""Read and write records as JSONL (streaming), plus Parquet through pyarrow.

One reader numbers lines for every data command: :func:`iter_lines` (LF, CRLF and lone CR end a
line; bytes are decoded per line) → :func:`parse_line` (strict UTF-8, unique keys, bounded depth) →
:func:`scan_jsonl` (every line, problems as data, for ``data validate``) → :func:`read_jsonl`
(``(line_number, object)``, raising on the first bad line, for everything else), so ``validate``,
``stats``, ``convert``, ``split`` and ``check`` name the same ``file:line`` for the same problem;
:func:`read_csv` numbers CSV the same way. ``write_jsonl`` writes atomically (temp file + rename) so an
interrupted stage never leaves a half-written artifact that a rerun would take for finished.
"""

from __future__ import annotations

import csv
import json
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from slmforge.errors import DataError

M = TypeVar("M", bound=BaseModel)


#: Deepest nesting of lists / objects a JSONL row may have. No supported format needs more than ~10
#: levels; Parquet cannot read back ~48 nested lists, and Python's parser stops near 1,000
#: (RecursionError, at a depth that changes with the call stack), so the limit is explicit.
MAX_DEPTH = 32
#: Bytes read at a time by :func:`iter_lines`.
CHUNK_BYTES = 1 << 20
BOM = b"\xef\xbb\xbf"
_EOL = re.compile(rb"\r\n?|\n")
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


@dataclass(slots=True)
class JsonLine:
    """One physical line of a JSONL file, parsed, with its problem as data (never raised).

    Attributes:
        number: 1-based line number; a line ends at LF, CRLF or a lone CR (as editors count them).
        raw: the line's bytes without its line ending (and, on line 1, without a UTF-8 byte-order mark).
        ending: ``b"\\n"``, ``b"\\r\\n"``, ``b"\\r"``, or ``b""`` for a last line without one.
        bom: line 1 started with a UTF-8 byte-order mark (removed from ``raw``).
        obj: the parsed JSON value; ``None`` for a blank line or when ``problem`` is set.
        problem: ``(code, detail)`` when the line cannot be used as a row (see :func:`parse_line`).
    """

    number: int
    raw: bytes
    ending: bytes
    bom: bool = False
    obj: Any = None
    problem: tuple[str, str] | None = None

    @property
    def blank(self) -> bool:
        """True for an empty or whitespace-only line (skipped by the readers, reported by validate)."""
        return not self.raw.strip()


def iter_lines(path: str | Path) -> Iterator[tuple[int, bytes, bytes]]:
    """Stream the physical lines of a text file as ``(1-based number, bytes, ending)``, reading binary.

    This is the one line numbering of slmforge's data commands: LF, CRLF and lone-CR (classic Mac)
    line endings all end a line, and a final ending does not start another one. Line 1 keeps a UTF-8
    byte-order mark (:func:`scan_jsonl` removes it). Nothing is decoded here, so a bad byte on line 3
    is reported on line 3. Memory: one chunk of :data:`CHUNK_BYTES` plus the longest line.

    Raises:
        DataError: the file cannot be opened or read, or it is UTF-16 (names the file and the fix).
    """
    path = Path(path)
    try:
        f = path.open("rb")
    except OSError as e:
        raise DataError(f"cannot open: {e.strerror}", file=path, fix="check the path") from e
    with f:
        number, buf = 0, b""
        try:
            while chunk := f.read(CHUNK_BYTES):
                if number == 0 and not buf and chunk.startswith((b"\xff\xfe", b"\xfe\xff")):
                    raise DataError("file is UTF-16, not UTF-8", file=path, fix="re-encode the file as UTF-8")
                start, pos = max(0, len(buf) - 1), 0  # the carried tail holds no line ending but a last CR
                buf += chunk
                if b"\r" not in buf:  # LF only: the common case, split in C
                    lines = buf.split(b"\n")
                    buf = lines.pop()
                    for line in lines:
                        number += 1
                        yield number, line, b"\n"
                    continue
                for m in _EOL.finditer(buf, start):
                    if m.end() == len(buf) and m.group() == b"\r":
                        break  # may be the first half of a CRLF split across two chunks
                    number += 1
                    yield number, buf[pos:m.start()], m.group()
                    pos = m.end()
                buf = buf[pos:]
        except OSError as e:
            raise DataError(f"cannot read: {e.strerror}", file=path, fix="check the path") from e
        if buf.endswith(b"\r"):
            yield number + 1, buf[:-1], b"\r"
        elif buf:
            yield number + 1, buf, b""


class _DuplicateKey(Exception):
    """Raised inside the JSON decoder by :func:`_unique_keys`; caught in :func:`parse_line`, never escapes."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) < len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return obj


#: One decoder for every line (``json.loads(..., object_pairs_hook=...)`` would build one per call, 2x slower).
_DECODER = json.JSONDecoder(object_pairs_hook=_unique_keys)


def _too_deep(raw: bytes, obj: Any) -> bool:
    """True when ``obj`` nests lists / objects deeper than :data:`MAX_DEPTH` (cheap byte count first)."""
    if raw.count(b"[") + raw.count(b"{") <= MAX_DEPTH:
        return False
    stack = [(obj, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            return True
        children = value.values() if isinstance(value, dict) else value
        stack.extend((v, depth + 1) for v in children if isinstance(v, dict | list))
    return False


def parse_line(raw: bytes) -> tuple[Any, tuple[str, str] | None]:
    """Decode one JSONL line: UTF-8, one JSON value, no key twice in an object, at most :data:`MAX_DEPTH` deep.

    Returns:
        ``(value, None)``, or ``(None, (code, detail))`` with code ``non_utf8``, ``invalid_json``,
        ``duplicate_key``, ``too_deep`` or ``lone_surrogate`` (a ``\\ud800`` escape that could be read
        but never written back as UTF-8).
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        return None, ("non_utf8", f"byte 0x{raw[e.start]:02x} at byte {e.start} is not UTF-8")
    try:
        obj = _DECODER.decode(text)
    except json.JSONDecodeError as e:
        return None, ("invalid_json", f"{e.msg} (column {e.colno})")
    except _DuplicateKey as e:
        return None, ("duplicate_key", f"key {e.args[0]!r} appears twice in one object "
                                       "(JSON readers would silently keep only the last)")
    except RecursionError:
        return None, ("too_deep", f"nested deeper than {MAX_DEPTH} levels of lists / objects")
    if isinstance(obj, dict | list) and _too_deep(raw, obj):
        return None, ("too_deep", f"nested deeper than {MAX_DEPTH} levels of lists / objects")
    if _SURROGATE_ESCAPE.search(raw):  # rare: only then pay for the exact check
        try:
            json.dumps(obj, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            return None, ("lone_surrogate", "a \\uD800-\\uDFFF escape without its pair: no UTF-8 file can hold it")
    return obj, None


def scan_jsonl(path: str | Path) -> Iterator[JsonLine]:
    """Every physical line of a JSONL file (:func:`iter_lines` numbering), parsed by :func:`parse_line`.

    Blank lines are yielded too (``obj`` None, ``problem`` None); a line's problem is data, not an
    exception, so that ``data validate`` can report every problem in one pass.

    Raises:
        DataError: the file cannot be opened or read, or it is UTF-16.
    """
    for number, raw, ending in iter_lines(path):
        bom = number == 1 and raw.startswith(BOM)
        if bom:
            raw = raw[3:]
        if not raw.strip():
            yield JsonLine(number, raw, ending, bom)
            continue
        obj, problem = parse_line(raw)
        yield JsonLine(number, raw, ending, bom, obj, problem)


_FIXES = {"non_utf8": "re-encode the file as UTF-8", "duplicate_key": "keep one of the two keys",
          "too_deep": "flatten the row, or remove the line",
          "lone_surrogate": "replace the escape with the character it stands for, or remove it"}


def read_jsonl(path: str | Path) -> Iterator[tuple[int, Any]]:
    """Stream a JSONL file as ``(1-based line number, parsed JSON)``; blank lines are skipped.

    Lines are numbered by :func:`iter_lines` (LF, CRLF and lone CR alike) and parsed by
    :func:`parse_line`, the same reader ``data validate`` uses, so every command names the same line.

    Raises:
        DataError: file missing / unreadable / UTF-16, or the first line that is not UTF-8, not valid
            JSON, repeats a key in one object, nests deeper than :data:`MAX_DEPTH` or holds a lone
            surrogate escape (names file:line; see :func:`parse_line`).
    """
    for ln in scan_jsonl(path):
        if ln.problem is not None:
            code, detail = ln.problem
            raise DataError(("invalid JSON: " if code == "invalid_json" else "") + detail, file=path,
                            line=ln.number, fix=_FIXES.get(code, "fix or remove the line"))
        if not ln.blank:
            yield ln.number, ln.obj


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


def check_output_path(path: str | Path, *, field: str, folder: bool = False, fix: str | None = None) -> Path:
    """Refuse, before any work is done, an output path that cannot be written as asked.

    Args:
        path: the output file (``folder=False``) or folder (``folder=True``); need not exist yet.
        field: the flag or argument that named it, for the message (``--out-dir``, ``DST``).
        folder: ``path`` is a folder to write into rather than a file.
        fix: the fix when a file path is an existing folder (default: name a file inside it).

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        DataError: the file path is an existing folder, or the path (or a folder above it) is an existing
            file where a folder is needed.
    """
    path = Path(path)
    if not folder and path.is_dir():
        raise DataError("is a folder, not a file", file=path, field=field,
                        fix=fix or f"give a file path, e.g. {path / 'out.jsonl'}")
    for parent in (path, *path.parents) if folder else path.parents:
        if parent.exists() and not parent.is_dir():
            raise DataError("is a file, not a folder", file=parent, field=field,
                            fix="give a folder (it is created when missing), or move the file away")
    return path


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


def _csv_text_lines(path: str | Path) -> Iterator[str]:
    """The decoded physical lines of a CSV file, endings kept (for :mod:`csv`), numbered by :func:`iter_lines`."""
    for number, raw, ending in iter_lines(path):
        if number == 1 and raw.startswith(BOM):
            raw = raw[3:]
        try:
            yield (raw + ending).decode("utf-8")
        except UnicodeDecodeError as e:
            raise DataError(f"not UTF-8 (byte 0x{raw[e.start]:02x} at byte {e.start + 1} of the line)", file=path,
                            line=number, fix="re-encode the file as UTF-8 (spreadsheets: save as \"CSV UTF-8\")") from e


def read_csv(path: str | Path) -> Iterator[tuple[int, dict[str, str | None]]]:
    """Stream a CSV file (RFC 4180 through :mod:`csv`, header on line 1) as ``(line, {column: cell})``.

    ``line`` is the 1-based :func:`iter_lines` line on which the record starts, so a record whose quoted
    cell spans lines is named by its first line, like JSONL rows. A UTF-8 byte-order mark is dropped;
    blank lines are skipped; a record with fewer cells than the header gets ``None`` for the rest.

    Raises:
        DataError: unreadable / UTF-16 / non-UTF-8 file (names the line), no header, a repeated column,
            a record with more cells than the header, or a malformed quote (file:line and the fix).
    """
    reader = csv.reader(_csv_text_lines(path), strict=True)
    end = 0
    try:
        header = [h.strip() for h in next(reader, [])]
        if not any(header) or len(set(header)) < len(header):
            raise DataError(f"header {header} is empty or repeats a column", file=path, line=1,
                            fix="put distinct column names on line 1")
        end = reader.line_num
        for rec in reader:
            start, end = end + 1, reader.line_num
            if not rec or not any(c.strip() for c in rec):
                continue
            if len(rec) > len(header):
                raise DataError(f"{len(rec)} cells for {len(header)} columns", file=path, line=start,
                                fix='quote cells that hold a comma ("a, b")')
            yield start, {h: rec[i] if i < len(rec) else None for i, h in enumerate(header)}
    except csv.Error as e:
        raise DataError(f"malformed CSV: {e}", file=path, line=end + 1,
                        fix='close the quote; write a quote inside a quoted cell as ""') from e


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
