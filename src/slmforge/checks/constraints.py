"""Constraints check (length, lines, hashtags, forbidden characters, emoji, headings) and the CTA check.

Lengths are counted in extended grapheme clusters (UAX #29, via the ``regex`` module's ``\\X``)
with line breaks not counted, so 「1️⃣」 or 「👍🏽」 is one character, as a person counts. Constraints
come from the task (``task.constraints``) and, for imported datasets, from the instruction's own
text (:func:`slmforge.checks.extract.extract_constraints`); :func:`merge_constraints` keeps the
stricter of the two.
"""

from __future__ import annotations

import re

import regex

from slmforge.checks.text import emoji_spans, grapheme_len, normalize_term, prepare, term_matcher
from slmforge.checks.types import CheckResult, Finding
from slmforge.kit.schema import Constraints, Kit

NAME = "constraints"
CTA = "cta"

HASHTAG_RE = regex.compile(r"(?<![\p{L}\p{N}&])#(?![#\s])[^\s#]{1,40}#?")
"""A hashtag: ``#tag`` or the Weibo / Xiaohongshu form ``#话题#``; a markdown heading (``# Title``) is not one."""
HEADING_RE = re.compile(r"(?m)^[ \t]*#{1,6}[ \t]+\S")

CTA_CUES: dict[str, list[str]] = {
    "zh": ["点击", "立即", "马上", "立刻", "赶紧", "赶快", "快来", "现在就", "即刻", "下单", "抢购", "购买", "入手",
           "加购", "领取", "私信", "扫码", "预约", "戳", "试试", "了解更多", "点我", "链接", "评论区", "关注",
           "收藏", "开启", "解锁", "来试", "带回家", "get同款"],
    "ja": ["今すぐ", "ダウンロード", "購入", "お試し", "試して", "チェック", "詳しくは", "申し込", "予約", "タップ",
           "クリック", "お求め", "手に入れ", "ご注文", "フォロー", "登録"],
    "ko": ["지금", "구매", "클릭", "확인하세요", "신청", "다운로드", "만나보세요", "경험해 보세요", "주문", "예약",
           "시작하세요", "받아보세요", "팔로우"],
    "en": ["buy", "shop", "order", "try", "get yours", "get it", "discover", "learn more", "sign up", "subscribe",
           "download", "book", "visit", "click", "tap", "call", "start", "join", "claim", "grab", "find out",
           "explore", "see more", "add to cart"],
}
"""Built-in call-to-action cues per language (imperative verbs and the usual button phrases)."""


def _cta_cues(language: str, extra: tuple[str, ...]) -> tuple[str, ...]:
    lang = language.split("-")[0]
    return tuple(CTA_CUES.get(lang, [])) + (tuple(CTA_CUES["en"]) if lang != "en" else ()) + extra


def cta_cues(kit: Kit) -> tuple[str, ...]:
    """Every call-to-action cue of a kit: the built-in ones of its language and English, plus ``kit.checks.cta_cues``."""
    return _cta_cues(kit.language, tuple(kit.checks.cta_cues))


def cta_spans(text: str, language: str, extra: tuple[str, ...] = ()) -> list[tuple[int, int]]:
    """``(start, end)`` character spans of call-to-action cues in ``text``, without a kit: the built-in
    cues (:data:`CTA_CUES`) of ``language`` (BCP-47 tag) and English, plus ``extra``; offsets into the
    original text."""
    p = prepare(text)
    return [p.span(s, e) for _, s, e in term_matcher(_cta_cues(language, extra)).find(p.norm)]


def find_cta(text: str, kit: Kit) -> list[tuple[int, int]]:
    """``(start, end)`` spans of call-to-action cues in ``text`` (built-in cues of ``kit.language`` and
    English, plus ``kit.checks.cta_cues``), offsets into the original text."""
    return cta_spans(text, kit.language, tuple(kit.checks.cta_cues))


def check_cta(text: str, kit: Kit, *, required: bool) -> CheckResult:
    """Call-to-action presence.

    Score: 1 when a CTA cue is found or none is required, else 0. Passed likewise.

    Args:
        text: the copy.
        kit: language and extra cues (``kit.checks.cta_cues``).
        required: whether the task (or the instruction) asks for a CTA.

    Returns:
        :class:`CheckResult` with details ``required``, ``found`` (number of cues) and an ``info``
        finding per cue (offsets), or a ``missing_cta`` error.
    """
    spans = find_cta(text, kit)
    findings = [Finding(CTA, "cta", f"call to action {text[s:e]!r}", s, e, "info") for s, e in spans]
    ok = bool(spans) or not required
    if not ok:
        examples = list(dict.fromkeys([*kit.checks.cta_cues, *cta_cues(kit)]))[:2]  # the kit's language, its own first
        findings.append(Finding(CTA, "missing_cta", f"no call to action (e.g. {' / '.join(examples)}) found"))
    return CheckResult(CTA, 1.0 if ok else 0.0, ok, findings, {"required": required, "found": len(spans)})


