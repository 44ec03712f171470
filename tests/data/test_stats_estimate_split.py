"""data stats / estimate / split on small synthetic files, and token counting."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from slmforge.cli import app
from slmforge.data.estimate import default_epochs, estimate_file, lookup_price, num_tokens_from_messages
from slmforge.data.io import read_rows, write_jsonl
from slmforge.data.split import split_file
from slmforge.data.stats import stats_file
from slmforge.data.tokens import estimate_tokens, load_token_counter
from slmforge.errors import DataError

runner = CliRunner()


def pref_rows(n_products: int = 5, per: int = 3) -> list[dict]:
    out = []
    for p in range(n_products):
        for t in range(per):
            prompt = f"Write task {t} for\n\n" + json.dumps({"product_name": f"P{p}", "category": "serum"})
            out.append({"prompt": prompt, "chosen": f"Good text {p}-{t}", "rejected": f"Bad {t}",
                        "method": ["weak", "fake", "weak"][t], "task": f"task{t}"})
    return out


@pytest.mark.parametrize(("n", "epochs"), [(1, 25), (3, 25), (10, 10), (33, 3), (34, 3), (5000, 3),
                                          (8334, 2), (20000, 1), (30000, 1)])
def test_default_epochs_rule(n, epochs):
    assert default_epochs(n) == epochs


def test_cookbook_message_overhead():
    msgs = [{"role": "user", "content": "ab", "name": "x"}, {"role": "assistant", "content": "c", "weight": 1}]
    # count = 1 token per character here: 2 messages × 3 + roles (4 + 9) + contents (2 + 1) + name (1) + 1 + 3
    assert num_tokens_from_messages(msgs, len) == 6 + 13 + 3 + 2 + 3


def test_estimate_uses_the_price_table_and_epoch_rule(tmp_path):
    src = tmp_path / "sft.jsonl"
    write_jsonl(src, [{"messages": [{"role": "user", "content": "x" * 40}, {"role": "assistant", "content": "y" * 80}]}] * 10)
    e = estimate_file(src, model="gpt-4o-mini-2024-07-18", tokenizer="estimate")
    per_example = 3 + estimate_tokens("user") + 10 + 3 + estimate_tokens("assistant") + 20 + 3
    assert (e.examples, e.tokens_min, e.epochs) == (10, per_example, 10)
    assert e.billed_tokens == 10 * 10 * per_example
    assert e.cost_usd == pytest.approx(e.billed_tokens / 1e6 * 3.00)
    assert not e.tokens_exact
    assert estimate_file(src, model="anything", price_per_1m=10.0, epochs=2, tokenizer="estimate").cost_usd == \
        pytest.approx(2 * 10 * per_example / 1e6 * 10.0)


def test_estimate_unknown_model_is_a_user_error(tmp_path):
    with pytest.raises(DataError, match="--model: model 'gpt-9' has no fine-tuning price.*fix: use one of"):
        lookup_price("openai", "gpt-9")
    src = tmp_path / "s.jsonl"
    write_jsonl(src, [{"prompt": "a", "completion": "b"}])
    result = runner.invoke(app, ["data", "estimate", str(src), "--provider", "acme", "--model", "m"])
    assert result.exit_code == 2 and "--provider: provider 'acme' is not in the price table" in result.output


def test_estimate_cli_prints_cost_and_flags_estimate(tmp_path):
    src = tmp_path / "s.jsonl"
    write_jsonl(src, pref_rows())
    result = runner.invoke(app, ["data", "estimate", str(src), "--model", "gpt-4.1-mini", "-t", "estimate"])
    assert result.exit_code == 0, result.output
    assert "15 examples" in result.output and "epochs: 6 (default rule)" in result.output
    assert "ESTIMATE" in result.output and "$5.00 per 1M" in result.output


def test_stats_counts_tasks_strategies_duplicates(tmp_path):
    src = tmp_path / "p.jsonl"
    data = pref_rows()
    write_jsonl(src, data + [data[0]])
    st = stats_file(src, tokenizer="estimate")
    assert st.rows == 16 and st.format == "preference"
    assert st.tasks == {"task0": 6, "task1": 5, "task2": 5}
    assert st.strategies == {"weak": 11, "fake": 5}
    assert (st.duplicate_rows, st.duplicate_prompts) == (1, 1)
    assert st.rejected_unique_ratio == pytest.approx(3 / 16)
    assert st.lengths["chosen"].min == len("Good text 0-0") and st.lengths["rejected"].max == len("Bad 0")
    assert st.lengths["rejected"].tok_max == estimate_tokens("Bad 0")


def test_stats_with_a_local_hf_tokenizer(tmp_path):
    from tokenizers import Tokenizer, models, pre_tokenizers

    tok = Tokenizer(models.WordLevel({"[UNK]": 0, "Bad": 1}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    (tmp_path / "tok").mkdir()
    tok.save(str(tmp_path / "tok" / "tokenizer.json"))
    counter = load_token_counter(str(tmp_path / "tok"))
    assert counter.exact and counter.count("Bad 0 x") == 3
    src = tmp_path / "p.jsonl"
    write_jsonl(src, pref_rows(1, 1))
    result = runner.invoke(app, ["data", "stats", str(src), "--tokenizer", str(tmp_path / "tok")])
    assert result.exit_code == 0, result.output
    assert "ESTIMATE" not in result.output
    st = stats_file(src, tokenizer=str(tmp_path / "tok"))
    assert st.tokens_exact and st.lengths["rejected"].tok_max == 2  # "Bad 0" → [Bad, UNK]


def test_tokenizer_errors_are_user_errors(tmp_path, monkeypatch):
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))  # empty cache: offline, never downloads
    with pytest.raises(DataError, match="not available offline"):
        load_token_counter("tiktoken:o200k_base")
    assert load_token_counter(None).name == "estimate"
    with pytest.raises(DataError, match="no tokenizer.json"):
        load_token_counter(str(tmp_path))


def test_estimate_tokens_cjk_and_latin():
    assert estimate_tokens("原素方程") == 4
    assert estimate_tokens("abcdefgh") == 2
    assert estimate_tokens("") == 0


def test_split_by_subject_from_prompt_json(tmp_path):
    src = tmp_path / "p.jsonl"
    write_jsonl(src, pref_rows(10, 3))
    r = split_file(src, eval_fraction=0.3, seed=3)
    train = [o for _, o in read_rows(r.train_path)]
    test = [o for _, o in read_rows(r.test_path)]
    products = lambda rows: {json.loads(o["prompt"].split("\n\n")[1])["product_name"] for o in rows}  # noqa: E731
    assert products(train) & products(test) == set()
    assert (len(train), len(test), r.train_subjects, r.test_subjects) == (21, 9, 7, 3)
    assert r.train_tasks == {"task0": 7, "task1": 7, "task2": 7} and sum(r.test_tasks.values()) == 9
    assert split_file(src, eval_fraction=0.3, seed=3).train_path == r.train_path
    assert [o for _, o in read_rows(r.train_path)] == train  # same seed, same split
    other = split_file(src, eval_fraction=0.3, seed=4, out_dir=tmp_path / "s4")
    assert products([o for _, o in read_rows(other.train_path)]) != products(train)


def test_split_prefers_subject_id_and_reports_rows_without_subject(tmp_path):
    src = tmp_path / "s.jsonl"
    write_jsonl(src, [{"prompt": "a", "completion": "b", "subject_id": f"s{i % 2}"} for i in range(6)])
    r = split_file(src, eval_fraction=0.5)
    assert (r.train_subjects, r.test_subjects, r.train_rows, r.test_rows) == (1, 1, 3, 3)
    write_jsonl(src, [{"prompt": "a", "completion": "b"}, {"prompt": "c", "completion": "d"}])
    result = runner.invoke(app, ["data", "split", str(src)])
    assert result.exit_code == 2
    assert f"{src}:1: subject_id: no subject" in result.output and "--subject-key" in result.output
    assert runner.invoke(app, ["data", "split", str(src), "--by", "row", "--eval-fraction", "0.5"]).exit_code == 0
    assert runner.invoke(app, ["data", "split", str(src), "--eval-fraction", "1.5"]).exit_code == 2


def test_split_is_stratified_by_task_within_the_subject_split(tmp_path):
    """A rare task (2 of 12 subjects) still gets a held-out subject; tasks short of 3 held-out rows warn."""
    rows = []
    for i in range(12):
        tasks = ["ad", "blurb"] + (["tagline"] if i in (3, 7) else [])
        rows += [{"subject_id": f"p{i:02d}", "task": t, "messages": [{"role": "user", "content": f"{t} for p{i}"},
                  {"role": "assistant", "content": "x"}]} for t in tasks]
    src = tmp_path / "rows.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    for seed in range(8):
        rep = split_file(src, eval_fraction=0.2, seed=seed, out_dir=tmp_path / f"s{seed}")
        assert rep.test_tasks["tagline"] == 1 and rep.train_tasks["tagline"] == 1, seed
        assert rep.test_tasks["ad"] >= 1 and rep.test_tasks["blurb"] >= 1
        test = [o for _, o in read_rows(rep.test_path)]
        train = [o for _, o in read_rows(rep.train_path)]
        assert not {o["subject_id"] for o in test} & {o["subject_id"] for o in train}
        assert any("'tagline' has 1 held-out row" in w for w in rep.warnings)
