"""Hypothesis fuzzing: readers, validator, converter and stats raise nothing but our DataError."""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slmforge.data.convert import convert_file
from slmforge.data.formats import FORMATS, detect_format, parse_row
from slmforge.data import io
from slmforge.data.io import iter_lines, read_jsonl
from slmforge.data.split import split_file
from slmforge.data.stats import stats_file
from slmforge.data.validate import check_row, validate_file
from slmforge.errors import DataError

KEYS = ["messages", "role", "content", "weight", "name", "prompt", "completion", "chosen", "rejected", "input",
        "preferred_output", "non_preferred_output", "data_source", "ability", "reward_model", "ground_truth",
        "extra_info", "instruction", "output", "history", "system", "conversations", "from", "value",
        "task", "subject_id", "method", "tools"]
ROLES = ["user", "assistant", "system", "tool", "human", "gpt", "bot"]

scalars = st.none() | st.booleans() | st.integers(-3, 3) | st.sampled_from(ROLES + ["1", ""]) | st.text(max_size=8)
json_values = st.recursive(
    scalars,
    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.sampled_from(KEYS), kids, max_size=4),
    max_leaves=12,
)
rows = st.dictionaries(st.sampled_from(KEYS), json_values, max_size=5) | json_values

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@contextmanager
def _tmp(data: bytes) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="slmforge-fuzz-") as d:
        p = Path(d) / "in.jsonl"
        p.write_bytes(data)
        yield p


@SETTINGS
@given(st.lists(st.binary(max_size=40) | st.sampled_from([b"{", b"\xef\xbb\xbf{}", b"\r", b"[]", b"\xff"]),
                max_size=6))
def test_validate_and_readers_on_random_bytes(chunks):
    with _tmp(b"\n".join(chunks)) as path:
        try:
            report = validate_file(path)
            assert all(p.line >= 1 and p.code for p in report.problems)
        except DataError as e:
            assert "UTF-16" in str(e)
        try:
            list(read_jsonl(path))
        except DataError:
            pass


@SETTINGS
@given(rows)
def test_row_level_functions_on_random_json(obj):
    fmt = detect_format(obj)
    for f in FORMATS:
        assert isinstance(check_row(obj, f), list)
        try:
            parse_row(obj, f, file="x", line=1)
        except DataError:
            pass
    assert fmt is None or fmt in FORMATS


@SETTINGS
@given(st.lists(rows, min_size=1, max_size=4), st.sampled_from(FORMATS))
def test_file_functions_on_random_json_rows(objs, target):
    with _tmp("\n".join(json.dumps(o) for o in objs).encode() + b"\n") as path:
        report = validate_file(path)
        out = path.with_name("out.parquet" if target == "verl" else "out.jsonl")
        for call in (lambda: convert_file(path, out, to=target), lambda: stats_file(path, tokenizer="estimate"),
                     lambda: split_file(path, by="row", out_dir=path.parent)):
            try:
                call()
            except DataError:
                pass
        if out.exists():  # whatever convert wrote, the validator accepts for that format (bar repeated rows)
            assert validate_file(out).rows == len(objs) or not report.ok
            assert {p.code for p in validate_file(out, fmt=target).problems} <= {"duplicate"}


# one physical line each, joined with random line endings (LF, CRLF, lone CR); no empty line, whose
# ending could merge with a lone CR before it into one CRLF
LINES = st.sampled_from([
    b'{"prompt": "p", "completion": "c"}', b"  ", b"{broken", b'{"prompt": "\xff"}', b"\xef\xbb\xbf{}",
    b'{"prompt": "p", "prompt": "q"}', b"[" * 40 + b"]" * 40, b'{"prompt": "\\udc00"}', b"[1, 2]",
])
EOLS = st.sampled_from([b"\n", b"\r\n", b"\r"])


@SETTINGS
@given(st.lists(st.binary(max_size=12) | st.sampled_from([b"\r", b"\n", b"\r\n", b"\n\r", b"\r\r"]), max_size=8),
       st.integers(1, 7))
def test_iter_lines_numbers_lines_like_a_whole_file_split(chunks, chunk_bytes):
    data = b"".join(chunks)
    expected = re.split(rb"\r\n|\r|\n", data)
    if expected[-1] == b"":  # a final line ending does not start another line
        expected.pop()
    with _tmp(data) as path, mock.patch.object(io, "CHUNK_BYTES", chunk_bytes):
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            return
        got = list(iter_lines(path))
    assert [raw for _, raw, _ in got] == expected
    assert [n for n, _, _ in got] == list(range(1, len(expected) + 1))


@SETTINGS
@given(st.lists(st.tuples(LINES, EOLS), min_size=1, max_size=8))
def test_read_jsonl_stops_exactly_where_validate_says_a_line_is_unusable(lines):
    data = b"".join(line + eol for line, eol in lines)
    with _tmp(data) as path:
        unusable = {"non_utf8", "invalid_json", "duplicate_key", "too_deep", "lone_surrogate"}
        bad = [p.line for p in validate_file(path).problems if p.code in unusable]
        read: list[int] = []
        try:
            read.extend(n for n, _ in read_jsonl(path))
        except DataError as e:
            assert bad and e.line == bad[0] and str(e).startswith(f"{path}:{bad[0]}: ")
        else:
            assert not bad
        text = [line[3:] if i == 1 and line.startswith(io.BOM) else line for i, (line, _) in enumerate(lines, 1)]
        usable = [i for i, line in enumerate(text, 1) if line.strip()]
        assert read == [n for n in usable if not bad or n < bad[0]]
