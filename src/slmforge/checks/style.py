"""Style check: tone markers a calm, professional brand avoids.

* exclamation density: ``!`` / ``！`` per character above ``kit.checks.max_exclamation_density``
  (one exclamation mark is always allowed);
* repeated punctuation: runs of ``!``/``?`` (``！！！``, ``?!?``) longer than ``kit.checks.max_punct_run``,
  and runs of emoji longer than the same limit (``😱😱😱``);
* emoji count above ``kit.checks.max_emoji`` (when set);
* all-caps shouting (Latin-script copy only, where acronyms inside CJK copy are not shouting): two or
  more words of ≥ 4 capital letters;
* hype patterns: built-in lists per language, extended by ``kit.checks.hype_patterns``.

The built-in hype lists follow the absolute and guarantee claims that advertising rules single out
(PRC Advertising Law 2015 art. 9 and 28 — "最", "第一", "100%", guaranteed or instant effects;
the Japanese 薬機法 guidance on efficacy claims; Korea's 화장품법 art. 13 on exaggerated ads; the US
FTC's guidance on unsubstantiated claims), plus fake urgency and the influencer hype register.
They are matched on NFKC + case-folded text.
"""

from __future__ import annotations

import re
from functools import lru_cache

from slmforge.checks.text import emoji_spans, grapheme_len, inside, is_mention, normalize_term, prepare, protected_spans
from slmforge.checks.types import CheckResult, Finding
from slmforge.kit.schema import Kit

NAME = "style"

_N = r"(?:\d+|[一二两三四五六七八九十]+)"
HYPE_PATTERNS: dict[str, list[str]] = {
    "zh": [
        # absolute / superlative claims (Advertising Law art. 9)
        r"唯一", r"终极", r"顶级", r"无敌", r"万能", r"零风险", r"(?:国家|世界)级", r"(?:史上|全网|宇宙)(?:最|第一)",
        r"100%(?:有效|见效|安全|无刺激|纯天然|根治)", r"百分百(?:有效|见效)", r"天花板级", r"划时代",
        # pseudo-science and miracle transformation
        r"量子", r"黑科技", r"颠覆", r"革命", r"基因(?:级|渗透|修复|序列|重组|代码|层面)", r"细胞级", r"魔法", r"魔药",
        r"炼金术", r"重生", r"逆转", r"时光倒流", r"逆生长", r"冻龄", r"返老还童", r"婴儿肌", r"女神",
        # guaranteed, permanent or instant effects (art. 28; cosmetics may not claim cures)
        r"永久", r"根治", r"立竿见影", r"药到病除", r"秒变", r"一夜(?:之间|回春|变白|见效|焕新|逆袭|奇迹|醒来|之后)",
        _N + r"(?:天|日|秒|分钟)(?:就)?(?:见效|变白|焕新|祛痘|根除|消失|回春|逆龄)",
        # fake urgency
        r"最后" + _N + r"[份件瓶单盒]", r"仅剩" + _N, r"手慢无", r"错过(?:再等|就没|等一年)", r"限时(?:疯抢|秒杀)",
        r"更待何时", r"再不行动", r"犹豫一秒", r"不买后悔", r"(?:立刻|马上|赶紧)(?:抢|冲)",
        # fear selling (贩卖焦虑)
        r"灾难", r"绝望", r"噩梦", r"废墟", r"命运", r"后悔",
        # influencer hype register
        r"震惊", r"惊呆", r"绝了", r"神了", r"封神", r"吹爆", r"闭眼(?:入|买|冲)", r"冲就完事", r"冲鸭",
        r"谁用谁知道", r"宝子们", r"姐妹们", r"完胜", r"碾压", r"吊打",
    ],
    "ja": [
        r"一晩で", r"即効", r"(?:\d+|[一二三]+)日で(?:効果|白く|消え)", r"奇跡", r"神(?:コスメ|アイテム)", r"最強",
        r"史上最", r"絶対(?:に)?(?:効く|痩せる|白く)", r"100%(?:効く|効果)", r"永久に", r"残りわずか", r"今だけ",
        r"ヤバい", r"やばすぎ", r"爆売れ", r"完全に(?:消え|治)",
    ],
    "ko": [
        r"하룻밤(?:만에|사이)", r"즉각(?:적인)? 효과", r"\d+일 만에", r"기적", r"역대급", r"최강", r"100% (?:효과|보장)",
        r"무조건", r"대박", r"미쳤", r"완벽하게 (?:제거|해결)", r"마감 임박", r"단 \d+개",
    ],
    "en": [
        r"miracle", r"overnight (?:results|transformation)", r"in (?:just )?\d+ days?", r"game[- ]?changer",
        r"holy grail", r"insane(?:ly)?", r"life[- ]?changing", r"guaranteed", r"100% (?:effective|results|guaranteed)",
        r"best ever", r"#1(?![\w])", r"number one", r"last chance", r"only \d+ left", r"act now", r"limited time only",
        r"mind[- ]?blowing", r"unbelievable", r"jaw[- ]?dropping", r"obsessed", r"ultimate", r"revolutionary",
    ],
}
"""Built-in hype patterns per language (regex over normalised text); zh ones also apply to ja (shared kanji)."""

