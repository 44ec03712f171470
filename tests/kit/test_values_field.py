"""A catalog field named like a dict method (``values``, ``items``) renders as the field in templates, and a
filter on a value of the wrong type is a KitError naming the template, not a raw TypeError."""

from __future__ import annotations

import shutil

import pytest
from typer.testing import CliRunner

from slmforge.cli import app
from slmforge.errors import KitError
from slmforge.kit import load_kit, render_teacher_prompt

from tests.conftest import MINIKIT


@pytest.fixture
def values_kit(tmp_path):
    d = tmp_path / "kit"
    shutil.copytree(MINIKIT, d)
    yml = (d / "kit.yaml").read_text(encoding="utf-8")
    yml = yml.replace("    - {name: audience, required: false}",
                      "    - {name: audience, required: false}\n    - {name: values, type: list}\n"
                      "    - {name: items, required: false}")
    yml = yml.replace("notes: {{ subject.notes | join(', ') }}.",
                      "notes: {{ subject.notes | join(', ') }}; values: {{ subject.values | join(', ') }}; "
                      "items: {{ subject.items }}.")
    (d / "kit.yaml").write_text(yml, encoding="utf-8")
    rows = (d / "products.csv").read_text(encoding="utf-8").splitlines()
    rows = [rows[0] + ",values,items"] + [r + ",calm evenings|a soft finish,tin" for r in rows[1:]]
    (d / "products.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return d


def test_fields_named_like_dict_methods_render_as_fields(values_kit):
    lk = load_kit(values_kit)
    subject = lk.subjects["Jasmine Pearl"]
    prompt = render_teacher_prompt(lk.kit, lk.kit.task("paid_ad_cta"), subject, [])
    assert "values: calm evenings, a soft finish; items: tin." in prompt
    r = CliRunner().invoke(app, ["kit", "validate", str(values_kit)])
    assert r.exit_code == 0, r.output
    assert "Traceback" not in r.output


def test_a_filter_on_the_wrong_type_is_a_kit_error(values_kit):
    lk = load_kit(values_kit)
    task = lk.kit.task("paid_ad_cta").model_copy(update={"teacher_template": "{{ subject.caffeine_mg | join(', ') }}"})
    with pytest.raises(KitError, match="wrong type") as e:
        render_teacher_prompt(lk.kit, task, lk.subjects["Jasmine Pearl"], [])
    assert "teacher_template" in str(e.value)
