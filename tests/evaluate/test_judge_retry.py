"""Judge retry: a rejected reply (two score fields, broken JSON) is re-asked as a fresh request, the
recovered verdict counts, and the report says how many retries there were."""

from __future__ import annotations

import json
import re
import threading

from slmforge.data.records import Generation
from slmforge.evaluate import CandidateSpec, EvalConfig, JudgeConfig, evaluate
from slmforge.evaluate.candidates import HeldoutItem
from slmforge.evaluate.judge import judge_pairwise, judge_pointwise
from slmforge.kit import load_kit
from slmforge.llm.client import LLMClient
from slmforge.llm.config import ModelConfig
from slmforge.testing.server import ScriptedServer

CAND = re.compile(r'<candidate id="([^"]+)">(.*?)</candidate>', re.S)
TWO_SCORES = '{"reason": {"quoted": {"score": 5}}, "score": 2}'


class FirstReplyBad:
    """A judge whose first reply to each distinct prompt is ``bad``, later replies ``good`` (or only the
    first ``limit`` distinct prompts get a bad first reply)."""

    def __init__(self, bad: str, good: str, limit: int | None = None) -> None:
        self.bad, self.good, self.limit = bad, good, limit
        self.seen: set[str] = set()
        self.lock = threading.Lock()

    def __call__(self, req: dict) -> str:
        user = req["messages"][-1]["content"]
        if "evaluation steps a careful grader" in user:
            return json.dumps({"steps": ["Read the instruction.", "Score."]})
        with self.lock:
            first = user not in self.seen and (self.limit is None or len(self.seen) < self.limit)
            self.seen.add(user)
        return self.bad if first else self.good


def _client(srv, tmp_path):
    judge = ModelConfig(backend="openai", model="judge-model", base_url=srv.base_url, max_retries=0, timeout_s=10)
    return LLMClient({"judge": judge}, ledger=tmp_path / "ledger.sqlite")


def _pointwise(lk, client, n: int, retries: int = 1):
    items = [HeldoutItem(f"i{i}", "paid_ad_cta", "Jasmine Pearl", [{"role": "user", "content": "Write an ad."}], None)
             for i in range(n)]
    gens = [Generation(id=f"i{i}:x", candidate="x", task="paid_ad_cta", prompt=items[i].prompt, text=f"Ad number {i}.")
            for i in range(n)]
    cfg = EvalConfig(candidates=[CandidateSpec(name="x")], judge=JudgeConfig(pairwise=False, retries=retries))
    steps = {t.id: {"steps": ["Read the text.", "Score it."], "source": "kit"} for t in lk.kit.tasks}
    return judge_pointwise(lk, cfg, client, items, gens, steps)


def test_rejected_pointwise_reply_is_re_asked_fresh_and_counts(minikit_path, tmp_path):
    lk = load_kit(minikit_path)
    n_crit = len(lk.kit.task("paid_ad_cta").rubric.criteria)
    with ScriptedServer(FirstReplyBad(TWO_SCORES, '{"reason": "fine", "score": 4}')) as srv:
        client = _client(srv, tmp_path)
        scores = _pointwise(lk, client, 2)
        assert srv.stats.requests == 2 * 2 * n_crit  # every call asked twice: the retry is not the cached reply
        again = _pointwise(lk, client, 2)
        assert srv.stats.requests == 2 * 2 * n_crit  # a rerun finds both replies in the ledger
    assert [s.score for s in scores] == [4.0] * 2 * n_crit and all(s.error is None for s in scores)
    assert all(s.retries == 1 for s in scores)
    assert [(s.score, s.retries) for s in again] == [(s.score, s.retries) for s in scores]
    stages = {r["key"] for r in client.ledger.summary(by="stage")}
    assert stages == {"eval.judge.pointwise", "eval.judge.pointwise.retry"}


def test_no_retries_keeps_the_rejection_and_a_still_bad_retry_is_a_failure(minikit_path, tmp_path):
    lk = load_kit(minikit_path)
    with ScriptedServer(FirstReplyBad(TWO_SCORES, '{"reason": "fine", "score": 4}')) as srv:
        scores = _pointwise(lk, _client(srv, tmp_path / "a"), 1, retries=0)
    assert all(s.score is None and "more than one 'score'" in s.error and s.retries == 0 for s in scores)
    with ScriptedServer(lambda req: "not json") as srv:
        scores = _pointwise(lk, _client(srv, tmp_path / "b"), 1, retries=2)
    assert all(s.score is None and "not one JSON object" in s.error and s.retries == 2 for s in scores)


def test_rejected_pairwise_verdict_is_re_asked(minikit_path, tmp_path):
    lk = load_kit(minikit_path)
    it = HeldoutItem("i0", "paid_ad_cta", "Jasmine Pearl", [{"role": "user", "content": "Write an ad."}], None)
    gens = [Generation(id=f"i0:{c}", candidate=c, task=it.task, prompt=it.prompt, text=f"text of {c}") for c in "xy"]
    cfg = EvalConfig(candidates=[CandidateSpec(name="x"), CandidateSpec(name="y")], judge=JudgeConfig(pointwise=False))
    bad = '{"winner": "A", "reason": "r", "winner": "B"}'
    with ScriptedServer(FirstReplyBad(bad, '{"reason": "r", "winner": "tie"}', limit=1)) as srv:
        (v,) = judge_pairwise(lk, cfg, _client(srv, tmp_path), [it], gens)
        assert srv.stats.requests == 3
    assert v.outcome == 0.5 and v.consistent is True and v.retries == 1 and v.errors == ""


def test_report_shows_the_retry(minikit_path, tmp_path):
    lk = load_kit(minikit_path)
    cfg = EvalConfig(candidates=[CandidateSpec(name="golden", kind="golden")],
                     judge=JudgeConfig(pairwise=False), n_boot=100)
    with ScriptedServer(FirstReplyBad("{'score': 3", '{"reason": "fine", "score": 3}', limit=1)) as srv:
        out = evaluate(lk, cfg, _client(srv, tmp_path), tmp_path / "report")
    scores = [json.loads(line) for line in (out / "judge_scores.jsonl").read_text().splitlines()]
    assert sum(s["retries"] for s in scores) == 1 and all(s["score"] == 3 for s in scores)
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Judge retries: 1 retry of rejected replies (pointwise 1, pairwise 0); 1 recovered, 0 still rejected" in html
    assert "pointwise judge scores failed" not in html
