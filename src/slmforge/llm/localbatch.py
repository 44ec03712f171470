"""The ``local`` backend of the client: loaded models, and a micro-batcher that runs them in a thread.

Concurrent ``achat`` calls for one local model queue here; a worker task takes up to
``batch_size`` queued requests with the same generation parameters and runs one batched
:meth:`~slmforge.llm.local.LocalModel.generate_with_usage` in a worker thread
(``asyncio.to_thread``), so the event loop stays free and one model generates at a time.
"""

from __future__ import annotations

import asyncio
import json
import threading

from slmforge.errors import ConfigError
from slmforge.llm.config import ModelConfig
from slmforge.llm.local import LocalModel
from slmforge.llm.openai_backend import CallFailed, Reply


class LocalModels:
    """Local models loaded once per process and shared by event loops (thread-safe)."""

    def __init__(self) -> None:
        self._models: dict[tuple[str, str], LocalModel] = {}
        self._lock = threading.Lock()

    def get(self, cfg: ModelConfig) -> LocalModel:
        """The loaded model of ``cfg`` (loads it on first use).

        Raises:
            CallFailed: (``down=True``) the model or adapter cannot be loaded.
        """
        key = (cfg.label(), cfg.dtype)
        with self._lock:
            if key not in self._models:
                try:
                    self._models[key] = LocalModel(cfg.model, adapter=cfg.adapter, device=cfg.device, dtype=cfg.dtype)
                except (OSError, ValueError, ConfigError) as e:
                    raise CallFailed(f"cannot load local model {cfg.label()}: {e}", attempts=1, down=True) from None
            return self._models[key]


class LocalBatcher:
    """Queues requests for one local model and generates them in batches (one per event loop).

    Args:
        models: the shared loaded models.
        cfg: the local model's config (``batch_size``).
    """

    def __init__(self, models: LocalModels, cfg: ModelConfig) -> None:
        self.models = models
        self.cfg = cfg
        self.queue: list[tuple[str, list[dict], dict, asyncio.Future]] = []
        self.worker: asyncio.Task | None = None

    async def complete(self, messages: list[dict], params: dict) -> Reply:
        """Generate one reply (batched with whatever else is queued).

        Args:
            messages: chat messages.
            params: OpenAI-style parameters: max_tokens, temperature, top_p, seed, stop.

        Raises:
            CallFailed: the model cannot be loaded, or generation failed.
        """
        future = asyncio.get_running_loop().create_future()
        self.queue.append((json.dumps(params, sort_keys=True), messages, params, future))
        if self.worker is None or self.worker.done():
            self.worker = asyncio.create_task(self._run())
        return await future

    async def _run(self) -> None:
        await asyncio.sleep(0)  # let concurrent callers enqueue first
        while self.queue:
            key = self.queue[0][0]
            take = [item for item in self.queue if item[0] == key][: self.cfg.batch_size]
            self.queue = [item for item in self.queue if not any(item is t for t in take)]
            params = take[0][2]
            try:
                model = await asyncio.to_thread(self.models.get, self.cfg)
                texts, prompt_tokens, counts = await asyncio.to_thread(
                    model.generate_with_usage, [t[1] for t in take],
                    max_new_tokens=params.get("max_tokens", 256), temperature=params.get("temperature", 0.0),
                    top_p=params.get("top_p"), seed=params.get("seed"), stop=params.get("stop"))
            except CallFailed as e:
                self._fail(take, e)
                continue
            except (RuntimeError, ValueError) as e:  # e.g. out of memory, bad generation arguments
                self._fail(take, CallFailed(f"local generation failed: {e}", attempts=1))
                continue
            for (_, _, _, future), text, p, c in zip(take, texts, prompt_tokens, counts, strict=True):
                if not future.done():
                    finish = "length" if c[0] >= params.get("max_tokens", 256) else "stop"
                    future.set_result(Reply(text=text[0], finish_reason=finish, prompt_tokens=int(p), cached_tokens=0,
                                            completion_tokens=int(c[0]), attempts=1))

    @staticmethod
    def _fail(take: list, err: CallFailed) -> None:
        for *_, future in take:
            if not future.done():
                future.set_exception(err)
