"""Checks that saying nothing cannot pass (degenerate text, subject coverage, informative content) and the
generation-artefact checks: garbage fails them, every golden text of every shipped kit passes every check."""

from __future__ import annotations

from pathlib import Path

import pytest

from slmforge.checks import (check_coverage, check_degenerate, check_informative, check_language, check_markup,
                             check_structure, kit_vocabulary, run_checks)
from slmforge.checks.content import echo_share, min_content
from slmforge.checks.degenerate import seq_rep
from slmforge.kit import load_kit, render_student_prompt
from slmforge.kit.schema import Constraints

from tests.checks.helpers import SUBJECT_ZH, make_kit
from tests.conftest import MINIKIT, ROOT

MOJIBAKE = "ÃÂ¤ç¾ð\x9f\x98ÂÃ¦\ufffd\ufffd"
SOUP = "屏障屏障屏障屏障屏障屏障"
SHARED = ROOT.parent / "shared" / "data" / "adgenius"


def _kits() -> list[Path]:
    return sorted(p.parent for p in (ROOT / "examples").glob("*/kit.yaml")) + [MINIKIT]


def _errors(rep) -> list[str]:
    return [f"{n}:{f.code}" for n, r in rep.results.items() for f in r.findings if f.severity == "error"]


def _ad(lk, text: str, *, instruction: str | None = None):
    task = lk.kit.task("paid_ad_cta")
    subject = next(iter(lk.subjects.values()))
    prompt = render_student_prompt(lk.kit, task, subject)
    rep, = run_checks([text], task=task, subject=subject, kit=lk.kit, instruction=instruction or prompt,
                      vocab=kit_vocabulary(lk))
    return rep, prompt


def test_saying_nothing_fails_as_a_product_ad():
    lk = load_kit(MINIKIT)
    rep, _ = _ad(lk, "zzzz qqqq shop now")
    assert not rep.passed
    assert not rep.results["coverage"].passed and not rep.results["informative"].passed
    assert {"coverage:subject_not_named", "coverage:no_record_fact", "informative:too_little_content"} <= set(
        _errors(rep))
    assert any(f.code == "gibberish" for f in rep.results["informative"].findings)
    named_only, _ = _ad(lk, "Jasmine Pearl. Shop now.")
    assert named_only.results["coverage"].passed and not named_only.results["informative"].passed


@pytest.mark.parametrize("kit", ["minikit", "elemental-equation", "elemental-equation-en"])
def test_tiny_model_garbage_fails(kit):
    lk = load_kit(MINIKIT if kit == "minikit" else ROOT / "examples" / kit)
    rep, _ = _ad(lk, MOJIBAKE)
    deg = rep.results["degenerate"]
    assert not deg.passed and {"replacement_char", "control_char", "mojibake"} <= {f.code for f in deg.findings}
    for f in deg.findings:
        assert MOJIBAKE[f.start:f.end]
    soup, _ = _ad(lk, SOUP)
    assert not soup.passed and not soup.results["degenerate"].passed
    assert {"repeated_ngrams", "repeated_token"} <= {f.code for f in soup.results["degenerate"].findings}
    assert soup.results["language"].passed is lk.kit.language.startswith("zh")


@pytest.mark.parametrize("kit", ["minikit", "elemental-equation", "elemental-equation-en"])
def test_a_copy_of_the_instruction_fails(kit):
    lk = load_kit(MINIKIT if kit == "minikit" else ROOT / "examples" / kit)
    _, prompt = _ad(lk, "x")
    rep, _ = _ad(lk, prompt)
    assert not rep.passed and "informative:echoes_instruction" in _errors(rep)
    first_line, _ = _ad(lk, prompt.splitlines()[0])
    assert "informative:echoes_instruction" in _errors(first_line)


@pytest.mark.parametrize("kit_dir", _kits(), ids=lambda p: p.name)
def test_every_golden_text_passes_every_check(kit_dir):
    if "../shared/" in (kit_dir / "kit.yaml").read_text(encoding="utf-8") and not SHARED.is_dir():
        pytest.skip("the kit reads the shared seed data, which is absent")
    lk = load_kit(kit_dir)
    if not lk.golden:
        pytest.skip(f"{kit_dir.name} ships no golden examples")
    vocab = kit_vocabulary(lk)
    bad = []
    for g in lk.golden:
        task, subject = lk.kit.task(g.task), lk.subjects[g.subject_id]
        rep, = run_checks([g.text], task=task, subject=subject, kit=lk.kit, vocab=vocab,
                          instruction=render_student_prompt(lk.kit, task, subject, g.value))
        assert {"degenerate", "coverage", "informative", "structure", "markup", "language"} <= set(rep.results)
        if not rep.passed:
            bad.append((g.id, _errors(rep)))
    assert bad == []


