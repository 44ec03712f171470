"""`slmforge kit init NAME --language xx` writes a starter kit that `kit validate --strict` accepts: for
en, zh, ja and ko, one task with templates and constraints, 5 products, 5 golden texts that pass the
kit's own checks."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from slmforge.checks import kit_vocabulary, run_checks
from slmforge.cli import app
from slmforge.kit import load_kit, render_student_prompt, render_teacher_prompt
from slmforge.kit.quality import MIN_GOLDEN_PER_TASK, coverage_problems, golden_problems

# a claim of a material the first product (an oak board) does not have, in each language
FALSE_MATERIAL = {"en": "The Oak Cutting Board is made of walnut, kind to knives and ready for daily use in any kitchen.",
                  "zh": "橡木砧板采用胡桃木制成，下刀时不伤刀刃，台面保持干净，到手即可日常使用。",
                  "ja": "オーク材のまな板は大理石でできていて刃あたりがやさしく、届いた日から毎日使えます。",
                  "ko": "오크 도마는 대나무로 만들어서 칼날에 부드럽고, 받은 날부터 매일 쓸 수 있어요."}


@pytest.mark.parametrize("language", ["en", "zh", "ja", "ko"])
def test_init_writes_a_kit_that_validates_strictly(tmp_path, language):
    out = tmp_path / "kit [new]"
    runner = CliRunner()
    r = runner.invoke(app, ["kit", "init", "Acme [new]", "--language", language, "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "kit [new]" in " ".join(r.output.split())  # the path printed literally, never read as markup
    r = runner.invoke(app, ["kit", "validate", "--strict", str(out)])
    assert r.exit_code == 0, r.output
    assert "warning" not in r.output and "error" not in r.output

    lk = load_kit(out)
    assert lk.kit.name == lk.kit.brand == "Acme [new]" and lk.kit.language == language
    assert lk.kit.voice.persona and lk.kit.voice.principles and lk.kit.lexicon.prefer and lk.kit.lexicon.avoid
    assert len(lk.subjects) == 5 and len(lk.kit.tasks) == 1
    task = lk.kit.tasks[0]
    assert task.constraints.max_chars and task.constraints.min_chars and len(task.rubric.criteria) >= 3
    assert len(lk.golden_for(task.id)) == MIN_GOLDEN_PER_TASK
    assert coverage_problems(lk) == [] and golden_problems(lk) == []
    subject = next(iter(lk.subjects.values()))
    student = render_student_prompt(lk.kit, task, subject)
    teacher = render_teacher_prompt(lk.kit, task, subject, [g.text for g in lk.golden[:2]])
    assert subject["product_name"] in student and subject["product_name"] in teacher and '{"text"' in teacher
    assert not re.search(r"\['|'\]|\{\{|\{%", teacher + student)
    script = {"en": r"[A-Za-z]", "zh": r"[\u4e00-\u9fff]", "ja": r"[\u3040-\u30ff]", "ko": r"[\uac00-\ud7a3]"}
    assert all(re.search(script[language], g.text) for g in lk.golden), "golden texts in the kit's language"
    # the glossary names materials the catalog lacks, so that a false claim is caught by the facts check
    rep = run_checks([FALSE_MATERIAL[language]], task=task, subject=subject, kit=lk.kit, instruction=student,
                     vocab=kit_vocabulary(lk))[0]
    assert not rep.results["facts"].passed


def test_init_refuses_unknown_language_and_existing_kit(tmp_path):
    runner = CliRunner()
    r = runner.invoke(app, ["kit", "init", "X", "--language", "xx", "--out", str(tmp_path / "a")])
    assert r.exit_code == 2 and "--language" in r.output and "en, zh, ja, ko" in r.output
    assert not (tmp_path / "a").exists()
    assert runner.invoke(app, ["kit", "init", "X", "-l", "zh-Hans", "-o", str(tmp_path / "b")]).exit_code == 0
    r = runner.invoke(app, ["kit", "init", "X", "-l", "en", "-o", str(tmp_path / "b")])
    assert r.exit_code == 2 and "--force" in r.output
    assert runner.invoke(app, ["kit", "init", "X", "-l", "en", "-o", str(tmp_path / "b"), "--force"]).exit_code == 0
    assert load_kit(tmp_path / "b").kit.language == "en"
