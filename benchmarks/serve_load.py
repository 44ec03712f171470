"""Load benchmark of ``slmforge serve``: 200 chat requests at concurrency 8 against the tiny model.

Prints p50/p95 latency, throughput and errors, and the server's overhead against calling the same
``model.generate`` in-process (same engine, same prompt, same token count) as ratios measured in
this run. Run by hand::

    .venv/bin/python benchmarks/serve_load.py [--requests 200 --concurrency 8 --max-tokens 16]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
MINIKIT = ROOT / "tests" / "fixtures" / "minikit"
MSG = [{"role": "user", "content": "Write a short ad for Jasmine Pearl, a green tea with jasmine and honey notes."}]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _load(base_url: str, n: int, concurrency: int, max_tokens: int) -> tuple[list[float], int, float]:
    import openai

    client = openai.AsyncOpenAI(base_url=base_url, api_key="none", max_retries=0)
    sem = asyncio.Semaphore(concurrency)
    latencies, errors = [], 0

    async def one() -> None:
        nonlocal errors
        async with sem:
            t = time.perf_counter()
            try:
                r = await client.chat.completions.create(model="tiny", messages=MSG, temperature=0.7,
                                                         max_tokens=max_tokens, extra_body={"ignore_eos": True})
                assert r.usage.completion_tokens == max_tokens
                latencies.append(time.perf_counter() - t)
            except (openai.OpenAIError, AssertionError):
                errors += 1

    t0 = time.perf_counter()
    await asyncio.gather(*[one() for _ in range(n)])
    wall = time.perf_counter() - t0
    await client.close()
    return latencies, errors, wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--max-tokens", type=int, default=16)
    ap.add_argument("--baseline", type=int, default=50, help="in-process generate calls for the baseline")
    args = ap.parse_args()

    import uvicorn

    from slmforge.serve.app import create_app
    from slmforge.serve.config import ServeConfig
    from slmforge.serve.engine import Engine, SamplingParams
    from slmforge.train.tiny import build_tiny_model

    model = build_tiny_model(Path(tempfile.mkdtemp()) / "tiny", [MINIKIT / "products.csv", MINIKIT / "golden.jsonl"],
                             vocab_size=600)
    engine = Engine(str(model), {}, base_id="tiny")
    params = SamplingParams(max_tokens=args.max_tokens, temperature=0.7, min_tokens=args.max_tokens)
    for _ in range(3):
        engine.generate("tiny", MSG, params)  # warm-up

    def baseline() -> float:
        t0 = time.perf_counter()
        for _ in range(args.baseline):
            engine.generate("tiny", MSG, params)
        return (time.perf_counter() - t0) / args.baseline

    before = baseline()

    port = _port()
    cfg = ServeConfig(model=str(model), served_model_name="tiny", port=port, max_concurrency=args.concurrency * 2)
    server = uvicorn.Server(uvicorn.Config(create_app(cfg, engine=engine), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    base_url = f"http://127.0.0.1:{port}/v1"
    seq, seq_err, _ = asyncio.run(_load(base_url, args.baseline, 1, args.max_tokens))
    lat, errors, wall = asyncio.run(_load(base_url, args.requests, args.concurrency, args.max_tokens))
    server.should_exit = True
    thread.join()
    direct = min(before, baseline())  # measured before and after the load; the faster one is the fair baseline

    lat.sort()
    p50, p95 = statistics.median(lat), lat[int(0.95 * (len(lat) - 1))]
    print(f"tiny model, {args.max_tokens} completion tokens per request, CPU threads {os.cpu_count()}")
    print(f"in-process model.generate: {direct * 1000:.1f} ms/request ({1 / direct:.1f} req/s)")
    print(f"server, concurrency 1:    {statistics.mean(seq) * 1000:.1f} ms/request, errors {seq_err}")
    print(f"server, {args.requests} requests at concurrency {args.concurrency}: p50 {p50 * 1000:.1f} ms, "
          f"p95 {p95 * 1000:.1f} ms, throughput {len(lat) / wall:.1f} req/s "
          f"({len(lat) * args.max_tokens / wall:.0f} tokens/s), errors {errors}")
    print(f"overhead ratio (server latency at concurrency 1 / in-process): {statistics.mean(seq) / direct:.3f}")
    print(f"throughput ratio (server at concurrency {args.concurrency} / in-process sequential): "
          f"{(len(lat) / wall) * direct:.3f}")


if __name__ == "__main__":
    main()
