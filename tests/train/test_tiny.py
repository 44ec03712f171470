"""build_tiny_model: reloads through the Auto classes, encodes identically, masks assistant tokens."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from slmforge.cli import app
from slmforge.errors import DataError
from slmforge.train.tiny import IM_END, corpus_texts, train_tokenizer

from .conftest import MINIKIT


def test_reload_encodes_identically(tiny_model):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model)
    texts = list(corpus_texts([MINIKIT / "products.csv", MINIKIT / "golden.jsonl"]))
    fresh = train_tokenizer(texts, vocab_size=600)
    samples = texts[:50] + ["Hello world's  test\n\n  x 123 🌋 原素方程 <|im_end|>"]
    for s in samples:
        assert tok(s)["input_ids"] == fresh(s)["input_ids"]
        assert tok.decode(tok(s)["input_ids"]) == s
    model = AutoModelForCausalLM.from_pretrained(tiny_model)
    assert 10_000 < model.num_parameters() < 5_000_000
    assert model.config.vocab_size == len(tok)
    assert tok.pad_token_id != tok.eos_token_id
    assert tok.eos_token == IM_END == tok.convert_ids_to_tokens(model.config.eos_token_id)


def test_chat_template_masks_only_assistant_tokens(tiny_model):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model)
    msgs = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Describe the cream."},
            {"role": "assistant", "content": "A light cream."}]
    out = tok.apply_chat_template(msgs, tokenize=True, return_dict=True, return_assistant_tokens_mask=True)
    ids, mask = out["input_ids"], out["assistant_masks"]
    masked = tok.decode([i for i, m in zip(ids, mask, strict=True) if m])
    assert masked == "A light cream." + IM_END
    prompt = tok.apply_chat_template(msgs[:2], tokenize=False, add_generation_prompt=True)
    assert prompt.endswith("<|im_start|>assistant\n") and prompt.count("<|im_start|>") == 3


def test_corpus_errors_name_file_and_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"a": "x"}\n{oops\n', encoding="utf-8")
    with pytest.raises(DataError) as e:
        list(corpus_texts([bad]))
    assert "bad.jsonl:2" in str(e.value)
    assert list(corpus_texts([MINIKIT / "golden.jsonl"]))[0] == next(
        v for v in json.loads((MINIKIT / "golden.jsonl").read_text().splitlines()[0]).values() if isinstance(v, str))


def test_cli_model_tiny(tmp_path):
    out = tmp_path / "m"
    r = CliRunner().invoke(app, ["model", "tiny", str(out), "--corpus", str(MINIKIT / "products.csv"),
                                 str(MINIKIT / "golden.jsonl"), "--vocab-size", "400", "--hidden-size", "32"])
    assert r.exit_code == 0, r.output
    assert (out / "tokenizer.json").is_file() and (out / "model.safetensors").is_file()
    r = CliRunner().invoke(app, ["model", "tiny", str(tmp_path / "n"), "--corpus", str(tmp_path / "missing.txt")])
    assert r.exit_code == 2 and "missing.txt" in r.output
