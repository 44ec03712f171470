"""Pure functions of the serving package: JSON extraction, stop strings, the vllm command, adapter specs."""

from __future__ import annotations

import json

import pytest

from slmforge.errors import ConfigError
from slmforge.jsontext import json_span as extract_json
from slmforge.serve.config import ServeConfig, parse_adapter_specs
from slmforge.serve.engine import cut_at_stop
from slmforge.serve.vllm import format_command, vllm_command


def test_extract_json():
    assert json.loads(extract_json('```json\n{"a": [1, 2]}\n```')) == {"a": [1, 2]}
    assert extract_json('Sure! {"text": "hi"} hope it helps') == '{"text": "hi"}'
    assert extract_json("[1, 2]") is None
    assert extract_json("no json {here") is None


def test_cut_at_stop_takes_the_earliest_stop():
    assert cut_at_stop("abc END def STOP", ["STOP", "END"]) == ("abc ", True)
    assert cut_at_stop("abc", ["x"]) == ("abc", False)


def _adapter(tmp_path, name, r):
    d = tmp_path / name
    d.mkdir()
    (d / "adapter_config.json").write_text(json.dumps({"r": r, "peft_type": "LORA"}))
    return str(d)


def test_vllm_command_with_adapters(tmp_path):
    adapters = parse_adapter_specs([f"sft={_adapter(tmp_path, 'a', 16)}", f"dpo={_adapter(tmp_path, 'b', 24)}"])
    cfg = ServeConfig(model="Qwen/Qwen2.5-0.5B-Instruct", adapters=adapters, port=9000)
    argv = vllm_command(cfg)
    assert argv[:3] == ["vllm", "serve", "Qwen/Qwen2.5-0.5B-Instruct"]
    i = argv.index("--lora-modules")
    assert argv[i + 1: i + 3] == [f"sft={adapters['sft']}", f"dpo={adapters['dpo']}"]
    assert "--enable-lora" in argv
    assert argv[argv.index("--max-lora-rank") + 1] == "32"  # rank 24 rounds up to vLLM's next allowed value
    assert argv[argv.index("--port") + 1] == "9000"
    assert argv[argv.index("--served-model-name") + 1] == "Qwen/Qwen2.5-0.5B-Instruct"
    assert format_command(argv).startswith("vllm serve Qwen/Qwen2.5-0.5B-Instruct --host 127.0.0.1")


def test_vllm_command_without_adapters_and_key_not_on_command_line():
    argv = vllm_command(ServeConfig(model="m", api_key="secret"))
    assert "--enable-lora" not in argv and "secret" not in " ".join(argv)


def test_vllm_rank_too_large(tmp_path):
    cfg = ServeConfig(model="m", adapters={"big": _adapter(tmp_path, "big", 1024)})
    with pytest.raises(ConfigError, match="merge"):
        vllm_command(cfg)


def test_adapter_specs_errors(tmp_path):
    with pytest.raises(ConfigError, match="NAME=PATH"):
        parse_adapter_specs(["sft"])
    with pytest.raises(ConfigError, match="adapter_config.json"):
        parse_adapter_specs([f"sft={tmp_path}"])
    path = _adapter(tmp_path, "a", 8)
    with pytest.raises(ConfigError, match="twice"):
        parse_adapter_specs([f"x={path}", f"x={path}"])


def test_cli_prints_vllm_command(tmp_path):
    from typer.testing import CliRunner

    from slmforge.cli import app

    path = _adapter(tmp_path, "a", 8)
    res = CliRunner().invoke(app, ["serve", "--model", "base-model", "--adapter", f"sft={path}", "--engine", "vllm"])
    assert res.exit_code == 0, res.output
    assert res.output.strip() == f"vllm serve base-model --host 127.0.0.1 --port 8000 --served-model-name base-model " \
                                 f"--enable-lora --lora-modules sft={path} --max-lora-rank 8 --max-loras 1"
    bad = CliRunner().invoke(app, ["serve", "--model", "m", "--adapter", "oops"])
    assert bad.exit_code == 2 and "NAME=PATH" in bad.output
    for flag, value, field in (("--dtype", "half", "dtype"), ("--max-concurrency", "0", "max_concurrency")):
        bad = CliRunner().invoke(app, ["serve", "--model", "m", flag, value])
        assert bad.exit_code == 2 and f"{field}:" in bad.output and "Traceback" not in bad.output, bad.output
