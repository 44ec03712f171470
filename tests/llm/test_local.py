"""LocalModel (transformers generation) and the client's ``local`` backend, on a tiny random Qwen2."""

from __future__ import annotations

import pytest

from slmforge.llm import LLMClient, ModelConfig
from slmforge.testing.server import ScriptedServer
from tests.llm.conftest import make_batch

CORPUS = "Calm skincare copy for sensitive skin. Gentle serum, daily moisturizer, barrier repair. " * 20


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    """A tiny random-weight Qwen2 chat model folder (ChatML template), built offline."""
    from slmforge.train.tiny import build_tiny_model

    root = tmp_path_factory.mktemp("tiny")
    corpus = root / "corpus.txt"
    corpus.write_text(CORPUS, encoding="utf-8")
    return str(build_tiny_model(root / "model", [corpus], vocab_size=300, hidden_size=32))


@pytest.fixture(scope="module")
def local(tiny_model):
    from slmforge.llm.local import LocalModel

    return LocalModel(tiny_model, device="cpu")


def test_greedy_is_deterministic_and_batch_matches_single(local):
    chats = [[{"role": "user", "content": "gentle serum"}],
             [{"role": "system", "content": "Be calm."}, {"role": "user", "content": "a much longer prompt about skin"}]]
    batched = local.generate(chats, max_new_tokens=8, temperature=0.0)
    assert len(batched) == 2 and all(len(r) == 1 for r in batched)
    # left padding: each chat generates the same text alone as in the batch
    singles = [local.generate([c], max_new_tokens=8, temperature=0.0)[0] for c in chats]
    assert batched == singles
    assert local.generate(chats, max_new_tokens=8, temperature=0.0) == batched
    assert "<|im_start|>assistant" in local.render(chats[0])


def test_sampling_n_and_usage(local):
    texts, prompt_tokens, counts = local.generate_with_usage([[{"role": "user", "content": "serum"}]],
                                                             max_new_tokens=6, temperature=1.0, seed=0, n=3)
    assert len(texts[0]) == 3 and len(counts[0]) == 3
    assert prompt_tokens[0] > 3 and all(0 <= c <= 6 for c in counts[0])
    again = local.generate([[{"role": "user", "content": "serum"}]], max_new_tokens=6, temperature=1.0, seed=0, n=3)
    assert again == texts  # seeded sampling repeats


def test_stop_strings_are_cut(local):
    free = local.generate([[{"role": "user", "content": "skin"}]], max_new_tokens=12, temperature=0.0)[0][0]
    if len(free) < 3:
        pytest.skip("the random model ended at once; nothing to stop")
    stop = free[1:3]
    cut = local.generate([[{"role": "user", "content": "skin"}]], max_new_tokens=12, temperature=0.0, stop=[stop])[0][0]
    assert stop not in cut and free.startswith(cut)


def test_client_local_backend_batches_and_caches(tiny_model, ledger_path):
    cfg = ModelConfig(backend="local", model=tiny_model, device="cpu", batch_size=4, temperature=0.0, max_tokens=6)
    client = LLMClient({"weak": cfg}, ledger=ledger_path)
    first = client.chat_many("weak", make_batch(6), stage="prefs", progress=False)
    assert all(r.ok and r.cost_usd == 0 and r.prompt_tokens > 0 for r in first)
    second = client.chat_many("weak", make_batch(6), stage="prefs", progress=False)
    assert all(r.from_cache for r in second) and [r.text for r in second] == [r.text for r in first]
    rows = client.ledger.rows()
    assert [r["backend"] for r in rows] == ["local"] * 12 and sum(r["from_cache"] for r in rows) == 6


def test_local_batches_fill_batch_size_above_max_concurrency(tiny_model, ledger_path, monkeypatch):
    """A local model generates ``batch_size`` prompts per call even when ``max_concurrency`` is smaller
    (the micro-batcher can only batch what the client lets into flight)."""
    from slmforge.llm.local import LocalModel

    sizes = []
    real = LocalModel.generate_with_usage

    def spy(self, batch, **kw):
        sizes.append(len(batch))
        return real(self, batch, **kw)

    monkeypatch.setattr(LocalModel, "generate_with_usage", spy)
    cfg = ModelConfig(backend="local", model=tiny_model, device="cpu", batch_size=12, max_concurrency=2,
                      temperature=0.0, max_tokens=4)
    assert cfg.in_flight() == 12
    client = LLMClient({"weak": cfg}, ledger=ledger_path)
    out = client.chat_many("weak", make_batch(12), stage="prefs", progress=False)
    assert all(r.ok for r in out)
    assert sizes == [12]


def test_local_model_that_cannot_load_falls_back(tmp_path, ledger_path):
    with ScriptedServer() as srv:
        fallback = ModelConfig(backend="openai", model="gpt-4o-mini", base_url=srv.base_url)
        cfg = ModelConfig(backend="local", model=str(tmp_path / "missing"), fallback=[fallback])
        result = LLMClient({"weak": cfg}, ledger=ledger_path).chat("weak", make_batch(1)[0], stage="prefs")
    assert result.ok and result.model == "gpt-4o-mini" and result.fallback_from == str(tmp_path / "missing")
    assert result.text.startswith("echo: item number 0")
