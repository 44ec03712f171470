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
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


@dataclass
class SamplingParams:
    """Sampling settings of one request (OpenAI semantics).

    Attributes:
        max_tokens: completion tokens at most.
        temperature: 0 = greedy decoding; > 0 samples.
        top_p: nucleus mass in (0, 1].
        n: choices to return.
        stop: strings that end a choice (not included in the text).
        seed: seeds torch's RNG for this request (reproducible sampling).
        min_tokens: completion tokens before EOS may end a choice (vLLM extra).
        repetition_penalty: HF / CTRL repetition penalty (1.0 = off).
    """

    max_tokens: int
    temperature: float = 1.0
    top_p: float = 1.0
    n: int = 1
    stop: list[str] = field(default_factory=list)
    seed: int | None = None
    min_tokens: int = 0
    repetition_penalty: float | None = None


@dataclass
class Choice:
    """One generated text. ``finish_reason`` is ``"stop"`` (EOS / stop string) or ``"length"``."""

    text: str
    finish_reason: str
    completion_tokens: int


@dataclass
class Generation:
    """Result of :meth:`Engine.generate`: ``n`` choices and the prompt length in tokens."""

    choices: list[Choice]
    prompt_tokens: int


class ContextTooLong(ValueError):
    """Prompt tokens + max_tokens exceed the model's context window (the server answers 400)."""


def cut_at_stop(text: str, stops: list[str]) -> tuple[str, bool]:
    """Cut ``text`` before the first occurrence of any stop string.

    Returns:
        (text before the stop, whether a stop string was found).
    """
    cut = min((i for i in (text.find(s) for s in stops) if i >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)


class Engine:
    """A loaded model serving several model ids (the base and each adapter).

    Args:
        model: base model folder or hub id (loaded by ``LocalModel``).
        adapters: model id → LoRA adapter folder.
        base_id: model id of the base model.
        device: torch device, default the best available.

    Attributes:
        model_ids: the served ids, base first.
        max_context: the model's context window in tokens (``max_position_embeddings``).
    """

    def __init__(self, model: str, adapters: dict[str, str], *, base_id: str, device: str | None = None) -> None:
        from slmforge.llm.local import LocalModel

        local = LocalModel(model, device=device)
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
        enc = self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True, return_dict=True)
        return list(enc["input_ids"])

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

    def _gen_kwargs(self, ids: list[int], params: SamplingParams, cancel: threading.Event | None) -> dict:
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList

        class _Cancelled(StoppingCriteria):
            def __call__(self, input_ids, scores, **kwargs):  # noqa: D102 - transformers API
                return torch.full((input_ids.shape[0],), cancel is not None and cancel.is_set(), dtype=torch.bool,
                                  device=input_ids.device)

        sample = params.temperature > 0
        input_ids = torch.tensor([ids], device=self.model.device)
        kw = dict(input_ids=input_ids, attention_mask=torch.ones_like(input_ids), max_new_tokens=params.max_tokens,
                  min_new_tokens=params.min_tokens or None, do_sample=sample,
                  pad_token_id=self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None
                  else self.tokenizer.eos_token_id,
                  stopping_criteria=StoppingCriteriaList([_Cancelled()]))
        if sample:
            kw.update(temperature=params.temperature, top_p=params.top_p, top_k=0,
                      num_return_sequences=params.n)
        if params.repetition_penalty:
            kw["repetition_penalty"] = params.repetition_penalty
        if params.stop:
            kw.update(stop_strings=params.stop, tokenizer=self.tokenizer)
        return kw

    def _eos_ids(self) -> set[int]:
        eos = self.model.generation_config.eos_token_id
        ids = set(eos if isinstance(eos, list) else [eos]) | {self.tokenizer.eos_token_id}
        return ids - {None}

    def _decode(self, out_ids, prompt_len: int, params: SamplingParams) -> list[Choice]:
        eos = self._eos_ids()
        choices = []
        for row in out_ids:
            new = [int(t) for t in row[prompt_len:]]
            end = next((i for i, t in enumerate(new) if t in eos), None)
            if end is not None:
                new = new[: end + 1]  # drop the padding after EOS in a batch of samples
            text, hit_stop = cut_at_stop(self.tokenizer.decode(new, skip_special_tokens=True), params.stop)
            reason = "stop" if end is not None or hit_stop or len(new) < params.max_tokens else "length"
            choices.append(Choice(text=text, finish_reason=reason, completion_tokens=len(new)))
        return choices

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
        import torch

        ids = self.encode_chat(messages)
        self.check_budget(len(ids), params)
        with self.lock, self._adapter(model_id), torch.inference_mode():
            if params.seed is not None:
                torch.manual_seed(params.seed)
            out = self.model.generate(**self._gen_kwargs(ids, params, cancel))
        choices = self._decode(out, len(ids), params)
        if params.temperature == 0 and params.n > 1:
            choices = [Choice(c.text, c.finish_reason, c.completion_tokens) for c in choices * params.n]
        return Generation(choices=choices, prompt_tokens=len(ids))

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
    iteration, :attr:`finish_reason` and :attr:`completion_tokens` are set.
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
        kw = engine._gen_kwargs(ids, params, cancel)
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
        """Stop the generation (client gone) and wait for the worker thread to finish."""
        self._cancel.set()
        self._thread.join()

    @property
    def cancelled(self) -> bool:
        """Whether the generation was stopped early."""
        return self._cancel.is_set()
