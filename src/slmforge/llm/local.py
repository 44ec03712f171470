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

    Raises:
        ConfigError: the model does not load (what was tried is named), or its tokenizer has no chat template.
    """

    def __init__(self, model: str, adapter: str | None = None, device: str | None = None) -> None:
        import torch

        from slmforge.models import load_model

        self.name = model
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        loaded = load_model(model, device=self.device, adapter=adapter)
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
        import torch

        stops = [stop] if isinstance(stop, str) else list(stop or [])
        prompts = [self.render(m) for m in batch_messages]
        enc = self.tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False).to(self.device)
        kwargs: dict = {"max_new_tokens": max_new_tokens, "num_return_sequences": n,
                        "pad_token_id": self.tokenizer.pad_token_id}
        if temperature > 0:
            kwargs.update(do_sample=True, temperature=temperature)
            if top_p is not None:
                kwargs["top_p"] = top_p
            if seed is not None:
                torch.manual_seed(seed)
        else:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        if stops:
            kwargs.update(stop_strings=stops, tokenizer=self.tokenizer)
        with torch.inference_mode():
            out = self.model.generate(**enc, **kwargs)
        new = out[:, enc["input_ids"].shape[1]:]  # [batch * n, new_tokens]
        ends = {self.tokenizer.pad_token_id, self.tokenizer.eos_token_id}
        texts: list[list[str]] = []
        counts: list[list[int]] = []
        for b in range(len(prompts)):
            row_texts, row_counts = [], []
            for j in range(n):
                ids = new[b * n + j].tolist()
                used = next((k for k, t in enumerate(ids) if t in ends), len(ids))
                text = self.tokenizer.decode(ids[:used], skip_special_tokens=True)
                cuts = [text.find(s) for s in stops if s in text]
                row_texts.append(text[: min(cuts)] if cuts else text)
                row_counts.append(used)
            texts.append(row_texts)
            counts.append(row_counts)
        prompt_tokens = enc["attention_mask"].sum(dim=1).tolist()
        return texts, prompt_tokens, counts

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
