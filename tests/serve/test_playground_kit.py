"""What ``GET /v1/kit`` tells the playground (slmforge.serve.copy.kit_info), on a scripted engine: each task's mode
(a form for copy, a chat for question–answer families), the length unit and CTA cues of the kit's language, the
style check's punctuation limits, the value field; and the pages' scripts load the shared request helper."""

from __future__ import annotations

import re

import pytest
import yaml
from fastapi.testclient import TestClient

from slmforge.checks.constraints import CTA_CUES
from slmforge.kit import load_kit
from slmforge.serve.app import STATIC, create_app
from slmforge.serve.config import ServeConfig
from slmforge.serve.copy import kit_info, task_mode

from tests.conftest import ROOT

EXAMPLES = ROOT / "examples"


class _Engine:
    model_ids, base_id, adapters, max_context = ["base", "sft"], "base", {"sft": "-"}, 2048


def _kit(client: TestClient) -> dict:
    r = client.get("/v1/kit")
    assert r.status_code == 200, r.text
    return r.json()


def _client(kit: str | None) -> TestClient:
    app = create_app(ServeConfig(model="scripted", kit=kit), engine=_Engine())
    return TestClient(app, base_url="http://127.0.0.1:8000")


@pytest.mark.parametrize("name, modes, unit", [
    ("ja-legal", {"chat"}, "文字"), ("elemental-equation-en", {"form"}, "characters"),
    ("ko-pv-copy", {"form"}, "자"), ("elemental-equation", {"form"}, "字")])
def test_kit_info_modes_units_and_cues(name, modes, unit):
    info = _kit(_client(str(EXAMPLES / name)))
    assert {t["mode"] for t in info["tasks"]} == modes
    assert {f["mode"] for f in info["families"]} == modes and len(info["families"]) == len({t["family"] for t in info["tasks"]})
    assert info["length_unit"] == unit
    assert info["models"] == ["base", "sft"]
    lk = load_kit(EXAMPLES / name)
    own = lk.kit.checks.cta_cues
    # the kit's own cues first, then the built-in ones of its language: what the CTA check accepts
    assert info["cta_cues"][: min(len(own), 6)] == own[:6]
    if not own:
        assert info["cta_cues"][0] == CTA_CUES[lk.kit.language.split("-")[0]][0]
    assert info["style"]["max_punct_run"] == lk.kit.checks.max_punct_run


def test_ja_legal_is_a_chat_with_its_disclaimer_and_ko_copy_has_values():
    ja = _kit(_client(str(EXAMPLES / "ja-legal")))
    assert [t["mode"] for t in ja["tasks"]] == ["chat"] * 4
    assert ja["disclaimer"] == "本回答は一般的な情報提供であり、個別の法的助言ではありません。"
    assert ja["value_field"] is None
    ko = _kit(_client(str(EXAMPLES / "ko-pv-copy")))
    assert ko["value_field"] == "values" and ko["disclaimer"] is None
    assert ko["cta_cues"][:2] == ["알아보기", "알아보세요"]
    assert all(re.search(r"[\uac00-\ud7a3]", c) for c in ko["cta_cues"])
    assert ko["style"] == {"max_exclamation_density": 0.01, "max_punct_run": 1, "max_emoji": 0}


def test_a_kit_with_both_families(tmp_path):
    """A copy kit with one question–answer task: both modes; qa and *_qa families are chats, others forms."""
    src = EXAMPLES / "ko-pv-copy"
    data = yaml.safe_load((src / "kit.yaml").read_text(encoding="utf-8"))
    qa = dict(data["tasks"][0], id="care_qa", family="care_qa", description="쓰임과 관리에 관한 질문")
    data["tasks"].append(qa)
    (tmp_path / "kit.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    for f in ("products.csv", "golden.jsonl"):
        (tmp_path / f).write_bytes((src / f).read_bytes())
    lk = load_kit(tmp_path)
    info = kit_info(lk, models=["m"], blocking_checks=[])
    assert {t["id"]: t["mode"] for t in info["tasks"]} == {"pv_copy": "form", "short_ad": "form", "sns_caption": "form",
                                                           "care_qa": "chat"}
    assert task_mode(lk, lk.kit.tasks[0].model_copy(update={"family": "qa"})) == "chat"
    assert task_mode(lk, lk.kit.tasks[0].model_copy(update={"family": "quality"})) == "form"


def test_no_kit_is_a_404_and_both_pages_load_the_shared_helper():
    client = _client(None)
    r = client.get("/v1/kit")
    assert r.status_code == 404 and r.json()["error"]["code"] == "no_kit"
    for page, script in (("/", "app.js"), ("/legal", "legal.js")):
        html = client.get(page).text
        assert html.index('src="/static/api.js"') < html.index(f'src="/static/{script}"')
        assert client.get("/static/api.js").status_code == 200
    assert client.get("/static/hints.js").status_code == 200 and client.get("/static/qa.js").status_code == 200
    # the request helper lives in api.js only
    for name in ("app.js", "legal.js", "qa.js", "hints.js"):
        js = (STATIC / name).read_text(encoding="utf-8")
        assert "function headers(" not in js and "new AbortController" not in js and "const $ =" not in js, name
    assert all(len((STATIC / f).read_text(encoding="utf-8").splitlines()) <= 400 for f in ("app.js", "qa.js", "hints.js"))