def merge_constraints(a: Constraints, b: Constraints) -> Constraints:
    """The stricter of two constraint sets, field by field (max of minimums, min of maximums,
    ``and`` of permissions, union of forbidden characters).

    Raises:
        pydantic.ValidationError: the merged ranges are empty (e.g. min_chars above max_chars).
    """
    def lo(x: int | None, y: int | None) -> int | None:
        return y if x is None else x if y is None else max(x, y)

    def hi(x: int | None, y: int | None) -> int | None:
        return y if x is None else x if y is None else min(x, y)

    return Constraints(
        min_chars=lo(a.min_chars, b.min_chars), max_chars=hi(a.max_chars, b.max_chars),
        min_lines=lo(a.min_lines, b.min_lines), max_lines=hi(a.max_lines, b.max_lines),
        cta_required=a.cta_required or b.cta_required, emoji_allowed=a.emoji_allowed and b.emoji_allowed,
        hashtags_min=lo(a.hashtags_min, b.hashtags_min), hashtags_max=hi(a.hashtags_max, b.hashtags_max),
        newlines_allowed=a.newlines_allowed and b.newlines_allowed,
        forbidden_chars=sorted(set(a.forbidden_chars) | set(b.forbidden_chars)),
        forbid_markdown_headings=a.forbid_markdown_headings or b.forbid_markdown_headings,
    )


def _bound(findings: list[Finding], code: str, value: int, lo: int | None, hi: int | None, unit: str) -> float:
    """Append a finding when ``value`` is outside [lo, hi]; return the relative overshoot (0 when inside):
    ``value / hi − 1`` above the range, ``lo / max(value, 1) − 1`` below it (the same ratio, inverted)."""
    if lo is not None and value < lo:
        findings.append(Finding(NAME, f"too_few_{code}", f"{value} {unit}, at least {lo} required"))
        return lo / max(value, 1) - 1
    if hi is not None and value > hi:
        findings.append(Finding(NAME, f"too_many_{code}", f"{value} {unit}, at most {hi} allowed"))
        return (value - hi) / max(hi, 1)
    return 0.0


def check_constraints(text: str, constraints: Constraints) -> CheckResult:
    """Hard output constraints (CTA presence is the separate :func:`check_cta`).

    Score: ``1 / (1 + Σ penalties)`` where a count outside its range costs its relative overshoot
    plus 0.5 and every other violation costs 1. The overshoot is a ratio, the same on both sides:
    ``count / max − 1`` above the range, ``min / max(count, 1) − 1`` below it, so a 10 % overlong text
    scores 1 / 1.6, a text at half the minimum length scores like one at twice the maximum (1 / 2.5),
    and a near-empty text scores near 0. An empty (whitespace-only) text is no copy at all: finding
    ``empty``, score 0. Passed: no violation.

    Args:
        text: the copy.
        constraints: merged task / instruction constraints.

    Returns:
        :class:`CheckResult`; findings ``empty``, ``too_many_chars`` / ``too_few_chars``, ``..._lines``,
        ``..._hashtags``, ``forbidden_char``, ``newline``, ``emoji``, ``markdown_heading``; details
        ``chars`` (graphemes), ``lines`` (non-empty), ``hashtags``, ``emoji``.
    """
    c = constraints
    findings: list[Finding] = []
    body = text.strip()
    n_chars = grapheme_len(body)
    lines = [ln for ln in body.splitlines() if ln.strip()]
    tags = HASHTAG_RE.findall(body)
    emoji = emoji_spans(text)
    if not body:
        return CheckResult(NAME, 0.0, False, [Finding(NAME, "empty", "empty text")],
                           {"chars": 0, "lines": 0, "hashtags": 0, "emoji": 0})
    penalty = 0.0
    for code, value, lo, hi, unit in (("chars", n_chars, c.min_chars, c.max_chars, "characters"),
                                      ("lines", len(lines), c.min_lines, c.max_lines, "lines"),
                                      ("hashtags", len(tags), c.hashtags_min, c.hashtags_max, "hashtags")):
        over = _bound(findings, code, value, lo, hi, unit)
        penalty += over + 0.5 if over else 0.0
    if not c.newlines_allowed and "\n" in body:
        i = text.index("\n", text.find(body))
        findings.append(Finding(NAME, "newline", "line break where none is allowed", i, i + 1))
        penalty += 1
    if not c.emoji_allowed and emoji:
        for s, e in emoji:
            findings.append(Finding(NAME, "emoji", f"emoji {text[s:e]!r} where none is allowed", s, e))
        penalty += 1
    if c.forbidden_chars:
        p = prepare(text)
        bad = {normalize_term(ch) for ch in c.forbidden_chars}
        hits = sorted({p.span(i, i + 1)[0] for i, ch in enumerate(p.norm) if ch in bad})
        for i in hits:
            findings.append(Finding(NAME, "forbidden_char", f"forbidden character {text[i]!r}", i, i + 1))
        penalty += 1 if hits else 0
    if c.forbid_markdown_headings:
        for m in HEADING_RE.finditer(text):
            findings.append(Finding(NAME, "markdown_heading", "markdown heading", m.start(), m.end()))
            penalty += 1
    return CheckResult(NAME, 1.0 / (1.0 + penalty), not findings, findings,
                       {"chars": n_chars, "lines": len(lines), "hashtags": len(tags), "emoji": len(emoji)})
