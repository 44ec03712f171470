"""The legal checks (slmforge.checks.legal) on the ja-legal kit: every golden and extra answer passes every check;
the same answers edited (a guarantee added, an article number invented, the disclaimer removed, the question's
article dropped) fail the matching check; the checks run only where a kit opts in."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from slmforge.checks import kit_vocabulary, reward_functions, run_checks
from slmforge.checks.legal import Citation, check_guarantee, find_citations, kanji_number
from slmforge.checks.registry import rule_failures
from slmforge.kit import load_kit, render_student_prompt
from slmforge.kit.load import load_golden
from slmforge.kit.schema import LegalSettings

from tests.conftest import MINIKIT, ROOT

KIT = ROOT / "examples" / "ja-legal"
LEGAL = ("legal_citation", "legal_guarantee", "legal_disclaimer", "legal_articles")


@pytest.fixture(scope="module")
def lk():
    return load_kit(KIT)


def _answers(lk):
    """Golden answers plus the extra pool the hosted loop adds (examples/ja-legal/extra.jsonl)."""
    return lk.golden + load_golden(KIT / "extra.jsonl", lk.kit, lk.subjects)


def _report(lk, g, text: str):
    task, subject = lk.kit.task(g.task), lk.subjects[g.subject_id]
    rep, = run_checks([text], task=task, subject=subject, kit=lk.kit, vocab=kit_vocabulary(lk),
                      instruction=render_student_prompt(lk.kit, task, subject, g.value))
    return rep


def _errors(rep) -> set[str]:
    return {f"{n}:{f.code}" for n, r in rep.results.items() for f in r.findings if f.severity == "error"}


def test_citations_are_read_with_law_branch_and_kanji_numbers():
    assert kanji_number("四百十五") == 415 and kanji_number("４１５") == 415 and kanji_number("十") == 10
    assert kanji_number("二十") == 20 and kanji_number("一〇") == 10
    found = find_citations("民法第562条、第563条及び第564条、同法第566条。本件民法第四百十五条も。")
    assert [str(c) for c in found] == ["民法第562条", "民法第563条", "民法第564条", "民法第566条", "民法第415条"]
    assert found[-1] == Citation("民法", "415", 31, 39)
    assert [str(c) for c in find_citations("民法第548条の2第2項と借地借家法28条")] == ["民法第548条の2", "借地借家法第28条"]
    assert [str(c) for c in find_citations("契約書の第5条。次に民法第90条を見ると、第12条は")] == ["第5条", "民法第90条", "第12条"]
    assert find_citations("3条件を満たす、第3条件、条例第2条") == [Citation("", "2", 15, 18)]
    assert [str(c) for c in find_citations("第3条の一部と不正競争防止法第2条第6項")] == ["第3条", "不正競争防止法第2条"]


def test_every_golden_and_extra_answer_passes_every_check(lk):
    bad = []
    for g in _answers(lk):
        rep = _report(lk, g, g.text)
        assert set(LEGAL) <= set(rep.results), g.id
        if not rep.passed:
            bad.append((g.id, sorted(_errors(rep))))
    assert bad == []
    assert len(lk.golden) >= 30 and {g.task for g in lk.golden} == {t.id for t in lk.kit.tasks}


def test_every_catalog_statute_is_an_allowed_reference(lk):
    refs = set(lk.kit.checks.legal.references)
    for topic, subject in lk.subjects.items():
        assert set(subject["statutes"]) <= refs, topic
    assert len(refs) == len(lk.kit.checks.legal.references)  # no duplicates


@pytest.mark.parametrize("edit, code", [
    (lambda t: t.replace("。", "。この条件なら必ず勝てます。", 1), "legal_guarantee:guarantee"),
    (lambda t: t.replace("。", "。勝訴の見込みは100%です。", 1), "legal_guarantee:guarantee"),
    (lambda t: t.replace("。", "。確実に認められます。", 1), "legal_guarantee:guarantee"),
    (lambda t: t.replace("。", "。あわせて民法第417条の3も参照してください。", 1), "legal_articles:invented_article"),
    (lambda t: t.replace("。", "。労働基準法第999条にも同じ定めがあります。", 1), "legal_articles:invented_article"),
    (lambda t: t.rsplit("\n", 1)[0], "legal_disclaimer:missing_disclaimer"),
], ids=["必ず勝てます", "100%", "確実に", "invented-branch", "invented-law", "no-disclaimer"])
def test_edited_answers_fail(lk, edit, code):
    for g in _answers(lk):
        rep = _report(lk, g, edit(g.text))
        assert not rep.passed and code in _errors(rep), (g.id, sorted(_errors(rep)))
        name = code.split(":")[0]
        assert rule_failures(rep, [name]) and rep.results[name].score < 1.0


def test_an_answer_that_drops_the_questions_article_fails(lk):
    asked = [g for g in lk.golden if lk.kit.task(g.task).id == "interpretation_qa"]
    assert len(asked) >= 5
    for g in asked:
        q = find_citations(g.value)
        assert q, g.id
        text = g.text
        for c in sorted(find_citations(text), key=lambda c: -c.start):
            if c.article in {x.article for x in q}:
                text = text[:c.start] + "この条文" + text[c.end:]
        rep = _report(lk, g, text)
        assert "legal_citation:missing_citation" in _errors(rep), g.id
    # a bare 「第166条」 in the answer states 民法第166条 of the question
    g = next(g for g in asked if "民法第166条" in g.value)
    assert _report(lk, g, g.text.replace("民法第166条", "第166条")).results["legal_citation"].passed


def test_hedged_outcomes_and_found_offsets(lk):
    kit = lk.kit
    ok = check_guarantee("必ず勝てるとは限りません。確実に認められるとは言えません。", kit, None)
    assert ok.passed and ok.findings == []
    text = "契約の有効性は争えます。裁判では間違いなく認められます。"
    bad = check_guarantee(text, kit, None)
    assert not bad.passed and [text[f.start:f.end] for f in bad.findings] == ["間違いなく"]
    kit_extra = kit.model_copy(update={"checks": kit.checks.model_copy(update={"legal": kit.checks.legal.model_copy(
        update={"guarantee_patterns": ["ご安心ください"]})})})
    assert not check_guarantee("ご安心ください。", kit_extra, None).passed


def test_the_checks_run_only_where_a_kit_opts_in(lk):
    mini = load_kit(MINIKIT)
    task, subject = mini.kit.task("paid_ad_cta"), mini.subjects["Jasmine Pearl"]
    text = "Jasmine Pearl: 必ず勝てます under 民法第999条. Order your first tin today."
    rep, = run_checks([text], task=task, subject=subject, kit=mini.kit)
    assert not set(LEGAL) & set(rep.results)
    assert not any(f.__name__.startswith("legal") for f in reward_functions(mini.kit))
    # the legal kit, a task of another family: no legal results either
    other = lk.kit.tasks[0].model_copy(update={"family": "qa"})
    g = lk.golden[0]
    rep, = run_checks([g.text], task=other, subject=lk.subjects[g.subject_id], kit=lk.kit)
    assert not set(LEGAL) & set(rep.results)
    # without a task the kit's opt-in is enough
    rep, = run_checks(["民法第999条によれば必ず勝てます。"], task=None, subject=None, kit=lk.kit)
    assert {n for n in LEGAL if not rep.results[n].passed} == {"legal_guarantee", "legal_disclaimer", "legal_articles"}


def test_legal_rewards_follow_the_kits_weights(lk):
    rewards = {f.__name__: f for f in reward_functions(lk.kit)}
    assert {f"{n}_reward" for n in LEGAL} <= set(rewards)
    g = next(g for g in lk.golden if g.task == "risk_analysis")
    prompt = [{"role": "user", "content": render_student_prompt(lk.kit, lk.kit.task(g.task), lk.subjects[g.subject_id],
                                                                g.value)}]
    cols = {"task": [g.task] * 2, "subject": [lk.subjects[g.subject_id]] * 2, "prompts": [prompt] * 2}
    good, bad = rewards["legal_guarantee_reward"]([g.text, "必ず勝てます。" + g.text], **cols)
    assert good == pytest.approx(1.5) and bad < good  # kit.yaml weighs legal_guarantee 1.5
    one = {k: v[:1] for k, v in cols.items()}
    assert rewards["legal_disclaimer_reward"]([g.text.rsplit("\n", 1)[0]], **one) == [0.0]


def test_references_must_read_as_citations():
    with pytest.raises(ValueError, match="references must read like"):
        LegalSettings(references=["民法415条"])
    assert LegalSettings(references=["民法第548条の2"]).families == ["legal_qa"]


def test_the_kit_ships_its_files_and_they_load():
    from slmforge.evaluate.config import load_eval_config
    from slmforge.pipeline.project import load_project
    from slmforge.train.hosted_loop import loop_eval_config

    for name in ("kit.yaml", "topics.csv", "golden.jsonl", "extra.jsonl", "README.md", "project.yaml", "eval.yaml",
                 "hosted_loop.py"):
        assert (KIT / name).is_file(), name
    assert Path(KIT / "kit.yaml").read_text(encoding="utf-8").count("family: legal_qa") == 4
    cfg = load_eval_config(KIT / "eval.yaml")
    assert [c.name for c in cfg.candidates] == ["base", "ft", "prompting", "ft_hybrid"]
    assert cfg == loop_eval_config(heldout=None)  # what examples/ja-legal/hosted_loop.py runs
    project, _ = load_project(KIT / "project.yaml")
    assert project.student.base[0] == "Qwen/Qwen2.5-1.5B-Instruct"
    assert project.models["teacher"].optional and project.models["judge"].optional


def _commands(path: Path) -> list[str]:
    """The shell lines of a manual's ```bash blocks, comments and trailing comments removed."""
    text = path.read_text(encoding="utf-8")
    lines = [ln for block in re.findall(r"```bash\n(.*?)```", text, re.S) for ln in block.splitlines()]
    return [re.sub(r"\s+#.*$", "", ln).rstrip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]


def test_both_manuals_give_the_same_commands_on_files_that_exist():
    en, ja = _commands(ROOT / "docs" / "legal-assistant.en.md"), _commands(ROOT / "docs" / "legal-assistant.ja.md")
    assert en == ja and len(en) > 30
    for path in sorted(set(re.findall(r"(?:examples|tests)/[\w./-]+\.(?:yaml|py|csv|jsonl)", "\n".join(en)))):
        assert (ROOT / path).is_file(), path
    assert "slmforge kit validate examples/ja-legal --strict" in en
