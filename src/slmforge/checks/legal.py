"""Checks of legal answers (Japanese statutes and contract clauses), for kits that opt in.

A kit opts in with a ``checks.legal`` section (:class:`~slmforge.kit.schema.LegalSettings`: the
disclaimer line, the article citations answers may make, extra guarantee patterns); the checks then
run on its tasks whose ``family`` is in ``checks.legal.families`` (``legal_qa`` by default) and on
texts checked without a task. Anywhere else each function returns ``None`` and
:func:`slmforge.checks.run_checks` leaves it out of the report, so no other kit's results change.

- ``legal_citation`` (:func:`check_citation`): when the question cites an article (民法第415条,
  契約書の第5条), the answer cites at least one of those.
- ``legal_guarantee`` (:func:`check_guarantee`): no promise of an outcome (必ず勝てます, 100%, 確実に,
  間違いなく …) unless the same sentence takes it back (とは限りません, とは言えません …).
- ``legal_disclaimer`` (:func:`check_disclaimer`): the kit's disclaimer line is in the answer.
- ``legal_articles`` (:func:`check_articles`): every article cited is one the question cites or one
  of the kit's ``references``; any other is an invented article number.

Citations are read by :func:`find_citations`: a law name (民法, 借地借家法, 同法 …) or 第, an article
number in arabic (full- or half-width) or kanji digits, 条, an optional 「の2」 branch number and an
optional 第N項 (paragraphs are not compared). A bare 「第564条」 right after a citation (「民法第562条、
第563条及び第564条」) belongs to the same law; one standing alone has no law (it may be a clause of
the contract in question). Offsets index the original text (Python ``str`` indices).

Command line: ``slmforge check FILE --kit examples/ja-legal`` (the ``legal_*`` columns) and
``slmforge kit validate examples/ja-legal --strict`` (every golden answer through every check).
"""

from __future__ import annotations

from dataclasses import dataclass

import regex

from slmforge.checks.types import CheckResult, Finding
from slmforge.kit.schema import Kit, LegalSettings, Task

CITATION, GUARANTEE, DISCLAIMER, ARTICLES = "legal_citation", "legal_guarantee", "legal_disclaimer", "legal_articles"

KNOWN_LAWS = ("民法", "商法", "会社法", "借地借家法", "消費者契約法", "労働基準法", "労働契約法", "個人情報保護法",
              "著作権法", "特許法", "商標法", "不正競争防止法", "特定商取引法", "電子署名法", "民事訴訟法", "刑法",
              "下請法", "独占禁止法", "景品表示法", "憲法", "借地法", "借家法")
"""Law names recognised inside a longer run of kanji (「本件民法」 → 民法), besides those of the kit's references."""

_NUM = r"[0-9０-９]+|[〇一二三四五六七八九十百千]+"
_CITE_RE = regex.compile(
    rf"(?P<law>同法|[\p{{Han}}\p{{Katakana}}ー]*法)?(?P<dai>第)?(?P<num>{_NUM})条"
    rf"(?:の(?P<sub>[0-9０-９]+|[〇一二三四五六七八九十]+(?!(?!第)\p{{Han}})))?(?:第(?:{_NUM})項)?(?![件例約文理])")
