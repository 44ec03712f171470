"""The legal assistant's routes (slmforge.serve.review) on a scripted engine: clause splitting, reading the model's
JSON finding, a reply that is no JSON kept as an error card, questions with history checked by the legal checks,
drafting, and every error a bad request can get."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from slmforge.models.generate import Choice, Generation
from slmforge.serve.app import create_app
from slmforge.serve.config import ServeConfig
from slmforge.serve.engine import ContextTooLong
from slmforge.serve.contract import clause_hints, parse_finding, split_clauses

from tests.conftest import ROOT

KIT = ROOT / "examples" / "ja-legal"
CONTRACT = ("業務委託契約書\n\n甲と乙は、次のとおり契約する。\n\n第1条（目的）\n甲は、制作業務を乙に委託する。\n"
            "第２条　委託料\n甲は、乙に対し、金100万円を支払う。第3条に定める場合を除く。\n"
            "第三条 乙は、本契約に関して甲に生じた一切の損害を賠償する。\n"
            "第3条の2（解除）\n甲は、催告を要せず直ちに本契約を解除できる。\n第5条の規定にかかわらず、本文の続き。\n")
GOLDEN = json.loads((KIT / "golden.jsonl").read_text(encoding="utf-8").splitlines()[16])  # risk_analysis-01


class ScriptedEngine:
    """Stands in for :class:`slmforge.serve.engine.Engine`: ``reply(messages) -> str`` answers every generation."""

    def __init__(self, reply) -> None:
        self.reply, self.calls = reply, []
        self.model_ids, self.base_id, self.adapters, self.max_context = ["base", "sft"], "base", {"sft": "-"}, 2048

    def generate(self, model_id, messages, params, cancel=None) -> Generation:
        self.calls.append({"model": model_id, "messages": messages, "max_tokens": params.max_tokens})
        return Generation([Choice(self.reply(messages), "stop", 7)], 11)


def _client(reply, *, kit=True, **cfg):
    engine = ScriptedEngine(reply)
    app = create_app(ServeConfig(model="scripted", kit=str(KIT) if kit else None, **cfg), engine=engine)
    return TestClient(app, base_url="http://127.0.0.1:8000"), engine


def test_split_clauses_reads_every_heading_style():
    preamble, clauses = split_clauses(CONTRACT)
    assert preamble == "業務委託契約書\n\n甲と乙は、次のとおり契約する。"
    assert [(c.number, c.heading, c.title) for c in clauses] == [
        ("1", "第1条（目的）", "目的"), ("2", "第２条\u3000委託料", "委託料"), ("3", "第三条", ""), ("3の2", "第3条の2（解除）", "解除")]
    assert clauses[2].text == "乙は、本契約に関して甲に生じた一切の損害を賠償する。"
    assert clauses[3].text.endswith("第5条の規定にかかわらず、本文の続き。")  # a reference, not a heading
    assert "第3条に定める" in clauses[1].text
    assert CONTRACT[clauses[0].start:clauses[0].end].startswith("第1条（目的）")
    assert split_clauses("見出しのない文章です。") == ("見出しのない文章です。", [])
    assert [h["code"] for h in clause_hints(clauses[3].text)] == ["no_notice_termination"]


@pytest.mark.parametrize("reply, want", [
    ('{"risk": "高", "reason": "上限がない"}', ("high", "上限がない")),
    ('```json\n{"リスク": "低い", "理由": "一般的な定め"}\n```', ("low", "一般的な定め")),
    ('評価: {"level": "Medium", "reason": " 不明確 "} 以上', ("medium", "不明確")),
])
def test_parse_finding_reads_json_findings(reply, want):
    assert parse_finding(reply) == want


@pytest.mark.parametrize("reply, message", [
    ("この条項は危険です", "JSON オブジェクトがありません"), ('{"risk": "危険", "reason": "x"}', "高・中・低"),
    ('{"risk": "高", "reason": ""}', "reason"), ('{"risk": "高"}', "reason"),
])
def test_parse_finding_says_what_is_wrong(reply, message):
    with pytest.raises(ValueError, match=message):
        parse_finding(reply)


def test_review_returns_a_finding_or_an_error_card_per_clause():
    def reply(messages):
        body = messages[-1]["content"]
        return '{"risk": "高", "reason": "賠償の上限がありません"}' if "一切の損害" in body else "うーん、よくわかりません"

    client, engine = _client(reply)
    r = client.post("/v1/review", json={"contract": CONTRACT, "model": "sft", "max_tokens": 50})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["summary"] | {"latency_s": 0} == {"clauses": 4, "parsed": 1, "unparsed": 3, "skipped": 0, "high": 1,
                                                "medium": 0, "low": 0, "latency_s": 0}
    third = body["clauses"][2]
    assert third["status"] == "ok" and third["risk"] == "high" and third["risk_label"] == "高"
    assert third["hints"][0]["code"] == "unlimited_liability"
    first = body["clauses"][0]
    assert first["status"] == "unparsed" and first["raw"] == "うーん、よくわかりません" and "JSON" in first["error"]
    assert body["disclaimer"].startswith("本回答は一般的な情報提供")
    assert [c["model"] for c in engine.calls] == ["sft"] * 4 and engine.calls[0]["max_tokens"] == 50
    assert "第1条（目的）" in engine.calls[0]["messages"][-1]["content"]


def test_review_errors():
    client, _ = _client(lambda m: "{}", kit=False)  # review works without a kit
    r = client.post("/v1/review", json={"contract": "見出しのない契約書です。"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "no_clauses"
    many = "\n".join(f"第{i}条 甲は乙に支払う。" for i in range(1, 42))
    assert client.post("/v1/review", json={"contract": many}).json()["error"]["code"] == "too_many_clauses"
    assert client.post("/v1/review", json={"contract": CONTRACT, "model": "nope"}).status_code == 404
    r = client.post("/v1/review", json={"contract": CONTRACT, "max_tokens": "50"})
    assert r.status_code == 400 and r.json()["error"]["param"] == "max_tokens"
    assert client.post("/v1/review", json={"contract": CONTRACT, "extra": 1}).status_code == 400
    assert client.get("/v1/legal").json()["legal_checks"] is False

    def too_long(messages):
        raise ContextTooLong("This model's maximum context length is 2048 tokens.")

    client, _ = _client(too_long)
    r = client.post("/v1/review", json={"contract": CONTRACT})
    assert r.status_code == 400 and r.json()["error"]["code"] == "context_length_exceeded"
    assert client.get("/health").json()["in_flight"] == 0  # the slot was freed


def test_ask_renders_the_task_sends_the_history_and_checks_the_answer():
    answers = iter([GOLDEN["text"], "必ず勝てます。民法第999条があります。"])
    client, engine = _client(lambda m: next(answers))
    q = {"task": "risk_analysis", "topic": "業務委託契約", "question": GOLDEN["value"], "model": "sft"}
    a = client.post("/v1/legal/ask", json=q).json()
    assert a["instruction"].startswith("次の事例の法的リスクを分析してください。分野：業務委託契約")
    assert a["report"]["passed"] and {"legal_disclaimer", "legal_guarantee", "legal_articles", "coverage"} <= set(
        a["report"]["checks"])
    history = [{"role": "user", "content": a["instruction"]}, {"role": "assistant", "content": a["answer"]}]
    b = client.post("/v1/legal/ask", json={**q, "question": "では、どう直せばよいですか。", "history": history,
                                           "topic": None}).json()
    assert engine.calls[1]["messages"][:2] == history and "分野：一般" in engine.calls[1]["messages"][-1]["content"]
    assert not b["report"]["passed"]
    failed = {n for n, c in b["report"]["checks"].items() if not c["passed"]}
    assert {"legal_guarantee", "legal_disclaimer", "legal_articles"} <= failed
    assert "coverage" not in b["report"]["checks"]  # no topic, no subject to cover


def test_ask_errors_and_the_system_prompt_flag():
    client, engine = _client(lambda m: "回答", student_system=True)
    ok = client.post("/v1/legal/ask", json={"task": "contract_qa", "question": "質問です"})
    assert ok.status_code == 200 and engine.calls[0]["messages"][0]["role"] == "system"
    assert engine.calls[0]["model"] == "sft"  # the last adapter by default, as /v1/copy
    assert client.post("/v1/legal/ask", json={"task": "ad", "question": "q"}).json()["error"]["param"] == "task"
    unknown_topic = {"task": "contract_qa", "topic": "宇宙法", "question": "q"}
    assert client.post("/v1/legal/ask", json=unknown_topic).status_code == 400
    assert client.post("/v1/legal/ask", json={"task": "contract_qa", "question": ""}).status_code == 400
    bad_turn = {"task": "contract_qa", "question": "q", "history": [{"role": "system", "content": "x"}]}
    assert client.post("/v1/legal/ask", json=bad_turn).status_code == 400
    nokit, _ = _client(lambda m: "x", kit=False)
    r = nokit.post("/v1/legal/ask", json={"task": "contract_qa", "question": "q"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "no_kit"


def test_draft_and_the_page():
    client, engine = _client(lambda m: "通知書\n貴社との契約は確実に解除されます。")
    d = client.post("/v1/legal/draft", json={"kind": "notice", "points": "納期遅延。4月14日までに納品がなければ解除。"}).json()
    assert d["label"] == "通知書" and d["text"].startswith("通知書")
    assert set(d["report"]["checks"]) == {"legal_guarantee", "legal_articles", "language", "degenerate", "markup"}
    assert not d["report"]["checks"]["legal_guarantee"]["passed"]
    assert "要点：納期遅延" in engine.calls[0]["messages"][-1]["content"]
    assert client.post("/v1/legal/draft", json={"kind": "poem", "points": "x"}).status_code == 400
    page = client.get("/legal")
    assert page.status_code == 200 and 'src="/static/legal.js"' in page.text
    assert client.get("/static/legal.js").status_code == 200 and client.get("/static/legal.css").status_code == 200
    info = client.get("/v1/legal").json()
    assert info["legal_checks"] and [k["id"] for k in info["drafting"]] == ["notice", "clause", "memo"]


def test_the_page_is_public_and_the_routes_need_the_key():
    client, _ = _client(lambda m: "x", api_key="secret")
    assert client.get("/legal").status_code == 200 and client.get("/static/legal.js").status_code == 200
    assert client.get("/v1/legal").status_code == 401
    r = client.post("/v1/review", json={"contract": CONTRACT}, headers={"Authorization": "Bearer secret"})
    assert r.status_code == 200 and r.json()["summary"]["unparsed"] == 4
