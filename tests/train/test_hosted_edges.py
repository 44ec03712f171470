"""Hosted fine-tuning at its edges: the cost estimate needs no API key, and an endpoint that cannot be
reached (or refuses the key) is one line and exit 2, never the SDK's traceback."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from typer.testing import CliRunner

from slmforge.cli import app

MODEL = "gpt-4.1-mini-2025-04-14"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Refuse(BaseHTTPRequestHandler):
    """Answers every request 401 with an OpenAI-style error body (a provider that refuses the key)."""

    def _refuse(self) -> None:
        body = json.dumps({"error": {"message": "Incorrect API key provided: wrong-key.", "type": "invalid_request_error",
                                     "code": "invalid_api_key"}}).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _refuse

    def log_message(self, *args) -> None:  # quiet
        pass


def test_estimate_is_shown_without_a_key(monkeypatch, sft_file, tmp_path):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    args = ["train", "hosted", "--model", MODEL, "--train", str(sft_file), "--epochs", "2", "-o", str(tmp_path / "h")]
    r = CliRunner().invoke(app, [*args, "--dry-run"])
    assert r.exit_code == 0, r.output
    assert "estimated cost $" in r.output and "no job started" in r.output
    assert (tmp_path / "h" / "train.jsonl").is_file()
    r = CliRunner().invoke(app, [*args, "--yes"])  # no --dry-run: the estimate, then the missing key
    assert r.exit_code == 2 and "estimated cost $" in r.output and "OPENAI_API_KEY" in r.output
    assert r.output.index("estimated cost") < r.output.index("OPENAI_API_KEY")


def test_unreachable_endpoint_is_one_line(monkeypatch, sft_file, tmp_path):
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    r = CliRunner().invoke(app, ["train", "hosted", "--model", MODEL, "--train", str(sft_file), "--base-url", url,
                                 "-o", str(tmp_path / "h"), "--yes"])
    assert r.exit_code == 2, (r.exit_code, r.output, r.exception)
    err = [line for line in r.output.splitlines() if line.startswith("error:")]
    assert len(err) == 1 and "cannot reach" in err[0] and "Traceback" not in r.output
    assert len(r.output.splitlines()) <= 6, r.output
    for flag in ("--follow", "--cancel"):
        r = CliRunner().invoke(app, ["train", "hosted", "--base-url", url, flag, "ftjob-x", "-o", str(tmp_path / "h")])
        assert r.exit_code == 2 and "cannot reach" in r.output and "Traceback" not in r.output


def test_refused_key_is_one_line(monkeypatch, sft_file, tmp_path):
    monkeypatch.setenv("OPENAI_API_KEY", "wrong-key")
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Refuse)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        r = CliRunner().invoke(app, ["train", "hosted", "--model", MODEL, "--train", str(sft_file), "--base-url",
                                     f"http://127.0.0.1:{srv.server_port}/v1", "-o", str(tmp_path / "h"), "--yes"])
    finally:
        srv.shutdown()
        srv.server_close()
    text = " ".join(r.output.split())
    assert r.exit_code == 2 and "refused the key (401: Incorrect API key provided" in text, r.output
    assert "OPENAI_API_KEY" in text and "Traceback" not in text
