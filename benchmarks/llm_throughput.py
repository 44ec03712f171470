"""LLM client throughput against the ScriptedServer: concurrent vs a sequential loop, same run.

    .venv/bin/python benchmarks/llm_throughput.py                 # 500 requests, 100 ms, concurrency 32
    .venv/bin/python benchmarks/llm_throughput.py --requests 200 --latency 0.05 --concurrency 16

The server runs in its own process (as a real endpoint would), replying after ``--latency``
seconds. The ceiling of the concurrent run is ``concurrency / latency`` requests per second; the
script prints the achieved fraction of it (goal >= 0.9) and the speed-up over a sequential loop of
the same client (``max_concurrency=1``) measured on ``--sequential`` requests (goal >= 25x).
Every request goes through the full client path: hashing, ledger lookup, call, ledger commit.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import tempfile
import time
from pathlib import Path


def _serve(latency: float, port_queue: mp.Queue, stop: mp.Event) -> None:
    from slmforge.testing.server import ScriptedServer

    with ScriptedServer(lambda req: "a short reply of a few words", latency_s=latency) as srv:
        port_queue.put(srv.port)
        stop.wait()


async def _run(client, batch: list[list[dict]], *, sequential: bool) -> tuple[float, float]:
    start, cpu = time.perf_counter(), time.process_time()
    if sequential:
        for messages in batch:
            await client.achat("teacher", messages, stage="bench")
    else:
        await client.achat_many("teacher", batch, stage="bench", progress=False)
    await client.aclose()
    return time.perf_counter() - start, time.process_time() - cpu


def main() -> None:
    """Run both loops and print requests/s, the fraction of the ceiling and the speed-up."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--latency", type=float, default=0.1, help="server latency, seconds")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--sequential", type=int, default=40, help="requests in the sequential baseline")
    args = parser.parse_args()

    from slmforge.llm import LLMClient, ModelConfig

    ports: mp.Queue = mp.Queue()
    stop = mp.Event()
    server = mp.Process(target=_serve, args=(args.latency, ports, stop), daemon=True)
    server.start()
    base_url = f"http://127.0.0.1:{ports.get(timeout=60)}/v1"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            def client(concurrency: int, name: str) -> LLMClient:
                cfg = ModelConfig(backend="openai", model="gpt-4o-mini", base_url=base_url,
                                  max_concurrency=concurrency)
                return LLMClient({"teacher": cfg}, ledger=Path(tmp) / f"{name}.sqlite", run_id=name)

            def batch(n: int, tag: str) -> list[list[dict]]:
                return [[{"role": "system", "content": "You write calm skincare copy."},
                         {"role": "user", "content": f"{tag} request {i}"}] for i in range(n)]

            asyncio.run(_run(client(4, "warmup"), batch(8, "warmup"), sequential=False))
            seq_s, _ = asyncio.run(_run(client(1, "sequential"), batch(args.sequential, "seq"), sequential=True))
            con_s, con_cpu = asyncio.run(_run(client(args.concurrency, "concurrent"), batch(args.requests, "con"),
                                     sequential=False))
    finally:
        stop.set()
        server.join(timeout=10)
    seq_rate, con_rate = args.sequential / seq_s, args.requests / con_s
    ceiling = args.concurrency / args.latency
    print(f"sequential : {args.sequential} requests in {seq_s:.2f} s = {seq_rate:.1f} req/s")
    print(f"concurrent : {args.requests} requests in {con_s:.2f} s = {con_rate:.1f} req/s "
          f"(ceiling {args.concurrency} / {args.latency} s = {ceiling:.0f} req/s)")
    print(f"client CPU per request: {1000 * con_cpu / args.requests:.2f} ms "
          f"(the ceiling needs < {1000 / ceiling:.2f} ms on one event loop; load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} cores)")
    print(f"fraction of ceiling: {con_rate / ceiling:.3f}  (goal >= 0.9)")
    print(f"speed-up over sequential: {con_rate / seq_rate:.1f}x  (goal >= 25x)")


if __name__ == "__main__":
    main()
