"""Generation for the server: one base model with any number of LoRA adapters, blocking calls made
from worker threads (never on the event loop), token streaming, and cancellation.

The base model and tokenizer come from :class:`slmforge.llm.local.LocalModel`; adapters are loaded
onto it with PEFT (``PeftModel.load_adapter(path, adapter_name=...)``) and picked per request with
``set_adapter`` (``disable_adapter()`` for the base id), the way vLLM's ``--lora-modules`` exposes
each adapter as a model id. One lock serialises generation: the active adapter is model-wide
state, and on CPU one ``generate`` already uses every core. Streaming uses
``transformers.TextIteratorStreamer``; a :class:`threading.Event` checked by a stopping criterion
ends a generation early (client gone, stop string seen).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator

from slmforge.models.generate import Choice, Generation, SamplingParams, cut_at_stop, encode_chat, generate, generation_kwargs

__all__ = ["Choice", "ContextTooLong", "Engine", "Generation", "SamplingParams", "TokenStream", "cut_at_stop"]

log = logging.getLogger(__name__)


class ContextTooLong(ValueError):
    """Prompt tokens + max_tokens exceed the model's context window (the server answers 400)."""


class Engine:
    """A loaded model serving several model ids (the base and each adapter).

    Args:
        model: base model folder or hub id (loaded by ``LocalModel``).
        adapters: model id → LoRA adapter folder.
        base_id: model id of the base model.
        device: torch device, default the best available.
        dtype: weights dtype name (:data:`slmforge.models.load.DTYPES`).

    Attributes:
        model_ids: the served ids, base first.
        max_context: the model's context window in tokens (``max_position_embeddings``).
    """

    def __init__(self, model: str, adapters: dict[str, str], *, base_id: str, device: str | None = None,
                 dtype: str = "auto") -> None:
        from slmforge.llm.local import LocalModel

        local = LocalModel(model, device=device, dtype=dtype)
        self.tokenizer = local.tokenizer
        self.model = local.model
        if adapters:
            from peft import PeftModel

            (first, first_path), *rest = adapters.items()
            self.model = PeftModel.from_pretrained(self.model, first_path, adapter_name=first)
            for name, path in rest:
                self.model.load_adapter(path, adapter_name=name)
        self.model.eval()
        self.base_id = base_id
        self.adapters = dict(adapters)
        self.model_ids = [base_id, *adapters]
        self.max_context = int(self.model.config.max_position_embeddings)
        self.lock = threading.Lock()
        log.info("serving %s on %s", self.model_ids, self.model.device)

    # -- prompts ------------------------------------------------------------------------------
    def encode_chat(self, messages: list[dict]) -> list[int]:
        """Token ids of ``messages`` through the tokenizer's chat template, with the generation prompt."""
        return encode_chat(self.tokenizer, messages)

    def count_tokens(self, text: str) -> int:
        """Tokens in ``text`` without special tokens."""
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def check_budget(self, prompt_len: int, params: SamplingParams) -> None:
        """Raise :class:`ContextTooLong` when ``prompt_len + params.max_tokens`` (tokens) exceeds the context."""
        if prompt_len + params.max_tokens > self.max_context:
            raise ContextTooLong(
                f"This model's maximum context length is {self.max_context} tokens. However, you requested "
                f"{prompt_len + params.max_tokens} tokens ({prompt_len} in the messages, {params.max_tokens} in "
                "the completion). Please reduce the length of the messages or completion.")

    @contextlib.contextmanager
    def _adapter(self, model_id: str) -> Iterator[None]:
        """Activate ``model_id``'s adapter (or none for the base); call with :attr:`lock` held."""
        if not self.adapters:
            yield
        elif model_id == self.base_id:
            with self.model.disable_adapter():
                yield
        else:
            self.model.set_adapter(model_id)
            yield

    # -- generation ---------------------------------------------------------------------------
    def generate(self, model_id: str, messages: list[dict], params: SamplingParams,
                 cancel: threading.Event | None = None) -> Generation:
        """Generate ``params.n`` choices (blocking; call from a worker thread).

        Args:
            model_id: one of :attr:`model_ids`.
            messages: OpenAI-style ``[{"role", "content"}]``.
            params: sampling settings.
            cancel: set it to stop early (the choices end where they are).

        Raises:
            ContextTooLong: prompt + ``max_tokens`` over the context window.
        """
        ids = self.encode_chat(messages)
        self.check_budget(len(ids), params)
        with self.lock, self._adapter(model_id):
            return generate(self.model, self.tokenizer, [ids], params, cancel)[0]

    def stream(self, model_id: str, messages: list[dict], params: SamplingParams,
               cancel: threading.Event) -> TokenStream:
        """Start generating one choice in a background thread and return its text stream.

        Raises:
            ContextTooLong: prompt + ``max_tokens`` over the context window.
        """
        ids = self.encode_chat(messages)
        self.check_budget(len(ids), params)
        return TokenStream(self, model_id, ids, params, cancel)


