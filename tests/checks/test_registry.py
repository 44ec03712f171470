"""The check registry: one entry makes a check a report column, a reward, an eval column, a serving guard,
a cleaning rule and an allowed name of the kit schema; every stage uses the kit's catalog vocabulary."""

from __future__ import annotations

from pathlib import Path

import pytest

from slmforge.checks import CHECKS, CheckSpec, kit_vocabulary, reward_functions, run_checks
from slmforge.checks.registry import default_rules, guard_names, rule_failures, rule_names
from slmforge.checks.types import CheckResult, Finding
from slmforge.data.records import Generation
from slmforge.evaluate.candidates import HeldoutItem
from slmforge.evaluate.config import EvalConfig
from slmforge.evaluate.run import rule_rows
from slmforge.kit import LoadedKit, load_kit
from slmforge.serve.config import ServeConfig
from slmforge.serve.copy import check_draft, copy_events
from slmforge.serve.engine import SamplingParams
from slmforge.serve.schemas import CopyRequest
from slmforge.synth import CleanConfig
from slmforge.synth.rules import evaluate

from tests.checks.helpers import SUBJECT_ZH, make_kit
from tests.conftest import MINIKIT

GOOD = "Jasmine Pearl: hand-rolled green tea with a soft jasmine finish. Brew at 80°C. Order your first tin today."


def _no_tea(text: str, ctx) -> CheckResult:
    """A throwaway check: fails any text that mentions tea."""
    hit = text.lower().find("tea")
    findings = [Finding("no_tea", "tea", "mentions tea", hit, hit + 3)] if hit >= 0 else []
    return CheckResult("no_tea", 0.0 if findings else 1.0, not findings, findings)


@pytest.fixture
def no_tea(monkeypatch):
    """The throwaway check, registered in the one place checks are declared."""
    monkeypatch.setitem(CHECKS, "no_tea", CheckSpec(_no_tea, "no tea"))
    return "no_tea"


def test_a_check_added_in_one_place_reaches_every_stage(no_tea):
    lk = load_kit(MINIKIT)
    task, subject = lk.kit.task("paid_ad_cta"), lk.subjects["Jasmine Pearl"]
    # the check report
    rep, = run_checks([GOOD], task=task, subject=subject, kit=lk.kit)
    assert no_tea in rep.results and not rep.passed and not rep.results[no_tea].passed
    # the GRPO reward set (with the kit's default weights)
    rewards = {f.__name__: f for f in reward_functions(lk.kit)}
    assert rewards["no_tea_reward"]([GOOD, "Ginger Root warms."], task=["paid_ad_cta"] * 2) == [0.0, 1.0]
    # the evaluation's columns
    item = HeldoutItem(id="g1", task=task.id, subject_id="Jasmine Pearl",
                       prompt=[{"role": "user", "content": "Write an ad"}], reference=GOOD)
    gen = Generation(id="g1:sft", candidate="sft", prompt=[{"role": "user", "content": "Write an ad"}], text=GOOD)
    row, = rule_rows(lk, EvalConfig(candidates=[{"name": "sft"}]), [item], [gen])
    assert row["check.no_tea"] == 0.0 and row["pass.no_tea"] == 0.0
    # the serving guard: a default blocking check, so guard=block withholds the draft
    assert no_tea in ServeConfig(model="m").blocking_checks
    report, failed = check_draft(lk, task, subject, "Write an ad", GOOD, guard_names())
    assert no_tea in report["checks"] and failed == [no_tea]
    events = list(copy_events(lk, CopyRequest(task=task.id, subject_id="Jasmine Pearl", guard="block"), model="m",
                              stream_fn=lambda messages, params: iter([GOOD]), params=SamplingParams(max_tokens=8),
                              blocking=ServeConfig(model="m").blocking_checks, max_retries=0, with_system=False))
    draft = events[-1]["response"]["drafts"][0]
    assert draft["status"] == "blocked" and draft["failed_checks"] == [no_tea]
    # a cleaning rule, on by default, and a name the kit schema accepts
    assert no_tea in rule_names() and no_tea in CleanConfig().rules
    out, = evaluate([GOOD], lk, task, subject, "Write an ad", CleanConfig().rules)
    assert list(out.failed) == [no_tea]
    assert make_kit(checks={"reward_weights": {no_tea: 0.5}}).checks.reward_weights == {no_tea: 0.5}