def test_degenerate_details_and_clean_text():
    ok = check_degenerate("净颜焕采精华含10%烟酰胺与锌PCA，科学配方从源头调节皮脂分泌。")
    assert ok.passed and ok.score == 1.0 and ok.findings == []
    assert seq_rep(list("abababab")) == pytest.approx(1 - 2 / 5)
    assert seq_rep(["a", "b"]) == 0.0
    loop = check_degenerate("shop now " * 8)
    assert not loop.passed and loop.details["seq_rep_4"] > 0.5 and loop.score < 0.5
    assert check_degenerate("Brew at 80°C, café-style.").passed  # Latin-1 letters alone are not mojibake
    assert check_degenerate("line one\nline two\ttab").passed


def test_coverage_names_and_facts():
    kit = make_kit()
    assert check_coverage("净颜焕采精华含烟酰胺。", subject=SUBJECT_ZH, kit=kit).passed
    assert check_coverage("这瓶焕采精华，源头控油。", subject=SUBJECT_ZH, kit=kit).details["partial"]
    no_fact = check_coverage("净颜焕采精华，值得一试。", subject=SUBJECT_ZH, kit=kit)
    assert [f.code for f in no_fact.findings] == ["no_record_fact"] and no_fact.score == 0.5
    assert check_coverage("随便写点什么", subject=None, kit=kit).passed
    en = make_kit("en")
    subject = {"product_name": "Clear Niacinamide Serum", "core_ingredients": ["5% niacinamide", "1% zinc PCA"],
               "features": ["balances oil", "fades post-blemish marks"]}
    assert check_coverage("Our niacinamide serum fades post-blemish marks.", subject=subject, kit=en).passed
    assert check_coverage("Clear Niacinamide balances oil.", subject=subject, kit=en).details["partial"]
    assert not check_coverage("A serum that balances oil.", subject=subject, kit=en).passed


def test_informative_minimum_is_per_task():
    zh, en = make_kit(), make_kit("en")
    assert min_content(Constraints(max_chars=80), en) == 3
    assert min_content(Constraints(min_chars=400, max_chars=1200), zh) == 50
    assert min_content(Constraints(min_chars=400), en) == 12
    long_task = Constraints(min_chars=200)
    short = check_informative("净颜焕采精华，控油。", kit=zh, constraints=long_task, subject=SUBJECT_ZH)
    assert not short.passed and short.details["minimum"] == 25
    unset = check_informative("净颜焕采精华，控油。", kit=zh, constraints=Constraints(), subject=SUBJECT_ZH)
    assert unset.details["minimum"] == 8 and unset.details["content"] == 2  # the name is not content
    assert check_informative("净颜焕采精华含10%烟酰胺，源头调节油脂分泌，温和修护屏障。", kit=zh,
                             constraints=Constraints(), subject=SUBJECT_ZH).passed


def test_echo_ignores_the_record_values():
    instruction = 'Write a short ad for Jasmine Pearl.\n\n{"name": "Jasmine Pearl", "notes": "jasmine, honey"}'
    subject = {"name": "Jasmine Pearl", "notes": ["jasmine", "honey"]}
    assert echo_share("Write a short ad for Jasmine Pearl.", instruction, subject, cjk=False) == 1.0
    assert echo_share("Jasmine Pearl, jasmine and honey in one cup.", instruction, subject, cjk=False) == 0.0


def test_artefact_checks_have_offsets():
    text = "【之前】皮肤暗沉。【之后】透亮。"
    res = check_structure(text)
    assert not res.passed and [text[f.start:f.end] for f in res.findings] == ["【之前】", "【之后】"]
    wrapped = '  {"text": "你好"}'
    bits = [wrapped[f.start:f.end] for f in check_markup(wrapped).findings]
    assert bits[0] == "{" and '"text":' in bits
    assert not check_language("This serum is great for oily skin.", "zh").passed
    assert check_language("5%烟酰胺精华，控油提亮，SPF50+ PA++++", "zh").passed
    assert not check_language("Это сыворотка для жирной кожи.", "en").passed
    assert check_language("편백 도마, 은은한 나무 향", "ko").passed
