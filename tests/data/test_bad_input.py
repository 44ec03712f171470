"""Bad input (issue 16, item 3): every case exits 2 with one line ``error: file:line: field: problem; fix: …``,
no traceback, and nothing produced before is lost."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from slmforge.cli import app
from slmforge.data.io import MAX_DEPTH, read_jsonl
from slmforge.data.split import split_file
from slmforge.data.stats import stats_file
from slmforge.data.validate import validate_file
from tests.conftest import MINIKIT

runner = CliRunner()


def row(i: int, **extra) -> dict:
    """A chat row whose prompt names product ``P{i}`` (so ``split --by subject`` works)."""
    prompt = "Write an ad.\n\n" + json.dumps({"product_name": f"P{i}"})
    return {"messages": [{"role": "user", "content": prompt}, {"role": "assistant", "content": f"Answer {i}."}],
            **extra}


def jsonl(rows: list, eol: bytes = b"\n") -> bytes:
    return b"".join(json.dumps(r, ensure_ascii=False).encode() + eol for r in rows)


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def one_line_error(result, where: str) -> str:
    """Assert exit 2 and a single ``error: <where>…; fix: …`` line on stderr; return that line."""
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    err = result.stderr.strip()
    assert "\n" not in err and "Traceback" not in result.output, result.output
    assert err.startswith(f"error: {where}"), err
    assert "; fix: " in err, err
    return err


# --- line endings: CR-only / CRLF / LF are read identically everywhere ---------------------------------


def _outputs(tmp_path: Path, eol: bytes) -> dict[str, bytes]:
    d = tmp_path / eol.hex()
    d.mkdir()
    src = d / "in.jsonl"
    src.write_bytes(jsonl([row(i) for i in range(6)], eol))
    assert invoke("data", "split", src, "--by", "row", "--seed", "1", "-o", d / "split").exit_code == 0
    assert invoke("data", "convert", src, d / "conv.jsonl", "--to", "sharegpt").exit_code == 0
    return {name: (d / name).read_bytes() for name in ("split/in.train.jsonl", "split/in.test.jsonl", "conv.jsonl")}


@pytest.mark.parametrize("eol", [b"\r", b"\r\n"], ids=["cr", "crlf"])
def test_line_endings_give_the_same_rows_and_outputs_as_lf(tmp_path, eol):
    rows = [row(i) for i in range(6)]
    src = tmp_path / "in.jsonl"
    src.write_bytes(jsonl(rows, eol))
    assert [obj for _, obj in read_jsonl(src)] == rows
    assert validate_file(src).rows == stats_file(src, tokenizer="estimate").rows == 6
    rep = split_file(src, by="row", seed=1, out_dir=tmp_path / "s")
    train, test = Path(rep.train_path).read_bytes(), Path(rep.test_path).read_bytes()
    assert (train.count(b"\n"), test.count(b"\n")) == (rep.train_rows, rep.test_rows) and rep.test_rows >= 1
    assert _outputs(tmp_path, eol) == _outputs(tmp_path, b"\n")


# --- one line numbering: validate, stats, convert, split and check name the same line ------------------


@pytest.mark.parametrize(("n", "bad"), [(6, 3), (10_000, 5001)])
def test_every_command_names_the_same_line_for_a_bad_byte(tmp_path, n, bad):
    lines = [json.dumps(row(i)).encode() for i in range(n)]
    lines[bad - 1] = lines[bad - 1][:20] + b"\xff" + lines[bad - 1][20:]
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"\n".join(lines) + b"\n")

    result = invoke("data", "validate", src)
    assert result.exit_code == 1 and f"{src}:{bad}: (line): non_utf8: " in result.stdout
    for args in (("data", "stats", src, "-t", "estimate"),
                 ("data", "convert", src, tmp_path / "o.jsonl", "--to", "alpaca"),
                 ("data", "split", src, "--by", "row", "-o", tmp_path / "s"),
                 ("check", src, "--kit", MINIKIT, "--check", "degenerate")):
        err = one_line_error(invoke(*args), f"{src}:{bad}: ")
        assert "not UTF-8" in err
    assert not (tmp_path / "o.jsonl").exists() and not (tmp_path / "s").exists()


# --- convert validates every row it would write --------------------------------------------------------

U = {"role": "user", "content": "Write a tagline."}
INVALID_AS_OPENAI_CHAT = {
    "role_bot": ({"messages": [U, {"role": "bot", "content": "b"}]}, "messages[1].role", "unrecognized_role"),
    "empty_messages": ({"messages": []}, "messages", "missing_messages_list"),
    "no_assistant_turn": ({"messages": [U]}, "messages", "example_missing_assistant_message"),
    "weight_string": ({"messages": [U, {"role": "assistant", "content": "b", "weight": "1"}]},
                      "messages[1].weight", "invalid_weight"),
}


@pytest.mark.parametrize("case", sorted(INVALID_AS_OPENAI_CHAT))
def test_convert_refuses_a_row_the_target_format_rejects_and_keeps_the_old_output(tmp_path, case):
    bad, field, code = INVALID_AS_OPENAI_CHAT[case]
    src, dst = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_bytes(jsonl([row(0), bad, row(1)]))
    dst.write_text("the previous, good output\n")

    err = one_line_error(invoke("data", "convert", src, dst, "--to", "openai-chat"), f"{src}:2: {field}: ")
    assert code in err and "nothing written" in err
    assert dst.read_text() == "the previous, good output\n"
    assert (2, code) in {(p.line, p.code) for p in validate_file(src, fmt="openai-chat").problems}


def test_convert_counts_every_refused_row(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_bytes(jsonl([row(0), {"messages": [U]}, row(1), {"messages": [U]}, {"messages": [U]}]))
    err = one_line_error(invoke("data", "convert", src, tmp_path / "o.jsonl", "--to", "messages"), f"{src}:2: ")
    assert "3 rows like this" in err and not (tmp_path / "o.jsonl").exists()


# --- duplicate keys, deep nesting ----------------------------------------------------------------------


def test_duplicate_keys_name_the_line_and_the_key_in_every_command(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_bytes(jsonl([row(0), row(1)]) + b'{"messages": [], "Glow Serum [new]": 1, "Glow Serum [new]": 2}\n')
    assert {(p.line, p.code) for p in validate_file(src).problems} == {(3, "duplicate_key")}
    for args in (("data", "stats", src), ("data", "convert", src, tmp_path / "o.jsonl", "--to", "sharegpt"),
                 ("data", "split", src, "--by", "row")):
        err = one_line_error(invoke(*args), f"{src}:3: ")
        assert "'Glow Serum [new]' appears twice" in err


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 60, 500, 100_000])
def test_deep_nesting_exits_two_everywhere(tmp_path, depth):
    src = tmp_path / "in.jsonl"
    src.write_bytes(jsonl([row(0)]) + json.dumps(row(1))[:-1].encode() + f', "x": {_deep(depth)}}}\n'.encode())
    assert {(p.line, p.code) for p in validate_file(src).problems} == {(2, "too_deep")}
    for args in (("data", "stats", src), ("data", "convert", src, tmp_path / "o.parquet", "--to", "messages"),
                 ("data", "split", src, "--by", "row")):
        assert f"nested deeper than {MAX_DEPTH} levels" in one_line_error(invoke(*args), f"{src}:2: ")
    assert not (tmp_path / "o.parquet").exists()


def test_json_nested_too_deep_inside_the_prompt_text_is_not_a_subject_and_no_crash(tmp_path):
    """JSON text nested too deeply inside a prompt is not read as an embedded subject object (the same
    rule as ``data.fields.embedded_objects``): the commands work, no RecursionError, no traceback."""
    src = tmp_path / "in.jsonl"
    deep = {"messages": [{"role": "user", "content": "Write an ad.\n\n{\"a\": " + _deep(5000) + "}"},
                         {"role": "assistant", "content": "x"}], "subject_id": "s1"}
    src.write_bytes(jsonl([row(0, subject_id="s0"), deep]))
    for args in (("data", "stats", src, "--kit", MINIKIT, "-t", "estimate"),
                 ("data", "split", src, "--kit", MINIKIT, "--out-dir", tmp_path / "split")):
        res = invoke(*args)
        assert res.exit_code == 0 and res.exception is None and "Traceback" not in res.output, res.output


# --- output paths --------------------------------------------------------------------------------------


def test_a_folder_as_convert_output_exits_two_with_the_fix(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_bytes(jsonl([row(0)]))
    (tmp_path / "out").mkdir()
    result = invoke("data", "convert", src, tmp_path / "out", "--to", "sharegpt")
    err = one_line_error(result, f"{tmp_path / 'out'}: DST: ")
    assert "is a folder, not a file" in err and "give a file path" in err


@pytest.mark.parametrize("under", ["", "sub"])
def test_a_file_as_split_out_dir_exits_two_and_keeps_earlier_outputs(tmp_path, under):
    src = tmp_path / "in.jsonl"
    src.write_bytes(jsonl([row(i) for i in range(4)]))
    blocker = tmp_path / "taken"
    blocker.write_text("not a folder\n")
    err = one_line_error(invoke("data", "split", src, "-o", blocker / under if under else blocker),
                         f"{blocker}: --out-dir: ")
    assert "is a file, not a folder" in err and blocker.read_text() == "not a folder\n"


def test_a_failed_split_keeps_the_previous_split(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_bytes(jsonl([row(i) for i in range(4)]))
    split_file(src, by="row", out_dir=tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.glob("in.t*.jsonl")}
    src.write_bytes(jsonl([row(i) for i in range(5)]))

    (tmp_path / "in.test.jsonl").unlink()
    (tmp_path / "in.test.jsonl").mkdir()  # the second output cannot be written: the first must not change
    err = one_line_error(invoke("data", "split", src, "--by", "row"), f"{tmp_path / 'in.test.jsonl'}: --out-dir: ")
    assert "is a folder, not a file" in err
    assert (tmp_path / "in.train.jsonl").read_bytes() == before["in.train.jsonl"]

    (tmp_path / "in.test.jsonl").rmdir()
    (tmp_path / "in.test.jsonl").write_bytes(before["in.test.jsonl"])
    src.write_bytes(jsonl([row(i) for i in range(4)]) + b"{broken\n")
    one_line_error(invoke("data", "split", src, "--by", "row"), f"{src}:5: ")
    assert {p.name: p.read_bytes() for p in tmp_path.glob("in.t*.jsonl")} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "in.test.jsonl", "in.train.jsonl"]


# --- Rich markup: user text is printed as is -----------------------------------------------------------


def test_a_bracket_in_a_path_is_printed_not_parsed(tmp_path):
    odd = tmp_path / "[" / "[bold]x.jsonl"  # "[/" closes no tag: Rich raised MarkupError
    one_line_error(invoke("data", "stats", odd), f"{odd}: cannot open")
    odd.parent.mkdir()
    odd.write_bytes(jsonl([row(0)]))
    result = invoke("data", "validate", odd)
    assert result.exit_code == 0 and f"ok {odd}: 1 rows" in result.stdout


def test_brackets_in_ids_tasks_and_error_messages_survive(tmp_path):
    src = tmp_path / "in.jsonl"
    tasks = ["tasks[social_media_review].student_template", "Glow Serum [new]"]
    src.write_bytes(jsonl([row(i, task=tasks[i % 2], subject_id=f"id [{i}]") for i in range(6)]))
    assert all(t in invoke("data", "stats", src).stdout for t in tasks)
    assert all(t in invoke("data", "split", src).stdout for t in tasks)
    err = one_line_error(invoke("data", "convert", src, tmp_path / "o.jsonl", "--to", "chat[bold]"), "--to/--format: ")
    assert "unknown format 'chat[bold]'" in err


# --- data stats fits 80 columns without cutting a number ----------------------------------------------


def test_stats_tables_fit_80_columns_and_print_every_number_whole(tmp_path):
    src = tmp_path / "wide.jsonl"
    src.write_bytes(jsonl([{"prompt": "p" * 1_234_567, "chosen": "c" * 98_765, "rejected": "r"},
                           *({"prompt": f"short {i}", "chosen": "c" * (1000 * i + 1), "rejected": "r" * i}
                             for i in range(1, 5))]))
    env = {**os.environ, "COLUMNS": "80", "HF_HUB_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-m", "slmforge", "data", "stats", str(src), "-t", "estimate"],
                         capture_output=True, text=True, env=env, check=True).stdout
    table_lines = [ln for ln in out.splitlines() if ln[:1] in "┏┃┡│└"]
    assert table_lines and max(map(len, table_lines)) <= 80, out
    printed = set(re.findall(r"\d+", out))
    st = stats_file(src, tokenizer="estimate")
    for ls in st.lengths.values():
        numbers = (ls.n, ls.min, ls.p50, ls.p90, ls.max, round(ls.mean), ls.tok_min, ls.tok_p50, ls.tok_p90,
                   ls.tok_max, round(ls.tok_mean))
        assert {str(v) for v in numbers} <= printed, out
