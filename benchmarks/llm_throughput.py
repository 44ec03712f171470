"""LLM client throughput against the ScriptedServer: concurrent vs a sequential loop, same run.

    .venv/bin/python benchmarks/llm_throughput.py                 # 500 requests, 100 ms, concurrency 32
    .venv/bin/python benchmarks/llm_throughput.py --requests 200 --latency 0.05 --concurrency 16

The server runs in its own process (as a real endpoint would), replying after ``--latency``
seconds. The ceiling of the concurrent run is ``concurrency / latency`` requests per second; the
script prints the achieved fraction of it (goal >= 0.9) and the speed-up over a sequential loop of
the same client (``max_concurrency=1``) measured on ``--sequential`` requests (goal >= 25x).
Every request goes through the full client path: hashing, ledger lookup, call, ledger commit.

Each of ``--rounds`` rounds also times the bare SDK (``AsyncOpenAI.chat.completions.create`` under
an ``asyncio.Semaphore``, no ledger, no retries) on the same number of requests, so the report
separates what the machine allows (client and server share its cores) from what the client adds,
and the client with its launch pacing switched off (``LaunchPacer.wait`` a no-op: the ablation of
:class:`slmforge.llm.openai_backend.LaunchPacer`). Medians over the rounds are reported, since a
1.6 s run on a shared 2-core machine is noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import statistics
import tempfile
import time
from pathlib import Path


def _serve(latency: float, port_queue: mp.Queue, stop: mp.Event) -> None:
    from slmforge.testing.server import ScriptedServer

    with ScriptedServer(lambda req: "a short reply of a few words", latency_s=latency) as srv:
        port_queue.put(srv.port)
        stop.wait()


async def _no_pacing(self) -> None:
    return None


async def _run(client, batch: list[list[dict]], *, sequential: bool, pacing: bool = True) -> tuple[float, float]:
    from slmforge.llm.openai_backend import LaunchPacer

    paced = LaunchPacer.wait
    if not pacing:
        LaunchPacer.wait = _no_pacing
    try:
        return await _timed(client, batch, sequential=sequential)
    finally:
        LaunchPacer.wait = paced


async def _timed(client, batch: list[list[dict]], *, sequential: bool) -> tuple[float, float]:
    start, cpu = time.perf_counter(), time.process_time()
    if sequential:
        for messages in batch:
            await client.achat("teacher", messages, stage="bench")
    else:
        await client.achat_many("teacher", batch, stage="bench", progress=False)
    await client.aclose()
    return time.perf_counter() - start, time.process_time() - cpu


async def _run_sdk(base_url: str, batch: list[list[dict]], concurrency: int) -> tuple[float, float]:
    """The bare SDK: ``chat.completions.create`` under a semaphore (no ledger, no retries)."""
    import openai

    api = openai.AsyncOpenAI(base_url=base_url, api_key="bench", max_retries=0)
    slots = asyncio.Semaphore(concurrency)

    async def one(messages: list[dict]) -> None:
        async with slots:
            await api.chat.completions.create(model="gpt-4o-mini", messages=messages)

    start, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(one(m) for m in batch))
    elapsed, used = time.perf_counter() - start, time.process_time() - cpu
    await api.close()
    return elapsed, used


def main() -> None:
    """Run the loops and print requests/s, the fraction of the ceiling and the speed-up."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--latency", type=float, default=0.1, help="server latency, seconds")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--sequential", type=int, default=40, help="requests in the sequential baseline")
    parser.add_argument("--rounds", type=int, default=5, help="concurrent rounds (client and bare SDK each)")
    args = parser.parse_args()

    from slmforge.llm import LLMClient, ModelConfig

    ports: mp.Queue = mp.Queue()
    stop = mp.Event()
    server = mp.Process(target=_serve, args=(args.latency, ports, stop), daemon=True)
    server.start()
    base_url = f"http://127.0.0.1:{ports.get(timeout=60)}/v1"
    ours: list[tuple[float, float]] = []
    unpaced: list[tuple[float, float]] = []
    bare: list[tuple[float, float]] = []
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
            asyncio.run(_run_sdk(base_url, batch(8, "warmup-sdk"), 4))
            seq_s, _ = asyncio.run(_run(client(1, "sequential"), batch(args.sequential, "seq"), sequential=True))
            for r in range(args.rounds):  # fresh ledger and prompts each round: nothing is a cache hit
                ours.append(asyncio.run(_run(client(args.concurrency, f"concurrent-{r}"),
                                             batch(args.requests, f"con{r}"), sequential=False)))
                bare.append(asyncio.run(_run_sdk(base_url, batch(args.requests, f"sdk{r}"), args.concurrency)))
                unpaced.append(asyncio.run(_run(client(args.concurrency, f"unpaced-{r}"),
                                                batch(args.requests, f"unp{r}"), sequential=False, pacing=False)))
    finally:
        stop.set()
        server.join(timeout=10)
    ceiling = args.concurrency / args.latency
    seq_rate = args.sequential / seq_s
    rate = statistics.median(args.requests / s for s, _ in ours)
    sdk_rate = statistics.median(args.requests / s for s, _ in bare)
    unpaced_rate = statistics.median(args.requests / s for s, _ in unpaced)
    cpu_ms = statistics.median(1000 * c / args.requests for _, c in ours)
    sdk_cpu_ms = statistics.median(1000 * c / args.requests for _, c in bare)
    print(f"sequential : {args.sequential} requests in {seq_s:.2f} s = {seq_rate:.1f} req/s")
    print(f"concurrent : {args.requests} requests x {args.rounds} rounds, median {rate:.1f} req/s "
          f"(ceiling {args.concurrency} / {args.latency} s = {ceiling:.0f} req/s); rounds: "
          + ", ".join(f"{args.requests / s / ceiling:.3f}" for s, _ in ours))
    print(f"bare SDK   : median {sdk_rate:.1f} req/s = {sdk_rate / ceiling:.3f} of the ceiling; rounds: "
          + ", ".join(f"{args.requests / s / ceiling:.3f}" for s, _ in bare))
    print(f"no pacing  : median {unpaced_rate:.1f} req/s = {unpaced_rate / ceiling:.3f} of the ceiling; rounds: "
          + ", ".join(f"{args.requests / s / ceiling:.3f}" for s, _ in unpaced))
    print(f"client CPU per request: {cpu_ms:.2f} ms (bare SDK {sdk_cpu_ms:.2f} ms; the ceiling needs "
          f"< {1000 / ceiling:.2f} ms on one event loop; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    print(f"client / bare SDK throughput: {rate / sdk_rate:.3f}")
    print(f"fraction of ceiling: {rate / ceiling:.3f}  (goal >= 0.9)")
    print(f"speed-up over sequential: {rate / seq_rate:.1f}x  (goal >= 25x)")


if __name__ == "__main__":
    main()
