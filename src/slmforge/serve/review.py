"""The legal assistant of ``slmforge serve``: legal Q&A with history, contract review clause by clause, drafting.

Routes (registered by :func:`slmforge.serve.app.create_app`; the page is ``static/legal.html``)::

    GET  /legal             the page
    GET  /v1/legal          disclaimer, drafting kinds, whether the kit opts into the legal checks
    POST /v1/legal/ask      one question with the conversation so far → answer + check report (needs --kit)
    POST /v1/review         a contract → its 第N条 clauses, each with a risk level (高/中/低) and the reason
    POST /v1/legal/draft    a document kind and its points → a draft + legal check report

Run it with ``slmforge serve --model runs/tiny --kit examples/ja-legal`` and open ``http://127.0.0.1:8000/legal``.

A question is rendered with the kit task's student template (what the model was fine-tuned on) and checked with
the kit's checks, the legal ones included (:mod:`slmforge.checks.legal`). A contract is split at its 第N条
headings (:func:`split_clauses`); the model answers each clause with a JSON object
``{"risk": "高|中|低", "reason": "…"}``, read by :func:`parse_finding`. A reply that is not such an object is kept
with ``status: "unparsed"``, the raw text and the reason (a small model often writes no JSON): the page shows it
as an error card, never waits for more. Each clause also gets keyword hints (:data:`CLAUSE_HINTS`), which need no
model. Every route that generates takes a limiter slot (429 when busy) and is bounded by its ``max_tokens``.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import regex
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from slmforge.checks.legal import kanji_number
from slmforge.kit.load import LoadedKit
from slmforge.kit.render import render_student_prompt, system_prompt
from slmforge.serve.chat import extract_json
from slmforge.serve.config import ServeConfig
from slmforge.serve.engine import ContextTooLong, Engine, SamplingParams
from slmforge.serve.middleware import Limiter, error_response
from slmforge.serve.schemas import Text

_NUM = r"[0-9０-９]+|[〇一二三四五六七八九十百千]+"
HEADING_RE = regex.compile(
    rf"(?m)^[ \t\u3000]*第[ \t\u3000]*(?P<num>{_NUM})[ \t\u3000]*条(?:の(?P<sub>{_NUM}))?"
    r"(?:[ \t\u3000]*[（(](?P<title>[^）)\n]{1,40})[）)]|(?=[ \t\u3000]|$))(?P<rest>[^\n]*)$")
"""A clause heading at the start of a line: 「第3条（損害賠償）」, 「第３条 損害賠償」, 「第三条」, 「第2条の2」."""
MAX_CLAUSES = 40
MAX_CONTRACT_CHARS = 30_000
RISKS = {"高": "high", "高い": "high", "high": "high", "中": "medium", "中程度": "medium", "medium": "medium",
         "低": "low", "低い": "low", "low": "low"}
"""Risk words a reply may use → the level the response reports (``high`` / ``medium`` / ``low``)."""
RISK_LABELS = {"high": "高", "medium": "中", "low": "低"}
REVIEW_SYSTEM = ("あなたは契約書のレビューを支援する慎重な法務担当者です。相手方から提示された契約書として条項を読み、"
                 "こちらに不利な点や不明確な点のリスクを評価します。結果を保証する表現は使いません。")
CLAUSE_HINTS: tuple[tuple[str, str, str], ...] = (
    ("unlimited_liability", r"一切の損害|あらゆる損害|すべての損害|全ての損害", "賠償の範囲と上限が限定されていません"),
    ("full_exemption", r"一切(?:の)?責任を負わない|いかなる責任も負わない|責任を一切負わない",
     "全部免責の条項です（消費者との契約では消費者契約法第8条に注意）"),
    ("no_notice_termination", r"催告(?:を要せず|なく|なしに|することなく)|直ちに(?:本契約を)?解除",
     "無催告解除の条項です（解除事由が具体的か確認）"),
    ("auto_renewal", r"自動的に(?:更新|延長)|同一(?:の)?条件で更新", "自動更新の条項です（更新を拒絶する期限を確認）"),
    ("penalty", r"違約金|賠償額の予定|損害賠償の予定", "違約金・賠償額の予定です（額が相当か確認）"),
    ("unilateral_change", r"(?:甲|当社|乙)は[^。]{0,20}(?:変更|改定)(?:できる|することができる)", "一方的な変更権の条項です"),
    ("exclusive_jurisdiction", r"専属的(?:合意)?管轄", "専属的合意管轄です（裁判所の所在地を確認）"),
    ("ip_transfer", r"著作権[^。]{0,30}(?:譲渡|移転|帰属)",
     "権利の帰属の条項です（著作権法第27条・第28条の権利を特に記載しているか確認）"),
)
"""Keyword hints per clause: ``(code, regex, message)``; they need no model and are shown next to its finding."""
DRAFT_KINDS = {
    "notice": ("通知書", "次の要点をもとに、取引先に送る通知書の文案を作成してください。敬語で書き、日付・宛先・差出人は"
               "【】の空欄にしてください。"),
    "clause": ("契約条項", "次の要点をもとに、契約書の条項案を「第○条（見出し）」の形式で作成してください。"),
    "memo": ("社内メモ", "次の要点をもとに、社内向けの説明メモを作成してください。結論、根拠、対応の順に書いてください。"),
}
"""Drafting kinds: id → (label, instruction put before the user's points)."""
DRAFT_CHECKS = ("legal_guarantee", "legal_articles", "language", "degenerate", "markup")


@dataclass
class Clause:
    """One clause of a contract.

    Attributes:
        index: 0-based position in the contract.
        number: the article number in arabic digits, ``"3"`` or ``"2の2"``.
        heading: the heading line as written, e.g. 「第3条（損害賠償）」.
        title: the title in parentheses (or the short rest of the heading line), ``""`` when none.
        text: the clause body after the heading, stripped.
        start / end: offsets of the clause (heading included) in the contract (characters).
    """

    index: int
    number: str
    heading: str
    title: str
    text: str
    start: int
    end: int


@dataclass
class ClauseReview:
    """The review of one clause: the model's finding (or why it could not be read) and the keyword hints.

    Attributes:
        clause: the clause.
        status: ``ok`` (risk and reason read), ``unparsed`` (the reply was no usable JSON object) or ``skipped``
            (the client left before this clause).
        risk: ``high`` / ``medium`` / ``low``, or ``None``.
        risk_label: 高 / 中 / 低, or ``None``.
        reason: the model's reason, or ``None``.
        error: why the reply could not be read, or ``None``.
        raw: the model's reply as generated.
        hints: keyword hints ``{"code", "message"}``.
    """

    clause: Clause
    status: Literal["ok", "unparsed", "skipped"]
    risk: str | None = None
    risk_label: str | None = None
    reason: str | None = None
    error: str | None = None
    raw: str = ""
    hints: list[dict[str, str]] = field(default_factory=list)


def _number(num: str, sub: str | None) -> str:
    return str(kanji_number(num)) + (f"の{kanji_number(sub)}" if sub else "")


def split_clauses(contract: str) -> tuple[str, list[Clause]]:
    """Split a contract at its 第N条 headings (a heading starts a line; see :data:`HEADING_RE`).

    Returns:
        ``(preamble, clauses)``: the text before the first heading (stripped) and the clauses in order; no
        clauses when the contract has no heading.
    """
    heads = list(HEADING_RE.finditer(contract))
    clauses = []
    for i, m in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(contract)
        title, rest = (m.group("title") or "").strip(), m.group("rest").strip()
        body = contract[m.end():end].strip()
        heading = contract[m.start():m.start("rest")].strip()
        if not title and rest and len(rest) <= 20 and "。" not in rest:
            title, heading = rest, contract[m.start():m.end()].strip()  # 「第1条　目的」
        elif rest:
            body = (rest + "\n" + body).strip()  # 「第1条 甲は、乙に…」: the heading line holds text
        clauses.append(Clause(i, _number(m.group("num"), m.group("sub")), heading, title, body, m.start(), end))
    preamble = contract[:heads[0].start()].strip() if heads else contract.strip()
    return preamble, clauses


def parse_finding(reply: str) -> tuple[str, str]:
    """Read ``{"risk": "高|中|低", "reason": "…"}`` from a model's reply (code fences and chatter around it ignored).

    Also accepted: ``リスク`` / ``level`` for the risk, ``理由`` for the reason, and the words of :data:`RISKS`
    (高い, medium …).

    Returns:
        ``(risk, reason)`` with ``risk`` one of ``high``, ``medium``, ``low``.

    Raises:
        ValueError: no JSON object, an unknown risk word, or an empty reason (the message says which, in Japanese,
            for the page).
    """
    found = extract_json(reply)
    if found is None:
        raise ValueError("モデルの出力に JSON オブジェクトがありません")
    obj = json.loads(found)
    raw_risk = next((obj[k] for k in ("risk", "リスク", "level") if k in obj), None)
    risk = RISKS.get(str(raw_risk).strip().lower()) if raw_risk is not None else None
    if risk is None:
        raise ValueError(f"risk が 高・中・低 のいずれでもありません（{str(raw_risk)[:20]!r}）")
    reason = next((obj[k] for k in ("reason", "理由") if k in obj), None)
    if not isinstance(reason, str) or not reason.strip():
        raise ValueError("reason（理由）が空です")
    return risk, reason.strip()


def clause_hints(text: str) -> list[dict[str, str]]:
    """The keyword hints (:data:`CLAUSE_HINTS`) a clause text triggers, in table order."""
    return [{"code": code, "message": msg} for code, pattern, msg in CLAUSE_HINTS if regex.search(pattern, text)]


def review_messages(clause: Clause) -> list[dict[str, str]]:
    """The chat messages that ask for one clause's finding."""
    return [{"role": "system", "content": REVIEW_SYSTEM},
            {"role": "user", "content": f"次の契約条項のリスクを評価してください。\n条項：{clause.heading}\n本文：{clause.text}\n\n"
                                        'JSONオブジェクト1つだけで答えてください：{"risk": "高" または "中" または "低", '
                                        '"reason": "理由（100文字以内）"}'}]


def review_clause(clause: Clause, generate: Callable[[list[dict]], str]) -> ClauseReview:
    """Ask the model about one clause and read its finding; an unreadable reply is kept as ``unparsed``."""
    raw = generate(review_messages(clause))
    hints = clause_hints(clause.text)
    try:
        risk, reason = parse_finding(raw)
    except ValueError as e:
        return ClauseReview(clause, "unparsed", error=str(e), raw=raw, hints=hints)
    return ClauseReview(clause, "ok", risk, RISK_LABELS[risk], reason, raw=raw, hints=hints)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class _Sampling(_Body):
    model: Text | None = Field(default=None, description="Served model id; default: the last adapter (as /v1/copy).")
    temperature: float = Field(default=0.3, ge=0, le=2, description="0 = greedy.")
    top_p: float = Field(default=0.9, gt=0, le=1)
    seed: int | None = Field(default=None, ge=-(2**63), le=2**63 - 1)


class Turn(_Body):
    """A past turn of the conversation."""

    role: Literal["user", "assistant"]
    content: Text = Field(max_length=20_000)


class AskRequest(_Sampling):
    """``POST /v1/legal/ask``: one question, the task that frames it, an optional topic and the turns so far."""

    task: Text = Field(description="Kit task id (contract_qa, interpretation_qa, risk_analysis, practical_advice).")
    topic: Text | None = Field(default=None, description="Catalog subject id; none: a general question.")
    question: Text = Field(min_length=1, max_length=4000)
    history: list[Turn] = Field(default_factory=list, max_length=40, description="Earlier turns, oldest first.")
    max_tokens: int = Field(default=400, ge=1, le=4096)


class ReviewRequest(_Sampling):
    """``POST /v1/review``: a contract to review clause by clause."""

    contract: Text = Field(min_length=1, max_length=MAX_CONTRACT_CHARS)
    max_tokens: int = Field(default=160, ge=1, le=1024, description="Completion tokens per clause.")
    temperature: float = Field(default=0.0, ge=0, le=2)


class DraftRequest(_Sampling):
    """``POST /v1/legal/draft``: a document kind and the points it must make."""

    kind: Literal["notice", "clause", "memo"]
    points: Text = Field(min_length=1, max_length=4000)
    max_tokens: int = Field(default=400, ge=1, le=4096)


RunBlocking = Callable[[Request, threading.Event, Callable[[], Any]], Awaitable[Any]]
"""``until_disconnected(request, cancel, fn)`` of :mod:`slmforge.serve.app`: runs ``fn`` in a worker thread and
sets ``cancel`` when the client leaves."""


def legal_router(cfg: ServeConfig, engine: Engine, lk: LoadedKit | None, limiter: Limiter,
                 run_blocking: RunBlocking) -> APIRouter:
    """The routes of the legal assistant (see the module docstring) for one served model and kit.

    Args:
        cfg: serve settings (``copy_system_prompt`` puts the kit's system prompt before a question).
        engine: the loaded model.
        lk: the served kit, or ``None`` (then ``/v1/legal/ask`` answers 404 ``no_kit``).
        limiter: the server's limiter (every generating route takes a slot).
        run_blocking: the server's ``until_disconnected``.
    """
    from slmforge.serve.app import STATIC  # local: app imports this module

    router = APIRouter()
    legal = lk.kit.checks.legal if lk is not None else None

    def model_of(requested: str | None) -> str | JSONResponse:
        model = requested or engine.model_ids[-1]
        if model not in engine.model_ids:
            return error_response(404, f"The model `{model}` does not exist; served models: {engine.model_ids}",
                                  param="model", code="model_not_found")
        return model

    def params_of(req: _Sampling, max_tokens: int) -> SamplingParams:
        return SamplingParams(max_tokens=max_tokens, temperature=req.temperature, top_p=req.top_p, seed=req.seed)

    async def generating(request: Request, fn: Callable[[threading.Event], Any]):
        """Run ``fn(cancel)`` with a limiter slot; 429 when busy, 400 when the prompt does not fit."""
        if (slot := limiter.acquire()) is None:
            return limiter.busy_response()
        cancel, outcome = threading.Event(), "errors"
        try:
            out = await run_blocking(request, cancel, lambda: fn(cancel))
            outcome = "cancelled" if cancel.is_set() else "completed"
            return out
        except ContextTooLong as e:
            return error_response(400, str(e), param="max_tokens", code="context_length_exceeded")
        finally:
            slot.release(outcome)

    @router.get("/legal", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC / "legal.html")

    @router.get("/v1/legal")
    async def info() -> dict:
        """What the page needs besides ``/v1/kit``: the disclaimer, the drafting kinds, whether answers are checked."""
        return {"disclaimer": legal.disclaimer if legal else None, "legal_checks": legal is not None,
                "drafting": [{"id": k, "label": v[0]} for k, v in DRAFT_KINDS.items()], "models": engine.model_ids,
                "kit": lk.kit.name if lk else None}

    @router.post("/v1/legal/ask")
    async def ask(req: AskRequest, request: Request):
        """Answer one question in the frame of a kit task, after the earlier turns; the answer's check report.

        Errors: 404 no kit / unknown model, 400 unknown task or topic / ``context_length_exceeded``, 429 busy.
        """
        if lk is None:
            return error_response(404, "this server was started without --kit; /v1/legal/ask needs a kit",
                                  code="no_kit")
        model = model_of(req.model)
        if isinstance(model, JSONResponse):
            return model
        try:
            task = lk.kit.task(req.task)
        except KeyError as e:
            return error_response(400, str(e.args[0]), param="task")
        if req.topic and req.topic not in lk.subjects:
            return error_response(400, f"no catalog entry {req.topic!r}; topics: {list(lk.subjects)}", param="topic")
        subject = lk.subjects[req.topic] if req.topic else None
        shown = subject or {f.name: ([] if f.type == "list" else "一般") for f in lk.kit.catalog.fields}
        instruction = render_student_prompt(lk.kit, task, shown, req.question)
        msgs = [{"role": t.role, "content": t.content} for t in req.history]
        msgs.append({"role": "user", "content": instruction})
        if cfg.copy_system_prompt:
            msgs.insert(0, {"role": "system", "content": system_prompt(lk.kit)})
        params = params_of(req, req.max_tokens)

        def work(cancel: threading.Event) -> dict:
            from slmforge.checks import kit_vocabulary, run_checks

            t0 = time.perf_counter()
            choice = engine.generate(model, msgs, params, cancel).choices[0]
            answer = choice.text.strip()
            report = run_checks([answer], task=task, subject=subject, kit=lk.kit, instruction=instruction,
                                vocab=kit_vocabulary(lk))[0]
            return {"id": f"ask-{uuid.uuid4().hex[:24]}", "object": "legal.answer", "created": int(time.time()),
                    "model": model, "task": task.id, "topic": req.topic, "instruction": instruction, "answer": answer,
                    "finish_reason": choice.finish_reason, "report": report.to_dict(),
                    "latency_s": round(time.perf_counter() - t0, 3)}

        return await generating(request, work)

    @router.post("/v1/review")
    async def review(req: ReviewRequest, request: Request):
        """Review a contract clause by clause: risk level and reason from the model, keyword hints from the rules.

        Errors: 400 no 第N条 heading / more than :data:`MAX_CLAUSES` clauses / a clause over the context,
        404 unknown model, 429 busy. A reply that is not a JSON finding is a clause with ``status: unparsed``.
        """
        model = model_of(req.model)
        if isinstance(model, JSONResponse):
            return model
        preamble, clauses = split_clauses(req.contract)
        if not clauses:
            return error_response(400, "条項の見出し（行頭の「第1条」「第2条（目的）」など）が見つかりません; "
                                  "put each clause on its own line starting with 第N条", param="contract",
                                  code="no_clauses")
        if len(clauses) > MAX_CLAUSES:
            return error_response(400, f"{len(clauses)} clauses; at most {MAX_CLAUSES} per request — split the "
                                  "contract", param="contract", code="too_many_clauses")
        params = params_of(req, req.max_tokens)

        def work(cancel: threading.Event) -> dict:
            t0 = time.perf_counter()
            reviews = []
            for c in clauses:
                if cancel.is_set():
                    reviews.append(ClauseReview(c, "skipped", hints=clause_hints(c.text)))
                    continue
                reviews.append(review_clause(c, lambda m: engine.generate(model, m, params, cancel).choices[0].text))
            counts = {s: sum(r.status == s for r in reviews) for s in ("ok", "unparsed", "skipped")}
            levels = {lv: sum(r.risk == lv for r in reviews) for lv in ("high", "medium", "low")}
            return {"id": f"review-{uuid.uuid4().hex[:24]}", "object": "contract.review", "created": int(time.time()),
                    "model": model, "preamble": preamble, "clauses": [asdict(r) for r in reviews],
                    "summary": {"clauses": len(reviews), "parsed": counts["ok"], "unparsed": counts["unparsed"],
                                "skipped": counts["skipped"], **levels,
                                "latency_s": round(time.perf_counter() - t0, 3)},
                    "disclaimer": legal.disclaimer if legal else None}

        return await generating(request, work)

    @router.post("/v1/legal/draft")
    async def draft(req: DraftRequest, request: Request):
        """Draft a notice, a clause or an internal memo from the user's points; legal checks when the kit opts in.

        Errors: 404 unknown model, 400 ``context_length_exceeded``, 429 busy.
        """
        model = model_of(req.model)
        if isinstance(model, JSONResponse):
            return model
        label, instruction = DRAFT_KINDS[req.kind]
        msgs = [{"role": "user", "content": f"{instruction}\n要点：{req.points}"}]
        params = params_of(req, req.max_tokens)

        def work(cancel: threading.Event) -> dict:
            choice = engine.generate(model, msgs, params, cancel).choices[0]
            text = choice.text.strip()
            report = None
            if lk is not None and legal is not None:
                from slmforge.checks import run_checks

                report = run_checks([text], task=None, subject=None, kit=lk.kit, instruction=req.points,
                                    checks=list(DRAFT_CHECKS))[0].to_dict()
            return {"id": f"draft-{uuid.uuid4().hex[:24]}", "object": "legal.draft", "created": int(time.time()),
                    "model": model, "kind": req.kind, "label": label, "text": text,
                    "finish_reason": choice.finish_reason, "report": report}

        return await generating(request, work)

    return router
