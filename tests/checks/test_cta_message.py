"""The missing-CTA finding gives its examples in the kit's language (the playground shows it as a hint):
never a Chinese cue on an English kit."""

from __future__ import annotations

import re

from slmforge.checks.constraints import check_cta
from slmforge.kit import load_kit
from tests.conftest import EXAMPLE_KIT, MINIKIT

CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7a3]")


def _missing(kit, text: str) -> str:
    res = check_cta(text, kit, required=True)
    assert not res.passed
    return next(f.message for f in res.findings if f.code == "missing_cta")


def test_missing_cta_examples_follow_the_kit_language():
    en = load_kit(MINIKIT).kit
    msg = _missing(en, "Jasmine Pearl is a green tea with honey notes.")
    assert not CJK.search(msg) and "buy" in msg, msg
    zh = load_kit(EXAMPLE_KIT).kit
    msg = _missing(zh, "澄净烟酰胺精华液，5%烟酰胺温和调节油脂。")
    assert CJK.search(msg), msg
    own = en.model_copy(update={"checks": en.checks.model_copy(update={"cta_cues": ["Steep a cup"]})})
    assert "e.g. Steep a cup / buy" in _missing(own, "Jasmine Pearl is a green tea.")
