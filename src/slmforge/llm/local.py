"""``LocalModel``: a transformers causal LM (hub id or folder, optional LoRA adapter) that chats.

Prompts are rendered with the tokenizer's own chat template (``apply_chat_template``,
``add_generation_prompt=True``), padded on the left so a batch generates in one ``generate``
call, and decoded without the prompt. ``temperature == 0`` is greedy decoding; ``stop`` strings
use transformers' ``stop_strings`` and are cut from the text, as the OpenAI API does.
"""

from __future__ import annotations

from slmforge.errors import ConfigError


class LocalModel:
    """A local chat model for generation (the weak model, base / fine-tuned candidates).

    Args:
        model: any model source (:mod:`slmforge.models.sources`): folder, hub id, ``.gguf`` file,
            package that ships a GGUF, Ollama model.
        adapter: folder of a PEFT LoRA adapter to apply on top, or ``None``. When the adapter
            folder holds a tokenizer (TRL saves one there) it is used instead of the base's.
        device: torch device (``"cpu"``, ``"cuda"``, ``"cuda:1"``); ``None`` = CUDA when available.
        dtype: weights dtype name (:data:`slmforge.models.load.DTYPES`).

    Raises:
        ConfigError: the model does not load (what was tried is named), or its tokenizer has no chat template.
    """

    def __init__(self, model: str, adapter: str | None = None, device: str | None = None, dtype: str = "auto") -> None:
        import torch

        from slmforge.models import load_model

        self.name = model
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        loaded = load_model(model, device=self.device, adapter=adapter, dtype=dtype)
        self.tokenizer, self.model = loaded.tokenizer, loaded.model
        if not self.tokenizer.chat_template:
            raise ConfigError(f"tokenizer of {loaded.name} has no chat template", field="model",
                              fix="use an instruct/chat model, or a folder whose tokenizer_config.json has chat_template")
        self.tokenizer.padding_side = "left"
        self.model.eval()

    def render(self, messages: list[dict]) -> str:
        """The prompt text of ``messages`` under the chat template, ending with the assistant header."""
        return self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)

    def generate_with_usage(self, batch_messages: list[list[dict]], *, max_new_tokens: int = 256,
                            temperature: float = 0.0, top_p: float | None = None, seed: int | None = None,
                            stop: list[str] | str | None = None, n: int = 1
                            ) -> tuple[list[list[str]], list[int], list[list[int]]]:
        """Like :meth:`generate`, also returning usage.

        Returns:
            ``(texts, prompt_tokens, completion_tokens)``: texts ``[batch][n]``, prompt tokens
            ``[batch]``, completion tokens ``[batch][n]`` (tokens before the first pad/EOS).
        """
        from slmforge.models.generate import SamplingParams, encode_chat, generate

        stops = [stop] if isinstance(stop, str) else list(stop or [])
        params = SamplingParams(max_tokens=max_new_tokens, temperature=temperature,
                                top_p=top_p if top_p is not None else 1.0, n=n, stop=stops, seed=seed)
        gens = generate(self.model, self.tokenizer, [encode_chat(self.tokenizer, m) for m in batch_messages], params)
        texts = [[c.text for c in g.choices] for g in gens]
        counts = [[c.completion_tokens for c in g.choices] for g in gens]
        return texts, [g.prompt_tokens for g in gens], counts

    def generate(self, batch_messages: list[list[dict]], *, max_new_tokens: int = 256, temperature: float = 0.0,
                 top_p: float | None = None, seed: int | None = None, stop: list[str] | str | None = None,
                 n: int = 1) -> list[list[str]]:
        """Generate replies for a batch of chats.

        Args:
            batch_messages: ``[batch]`` lists of chat messages.
            max_new_tokens: completion cap per reply (tokens).
            temperature: 0 = greedy decoding; > 0 samples.
            top_p: nucleus sampling mass (sampling only).
            seed: torch seed set before sampling.
            stop: strings that end a reply (cut from the returned text).
            n: replies per chat.

        Returns:
            ``[batch][n]`` reply texts.
        """
        return self.generate_with_usage(batch_messages, max_new_tokens=max_new_tokens, temperature=temperature,
                                        top_p=top_p, seed=seed, stop=stop, n=n)[0]
