"""Issue 2 acceptance on the AdGenius seed files (skipped when ../shared/data is absent)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from slmforge.cli import app
from slmforge.data.convert import convert_file
from slmforge.jsontext import embedded_objects
from slmforge.data.io import read_rows
from slmforge.data.validate import validate_file

runner = CliRunner()


@pytest.mark.parametrize(("name", "fmt"), [("sft_dataset_final.jsonl", "messages"),
                                           ("rm_dataset_final.jsonl", "preference")])
def test_seed_files_validate_clean_with_612_rows(shared_data, name, fmt):
    result = runner.invoke(app, ["data", "validate", str(shared_data / name)])
    assert result.exit_code == 0, result.output
    assert f"612 rows, format {fmt}" in result.output
    report = validate_file(shared_data / name)
    assert (report.rows, report.format, report.problems) == (612, fmt, [])


def test_sft_to_openai_chat_and_back_is_identical(shared_data, tmp_path):
    src = shared_data / "sft_dataset_final.jsonl"
    oa, back = tmp_path / "openai.jsonl", tmp_path / "back.jsonl"
    assert runner.invoke(app, ["data", "convert", str(src), str(oa), "--to", "openai-chat"]).exit_code == 0
    assert validate_file(oa).ok
    r = convert_file(oa, back, to="messages")
    assert r.rows == 612 and not r.dropped
    assert [o for _, o in read_rows(back)] == [o for _, o in read_rows(src)]


@pytest.mark.parametrize(("to", "suffix", "fmt"), [("openai-dpo", ".jsonl", "openai-dpo"),
                                                   ("preference", ".jsonl", "preference"),
                                                   ("verl", ".parquet", "verl")])
def test_preference_file_converts_and_each_output_validates(shared_data, tmp_path, to, suffix, fmt):
    out = tmp_path / f"out{suffix}"
    result = runner.invoke(app, ["data", "convert", str(shared_data / "rm_dataset_final.jsonl"), str(out), "--to", to])
    assert result.exit_code == 0, result.output
    report = validate_file(out)
    assert (report.format, report.rows, report.problems) == (fmt, 612, [])
    if to == "openai-dpo":  # OpenAI's DPO format has no column for the strategy: reported, not silent
        assert "method in 612 rows" in result.output
    if to == "verl":        # a GRPO row has no rejected side
        assert "rejected in 612 rows" in result.output
    if to == "preference":  # same format: lossless, strategy kept
        assert [o for _, o in read_rows(out)] == [o for _, o in read_rows(shared_data / "rm_dataset_final.jsonl")]


def test_split_by_product_has_zero_overlap_and_prints_task_counts(shared_data, tmp_path):
    src = shared_data / "sft_dataset_final.jsonl"
    result = runner.invoke(app, ["data", "split", str(src), "--by", "subject", "--eval-fraction", "0.2", "--seed", "7",
                                 "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output

    def products(path):
        return {embedded_objects(o["messages"][0]["content"])[0]["product_name"] for _, o in read_rows(path)}

    train, test = tmp_path / "sft_dataset_final.train.jsonl", tmp_path / "sft_dataset_final.test.jsonl"
    n_train, n_test = sum(1 for _ in read_rows(train)), sum(1 for _ in read_rows(test))
    assert n_train + n_test == 612 and 0.7 < n_train / 612 < 0.9
    assert products(train) & products(test) == set()
    assert len(products(train) | products(test)) == 67  # 68 products, two share the name 屏障守护面霜
    assert "total" in result.output and str(n_train) in result.output and str(n_test) in result.output


def test_stats_on_seed_preference_file_counts_strategies(shared_data):
    result = runner.invoke(app, ["data", "stats", str(shared_data / "rm_dataset_final.jsonl")])
    assert result.exit_code == 0, result.output
    assert "weak 319, exaggerated 170, fake 123" in result.output
    assert "rejected-side unique ratio: 1.000" in result.output


def test_seed_prompt_embeds_the_product_json(shared_data):
    line, obj = next(read_rows(shared_data / "rm_dataset_final.jsonl"))
    product = embedded_objects(obj["prompt"])[0]
    assert line == 1 and product["product_name"] == json.loads(obj["prompt"].split("\n\n", 1)[1])["product_name"]


def test_split_with_kit_counts_each_task_on_both_sides(shared_data, example_kit_path, tmp_path):
    if not (example_kit_path / "kit.yaml").is_file():
        pytest.skip(f"example kit not found at {example_kit_path}")
    src = shared_data / "sft_dataset_final.jsonl"
    result = runner.invoke(app, ["data", "split", str(src), "--seed", "7", "-o", str(tmp_path),
                                 "--kit", str(example_kit_path)])
    assert result.exit_code == 0, result.output
    rows = {line.split("│")[1].strip(): line for line in result.output.splitlines() if line.count("│") == 4}
    tasks = [t for t in rows if t.startswith(("social_media_", "ecommerce_", "paid_ad_"))]
    assert len(tasks) == 9 and "unknown" not in rows
    counts = [tuple(int(c) for c in rows[t].split("│")[2:4]) for t in tasks]
    assert sum(a for a, _ in counts) + sum(b for _, b in counts) == 612 and all(a > b > 0 for a, b in counts)
