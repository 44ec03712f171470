"""Build a tiny random-weight causal LM with its own tokenizer, for tests, CI and the offline demo.

The model is a Qwen2 architecture (``transformers.Qwen2Config``) of about 0.5M–5M parameters; the
tokenizer is a byte-level BPE trained with the ``tokenizers`` library on the given corpus, using
Qwen2's pre-tokenizer pattern, ChatML special tokens and a chat template with
``{% generation %}`` markers so that TRL's assistant-only loss works. Everything is written with
``save_pretrained`` and reloads through ``AutoTokenizer`` / ``AutoModelForCausalLM``.

Run it::

    slmforge model tiny runs/tiny --corpus ../shared/data/adgenius/products.csv \
        ../shared/data/adgenius/sft_dataset_final.jsonl
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Iterator
from pathlib import Path

from slmforge.errors import DataError

log = logging.getLogger(__name__)

#: Qwen2's pre-tokenizer split pattern (``transformers/models/qwen2/tokenization_qwen2.py``).
QWEN2_PRETOKENIZE_REGEX = (
    r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
)
ENDOFTEXT, IM_START, IM_END = "<|endoftext|>", "<|im_start|>", "<|im_end|>"
SPECIAL_TOKENS = [ENDOFTEXT, IM_START, IM_END]

#: ChatML (the Qwen2 format) with ``{% generation %}`` around assistant content + ``<|im_end|>``,
#: which ``apply_chat_template(return_assistant_tokens_mask=True)`` needs (transformers docs,
#: "Chat templates: training").
CHATML_TEMPLATE = (
    "{%- for message in messages %}"
    "{%- if message['role'] == 'assistant' %}"
    "{{- '<|im_start|>assistant\\n' }}"
    "{% generation %}{{- message['content'] + '<|im_end|>' }}{% endgeneration %}"
    "{{- '\\n' }}"
    "{%- else %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)


def corpus_texts(paths: list[str | Path]) -> Iterator[str]:
    """Yield every string value found in the corpus files.

    JSONL: all string values, recursively (so chat ``messages`` contents and preference texts);
    CSV: every non-empty cell (header excluded); anything else: the file read as UTF-8 text.

    Raises:
        DataError: a file is missing, not UTF-8, or a JSONL line is not JSON (names file:line).
    """
    for path in map(Path, paths):
        if not path.is_file():
            raise DataError("corpus file not found", file=path, fix="pass existing .jsonl/.csv/.txt files")
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as e:
            raise DataError("not valid UTF-8", file=path, fix="re-encode the file as UTF-8") from e
        if path.suffix == ".jsonl":
            for i, line in enumerate(text.splitlines(), 1):
                if line.strip():
                    try:
                        yield from _strings(json.loads(line))
                    except json.JSONDecodeError as e:
                        raise DataError(f"invalid JSON: {e.msg}", file=path, line=i, fix="fix or remove the line") from e
        elif path.suffix == ".csv":
            rows = csv.reader(text.splitlines())
            next(rows, None)
            for row in rows:
                yield from (cell for cell in row if cell.strip())
        else:
            yield text


def _strings(obj) -> Iterator[str]:
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _strings(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _strings(v)


def train_tokenizer(texts: list[str], *, vocab_size: int = 8000):
    """Train a byte-level BPE tokenizer (``tokenizers`` library) with Qwen2's pre-tokenization.

    Args:
        texts: training texts (characters).
        vocab_size: target vocabulary size in tokens, special tokens included; the result can be
            smaller when the corpus has fewer distinct merges.

    Returns:
        ``transformers.PreTrainedTokenizerFast`` with ChatML special tokens, pad ``<|endoftext|>``,
        eos ``<|im_end|>`` and :data:`CHATML_TEMPLATE`.
    """
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(byte_fallback=False))
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2_PRETOKENIZE_REGEX), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS, min_frequency=2,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(texts, trainer=trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token=IM_END, pad_token=ENDOFTEXT,
                                   unk_token=None, bos_token=None, model_max_length=2048,
                                   clean_up_tokenization_spaces=False)
    fast.chat_template = CHATML_TEMPLATE
    return fast


def build_tiny_model(
    out_dir: str | Path,
    corpus_files: list[str | Path],
    *,
    vocab_size: int = 8000,
    hidden_size: int = 64,
    num_layers: int = 2,
    num_heads: int = 4,
    max_positions: int = 2048,
    seed: int = 0,
) -> Path:
    """Build and save a tiny random-weight Qwen2 causal LM plus a tokenizer trained on ``corpus_files``.

    Size: about ``vocab_size * hidden_size`` (tied embeddings) ``+ num_layers * 12 * hidden_size**2``
    parameters, i.e. ~0.6M for the defaults. Takes about a second on CPU for a few MB of text.

    Args:
        out_dir: folder to write (created; existing files are overwritten).
        corpus_files: JSONL / CSV / TXT files whose string values train the tokenizer
            (see :func:`corpus_texts`).
        vocab_size: target vocabulary size in tokens.
        hidden_size: model width; must be divisible by ``num_heads``.
        num_layers: decoder layers.
        num_heads: attention heads (key/value heads = half, grouped-query attention as in Qwen2).
        max_positions: maximum sequence length in tokens.
        seed: torch seed for the random weights.

    Returns:
        ``out_dir`` as a ``Path``, loadable with ``AutoModelForCausalLM`` / ``AutoTokenizer``.

    Raises:
        DataError: unreadable corpus, or a corpus without any text.
    """
    import torch
    from transformers import GenerationConfig, Qwen2Config, Qwen2ForCausalLM

    out = Path(out_dir)
    texts = list(corpus_texts(corpus_files))
    if not texts:
        raise DataError("the corpus has no text", file=", ".join(map(str, corpus_files)),
                        fix="pass files with string values (JSONL), cells (CSV) or text (TXT)")
    tokenizer = train_tokenizer(texts, vocab_size=vocab_size)
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS}
    config = Qwen2Config(
        vocab_size=len(tokenizer), hidden_size=hidden_size, intermediate_size=hidden_size * 2,
        num_hidden_layers=num_layers, num_attention_heads=num_heads, num_key_value_heads=max(1, num_heads // 2),
        max_position_embeddings=max_positions, tie_word_embeddings=True, use_cache=True,
        bos_token_id=None, eos_token_id=ids[IM_END], pad_token_id=ids[ENDOFTEXT],
    )
    torch.manual_seed(seed)
    model = Qwen2ForCausalLM(config)
    model.generation_config = GenerationConfig(eos_token_id=[ids[IM_END], ids[ENDOFTEXT]],
                                               pad_token_id=ids[ENDOFTEXT], bos_token_id=None)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    log.info("tiny model: %d parameters, vocab %d tokens → %s", model.num_parameters(), len(tokenizer), out)
    return out
