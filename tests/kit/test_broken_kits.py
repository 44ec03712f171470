"""Broken kits: each problem is a KitError naming the file, the key path or line, and the fix;
``slmforge kit validate`` prints one line and exits 2 (no traceback)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from slmforge.cli import app
from slmforge.errors import KitError, UserError
from slmforge.kit import load_kit


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture changed: {old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _typo_key(d: Path) -> None:
    _replace(d / "kit.yaml", "{max_chars: 120,", "{max_char: 120,")


def _wrong_type(d: Path) -> None:
    _replace(d / "kit.yaml", "cta_required: true", "cta_required: sometimes")


def _max_below_min(d: Path) -> None:
    _replace(d / "kit.yaml", "{min_chars: 40, max_chars: 600}", "{min_chars: 700, max_chars: 600}")


def _unknown_task(d: Path) -> None:
    _replace(d / "golden.jsonl", '"task": "product_note"', '"task": "product_notes"')


def _unknown_subject(d: Path) -> None:
    _replace(d / "golden.jsonl", '"subject_id": "Morning Assam"', '"subject_id": "Evening Assam"')


def _bad_jinja(d: Path) -> None:
    _replace(d / "kit.yaml", "Describe {{ subject.name }} for", "Describe {{ subject.name for")


def _missing_column(d: Path) -> None:
    _replace(d / "products.csv", "name,category,notes,", "name,category,tasting_notes,")


def _duplicate_subject(d: Path) -> None:
    _replace(d / "products.csv", "Mint Field,herbal,mint,0,", "Ginger Root,herbal,mint,0,")


def _non_utf8_catalog(d: Path) -> None:
    text = (d / "products.csv").read_text(encoding="utf-8").replace("Sencha Spring", "Sencha Spring café")
    (d / "products.csv").write_bytes(text.encode("latin-1"))


# (mutation, file the message must name, text that must be in the message: key path, line or column)
CASES = {
    "typo_key": (_typo_key, "kit.yaml", "tasks[0].constraints.max_char"),
    "wrong_type": (_wrong_type, "kit.yaml", "tasks[0].constraints.cta_required"),
    "max_below_min": (_max_below_min, "kit.yaml", "tasks[1].constraints"),
    "unknown_task": (_unknown_task, "golden.jsonl:3", "task"),
    "unknown_subject": (_unknown_subject, "golden.jsonl:2", "subject_id"),
    "bad_jinja": (_bad_jinja, "kit.yaml", "tasks[1].student_template"),
    "missing_column": (_missing_column, "products.csv:1", "notes"),
    "duplicate_subject": (_duplicate_subject, "products.csv:5", "duplicate subject id 'Ginger Root'"),
    "non_utf8_catalog": (_non_utf8_catalog, "products.csv", "UTF-8"),
}


@pytest.fixture
def kit_copy(tmp_path, minikit_path) -> Path:
    dest = tmp_path / "kit"
    shutil.copytree(minikit_path, dest)
    return dest


def test_minikit_copy_is_valid(kit_copy):
    lk = load_kit(kit_copy)
    assert len(lk.subjects) == 6 and len(lk.golden) >= 3


@pytest.mark.parametrize("case", sorted(CASES))
def test_broken_kit_names_file_place_and_fix(case, kit_copy):
    mutate, where, what = CASES[case]
    mutate(kit_copy)
    with pytest.raises(KitError) as exc:
        load_kit(kit_copy)
    err = exc.value
    assert isinstance(err, UserError)
    msg = str(err)
    assert where in msg, msg
    assert what in msg, msg
    assert err.fix, f"no fix given: {msg}"
    assert "\n" not in msg


def test_yaml_errors_carry_the_line(kit_copy):
    _typo_key(kit_copy)
    with pytest.raises(KitError) as exc:
        load_kit(kit_copy)
    lines = (kit_copy / "kit.yaml").read_text(encoding="utf-8").splitlines()
    assert exc.value.line is not None
    assert "constraints" in lines[exc.value.line - 1]


@pytest.mark.parametrize("case", ["typo_key", "duplicate_subject", "non_utf8_catalog", "bad_jinja"])
def test_cli_validate_exits_2_with_one_line(case, kit_copy):
    CASES[case][0](kit_copy)
    result = CliRunner().invoke(app, ["kit", "validate", str(kit_copy)])
    assert result.exit_code == 2, result.output
    out = result.output.strip()
    assert "Traceback" not in out
    assert out.startswith("error:") and "fix:" in out
    assert len(out.splitlines()) == 1, out
    assert not isinstance(result.exception, KitError)  # turned into SystemExit(2), not leaked


def test_cli_validate_ok_on_example_kit(example_kit_path):
    result = CliRunner().invoke(app, ["kit", "validate", str(example_kit_path)])
    assert result.exit_code == 0, result.output
    assert re.search(r"ok: \d+ subjects, 9 tasks, \d+ golden examples", result.output), result.output


def test_duplicate_ids_can_be_numbered_and_lists_split_at_most_maxsplit(kit_copy):
    """Third-party catalogs (the seed) repeat names and join audiences with spaces: the kit says so."""
    _duplicate_subject(kit_copy)
    _replace(kit_copy / "kit.yaml", "  id_field: name\n", "  id_field: name\n  duplicate_ids: number\n")
    _replace(kit_copy / "kit.yaml", "{name: notes, type: list}", "{name: notes, type: list, maxsplit: 0}")
    lk = load_kit(kit_copy)
    assert list(lk.subjects)[:5] == ["Jasmine Pearl", "Earl Grey Reserve", "Ginger Root", "Ginger Root#2",
                                     "Morning Assam"]
    assert lk.subjects["Ginger Root#2"]["name"] == "Ginger Root"  # the field keeps its value
    assert lk.subjects["Jasmine Pearl"]["notes"] == ["jasmine|honey"]