class TokenStream:
    """Text pieces of one streaming generation, with stop strings held back and applied.

    Iterate it from a worker thread (each ``next`` blocks until the model emits text). After the
    iteration, :attr:`finish_reason` and :attr:`completion_tokens` are set and the generation thread
    has ended. ``cancel`` belongs to this one stream: a stop string sets it (to end the generation),
    and so does the server when the client leaves; set before the model is free, nothing is generated.
    """

    def __init__(self, engine: Engine, model_id: str, ids: list[int], params: SamplingParams,
                 cancel: threading.Event) -> None:
        from transformers import TextIteratorStreamer

        self.prompt_tokens = len(ids)
        self.finish_reason = "stop"
        self.completion_tokens = 0
        self._params = params
        self._cancel = cancel
        self._engine = engine
        self._streamer = TextIteratorStreamer(engine.tokenizer, skip_prompt=True, skip_special_tokens=True)
        import torch

        kw = generation_kwargs(engine.model, engine.tokenizer, params, cancel)
        kw.update(input_ids=torch.tensor([ids], device=engine.model.device))
        kw["attention_mask"] = torch.ones_like(kw["input_ids"])
        kw.pop("stop_strings", None)  # applied on the text below, so nothing past a stop is streamed
        kw.pop("tokenizer", None)
        kw["streamer"] = self._streamer
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(model_id, kw), daemon=True)
        self._thread.start()

    def _run(self, model_id: str, kw: dict) -> None:
        import torch

        try:
            with self._engine.lock, self._engine._adapter(model_id), torch.inference_mode():
                if self._cancel.is_set():  # the client left while this request waited for the model
                    self._streamer.end()
                    return
                if self._params.seed is not None:
                    torch.manual_seed(self._params.seed)
                out = self._engine.model.generate(**kw)
            self.completion_tokens = int(out.shape[1]) - self.prompt_tokens
        except Exception as e:  # re-raised in the consuming thread
            self._error = e
            self._streamer.end()

    def __iter__(self) -> Iterator[str]:
        stops = self._params.stop
        hold = max((len(s) for s in stops), default=1) - 1
        text, sent = "", 0
        for piece in self._streamer:
            text += piece
            cut, hit = cut_at_stop(text, stops)
            if hit:
                self._cancel.set()
                if len(cut) > sent:
                    yield cut[sent:]
                break
            safe = len(text) - hold
            if safe > sent:
                yield text[sent:safe]
                sent = safe
        else:
            if len(text) > sent:
                yield text[sent:]
            self._thread.join()
            if self._error is not None:
                raise self._error
            if self.completion_tokens >= self._params.max_tokens:
                self.finish_reason = "length"
            return
        self._thread.join()

    def close(self) -> None:
        """Stop the generation (client gone) and wait for the worker thread to finish (blocking: up to
        one forward pass once the thread holds the model lock)."""
        self._cancel.set()
        self._thread.join()

    @property
    def finished(self) -> bool:
        """Whether the generation thread has ended (the model lock is free of it); true once the
        iteration is exhausted, so a finished stream needs no :meth:`close`."""
        return not self._thread.is_alive()

    @property
    def cancelled(self) -> bool:
        """Whether the generation was stopped early."""
        return self._cancel.is_set()
