"""Parts of the synth stage that need no model: configs, allocation, near-dups, rules, prompts."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slmforge.errors import ConfigError
from slmforge.kit import load_kit
from slmforge.synth import CleanConfig, PrefsConfig, SynthConfig, allocate, load_config
from slmforge.synth.generate import plan, select
from slmforge.synth.rules import language_mismatch, stray_markup, structure_labels
from slmforge.synth.templates import PROMPTS_DIR, fake_messages, rewrite_messages, villain_messages, villain_template
from slmforge.synth.value import dedupe_values


@given(n=st.integers(0, 500), a=st.floats(0, 1), b=st.floats(0, 1), c=st.floats(0.01, 1), seed=st.integers(0, 9))
@settings(max_examples=60, deadline=None)
def test_allocate_counts_are_exact(n, a, b, c, seed):
    mix = {"weak": a, "exaggerated": b, "fake": c}
    labels = allocate(n, mix, seed)
    counts = Counter(labels)
    assert len(labels) == n
    total = a + b + c
    for s, w in mix.items():
        assert abs(counts[s] - n * w / total) < 1.0 + 1e-9


def test_allocate_default_mix_and_seeded_order():
    labels = allocate(612, {"weak": 0.5, "exaggerated": 0.3, "fake": 0.2}, seed=3)
    assert Counter(labels) == {"weak": 306, "exaggerated": 184, "fake": 122}  # 183.6 → 184, 122.4 → 122
    assert labels == allocate(612, {"weak": 0.5, "exaggerated": 0.3, "fake": 0.2}, seed=3)
    assert labels != allocate(612, {"weak": 0.5, "exaggerated": 0.3, "fake": 0.2}, seed=4)


def test_config_errors_name_the_key(tmp_path):
    p = tmp_path / "synth.yaml"
    p.write_text("variants: 2\nk_exampels: 3\n", encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_config(p, SynthConfig)
    assert "k_exampels" in str(e.value) and "synth.yaml" in str(e.value)
    assert load_config(None, SynthConfig, variants=3, seed=None).variants == 3
    with pytest.raises(ConfigError):
        load_config(None, PrefsConfig, mix={"weak": 0, "fake": 0})
    with pytest.raises(ConfigError, match="rewrite_passes"):
        load_config(None, CleanConfig, rules=["length"], rewrite_passes=[["cta_missing"]])


def test_rule_detectors():
    assert structure_labels("【之前】皮肤暗沉。【之后】透亮。【核心成分】烟酰胺") == ["【之前】", "【之后】"]
    assert structure_labels("(特点)5%烟酰胺（优势）控油") == ["(特点)", "（优势）"]
    assert structure_labels("Hook: dry skin?\nProblem: it cracks") == ["Hook:", "Problem:"]
    assert structure_labels("A calm note about hooks and problems.") == []
    assert stray_markup('{"text": "你好"}') and stray_markup("见<b>这里</b>") and not stray_markup("平实的文案。")
    assert language_mismatch("This serum is great for oily skin.", "zh")
    assert language_mismatch("5%烟酰胺精华，控油提亮，SPF50+ PA++++", "zh") is None
    assert language_mismatch("Brew at 80°C.", "en") is None


def test_value_dedup():
    vals = ["控油", "持久控油", "夜间修护", " 夜间修护！", "Oil control", "oil-control", "提亮肤色"]
    assert dedupe_values(vals, 10) == ["控油", "夜间修护", "Oil control", "提亮肤色"]
    assert dedupe_values(vals, 2) == ["控油", "夜间修护"]


def test_plan_is_stable_under_subsets(minikit_path):
    lk = load_kit(minikit_path)
    cfg = SynthConfig(k_examples=1, variants=2, seed=7)
    sids, tasks = select(lk, cfg)
    full = {j.id: (j.golden_ids, j.messages) for j in plan(lk, cfg, sids, tasks)}
    assert len(full) == len(sids) * len(tasks) * 2
    sub = plan(lk, cfg.model_copy(update={"subjects": [sids[2]]}), [sids[2]], tasks)
    for j in sub:
        assert full[j.id] == (j.golden_ids, j.messages)
    # static system prompt first and identical across requests (prefix caching)
    systems = {m[1][0]["content"] for m in full.values()}
    assert len(systems) == 1 and "Never use these terms: miracle" in systems.pop()
    # the sampled golden examples never come from the request's own subject when others exist
    gold = {g.id: g.subject_id for g in lk.golden}
    for jid, (ids, _) in full.items():
        assert all(gold[i] != jid.split(":")[1] for i in ids)


def test_unknown_ids_are_config_errors(minikit_path):
    lk = load_kit(minikit_path)
    with pytest.raises(ConfigError, match="unknown task"):
        select(lk, SynthConfig(tasks=["nope"]))
    with pytest.raises(ConfigError, match="unknown subject"):
        select(lk, SynthConfig(subjects=["Nope Tea"]))


def test_stage_prompts_render(minikit_path):
    lk = load_kit(minikit_path)
    task = lk.kit.tasks[0]
    v = villain_messages(lk, task, "Write an ad for Jasmine Pearl")
    assert "miracle, insane, game-changer" in v[-1]["content"] and "Jasmine Pearl" in v[-1]["content"]
    assert villain_template("paid_ad") == "villain/paid_ad.j2" and villain_template("poetry") == "villain/default.j2"
    f = fake_messages(lk, lk.subjects["Jasmine Pearl"], "Jasmine Pearl, 25 mg caffeine.", 2)
    assert "Change exactly 2 fact(s)" in f[0]["content"] and '"caffeine_mg": 25' in f[0]["content"]
    r = rewrite_messages(lk, ["cta_missing"], ["no call to action"], "Write an ad", "Calm tea.", minimal=True)
    assert r[0]["role"] == "system" and "call to action" in r[1]["content"] and "smallest possible edit" in r[1]["content"]
    assert {p.name for p in (PROMPTS_DIR / "villain").glob("*.j2")} >= {"default.j2", "social_media.j2", "ecommerce.j2",
                                                                      "paid_ad.j2", "qa.j2"}
