"""Paths, ids and model names print literally: ``[new]`` in them is never read as Rich markup (where it would
vanish, or a stray ``[/`` raise ``MarkupError``); and the commands' lines fit 80 columns without a cut."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from slmforge.cli import app
from slmforge.data.io import write_jsonl
from slmforge.data.records import Message, SFTExample

RUNNER = CliRunner(env={"COLUMNS": "80"})


@pytest.fixture
def odd_dir(tmp_path) -> Path:
    """A folder whose path reads as Rich markup: ``…/run[new]/x[/]y`` (a tag, and a closing tag that would raise)."""
    path = tmp_path / "run[new]" / "x[" / "]y"
    path.mkdir(parents=True)
    return path


def test_model_tiny_prints_the_path_literally(odd_dir, monkeypatch):
    import slmforge.train.tiny as tiny

    corpus = odd_dir / "corpus.txt"
    corpus.write_text("a calm serum\n", encoding="utf-8")
    monkeypatch.setattr(tiny, "build_tiny_model", lambda out, paths, **kw: Path(out))
    r = RUNNER.invoke(app, ["model", "tiny", str(odd_dir / "model"), "--corpus", str(corpus)])
    assert r.exit_code == 0, r.output
    assert f"tiny model written to {odd_dir / 'model'}" in r.output.replace("\n", "")


def test_merge_prints_the_path_literally(odd_dir, monkeypatch):
    import slmforge.train.merge as merge

    monkeypatch.setattr(merge, "merge_adapter", lambda adapter, out, base=None: Path(out))
    r = RUNNER.invoke(app, ["merge", str(odd_dir / "adapter"), str(odd_dir / "merged")])
    assert r.exit_code == 0, r.output
    assert f"merged model written to {odd_dir / 'merged'}" in r.output.replace("\n", "")


def test_train_summary_prints_metrics_and_run_dir_literally(odd_dir, monkeypatch):
    import slmforge.train as train

    (odd_dir / "manifest.json").write_text(json.dumps({"metrics": {"train_loss": 1.23456, "note[x]": "n/a"}}))
    monkeypatch.setattr(train, "load_train_config", lambda config, overrides: overrides)
    monkeypatch.setitem(train.TRAINERS, "sft", lambda cfg, resume: Path(cfg["output_dir"]))
    r = RUNNER.invoke(app, ["train", "sft", "--output", str(odd_dir)])
    assert r.exit_code == 0, r.output
    assert "  train_loss: 1.2346" in r.output and "  note[x]: n/a" in r.output
    assert f"done: {odd_dir}" in r.output.replace("\n", "")


def test_data_commands_print_paths_and_tasks_literally(odd_dir):
    path = odd_dir / "sft.jsonl"
    write_jsonl(path, [SFTExample(id=f"r{i}", task="ad[new]", subject_id=f"s{i}",
                                  messages=[Message(role="user", content=f"Write about product {i}"),
                                            Message(role="assistant", content="A calm serum. " * (i + 1))])
                       for i in range(4)])
    r = RUNNER.invoke(app, ["data", "stats", str(path)])
    assert r.exit_code == 0, r.output
    assert f"{path}: 4 rows" in r.output.replace("\n", "") and "ad[new] 4" in r.output
    # the tables fit; a line naming the file is one line (soft-wrapped by the terminal, whole when grepped)
    assert "…" not in r.output and all(len(line) <= 80 for line in r.output.splitlines() if str(path) not in line)
    r = RUNNER.invoke(app, ["data", "validate", str(path)])
    assert r.exit_code == 0 and f"ok {path}: 4 rows" in r.output.replace("\n", "")
    r = RUNNER.invoke(app, ["data", "split", str(path), "--by", "row", "--eval-fraction", "0.5"])
    assert r.exit_code == 0, r.output
    assert "ad[new]" in r.output and "…" not in r.output


def test_user_error_with_markup_in_the_path_is_one_literal_line(odd_dir):
    r = CliRunner().invoke(app, ["ledger", str(odd_dir)])
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert str(odd_dir) in r.output.replace("\n", "")