CAPS_RE = re.compile(r"(?<![A-Za-z])[A-Z]{4,}(?![A-Za-z])")
PUNCT_RUN_RE = re.compile(r"[!?]{2,}")


@lru_cache(maxsize=64)
def _hype_res(language: str, extra: tuple[str, ...]) -> tuple[re.Pattern, ...]:
    """The hype patterns as two alternations, those starting with a literal character and the rest:
    the first kind gets the ``re`` engine's first-character prefilter (several times faster)."""
    lang = language.split("-")[0]
    pats = list(HYPE_PATTERNS.get(lang, [])) + (HYPE_PATTERNS["en"] if lang != "en" else [])
    pats += [normalize_term(p) for p in extra]
    literal = [p for p in pats if p[:1] not in "([\\."]
    other = [p for p in pats if p[:1] in "([\\."]
    return tuple(re.compile("|".join(f"(?:{p})" for p in group)) for group in (literal, other) if group)


def _hype(norm: str, language: str, extra: tuple[str, ...]) -> list[tuple[int, int]]:
    spans = sorted((m.start(), -m.end()) for p in _hype_res(language, extra) for m in p.finditer(norm))
    out: list[tuple[int, int]] = []
    for s, neg_e in spans:
        if not out or s >= out[-1][1]:
            out.append((s, -neg_e))
    return out


def check_style(text: str, kit: Kit, subject: dict | None = None) -> CheckResult:
    """Flag exclamation-heavy, shouting and hype copy.

    Score: ``1 / (1 + errors + 0.25 × warnings)``; passed: no error finding. Thresholds come from
    ``kit.checks`` (:class:`~slmforge.kit.schema.CheckSettings`). A hype pattern that is only mentioned
    (negated, questioned, quoted: :func:`~slmforge.checks.text.is_mention`) is a warning; one inside
    the subject's own values or the brand name is ignored.

    Args:
        text: the copy to check.
        kit: supplies ``kit.language`` (which hype list) and ``kit.checks`` thresholds / extra patterns.
        subject: the catalog record the copy is about, if any.

    Returns:
        :class:`CheckResult` with findings ``exclamation_density``, ``punct_run``, ``emoji_run``,
        ``too_many_emoji``, ``all_caps``, ``hype``; details ``exclamations``, ``chars``, ``emoji``.
    """
    cfg = kit.checks
    p = prepare(text)
    findings: list[Finding] = []
    n_chars = max(1, grapheme_len(text))
    n_excl = p.norm.count("!")
    allowed = max(1, int(n_chars * cfg.max_exclamation_density))
    if n_excl > allowed:
        findings.append(Finding(NAME, "exclamation_density",
                                f"{n_excl} exclamation marks in {n_chars} characters (at most {allowed})"))
    for m in PUNCT_RUN_RE.finditer(p.norm):
        if len(m.group()) > cfg.max_punct_run:
            s, e = p.span(*m.span())
            findings.append(Finding(NAME, "punct_run", f"repeated punctuation {text[s:e]!r}", s, e))
    spans = emoji_spans(text)
    run_start, run_len = 0, 0
    for i, (s, e) in enumerate(spans):
        if i and s == spans[i - 1][1]:
            run_len += 1
        else:
            run_start, run_len = s, 1
        if run_len == cfg.max_punct_run + 1:
            findings.append(Finding(NAME, "emoji_run", f"{run_len}+ emoji in a row", run_start, e))
    if cfg.max_emoji is not None and len(spans) > cfg.max_emoji:
        findings.append(Finding(NAME, "too_many_emoji", f"{len(spans)} emoji (at most {cfg.max_emoji})"))
    caps = list(CAPS_RE.finditer(text)) if kit.language.startswith("en") or text.isascii() else []
    if len(caps) >= 2:
        for m in caps:
            findings.append(Finding(NAME, "all_caps", f"shouting {m.group()!r}", m.start(), m.end()))
    hype = _hype(p.norm, kit.language, tuple(cfg.hype_patterns))
    names = protected_spans(p.norm, subject, kit.brand) if hype else []
    for ns, ne in hype:
        if inside(names, ns, ne):
            continue
        s, e = p.span(ns, ne)
        if is_mention(p.norm, ns, ne):
            findings.append(Finding(NAME, "hype_mention", f"hype mentioned {text[s:e]!r}", s, e, "warning"))
        else:
            findings.append(Finding(NAME, "hype", f"hype {text[s:e]!r}", s, e))
    errors = sum(f.severity == "error" for f in findings)
    warnings = len(findings) - errors
    return CheckResult(NAME, 1.0 / (1 + errors + 0.25 * warnings), errors == 0, findings,
                       {"exclamations": n_excl, "chars": n_chars, "emoji": len(spans)})
