"""The shared error printer of the CLI prints user text literally: Rich markup in paths, ids and key paths
is neither interpreted (``[new]`` kept) nor able to crash the printer (``[/`` raised MarkupError)."""

from __future__ import annotations

import pytest

from slmforge.cli import print_error
from slmforge.errors import DataError, KitError, UserError


@pytest.mark.parametrize("err", [
    KitError("must not be empty", file="kits/Glow Serum [new]/kit.yaml", line=12,
             field="tasks[social_media_review].student_template", fix="write one, e.g. [b]{{ subject.name }}[/b]"),
    DataError("no subject", file="data/[/odd.jsonl", line=3, field="subject_id", fix="pass --subject-key [bold]"),
    UserError("id 'Glow Serum [new]' is unknown", fix="use one of [red], Glow Serum [new]"),
], ids=["key_path", "closing_tag_in_path", "id"])
def test_user_errors_print_as_one_literal_line(capsys, err):
    print_error("error:", err)
    assert capsys.readouterr().err == f"error: {err}\n"