_JOIN_RE = regex.compile(r"\s*(?:、|，|,|・|及び|および|並びに|ならびに|又は|または|から|ないし|や|と|〜|～)\s*")
_SENTENCE_RE = regex.compile(r"[^。！？!?\n]+[。！？!?]?")
_KANJI_DIGITS = {"〇": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_KANJI_UNITS = {"十": 10, "百": 100, "千": 1000}

GUARANTEE_PATTERNS = (
    r"必ず(?:勝|勝訴|認められ|取り戻せ|回収でき|返金され|返還され|支払われ|無効にな|有効にな|解決)",
    r"確実に",
    r"[1１][0０][0０]\s*[%％]|百パーセント",
    r"絶対(?:に)?(?:勝|大丈夫|認められ|問題(?:は)?(?:ありません|ない)|無効|有効|安全)",
    r"間違いなく",
    r"保証(?:します|いたします|できます)",
    r"勝訴(?:でき|し)ます|勝てます|負けることはありません|負けません",
    r"リスクは(?:一切|全く|まったく)(?:ありません|ない)",
)
"""Built-in regexes of outcome guarantees; ``checks.legal.guarantee_patterns`` adds to them."""
HEDGES = regex.compile(r"とは限(?:ら|り)|とは言え|とはいえ(?:ません|ない)|とは言い切れ|とは断言でき|わけではありません|"
                       r"わけではない|ものではありません|ものではない|保証するものでは")
"""A sentence holding one of these takes its guarantee back (「必ず勝てるとは限りません」)."""


@dataclass(frozen=True)
class Citation:
    """One article cited in a text.

    Attributes:
        law: the law's name as cited (同法 resolved to the law before it), or ``""`` for a bare 「第5条」.
        article: the article number in arabic digits, with its branch number: ``"415"``, ``"548の2"``.
        start: offset of the citation in the text (characters).
        end: end offset (exclusive).
    """

    law: str
    article: str
    start: int
    end: int

    @property
    def key(self) -> tuple[str, str]:
        """``(law, article)``, what citations are compared by."""
        return self.law, self.article

    def __str__(self) -> str:
        main, _, branch = self.article.partition("の")
        return f"{self.law}第{main}条" + (f"の{branch}" if branch else "")


def kanji_number(s: str) -> int:
    """An article number written in arabic (full- or half-width) or kanji digits, as an int.

    ``"415"`` / ``"４１５"`` → 415, ``"四百十五"`` → 415, ``"二十"`` → 20, ``"十"`` → 10, ``"一〇"`` → 10
    (kanji digits without 十百千 are positional).
    """
    if s.isdigit():
        return int(s.translate(str.maketrans("０１２３４５６７８９", "0123456789")))
    if not any(ch in _KANJI_UNITS for ch in s):
        return int("".join(str(_KANJI_DIGITS[ch]) for ch in s))
    total, digit = 0, 0
    for ch in s:
        if ch in _KANJI_UNITS:
            total += (digit or 1) * _KANJI_UNITS[ch]
            digit = 0
        else:
            digit = _KANJI_DIGITS[ch]
    return total + digit


def _law_name(raw: str, laws: tuple[str, ...]) -> str:
    """The longest known law name that ends ``raw`` (a run of kanji before 第N条), else ``raw`` itself."""
    for law in sorted(laws, key=len, reverse=True):
        if raw.endswith(law):
            return law
    return raw


def find_citations(text: str, laws: tuple[str, ...] = ()) -> list[Citation]:
    """The articles cited in ``text``, in order (see the module docstring for what counts).

    Args:
        text: any Japanese text.
        laws: law names to recognise at the end of a longer run of kanji, besides :data:`KNOWN_LAWS`.

    Returns:
        citations with their law (``""`` when none applies) and arabic article number.
    """
    known = tuple(dict.fromkeys((*laws, *KNOWN_LAWS)))
    out: list[Citation] = []
    last_law = ""
    for m in _CITE_RE.finditer(text):
        raw_law = m.group("law") or ""
        if not raw_law and not m.group("dai"):
            continue  # 「5条件」, 「2条」 without 第 or a law: not a citation
        article = str(kanji_number(m.group("num"))) + (f"の{kanji_number(m.group('sub'))}" if m.group("sub") else "")
        start = m.start()
        if raw_law == "同法":
            law = last_law
        elif raw_law:
            law = _law_name(raw_law, known)
            start = m.start("law") + len(raw_law) - len(law)
        elif out and out[-1].law and _JOIN_RE.fullmatch(text[out[-1].end:m.start()]):
            law = out[-1].law  # 「民法第562条、第563条」
        else:
            law = ""
        if law:
            last_law = law
        out.append(Citation(law, article, start, m.end()))
    return out


def _reference_laws(legal: LegalSettings) -> tuple[str, ...]:
    return tuple(dict.fromkeys(r.split("第")[0] for r in legal.references))


def legal_settings(kit: Kit, task: Task | None) -> LegalSettings | None:
    """The kit's legal settings when the legal checks apply to ``task`` (``None`` when they do not).

    They apply when the kit has ``checks.legal`` and the task's family is one of its ``families``,
    or no task is given.
    """
    legal = kit.checks.legal
    if legal is None or (task is not None and task.family not in legal.families):
        return None
    return legal


def _matches(c: Citation, keys: set[tuple[str, str]]) -> bool:
    """Whether citation ``c`` is one of ``keys``: same article and law; ``c`` without a law (「第5条」)
    matches that article of any law, but a key without a law only matches citations without one."""
    return any(c.article == art and (not c.law or c.law == law) for law, art in keys)


def check_citation(text: str, kit: Kit, task: Task | None, instruction: str | None) -> CheckResult | None:
    """When the question cites articles, the answer states at least one of them.

    Score: 1 or 0; passed likewise. Finding ``missing_citation`` (error, whole text); details
    ``question`` (the question's citations) and ``cited`` (those the answer repeats). A question
    without citations (or no instruction) passes.

    Returns:
        ``None`` when the legal checks do not apply (:func:`legal_settings`).
    """
    legal = legal_settings(kit, task)
    if legal is None:
        return None
    laws = _reference_laws(legal)
    asked = find_citations(instruction or "", laws)
    keys = {c.key for c in asked}
    cited = [c for c in find_citations(text, laws) if _matches(c, keys)]
    findings = []
    if asked and not cited:
        findings.append(Finding(CITATION, "missing_citation", "the question cites "
                                + "、".join(dict.fromkeys(map(str, asked))) + "; the answer states none of them"))
    return CheckResult(CITATION, 0.0 if findings else 1.0, not findings, findings,
                       {"question": sorted({str(c) for c in asked}), "cited": sorted({str(c) for c in cited})})


def check_guarantee(text: str, kit: Kit, task: Task | None) -> CheckResult | None:
    """The answer promises no outcome (必ず勝てます, 100%, 確実に, 間違いなく, 保証します …).

    A match inside a sentence that takes it back (:data:`HEDGES`: 「必ず勝てるとは限りません」) is not a
    guarantee. Score: ``1 / (1 + guarantees)``; passed: none. Findings ``guarantee`` (error, offsets).

    Returns:
        ``None`` when the legal checks do not apply.
    """
    legal = legal_settings(kit, task)
    if legal is None:
        return None
    pattern = regex.compile("|".join(f"(?:{p})" for p in (*GUARANTEE_PATTERNS, *legal.guarantee_patterns)))
    findings = []
    for sent in _SENTENCE_RE.finditer(text):
        if HEDGES.search(sent.group()):
            continue
        for m in pattern.finditer(sent.group()):
            s, e = sent.start() + m.start(), sent.start() + m.end()
            findings.append(Finding(GUARANTEE, "guarantee", f"{text[s:e]!r} promises an outcome; say what it "
                                    "depends on instead", s, e))
    return CheckResult(GUARANTEE, 1.0 / (1 + len(findings)), not findings, findings, {"guarantees": len(findings)})


def _squeeze(s: str) -> str:
    return regex.sub(r"\s+", "", s)


def check_disclaimer(text: str, kit: Kit, task: Task | None) -> CheckResult | None:
    """The answer carries the kit's disclaimer line (compared without spaces and line breaks).

    Score: 1 or 0; passed likewise. Findings ``missing_disclaimer`` (error) and ``disclaimer_not_last``
    (info: present, but not the last line); details ``at_end``. A kit without a disclaimer passes.

    Returns:
        ``None`` when the legal checks do not apply.
    """
    legal = legal_settings(kit, task)
    if legal is None:
        return None
    if not legal.disclaimer:
        return CheckResult(DISCLAIMER, 1.0, True, [], {"at_end": None})
    line = _squeeze(legal.disclaimer)
    flat = _squeeze(text)
    if line not in flat:
        return CheckResult(DISCLAIMER, 0.0, False, [Finding(DISCLAIMER, "missing_disclaimer",
                                                            f"the disclaimer 「{legal.disclaimer}」 is missing")],
                           {"at_end": False})
    at_end = flat.endswith(line)
    findings = [] if at_end else [Finding(DISCLAIMER, "disclaimer_not_last", "the disclaimer is not the last line",
                                          severity="info")]
    return CheckResult(DISCLAIMER, 1.0, True, findings, {"at_end": at_end})


def check_articles(text: str, kit: Kit, task: Task | None, instruction: str | None) -> CheckResult | None:
    """Every article the answer cites is one its question cites or one of the kit's ``references``.

    A citation without a law (「第5条」) is allowed when some allowed citation has that number. Score:
    ``1 / (1 + invented)``; passed: none invented. Findings ``invented_article`` (error, offsets);
    details ``cited`` and ``invented`` (as 「民法第415条」 strings).

    Returns:
        ``None`` when the legal checks do not apply.
    """
    legal = legal_settings(kit, task)
    if legal is None:
        return None
    laws = _reference_laws(legal)
    allowed = {c.key for c in find_citations(instruction or "", laws)}
    allowed |= {c.key for r in legal.references for c in find_citations(r, laws)}
    cited = find_citations(text, laws)
    invented = [c for c in cited if not _matches(c, allowed)]
    findings = [Finding(ARTICLES, "invented_article", f"{text[c.start:c.end]!r} is neither in the question nor in "
                        "the kit's references", c.start, c.end) for c in invented]
    return CheckResult(ARTICLES, 1.0 / (1 + len(invented)), not invented, findings,
                       {"cited": sorted({str(c) for c in cited}), "invented": sorted({str(c) for c in invented})})
