"""coerce_value: one typing of subject fields for the catalog loader and the serving API."""

import pytest

from slmforge.kit.load import coerce_value
from slmforge.kit.schema import FieldSpec


def test_list_split_respects_maxsplit():
    spec = FieldSpec(name="target_audience", type="list", separator=" ", maxsplit=1)
    assert coerce_value(spec, "混合肌, 油性肌 角质层厚 其他") == ["混合肌,", "油性肌 角质层厚 其他"]
    assert coerce_value(FieldSpec(name="x", type="list"), "a| b |") == ["a", "b"]


def test_numbers_and_empty_values():
    assert coerce_value(FieldSpec(name="n", type="int"), "25") == 25
    assert coerce_value(FieldSpec(name="n", type="list", required=False), []) == []
    assert coerce_value(FieldSpec(name="n", required=False), "  ") is None
    with pytest.raises(ValueError, match="required"):
        coerce_value(FieldSpec(name="n"), "")
    with pytest.raises(ValueError, match="as int"):
        coerce_value(FieldSpec(name="n", type="int"), "ten")


def test_serve_copy_uses_the_kit_typing(minikit_path):
    from slmforge.kit import load_kit
    from slmforge.serve.copy import CopyInputError, resolve_subject
    from slmforge.serve.schemas import CopyRequest

    lk = load_kit(minikit_path)
    req = CopyRequest(task="paid_ad_cta", subject={"name": "X", "category": "tea", "notes": "a|b", "caffeine_mg": "5"})
    assert resolve_subject(lk, req)["notes"] == ["a", "b"]
    with pytest.raises(CopyInputError, match="caffeine_mg"):
        resolve_subject(lk, CopyRequest(task="paid_ad_cta", subject={"name": "X", "category": "tea", "notes": "a",
                                                                      "caffeine_mg": "many"}))
