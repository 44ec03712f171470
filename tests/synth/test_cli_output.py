"""What ``slmforge synth`` prints: no blank lines before the report when stdout is not a terminal (Rich's
progress bar printed one per teacher batch there, ~50 for ``--variants 50``), and paths taken literally."""

from __future__ import annotations

from typer.testing import CliRunner

from slmforge.cli import app

TEACHER = ["--teacher-model", "gpt-4o-mini", "--base-url", "http://127.0.0.1:9/v1"]


def test_dry_run_output_starts_with_the_estimate(minikit_path, tmp_path):
    out = tmp_path / "run[new]" / "synth"
    r = CliRunner(env={"COLUMNS": "80"}).invoke(
        app, ["synth", str(minikit_path), "--out", str(out), *TEACHER, "--dry-run", "--variants", "5"])
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert lines[0].strip(), repr(r.output[:200])
    assert "" not in [line.strip() for line in lines]
    assert lines[0].startswith("requested=")
    assert f"done: {out}" in r.output.replace("\n", "")  # `[new]` in the path is not read as markup


def test_clean_prints_the_stage_dir_literally(minikit_path, tmp_path):
    import json

    from slmforge.kit import load_kit
    from tests.cli.test_stage_commands import _golden_sft

    sft = _golden_sft(minikit_path, tmp_path / "run" / "synth" / "sft.jsonl")
    out = tmp_path / "run" / "clean[/]x"
    r = CliRunner().invoke(app, ["clean", str(minikit_path), str(sft), "--out", str(out), "--no-rewrite"])
    assert r.exit_code == 0, r.output
    assert f"done: {out}" in r.output.replace("\n", "")
    rep = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert rep["input"] == len(load_kit(minikit_path).golden)
