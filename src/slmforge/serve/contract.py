"""Contract review for the legal assistant: split a contract at its 第N条 headings, ask the model for one
finding per clause (risk level and reason as JSON), and read its reply robustly."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import regex

from slmforge.checks.legal import kanji_number
from slmforge.jsontext import find_object


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
    obj = find_object(reply)
    if obj is None:
        raise ValueError("モデルの出力に JSON オブジェクトがありません")
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
