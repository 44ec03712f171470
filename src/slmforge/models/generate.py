"""The one generation function: evaluation (the local LLM backend) and serving decode the same way.

Same sampling parameters (OpenAI semantics: ``temperature == 0`` is greedy; sampling uses
``temperature`` and ``top_p`` with transformers' default ``top_k`` turned off, as the OpenAI API and
vLLM sample), the same end-of-sequence set (the generation config's ``eos_token_id`` list plus the
tokenizer's EOS), the same stop-string cut (the text before the first stop string, as the OpenAI API
returns it) and the same seeding (``torch.manual_seed(seed)`` right before ``generate``).
Prompts are token ids from the tokenizer's chat template (:func:`encode_chat`); a batch is padded on
the left and generated in one ``model.generate`` call.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass
class SamplingParams:
    """Sampling settings of one request (OpenAI semantics).

    Attributes:
        max_tokens: completion tokens at most.
        temperature: 0 = greedy decoding; > 0 samples.
        top_p: nucleus mass in (0, 1].
        n: choices to return.
        stop: strings that end a choice (not included in the text).
        seed: seeds torch's RNG before generating (reproducible sampling).
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
    """The ``n`` choices of one prompt and the prompt length in tokens."""

    choices: list[Choice]
    prompt_tokens: int


def cut_at_stop(text: str, stops: list[str]) -> tuple[str, bool]:
    """Cut ``text`` before the first occurrence of any stop string.

    Returns:
        (text before the stop, whether a stop string was found).
    """
    cut = min((i for i in (text.find(s) for s in stops) if i >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)


def encode_chat(tokenizer, messages: list[dict]) -> list[int]:
    """Token ids of ``messages`` through the tokenizer's chat template, with the generation prompt."""
    enc = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True, return_dict=True)
    return list(enc["input_ids"])


def eos_ids(model, tokenizer) -> set[int]:
    """Token ids that end a completion: the generation config's ``eos_token_id`` (int or list) and the tokenizer's."""
    eos = model.generation_config.eos_token_id
    ids = set(eos if isinstance(eos, list) else [eos]) | {tokenizer.eos_token_id}
    return ids - {None}


def generation_kwargs(model, tokenizer, params: SamplingParams, cancel: threading.Event | None = None) -> dict:
    """Keyword arguments of ``model.generate`` for ``params`` (no inputs).

    ``cancel``: when set, a stopping criterion ends the generation at the next token.
    """
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList

    class _Cancelled(StoppingCriteria):
        def __call__(self, input_ids, scores, **kwargs):  # noqa: D102 - transformers API
            return torch.full((input_ids.shape[0],), cancel is not None and cancel.is_set(), dtype=torch.bool,
                              device=input_ids.device)

    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    sample = params.temperature > 0
    kw: dict = {"max_new_tokens": params.max_tokens, "min_new_tokens": params.min_tokens or None, "do_sample": sample,
                "pad_token_id": pad, "eos_token_id": sorted(eos_ids(model, tokenizer)),
                "stopping_criteria": StoppingCriteriaList([_Cancelled()]),
                "num_return_sequences": params.n if sample else 1}
    if sample:
        kw.update(temperature=params.temperature, top_p=params.top_p, top_k=0)
    else:
        kw.update(temperature=None, top_p=None, top_k=None)
    if params.repetition_penalty:
        kw["repetition_penalty"] = params.repetition_penalty
    if params.stop:
        kw.update(stop_strings=params.stop, tokenizer=tokenizer)
    return kw


def decode_choice(tokenizer, new_ids: list[int], eos: set[int], params: SamplingParams) -> Choice:
    """The text of one completion's token ids: cut at the first EOS, decoded, cut at the first stop string."""
    end = next((i for i, t in enumerate(new_ids) if t in eos), None)
    used = new_ids[:end] if end is not None else new_ids
    text, hit_stop = cut_at_stop(tokenizer.decode(used, skip_special_tokens=True), params.stop)
    reason = "stop" if end is not None or hit_stop or len(new_ids) < params.max_tokens else "length"
    return Choice(text=text, finish_reason=reason, completion_tokens=len(used) + (end is not None))


def generate(model, tokenizer, prompts: list[list[int]], params: SamplingParams,
             cancel: threading.Event | None = None) -> list[Generation]:
    """Generate ``params.n`` choices for each prompt (token ids) in one batched ``generate`` call.

    Args:
        model: a causal LM (PEFT-wrapped or not), in eval mode.
        tokenizer: its tokenizer.
        prompts: ``[batch][tokens]`` prompt ids (from :func:`encode_chat`).
        params: sampling settings; greedy with ``n > 1`` repeats the one greedy text.
        cancel: set it to stop early.

    Returns:
        one :class:`Generation` per prompt.
    """
    import torch

    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    width = max(len(p) for p in prompts)
    input_ids = torch.tensor([[pad] * (width - len(p)) + p for p in prompts], device=model.device)
    mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts], device=model.device)
    kw = generation_kwargs(model, tokenizer, params, cancel)
    with torch.inference_mode():
        if params.seed is not None:
            torch.manual_seed(params.seed)
        out = model.generate(input_ids=input_ids, attention_mask=mask, **kw)
    eos = eos_ids(model, tokenizer)
    per = kw["num_return_sequences"]
    results = []
    for b, p in enumerate(prompts):
        choices = [decode_choice(tokenizer, out[b * per + j, width:].tolist(), eos, params) for j in range(per)]
        if per < params.n:
            choices = [Choice(c.text, c.finish_reason, c.completion_tokens) for c in choices * params.n]
        results.append(Generation(choices=choices, prompt_tokens=len(p)))
    return results
