"""Format detection and conversion: round trips, reported losses, --system, errors."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from slmforge.cli import app
from slmforge.data.convert import convert_file
from slmforge.data.formats import FORMATS, detect_format, parse_row, resolve_format
from slmforge.data.io import read_rows, write_jsonl
from slmforge.data.records import Message, PreferencePair, SFTExample
from slmforge.data.validate import validate_file
from slmforge.errors import DataError

runner = CliRunner()

SFT = [{"messages": [{"role": "system", "content": "You write for Acme."},
                     {"role": "user", "content": f"Tagline for product {i}"},
                     {"role": "assistant", "content": f"Acme {i}: clean and simple."}],
        "task": "tagline", "subject_id": f"p{i}"} for i in range(4)]
PREFS = [{"prompt": [{"role": "user", "content": f"Ad for product {i}"}],
          "chosen": [{"role": "assistant", "content": f"Product {i} hydrates for 24 hours."}],
          "rejected": [{"role": "assistant", "content": f"Product {i} is a MIRACLE!!!"}],
          "strategy": "exaggerated"} for i in range(3)]


def rows(path):
    return [o for _, o in read_rows(path)]


@pytest.mark.parametrize(("obj", "fmt"), [
    (SFT[0], "messages"),
    ({"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b", "weight": 1}]}, "openai-chat"),
    ({"prompt": "a", "completion": "b"}, "prompt-completion"),
    ({"prompt": "a"}, "prompt-only"),
    (PREFS[0], "preference"),
    ({"chosen": [], "rejected": []}, "preference-implicit"),
    ({"input": {"messages": []}, "preferred_output": [], "non_preferred_output": []}, "openai-dpo"),
    ({"data_source": "x", "prompt": [], "ability": "w", "reward_model": {}}, "verl"),
    ({"instruction": "a", "input": "", "output": "b"}, "alpaca"),
    ({"conversations": []}, "sharegpt"),
    ({"text": "a"}, None),
    ([1], None),
])
def test_detect_format(obj, fmt):
    assert detect_format(obj) == fmt


def test_resolve_format_aliases_and_unknown():
    assert resolve_format("Together_DPO") == "openai-dpo" and resolve_format("trl-sft") == "messages"
    with pytest.raises(DataError, match="unknown format 'csv'.*fix: use one of messages"):
        resolve_format("csv")


@pytest.mark.parametrize("via", ["openai-chat", "sharegpt", "prompt-completion", "verl", "alpaca"])
def test_sft_round_trips_through_each_sft_format(tmp_path, via):
    src = tmp_path / "sft.jsonl"
    write_jsonl(src, SFT)
    mid = tmp_path / ("mid.parquet" if via == "verl" else "mid.jsonl")
    r1 = convert_file(src, mid, to=via)
    assert validate_file(mid).ok and r1.rows == 4
    back = tmp_path / "back.jsonl"
    convert_file(mid, back, to="messages")
    if via == "openai-chat":   # OpenAI allows no extra columns: task / subject_id are reported, not kept
        assert r1.dropped == {"task": 4, "subject_id": 4}
        assert [r["messages"] for r in rows(back)] == [r["messages"] for r in SFT]
    elif via == "verl":        # VeRL keeps metadata in extra_info and adds its own columns
        for got, want in zip(rows(back), SFT, strict=True):
            assert got["messages"] == want["messages"] and got["task"] == want["task"] == got["ability"]
            assert got["subject_id"] == want["subject_id"]
    else:
        assert not r1.dropped and rows(back) == SFT


def test_preference_round_trips_through_openai_dpo_and_implicit(tmp_path):
    src = tmp_path / "prefs.jsonl"
    write_jsonl(src, PREFS)
    dpo, implicit, back1, back2 = (tmp_path / n for n in ("dpo.jsonl", "imp.jsonl", "b1.jsonl", "b2.jsonl"))
    r = convert_file(src, dpo, to="fireworks-dpo")
    assert r.dropped == {"strategy": 3}
    convert_file(dpo, back1, to="preference")
    assert rows(back1) == [{k: v for k, v in p.items() if k != "strategy"} for p in PREFS]
    convert_file(src, implicit, to="preference-implicit")
    assert validate_file(implicit).format == "preference-implicit"
    assert rows(implicit)[0]["chosen"] == PREFS[0]["prompt"] + PREFS[0]["chosen"]
    convert_file(implicit, back2, to="preference")
    assert rows(back2) == PREFS


def test_canonical_records_convert(tmp_path):
    msgs = [Message(role="user", content="Write."), Message(role="assistant", content="Done.")]
    sft = tmp_path / "sft.jsonl"
    write_jsonl(sft, [SFTExample(id="a", task="t", subject_id="s", messages=msgs)])
    pairs = tmp_path / "pairs.jsonl"
    write_jsonl(pairs, [PreferencePair(id="a", task="t", prompt=msgs[:1], chosen="Good.", rejected="Bad.",
                                       strategy="weak")])
    assert validate_file(sft).ok and validate_file(pairs).ok
    out = tmp_path / "out.jsonl"
    convert_file(pairs, out, to="openai-dpo")
    assert rows(out)[0]["non_preferred_output"] == [{"role": "assistant", "content": "Bad."}]
    convert_file(pairs, tmp_path / "same.jsonl", to="preference")
    assert rows(tmp_path / "same.jsonl") == rows(pairs)


def test_system_option_injects_or_replaces(tmp_path):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_jsonl(src, [SFT[0], {"messages": SFT[1]["messages"][1:]}])
    result = runner.invoke(app, ["data", "convert", str(src), str(out), "--to", "openai-chat", "--system", "Be brief."])
    assert result.exit_code == 0, result.output
    got = rows(out)
    assert [m["content"] for m in got[0]["messages"]][:2] == ["Be brief.", "Tagline for product 0"]
    assert got[1]["messages"][0] == {"role": "system", "content": "Be brief."} and len(got[1]["messages"]) == 3
    assert "system message set in 2 rows" in result.output
    assert "not representable in openai-chat: task in 1 rows" in result.output


def test_weight_and_message_keys_lost_in_sharegpt_are_reported(tmp_path):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_jsonl(src, [{"messages": [{"role": "user", "content": "a"},
                                    {"role": "assistant", "content": "b", "weight": 0}]}])
    assert convert_file(src, out, to="sharegpt").dropped == {"messages[].weight": 1}


def test_sft_to_preference_is_a_clear_error(tmp_path):
    src = tmp_path / "sft.jsonl"
    write_jsonl(src, SFT)
    result = runner.invoke(app, ["data", "convert", str(src), str(tmp_path / "o.jsonl"), "--to", "openai-dpo"])
    assert result.exit_code == 2
    assert f"{src}:1: rejected: row has no chosen/rejected pair" in result.output
    assert not (tmp_path / "o.jsonl").exists()


def test_parse_row_names_file_line_and_field():
    with pytest.raises(DataError, match=r"f.jsonl:9: chosen: expected a string or a list"):
        parse_row({"prompt": "p", "chosen": 3, "rejected": "r"}, "preference", file="f.jsonl", line=9)


def test_every_format_is_a_valid_target(tmp_path):
    src = tmp_path / "prefs.jsonl"
    write_jsonl(src, PREFS)
    for fmt in FORMATS:
        out = tmp_path / f"{fmt}.{'parquet' if fmt == 'verl' else 'jsonl'}"
        convert_file(src, out, to=fmt)
        report = validate_file(out)
        assert report.ok and report.format in (fmt, "messages"), (fmt, report.problems)
