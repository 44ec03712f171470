import json

import pytest

from slmforge.checks import CHECK_NAMES, run_checks
from slmforge.checks.rewards import completion_text, reward_functions

from tests.checks.helpers import SUBJECT_ZH, make_kit

CALM = "净颜焕采精华含10%烟酰胺与锌PCA，科学配方从源头调节皮脂分泌，红没药醇温和修护。点击了解。"
LOUD = "家人们！这瓶精华绝绝子！！！含15%烟酰胺，三天见效！！！冲就完事！！！😱😱😱"


def test_run_checks_defaults_scores_and_dict():
    kit = make_kit(constraints={"max_chars": 60, "cta_required": True})
    calm, loud = run_checks([CALM, LOUD], task=kit.task("ad"), subject=SUBJECT_ZH, kit=kit)
    assert list(calm.results) == ["lexicon", "style", "constraints", "cta", "facts", "structure", "markup",
                                  "language", "degenerate", "coverage", "informative"]
    assert calm.passed and calm.score > 0.95
    assert not loud.passed and loud.score < calm.score
    d = loud.to_dict()
    assert json.loads(json.dumps(d, ensure_ascii=False))["checks"]["facts"]["passed"] is False
    assert any(f["code"] == "missing_cta" for f in d["findings"])
    for f in loud.findings():
        if f.start is not None:
            assert 0 <= f.start < f.end <= len(LOUD)


def test_run_checks_argument_errors():
    kit = make_kit()
    with pytest.raises(ValueError, match="unknown checks"):
        run_checks([CALM], task=None, subject=None, kit=kit, checks=["tone"])
    with pytest.raises(ValueError, match="references"):
        run_checks([CALM], task=None, subject=None, kit=kit, references=[])
    assert set(CHECK_NAMES) == {"lexicon", "style", "constraints", "cta", "facts", "structure", "markup", "language",
                                "degenerate", "coverage", "informative", "similarity",
                                "legal_citation", "legal_guarantee", "legal_disclaimer", "legal_articles"}


def test_reward_functions_are_trl_shaped_and_weighted():
    kit = make_kit(constraints={"cta_required": True})
    funcs = reward_functions(kit)
    assert [f.__name__ for f in funcs] == ["lexicon_reward", "style_reward", "constraints_reward", "cta_reward",
                                          "facts_reward", "structure_reward", "markup_reward", "language_reward",
                                          "degenerate_reward", "coverage_reward", "informative_reward"]
    completions = [[{"role": "assistant", "content": CALM}], [{"role": "assistant", "content": LOUD}]]
    cols = {"task": ["ad", "ad"], "subject": [SUBJECT_ZH] * 2,
            "prompts": [[{"role": "user", "content": "写一条广告，不要使用表情"}]] * 2}
    totals = [0.0, 0.0]
    for f in funcs:
        scores = f(completions, **cols)
        assert len(scores) == 2 and all(0.0 <= s <= 1.0 for s in scores)
        totals = [a + b for a, b in zip(totals, scores, strict=True)]
    assert totals[0] > totals[1] + 2
    half = reward_functions(kit, weights={"style": 0.5})
    assert len(half) == 1 and half[0]([CALM], task=["ad"])[0] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="unknown checks"):
        reward_functions(kit, weights={"tone": 1.0})


def test_reward_instruction_constraints_come_from_the_prompt():
    kit = make_kit()
    f, = reward_functions(kit, weights={"constraints": 1.0})
    strict, lax = f([CALM, CALM], prompts=["20字以内", "写一条广告"])
    assert strict < 1.0 and lax == 1.0


def test_completion_text_shapes():
    assert completion_text("x") == "x"
    assert completion_text([{"role": "assistant", "content": "y"}]) == "y"


def test_public_api_is_exported():
    import slmforge.checks as checks

    public = {n for n in dir(checks) if not n.startswith("_") and n[0].isupper() or n.startswith(("check_", "run_"))}
    assert public <= set(checks.__all__)
    for name in checks.__all__:
        assert getattr(checks, name).__doc__
