"""A corpus of malformed files, one per problem: exact ``file:line: field: code`` findings and exit codes."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from slmforge.cli import app
from slmforge.data.validate import validate_file

runner = CliRunner()


def j(obj) -> bytes:
    return json.dumps(obj, ensure_ascii=False).encode()


def chat(*msgs, **extra) -> bytes:
    return j({"messages": [{"role": r, "content": c} for r, c in msgs], **extra})


OK = chat(("user", "Write a tagline."), ("assistant", "Clean skin, clear mind."))
OK2 = chat(("user", "Write a caption."), ("assistant", "Hydration you can see."))
def nested(depth: int) -> list:
    """``depth`` lists inside each other: ``[[[...]]]``."""
    out: list = []
    for _ in range(depth - 1):
        out = [out]
    return out


PREF = j({"prompt": "Write an ad.", "chosen": "Try it today.", "rejected": "Buy now!!!"})

# name -> (file bytes, expected {(line, field, code)})
CORPUS: dict[str, tuple[bytes, set[tuple[int, str, str]]]] = {
    "invalid_json": (OK + b"\n" + b'{"messages": [\n', {(2, "(line)", "invalid_json")}),
    "data_type": (OK + b"\n[1, 2]\n", {(2, "(row)", "data_type")}),
    "missing_messages_list": (OK + b"\n" + j({"messages": []}) + b"\n", {(2, "messages", "missing_messages_list")}),
    "message_missing_key": (OK + b"\n" + j({"messages": [{"role": "user"}, {"role": "assistant", "content": "x"}]})
                            + b"\n", {(2, "messages[0]", "message_missing_key")}),
    "message_unrecognized_key": (j({"messages": [{"role": "user", "content": "hi", "mood": "calm"},
                                                 {"role": "assistant", "content": "hello"}]}) + b"\n",
                                 {(1, "messages[0]", "message_unrecognized_key")}),
    "unrecognized_role": (OK + b"\n" + chat(("user", "a"), ("bot", "b"), ("assistant", "c")) + b"\n",
                          {(2, "messages[1].role", "unrecognized_role")}),
    "missing_content": (OK + b"\n" + j({"messages": [{"role": "user", "content": "a"},
                                                     {"role": "assistant", "content": 5}]}) + b"\n",
                        {(2, "messages[1].content", "missing_content")}),
    "example_missing_assistant_message": (OK + b"\n" + chat(("system", "s"), ("user", "u")) + b"\n",
                                          {(2, "messages", "example_missing_assistant_message")}),
    "empty_text": (OK + b"\n" + chat(("user", "a"), ("assistant", "  \n")) + b"\n",
                   {(2, "messages[1].content", "empty_text")}),
    "control_character": (OK + b"\n" + chat(("user", "a"), ("assistant", "bell\u0007here")) + b"\n",
                          {(2, "messages[1].content", "control_character")}),
    "zero_width_space": (chat(("user", "a\u200bb"), ("assistant", "c")) + b"\n",
                         {(1, "messages[0].content", "control_character")}),
    "bom": (b"\xef\xbb\xbf" + OK + b"\n" + OK2 + b"\n", {(1, "(file)", "bom")}),
    "crlf": (OK + b"\r\n" + OK2 + b"\n", {(1, "(line)", "crlf")}),
    "non_utf8": (OK + b"\n" + OK2[:20] + b"\xff\xfe" + OK2[20:] + b"\n", {(2, "(line)", "non_utf8")}),
    "blank_line": (OK + b"\n\n" + OK2 + b"\n", {(2, "(line)", "blank_line")}),
    "duplicate": (OK + b"\n" + OK2 + b"\n" + OK + b"\n", {(3, "(row)", "duplicate")}),
    "chosen_equals_rejected": (PREF + b"\n" + j({"prompt": "p", "chosen": "same", "rejected": "same"}) + b"\n",
                               {(2, "rejected", "chosen_equals_rejected")}),
    "preference_missing_field": (PREF + b"\n" + j({"prompt": "p", "chosen": "c"}) + b"\n",
                                 {(2, "rejected", "missing_field")}),
    "invalid_weight": (j({"messages": [{"role": "user", "content": "a"},
                                       {"role": "assistant", "content": "b", "weight": 2}]}) + b"\n",
                       {(1, "messages[1].weight", "invalid_weight")}),
    "openai_dpo_missing_side": (j({"input": {"messages": [{"role": "user", "content": "a"}]},
                                   "preferred_output": [{"role": "assistant", "content": "b"}]}) + b"\n",
                                {(1, "non_preferred_output", "missing_field")}),
    "format_mismatch": (OK + b"\n" + PREF + b"\n", {(2, "(row)", "format_mismatch")}),
    "unknown_format": (j({"text": "hello"}) + b"\n", {(1, "(row)", "unknown_format")}),
    # issue 16, item 3 ("bad input"): the shared reader numbers lone-CR lines, refuses what cannot be a row
    "cr": (OK + b"\r" + OK2 + b"\r", {(1, "(line)", "cr"), (2, "(line)", "cr")}),
    "non_utf8_line3": (OK + b"\n" + OK2 + b"\n" + PREF[:9] + b"\xff" + PREF[9:] + b"\n", {(3, "(line)", "non_utf8")}),
    "duplicate_key": (OK + b"\n" + b'{"messages": [{"role": "user", "content": "a", "content": "b"}, '
                      b'{"role": "assistant", "content": "c"}]}\n', {(2, "(line)", "duplicate_key")}),
    "too_deep": (OK + b"\n" + j({"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}],
                                 "extra": nested(33)}) + b"\n", {(2, "(line)", "too_deep")}),
    "too_deep_for_python": (OK + b"\n" + b"[" * 100_000 + b"]" * 100_000 + b"\n", {(2, "(line)", "too_deep")}),
    "lone_surrogate": (OK + b"\n" + OK2[:-1] + b', "note": "\\ud800"}\n', {(2, "(line)", "lone_surrogate")}),
    "sharegpt_role": (j({"conversations": [{"from": "human", "value": "a"}, {"from": "robot", "value": "b"},
                                           {"from": "gpt", "value": "c"}]}) + b"\n",
                      {(1, "conversations[1].from", "unrecognized_role")}),
}


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_each_malformed_file_gives_its_exact_finding(tmp_path, name):
    data, expected = CORPUS[name]
    path = tmp_path / f"{name}.jsonl"
    path.write_bytes(data)

    report = validate_file(path)
    assert {(p.line, p.field, p.code) for p in report.problems} == expected

    result = runner.invoke(app, ["data", "validate", str(path)])
    assert result.exit_code == 1, result.output
    for line, field, code in expected:
        assert f"{path}:{line}: {field}: {code}: " in result.output


def test_clean_file_exits_zero_and_names_the_format(tmp_path):
    path = tmp_path / "ok.jsonl"
    path.write_bytes(OK + b"\n" + OK2 + b"\n")
    result = runner.invoke(app, ["data", "validate", str(path)])
    assert result.exit_code == 0, result.output
    assert "2 rows, format messages" in result.output


@pytest.mark.parametrize("kind", ["missing", "directory", "utf16", "broken_parquet"])
def test_unreadable_files_exit_two(tmp_path, kind):
    path = {"missing": tmp_path / "nope.jsonl", "directory": tmp_path,
            "utf16": tmp_path / "u16.jsonl", "broken_parquet": tmp_path / "bad.parquet"}[kind]
    if kind == "utf16":
        path.write_bytes(OK.decode().encode("utf-16"))
    if kind == "broken_parquet":
        path.write_bytes(b"PAR1 this is not parquet")
    result = runner.invoke(app, ["data", "validate", str(path)])
    assert result.exit_code == 2, result.output
    assert str(path) in result.output and "fix:" in result.output


def test_worst_exit_code_wins_over_several_files(tmp_path):
    good, bad = tmp_path / "good.jsonl", tmp_path / "bad.jsonl"
    good.write_bytes(OK + b"\n")
    bad.write_bytes(CORPUS["crlf"][0])
    assert runner.invoke(app, ["data", "validate", str(good), str(bad)]).exit_code == 1
    assert runner.invoke(app, ["data", "validate", str(good), str(bad), str(tmp_path / "x.jsonl")]).exit_code == 2


def test_every_problem_is_reported_not_only_the_first(tmp_path):
    path = tmp_path / "many.jsonl"
    path.write_bytes(b"\r\n".join([OK, b"{bad", chat(("user", ""), ("assistant", "x")), OK]) + b"\r\n")
    codes = [(p.line, p.code) for p in validate_file(path).problems]
    assert codes.count((1, "crlf")) == 1 and len([c for c in codes if c[1] == "crlf"]) == 4
    assert (2, "invalid_json") in codes and (3, "empty_text") in codes and (4, "duplicate") in codes
