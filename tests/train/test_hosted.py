"""Hosted fine-tuning against the loopback test server: full lifecycle, a failed job, a cancelled one."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from slmforge.cli import app
from slmforge.testing.server import ScriptedServer
from slmforge.train import hosted as h


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    with ScriptedServer(lambda req: "ok") as s:
        yield s


def test_cli_full_lifecycle_records_the_model_id(server, sft_file, tmp_path):
    out = tmp_path / "run"
    r = CliRunner().invoke(app, ["train", "hosted", "--provider", "openai", "--model", "gpt-4.1-mini-2025-04-14",
                                 "--train", str(sft_file), "--epochs", "2", "--suffix", "brand", "--seed", "3",
                                 "--base-url", server.base_url, "-o", str(out), "--poll-s", "0", "--yes"])
    assert r.exit_code == 0, r.output
    assert "estimated cost" in r.output and "Step 3/3" in r.output and "succeeded" in r.output
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["status"] == "succeeded" and cfg["fine_tuned_model"].startswith("ft:gpt-4.1-mini-2025-04-14:brand:")
    assert cfg["error"] is None
    assert json.loads((out / "manifest.json").read_text())["status"] == "done"
    converted = [json.loads(x) for x in (out / "train.jsonl").read_text().splitlines()]
    assert len(converted) == 12 and converted[0]["messages"][-1]["role"] == "assistant"


def test_failed_job_shows_the_provider_error(server, sft_file, tmp_path):
    cfg = h.HostedConfig(model="fail-model", train=str(sft_file), base_url=server.base_url,
                         output_dir=str(tmp_path / "run"), poll_s=0)
    client = h.make_client(cfg)
    files, _ = h.prepare(cfg)
    job_id = h.submit(cfg, client, files)
    events = []
    with pytest.raises(h.HostedJobFailed, match="not available for fine-tuning.*invalid_training_file"):
        h.follow(cfg, client, job_id, on_event=events.append)
    assert [e.level for e in events][-1] == "error"
    cfg_json = json.loads((tmp_path / "run" / "config.json").read_text())
    assert cfg_json["status"] == "failed" and "not available for fine-tuning" in cfg_json["error"]
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["status"] == "failed"  # not "done": the pipeline must not treat it as finished
    assert any("invalid_training_file" in n for n in manifest["notes"])
    from slmforge.pipeline.state import decide, write_record
    from slmforge.runs import read_manifest

    rec = read_manifest(tmp_path / "run")
    assert rec.status == "failed"
    rec.fingerprint = "fp"
    write_record(tmp_path / "run", rec)  # as the pipeline records the stage: a failed job is never skipped
    assert decide(tmp_path / "run", "fp") == "resume"


def test_cancel_then_follow_resumes_to_cancelled(server, sft_file, tmp_path):
    out = tmp_path / "run"
    cfg = h.HostedConfig(model="m", train=str(sft_file), base_url=server.base_url, output_dir=str(out), poll_s=0)
    client = h.make_client(cfg)
    job_id = h.submit(cfg, client, h.prepare(cfg)[0])
    assert client.fine_tuning.jobs.retrieve(job_id).status == "queued"
    r = CliRunner().invoke(app, ["train", "hosted", "--base-url", server.base_url, "--cancel", job_id])
    assert r.exit_code == 0 and "cancelled" in r.output
    r = CliRunner().invoke(app, ["train", "hosted", "--base-url", server.base_url, "--follow", job_id,
                                 "-o", str(out), "--poll-s", "0"])
    assert r.exit_code == 0 and "Job cancelled" in r.output
    assert json.loads((out / "config.json").read_text())["status"] == "cancelled"
    assert json.loads((out / "manifest.json").read_text())["status"] == "cancelled"


def test_missing_key_is_a_user_error(monkeypatch, sft_file):
    monkeypatch.delenv("TOGETHER_API_KEY", raising=False)
    r = CliRunner().invoke(app, ["train", "hosted", "--provider", "together", "--model", "x", "--train",
                                 str(sft_file), "--yes"])
    assert r.exit_code == 2 and "TOGETHER_API_KEY" in r.output