def test_unknown_check_names_are_refused_where_names_are_given():
    with pytest.raises(ValueError, match="unknown checks"):
        make_kit(checks={"reward_weights": {"tone": 1.0}})
    with pytest.raises(ValueError, match="unknown checks"):
        ServeConfig(model="m", blocking_checks=["tone"])
    with pytest.raises(ValueError, match="unknown rules"):
        CleanConfig(rules=["tone"])


def test_rules_are_views_of_findings():
    kit = make_kit(constraints={"max_chars": 10, "cta_required": True})
    rep, = run_checks(["这款精华是奇迹，效果逆天，真的很好用。"], task=kit.task("ad"), subject=None, kit=kit)
    failed = rule_failures(rep, rule_names())
    assert {"avoid_terms", "length", "cta_missing"} <= set(failed)
    assert "markdown_headings" not in failed and "constraints" not in failed
    assert rule_failures(rep, ["length"]).keys() == {"length"}
    assert default_rules()[:3] == ["avoid_terms", "length", "markdown_headings"]
    assert {"style", "facts", "constraints"}.isdisjoint(default_rules())


def test_kit_default_weights_cover_every_reward_check():
    kit = make_kit()
    assert set(kit.checks.reward_weights) == {n for n, s in CHECKS.items() if s.reward}
    assert "similarity" not in kit.checks.reward_weights
    partial = make_kit(checks={"reward_weights": {"style": 2.0, "facts": 0}})
    names = [f.__name__ for f in reward_functions(partial)]
    assert "facts_reward" not in names and "lexicon_reward" in names  # unlisted checks keep weight 1


def _catalog_kit() -> LoadedKit:
    kit = make_kit(glossary={"ingredients": []})
    other = {**SUBJECT_ZH, "product_name": "柚子精华", "core_ingredients": ["柚子提取物", "维生素C"]}
    return LoadedKit(kit=kit, root=Path("."), subjects={"净颜焕采精华": SUBJECT_ZH, "柚子精华": other})


def test_the_catalog_vocabulary_is_built_once_and_used_by_every_stage():
    lk = _catalog_kit()
    assert kit_vocabulary(lk) is kit_vocabulary(lk)
    assert "维生素c" in kit_vocabulary(lk).frozen["ingredients"]
    text = "净颜焕采精华含10%烟酰胺与维生素C，源头控油。点击了解。"
    task = lk.kit.task("ad")
    glossary_only, = run_checks([text], task=task, subject=SUBJECT_ZH, kit=lk.kit, checks=["facts"])
    assert glossary_only.passed  # the glossary alone does not know 维生素C
    # clean
    out, = evaluate([text], lk, task, SUBJECT_ZH, None, ["facts"])
    assert "facts" in out.failed
    # serving
    report, failed = check_draft(lk, task, SUBJECT_ZH, "写一条广告", text, ["facts"])
    assert failed == ["facts"]
    # evaluation
    item = HeldoutItem(id="i", task="ad", subject_id="净颜焕采精华", prompt=[{"role": "user", "content": "写"}],
                       reference=None)
    gen = Generation(id="i:m", candidate="m", prompt=[{"role": "user", "content": "写"}], text=text)
    row, = rule_rows(lk, EvalConfig(candidates=[{"name": "m"}]), [item], [gen])
    assert row["pass.facts"] == 0.0
    # GRPO (train_grpo passes the same vocabulary)
    facts_reward, = reward_functions(lk.kit, weights={"facts": 1.0}, vocab=kit_vocabulary(lk))
    assert facts_reward([text], task=["ad"], subject=[SUBJECT_ZH])[0] < 1.0
    # a new LoadedKit object gets its own vocabulary
    assert kit_vocabulary(_catalog_kit()) is not kit_vocabulary(lk)
