"""``LLMClient``: the one client every role (teacher, judge, weak model, candidates) calls through.

Each request is hashed (backend, model, adapter, messages, parameters, schema, seed); a hash with a
good response in the SQLite ledger is answered from it without a call, so a rerun of a finished
stage makes zero calls and a killed run only pays for what is missing. Otherwise the call runs
under the model's concurrency bound and rpm/tpm buckets, with retries (see
:mod:`slmforge.llm.openai_backend`), schema validation with repair turns
(:mod:`slmforge.llm.structured`), the role's fallback chain, the ``budget_usd`` stop, and one
committed ledger row per response — failures included (``ok=False``, raw text, reason)::

    client = LLMClient({"teacher": ModelConfig(backend="openai", model="gpt-4o-mini")},
                       ledger=run_dir / "ledger.sqlite", run_id="run-1", budget_usd=5.0)
    results = client.chat_many("teacher", [[{"role": "user", "content": "Hi"}]], stage="synth")
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from rich import get_console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from slmforge.errors import BudgetExceeded, ConfigError
from slmforge.llm.config import ModelConfig, Price
from slmforge.llm.ledger import Ledger
from slmforge.llm.localbatch import LocalBatcher, LocalModels
from slmforge.llm.openai_backend import CallFailed, OpenAIBackend, Reply
from slmforge.llm.prices import cost_usd, price_for
from slmforge.cjk import estimate_prompt_tokens
from slmforge.llm.ratelimit import RateLimiter
from slmforge.llm.structured import parse_reply, repair_turns, with_schema
from slmforge.llm.results import ChatResult, DryRunSummary, request_hash

log = logging.getLogger(__name__)

DEFAULT_COMPLETION_ESTIMATE = 512  # tokens assumed for budget/dry-run when max_tokens is None


@dataclass
class _LoopState:
    """asyncio objects bound to one event loop (``chat_many`` runs a fresh loop per call)."""

    semaphores: dict[str, asyncio.Semaphore] = field(default_factory=dict)
    backends: dict[str, OpenAIBackend] = field(default_factory=dict)
    batchers: dict[str, LocalBatcher] = field(default_factory=dict)


class LLMClient:
    """One client for every model role, on a cost ledger.

    Args:
        models: role name → model config.
        ledger: path of the SQLite ledger (created if missing), or an open :class:`Ledger`.
        run_id: recorded with every row; groups spend in ``slmforge ledger``.
        budget_usd: stop with ``BudgetExceeded`` before a call that could take this client's
            spend over it (USD; in-flight calls finish and are recorded first).
        dry_run: count calls, tokens and estimated cost without calling (see ``dry``).
    """

    def __init__(self, models: Mapping[str, ModelConfig], *, ledger: str | Path | Ledger, run_id: str = "default",
                 budget_usd: float | None = None, dry_run: bool = False) -> None:
        self.models = dict(models)
        self.ledger = ledger if isinstance(ledger, Ledger) else Ledger(ledger)
        self.run_id = run_id
        self.budget_usd = budget_usd
        self.dry_run = dry_run
        self.dry = DryRunSummary()
        self.spent_usd = 0.0
        self.retries = 0
        self._reserved_usd = 0.0
        self._budget_hit = False
        self._down: dict[str, str] = {}
        self._unpriced_warned: set[str] = set()
        self._limiters: dict[str, RateLimiter] = {}
        self._prices: dict[str, Price | None] = {}  # model label -> price, read once per client
        self._locals = LocalModels()
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopState] = weakref.WeakKeyDictionary()

    # ---- public API ------------------------------------------------------------------------
    def has_role(self, role: str) -> bool:
        """Whether ``role`` has a model configured."""
        return role in self.models

    async def achat(self, role: str, messages: list[dict], *, stage: str, schema: type[BaseModel] | None = None,
                    **params: Any) -> ChatResult:
        """One chat request through the ledger, limits, retries and fallback chain.

        Args:
            role: a configured role (``teacher``, ``judge``…).
            messages: OpenAI chat messages; put the static part (system prompt) first.
            stage: stage name recorded in the ledger (``synth``, ``judge``…).
            schema: pydantic model the reply must validate against (JSON); ``parsed`` holds it.
            **params: overrides of the config's temperature, max_tokens, top_p, seed, stop…;
                ``variant`` (any JSON value) only enters the hash, to draw distinct samples of
                the same prompt.

        Returns:
            A :class:`ChatResult`; failures are results with ``ok=False``.

        Raises:
            BudgetExceeded: the call could take the spend over ``budget_usd``.
            ConfigError: ``role`` is not configured.
        """
        chain = self._chain(role)
        first = chain[0]
        result: ChatResult | None = None
        for i, cfg in enumerate(chain):
            if cfg.label() in self._down:
                continue
            fallback_from = first.model if i else None
            result, unavailable = await self._call(role, cfg, messages, stage, schema, params, fallback_from)
            if not unavailable:
                return result
            rest = [c.label() for c in chain[i + 1:] if c.label() not in self._down]
            if rest:
                log.warning("role %s: model %s is unavailable (%s); FALLING BACK to %s",
                            role, cfg.label(), result.error, rest[0])
        if result is None:  # every model of the chain was already marked down
            reasons = "; ".join(f"{c.label()}: {self._down[c.label()]}" for c in chain)
            result = ChatResult(ok=False, text=None, parsed=None, error=f"all models of role {role} are down ({reasons})",
                                model=first.model, request_id="")
        return result

    async def achat_many(self, role: str, batch: list[list[dict]], *, stage: str,
                         schema: type[BaseModel] | None = None, progress: bool = True, **params: Any) -> list[ChatResult]:
        """Many requests concurrently (bounded per model), results in input order, Rich progress bar on a terminal.

        Raises:
            BudgetExceeded: after every started call has finished and been recorded.
        """
        results: list[ChatResult | None] = [None] * len(batch)
        columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("{task.fields[spend]}"), TimeRemainingColumn())
        # no bar off a terminal: there Rich's Progress prints a blank line each time it stops
        bar_off = not progress or len(batch) < 2 or not get_console().is_interactive
        with Progress(*columns, transient=True, disable=bar_off) as bar:
            task = bar.add_task(f"{stage}/{role}", total=len(batch), spend="")

            # Requests are prepared (hashed, looked up in the ledger) just before a slot frees up,
            # not all at once: otherwise preparing a large batch stalls the event loop before the
            # first replies are read, and the replies of the first wave wait behind it.
            window = asyncio.Semaphore(2 * max(cfg.in_flight() for cfg in self._chain(role)))

            async def one(i: int, messages: list[dict]) -> None:
                async with window:
                    try:
                        results[i] = await self.achat(role, messages, stage=stage, schema=schema, **params)
                    finally:
                        bar.update(task, advance=1, spend=f"${self.spent_usd:.4f}")

            outcomes = await asyncio.gather(*(one(i, m) for i, m in enumerate(batch)), return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
        return results  # type: ignore[return-value]

    def chat_many(self, role: str, batch: list[list[dict]], *, stage: str, schema: type[BaseModel] | None = None,
                  progress: bool = True, **params: Any) -> list[ChatResult]:
        """Synchronous :meth:`achat_many` (runs its own event loop; call it outside a running loop)."""

        async def run() -> list[ChatResult]:
            try:
                return await self.achat_many(role, batch, stage=stage, schema=schema, progress=progress, **params)
            finally:
                await self.aclose()

        return asyncio.run(run())

    def chat(self, role: str, messages: list[dict], *, stage: str, schema: type[BaseModel] | None = None,
             **params: Any) -> ChatResult:
        """Synchronous single request (see :meth:`achat`)."""
        return self.chat_many(role, [messages], stage=stage, schema=schema, progress=False, **params)[0]

    async def aclose(self) -> None:
        """Close the HTTP clients bound to the running event loop."""
        state = self._loops.pop(asyncio.get_running_loop(), None)
        if state is not None:
            for backend in state.backends.values():
                await backend.aclose()

    def close(self) -> None:
        """Close the ledger connection."""
        self.ledger.close()

    # ---- internals -------------------------------------------------------------------------
    def _chain(self, role: str) -> list[ModelConfig]:
        """The role's model followed by its fallbacks; ConfigError when the role is not configured."""
        if role not in self.models:
            raise ConfigError(f"no model configured for role {role!r} (have: {', '.join(self.models) or 'none'})",
                              field=f"models.{role}", fix=f"add a `{role}:` entry under models in the project config")
        first = self.models[role]
        return [first, *first.fallback]

    def _state(self) -> _LoopState:
        loop = asyncio.get_running_loop()
        if loop not in self._loops:
            self._loops[loop] = _LoopState()
        return self._loops[loop]

    def _params(self, cfg: ModelConfig, schema: type[BaseModel] | None, overrides: Mapping[str, Any]) -> dict:
        params = {"temperature": cfg.temperature, "max_tokens": cfg.max_tokens, "top_p": cfg.top_p, "seed": cfg.seed}
        params.update((k, v) for k, v in overrides.items() if k != "variant")
        if schema is not None and cfg.json_mode and cfg.backend == "openai":
            params["response_format"] = {"type": "json_object"}
        return {k: v for k, v in params.items() if v is not None}

    async def _complete(self, cfg: ModelConfig, messages: list[dict], params: dict) -> Reply:
        state = self._state()
        label = cfg.label()
        if cfg.backend == "local":
            if label not in state.batchers:
                state.batchers[label] = LocalBatcher(self._locals, cfg)
            return await state.batchers[label].complete(messages, params)
        if label not in state.backends:
            state.backends[label] = OpenAIBackend(cfg)
        return await state.backends[label].complete(messages, {"model": cfg.model, **params})

    def prepare(self, cfg: ModelConfig, messages: list[dict], schema: type[BaseModel] | None,
                overrides: Mapping[str, Any]) -> tuple[list[dict], dict, dict, str]:
        """What would be sent for a request, and its ledger identity.

        Returns:
            ``(sent_messages, api_params, request, request_hash)``; ``request`` is the hashed record
            (backend, model, adapter, messages, params, variant).
        """
        sent = with_schema(messages, schema) if schema is not None else list(messages)
        params = self._params(cfg, schema, overrides)
        request = {"backend": cfg.backend, "model": cfg.model, "adapter": cfg.adapter, "messages": sent,
                   "params": params, "variant": overrides.get("variant")}
        return sent, params, request, request_hash(request)

    def _check_budget(self, estimate: float) -> None:
        if self.budget_usd is None:
            return
        if self._budget_hit or self.spent_usd + self._reserved_usd + estimate > self.budget_usd:
            self._budget_hit = True
            raise BudgetExceeded(self.spent_usd, self.budget_usd)

    async def _call(self, role: str, cfg: ModelConfig, messages: list[dict], stage: str,
                    schema: type[BaseModel] | None, overrides: Mapping[str, Any],
                    fallback_from: str | None) -> tuple[ChatResult, bool]:
        """One model of the chain: cache → dry run → budget → call → record. Returns (result, unavailable)."""
        sent, params, request, h = self.prepare(cfg, messages, schema, overrides)
        common = {"run_id": self.run_id, "stage": stage, "role": role, "backend": cfg.backend, "model": cfg.model,
                  "fallback_from": fallback_from}
        row = self.ledger.lookup(h)
        parsed = None
        if row is not None and schema is not None:
            parsed = parse_reply(row["response"], schema)[0]
            if parsed is None:  # e.g. a Batch API reply that does not validate: ask again, with repairs
                row = None
        if row is not None:
            if self.dry_run:
                self.dry.cache_hits += 1
            else:
                self.ledger.record(request_hash=h, request=None, ok=True, from_cache=True, attempts=0,
                                   finish_reason=row["finish_reason"], **common)
            logprobs = json.loads(row["logprobs"]) if row["logprobs"] else None
            return ChatResult(ok=True, text=row["response"], parsed=parsed, error=None, model=cfg.model,
                              request_id=h, from_cache=True, finish_reason=row["finish_reason"],
                              fallback_from=fallback_from, logprobs=logprobs), False

        if cfg.label() not in self._prices:
            self._prices[cfg.label()] = price_for(cfg)
        price = self._prices[cfg.label()]
        est_prompt = estimate_prompt_tokens(sent)
        est_completion = params.get("max_tokens") or DEFAULT_COMPLETION_ESTIMATE
        estimate = cost_usd(price, est_prompt, 0, est_completion)
        if self.dry_run:
            self.dry.calls += 1
            self.dry.prompt_tokens += est_prompt
            self.dry.completion_tokens += est_completion
            self.dry.cost_usd += estimate
            self.dry.by_model[cfg.model] = self.dry.by_model.get(cfg.model, 0) + 1
            return ChatResult(ok=False, text=None, parsed=None, error="dry run: not called", model=cfg.model,
                              request_id=h), False

        state = self._state()
        if cfg.label() not in state.semaphores:
            state.semaphores[cfg.label()] = asyncio.Semaphore(cfg.in_flight())
        if cfg.label() not in self._limiters:
            self._limiters[cfg.label()] = RateLimiter(cfg.rpm, cfg.tpm)
        async with state.semaphores[cfg.label()]:
            self._check_budget(estimate)
            self._reserved_usd += estimate
            try:
                await self._limiters[cfg.label()].acquire(est_prompt + est_completion)
                result, unavailable = await self._attempt(cfg, sent, params, schema, h, price)
            finally:
                self._reserved_usd -= estimate
        result.fallback_from = fallback_from
        warning = None
        if price is None:
            warning = f"no price for model {cfg.model}; cost counted as 0"
            if cfg.model not in self._unpriced_warned:
                self._unpriced_warned.add(cfg.model)
                log.warning("%s (add it to the price table or set `price:` in its ModelConfig)", warning)
        self.ledger.record(request_hash=h, request=request, ok=result.ok, response=result.text, error=result.error,
                           finish_reason=result.finish_reason,
                           prompt_tokens=result.prompt_tokens, cached_tokens=result.cached_tokens,
                           completion_tokens=result.completion_tokens, cost_usd=result.cost_usd,
                           latency_s=result.latency_s, attempts=result.attempts, from_cache=False, warning=warning,
                           logprobs=json.dumps(result.logprobs) if result.logprobs else None, **common)
        return result, unavailable

    async def _attempt(self, cfg: ModelConfig, sent: list[dict], params: dict, schema: type[BaseModel] | None,
                       h: str, price: Any) -> tuple[ChatResult, bool]:
        """Call (with repairs when the reply does not validate); usage summed over every attempt."""
        start = time.perf_counter()
        tokens = [0, 0, 0]
        attempts, text, parsed, error, finish, unavailable = 0, None, None, None, None, False
        logprobs = None
        conversation = sent
        try:
            for _ in range(cfg.max_repairs + 1):
                reply = await self._complete(cfg, conversation, params)
                attempts += reply.attempts
                tokens = [tokens[0] + reply.prompt_tokens, tokens[1] + reply.cached_tokens,
                          tokens[2] + reply.completion_tokens]
                text, finish, logprobs = reply.text, reply.finish_reason, reply.logprobs
                if schema is None:
                    break
                parsed, error = parse_reply(text, schema)
                if parsed is not None:
                    break
                conversation = [*conversation, *repair_turns(text, error)]
        except CallFailed as e:
            attempts += e.attempts
            error, unavailable = e.reason, e.unavailable
            if e.down:
                self._down[cfg.label()] = e.reason
        self.retries += max(attempts - 1, 0)
        cost = cost_usd(price, *tokens)
        self.spent_usd += cost
        return ChatResult(ok=error is None, text=text, parsed=parsed, error=error, model=cfg.model, request_id=h,
                          prompt_tokens=tokens[0], cached_tokens=tokens[1], completion_tokens=tokens[2],
                          cost_usd=cost, latency_s=time.perf_counter() - start, attempts=attempts,
                          finish_reason=finish, logprobs=logprobs), unavailable
