"""Fixtures of the serving tests: a tiny local model with a LoRA adapter, and `slmforge serve` running
it in a real uvicorn process on 127.0.0.1 (free port, waits for /health)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

MINIKIT = Path(__file__).resolve().parents[1] / "fixtures" / "minikit"
API_KEY = "test-key-123"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A tiny random Qwen2 (built by slmforge.train.tiny) with a tokenizer trained on the minikit."""
    from slmforge.train.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny"), [MINIKIT / "products.csv", MINIKIT / "golden.jsonl"],
                            vocab_size=600)


@pytest.fixture(scope="session")
def tiny_adapter(tiny_model, tmp_path_factory) -> Path:
    """A LoRA adapter (rank 4) with random A and B, so that it visibly changes the model's outputs."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(tiny_model)
    peft = get_peft_model(model, LoraConfig(r=4, lora_alpha=64, target_modules=["q_proj", "v_proj"],
                                            init_lora_weights=False))
    out = tmp_path_factory.mktemp("adapter")
    peft.save_pretrained(out)
    return out


@dataclass
class Server:
    """A running `slmforge serve` subprocess."""

    base_url: str  # ends with /v1
    root: str
    api_key: str | None
    proc: subprocess.Popen

    def health(self) -> dict:
        return httpx.get(f"{self.root}/health", timeout=10).json()


def start_server(model: Path, *extra: str, api_key: str | None = None, log: Path | None = None) -> Server:
    """Start `slmforge serve --model MODEL EXTRA…` on a free port and wait (≤ 90 s) for /health."""
    port = free_port()
    env = dict(os.environ)
    env.pop("SLMFORGE_API_KEY", None)
    cmd = [str(Path(sys.executable).parent / "slmforge"), "serve", "--model", str(model), "--port", str(port),
           "--log-level", "warning", *extra]
    if api_key:
        cmd += ["--api-key", api_key]
    out = open(log, "w") if log else subprocess.DEVNULL
    proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
    root = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"slmforge serve exited with {proc.returncode}; see {log}")
        try:
            if httpx.get(f"{root}/health", timeout=1).status_code == 200:
                return Server(f"{root}/v1", root, api_key, proc)
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("slmforge serve did not become healthy in 90 s")


def stop_server(server: Server) -> None:
    server.proc.terminate()
    try:
        server.proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.proc.kill()


@pytest.fixture(scope="session")
def server(tiny_model, tiny_adapter, tmp_path_factory) -> Server:
    """`slmforge serve` with the tiny model as `base`, its adapter as `sft`, the minikit, an API key and
    --max-concurrency 3."""
    log = tmp_path_factory.mktemp("serve-log") / "serve.log"
    s = start_server(tiny_model, "--served-model-name", "base", "--adapter", f"sft={tiny_adapter}",
                     "--kit", str(MINIKIT), "--max-concurrency", "3", "--max-tokens", "32",
                     api_key=API_KEY, log=log)
    yield s
    stop_server(s)
