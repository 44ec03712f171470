"""task_for_prompt: prompts map back to their task and subject."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from slmforge.kit import load_kit, render_student_prompt
from slmforge.kit.match import instruction_prefix, task_for_prompt
from slmforge.kit.render import subject_json

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
# the seed's content types as its instructions name them (README of the seed data)
SEED_WORDS = {
    "侧重使用反馈": "social_media_review", "科普知识": "social_media_educational",
    "破除护肤误区": "social_media_myth_busting", "个人使用故事": "social_media_storytelling",
    "电商平台产品介绍": "ecommerce_long_form", "钩子+利益点+行动号召": "paid_ad_cta",
    "痛点-放大-解决": "paid_ad_pas", "之前-之后-桥梁": "paid_ad_bab", "特点-优势-好处": "paid_ad_fab",
}


@pytest.fixture(scope="module")
def seed_rows():
    path = Path(__file__).resolve().parents[3] / "shared" / "data" / "adgenius" / "sft_dataset_final.jsonl"
    if not path.is_file():
        pytest.skip(f"shared seed data not found at {path}")
    return [json.loads(line)["messages"][0]["content"] for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def replay(seed_rows):
    return load_kit(EXAMPLES / "adgenius-replay")


def test_replay_student_templates_reproduce_seed_prompts_byte_for_byte(replay, seed_rows):
    rendered = {render_student_prompt(replay.kit, t, s) for t in replay.kit.tasks for s in replay.subjects.values()}
    assert len(seed_rows) == 612
    missing = [r for r in seed_rows if r not in rendered]
    assert not missing, f"{len(missing)} seed prompts not reproduced, e.g. {missing[0]!r}"


def test_every_seed_row_maps_to_its_task_and_product(replay, seed_rows):
    tasks = Counter()
    products = set()
    for prompt in seed_rows:
        task_id, sid = task_for_prompt(replay, prompt)
        first_line = prompt.split("\n", 1)[0]
        expected = [t for w, t in SEED_WORDS.items() if w in first_line]
        assert [task_id] == expected, first_line
        record = json.loads(prompt.split("\n\n", 1)[1])
        assert sid is not None and replay.subjects[sid]["product_name"] == record["product_name"]
        assert json.loads(subject_json(replay.subjects[sid])) == record  # the right one of duplicate names
        tasks[task_id] += 1
        products.add(sid)
    assert sorted(tasks.values()) == [68] * 9
    assert len(products) == 68


def test_seed_prompts_with_reordered_json_still_map(replay, seed_rows):
    prompt = seed_rows[-1]
    head, body = prompt.split("\n\n", 1)
    reordered = head + "\n\n" + json.dumps(dict(reversed(json.loads(body).items())), ensure_ascii=False)
    assert reordered != prompt
    assert task_for_prompt(replay, reordered) == task_for_prompt(replay, prompt)


def test_instruction_prefix(replay):
    assert instruction_prefix(replay, "paid_ad_pas") == '请为"原素方程"品牌的如下产品创作一条痛点-放大-解决风格的付费广告文案\n\n'
    with pytest.raises(KeyError):
        instruction_prefix(replay, "nope")


def test_elemental_prompts_map_back_with_and_without_value():
    lk = load_kit(EXAMPLES / "elemental-equation")
    for task in lk.kit.tasks:
        for sid, subject in list(lk.subjects.items())[:10]:
            assert task_for_prompt(lk, render_student_prompt(lk.kit, task, subject)) == (task.id, sid)
            with_value = render_student_prompt(lk.kit, task, subject, value="温和")
            assert task_for_prompt(lk, "  " + with_value + "\n") == (task.id, sid)


def test_subject_in_instruction_and_unknown_prompts(minikit_path):
    lk = load_kit(minikit_path)
    for task in lk.kit.tasks:
        for sid, subject in lk.subjects.items():
            assert task_for_prompt(lk, render_student_prompt(lk.kit, task, subject)) == (task.id, sid)
    # a product not in the catalog: task known from the instruction, subject unknown
    ad = lk.kit.task("paid_ad_cta")
    other = dict(next(iter(lk.subjects.values())), name="Oolong Dawn")
    assert task_for_prompt(lk, render_student_prompt(lk.kit, ad, other)) == ("paid_ad_cta", None)
    assert task_for_prompt(lk, "What is the weather like?") == (None, None)
