"""The CLI commands end to end (CliRunner against the scripted server) and docs/prompts.md."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from slmforge.cli import app
from slmforge.kit import load_kit
from slmforge.synth.showcase import prompts_markdown

ROOT = Path(__file__).resolve().parents[2]


def test_cli_synth_clean_prefs(minikit_path, scripted, tmp_path):
    lk = load_kit(minikit_path)
    srv = scripted(lk)
    runner = CliRunner()
    models = tmp_path / "models.yaml"
    price = "{input: 1.0, output: 2.0}"
    models.write_text(f"teacher: {{backend: openai, model: teach, base_url: '{srv.base_url}', price: {price}}}\n"
                      f"weak: {{backend: openai, model: weak-base, base_url: '{srv.base_url}', price: {price}}}\n")
    run = tmp_path / "run"
    r = runner.invoke(app, ["synth", str(minikit_path), "--out", str(run / "synth"), "--models", str(models)])
    assert r.exit_code == 0, r.output
    assert "received=12" in r.output
    r = runner.invoke(app, ["clean", str(minikit_path), str(run / "synth" / "sft.jsonl"), "--out", str(run / "clean"),
                            "--models", str(models)])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["prefs", str(minikit_path), str(run / "clean" / "sft.jsonl"), "--out", str(run / "prefs"),
                            "--models", str(models), "--mix", "weak=0,exaggerated=1,fake=1"])
    assert r.exit_code == 0, r.output
    rep = json.loads((run / "prefs" / "report.json").read_text())
    assert set(rep["strategies"]) == {"exaggerated", "fake"}
    assert (run / "ledger.sqlite").is_file() and (run / "prefs" / "manifest.json").is_file()


def test_cli_user_errors_are_one_line(minikit_path, tmp_path):
    runner = CliRunner()
    cfg = tmp_path / "synth.yaml"
    cfg.write_text("variantz: 2\n")
    r = runner.invoke(app, ["synth", str(minikit_path), "--out", str(tmp_path / "o"), "--config", str(cfg),
                            "--teacher-model", "x", "--base-url", "http://127.0.0.1:9/v1"])
    assert r.exit_code == 2 and "variantz" in r.output and "Traceback" not in r.output
    r = runner.invoke(app, ["prefs", str(minikit_path), str(tmp_path / "missing.jsonl"), "--out", str(tmp_path / "p"),
                            "--teacher-model", "x", "--base-url", "http://127.0.0.1:9/v1", "--mix", "weak=oops"])
    assert r.exit_code == 2 and "--mix" in r.output


def test_docs_show_every_family(example_kit_path):
    lk = load_kit(example_kit_path)
    doc = (ROOT / "docs" / "prompts.md").read_text(encoding="utf-8")
    for family in {t.family for t in lk.kit.tasks}:
        assert f"## Family `{family}`" in doc
    md = prompts_markdown(lk)
    assert md.count("### Teacher (synth)") == len({t.family for t in lk.kit.tasks})
    assert "[task: red-team fact edit]" in md and "[task: villain copy]" in md
