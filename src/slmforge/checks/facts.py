"""Facts (grounding), two modes.

*Record-grounded* (:func:`check_facts`): claims in the copy against the subject record —
an amount attached to an ingredient that the record states differently (``15%烟酰胺`` where the
record says ``10%``: **contradicted**, an error) or does not state at all (**unsupported**, a
warning: many golden texts invent concentrations), an ingredient named as the product's own that the
record does not list (**foreign entity**, an error when its clause names the product or a
composition cue such as 含 / 添加 / 搭配 / contains, or one of the record's own ingredients), and a target audience the record does not
give stated as whom the product is for (**contradicted audience**).

*Reference-grounded* (:func:`slmforge.checks.fact_edits.reference_fact_edits`, its own module): a
candidate against a reference for the same subject — the fact edits between them — as needed to verify
a fact-perturbed negative ("fake" rejected text) and to audit pairs. :func:`check_facts` adds them as
``info`` findings when given a reference.
"""

from __future__ import annotations

import regex

from slmforge.checks.fact_context import (
    LIST_MARKER,
    amount_range,
    caveat,
    class_of_own,
    condition,
    constituent_of_own,
    given_as_example,
    glossed_in_parentheses,
    hypothetical,
    inside_longer_word,
    listed_under_own,
    names_a_product,
    negated_or_compared,
    question,
    self_description,
    skin_substance,
)
from slmforge.checks.fact_edits import reference_fact_edits
from slmforge.checks.text import normalize_term, prepare
from slmforge.checks.types import CheckResult, Finding
from slmforge.checks.vocab import (
    AUDIENCE_SYNONYMS,
    UNIVERSAL_AUDIENCES,
    SubjectFacts,
    Vocabulary,
    default_vocabulary,
    mentions,
    subject_facts,
    synonyms,
)
from slmforge.kit.schema import Kit

NAME = "facts"
UNSUPPORTED_WEIGHT = 0.1
"""Score cost of one unsupported amount (a contradiction costs 1): weak evidence, often harmless."""

_UNIT = r"(%|‰|\s?percent|\s?per\s?cent)"
_AMOUNT_BEFORE = regex.compile(r"(\d+(?:\.\d+)?)\s*" + _UNIT + r"\s*(?:的)?\s*(?:高浓度|浓度|黄金浓度)?\s*$")
_AMOUNT_AFTER = regex.compile(r"^\s*(?:浓度|含量|concentration)?\s*(?:为|达|达到|高达|是|:|at|of|is|in)?\s*"
                              r"(?:(?:a\s+)?concentration\s+of\s+)?(\d+(?:\.\d+)?)\s*" + _UNIT + r"(?![a-z])")
_AMOUNT_WINDOW = 30
"""Characters before / after an ingredient searched for its amount ("at a concentration of 10%" fits)."""
_CLAUSE_RE = regex.compile(r"(?:[^。！？!?\n；;.]|\.(?=\S))+")
"""A clause: up to 。！？!?；; or a line break, or a full stop followed by a space or the end (English
sentences; the dot inside "0.1%" or "e.g." followed by a letter does not end one)."""
_OWN_CUE = regex.compile(r"含|添加|搭配|复配|配方|成分|协同|加入|融合|蕴含|富含|采用|搭载|\+|"
                         r"(?<![a-z])(?:contains?|with|formulated|infused|enriched)(?![a-z])")
_TARGET_CUE = regex.compile(r"适合|专为|针对|推荐|适用|人群|用户|(?<![a-z])(?:for|suits?|suitable)(?![a-z])")
_CATEGORY_FIELDS = ("category", "type", "kind")
_CODE_RE = regex.compile(r"^(.*?\D)\s*-?\s*(\d+)$")
"""An ingredient name ending in a number (棕榈酰三肽-1, acetyl hexapeptide-8): stem and number."""


_DECIMAL_RE = regex.compile(r"\d+(?:\.\d+)?")


def _num_equal(a: str, b: str) -> bool:
    fa, fb = _DECIMAL_RE.match(a), _DECIMAL_RE.match(b)
    return bool(fa and fb) and float(fa.group()) == float(fb.group())


def _names_product(norm: str, cs: int, ce: int, names: list[str], skip: tuple[int, int] = (0, -1)) -> bool:
    """True when ``norm[cs:ce]`` holds one of ``names`` (≥ 2 characters) at a position outside ``skip``
    (inclusive): the noun right after an ingredient ("vitamin C serum", 「维生素C精华」) names another
    product of that kind, not this one."""
    for n in names:
        if len(n) < 2:
            continue
        i = norm.find(n, cs, ce)
        while i >= 0:
            if not skip[0] <= i <= skip[1] and i + len(n) <= ce:
                return True
            i = norm.find(n, i + 1, ce)
    return False


def _clause(norm: str, s: int) -> tuple[int, int]:
    for m in _CLAUSE_RE.finditer(norm):
        if m.start() <= s < m.end():
            return m.span()
    return s, s


def _amount_finding(text: str, p, norm: str, term: str, s: int, e: int, facts: SubjectFacts) -> Finding | None:
    """The amount stated next to an own ingredient against the record's (``None`` when none is stated).

    A different amount is an error (``contradicted_number``) unless it is not claimed: compared with
    (「比某些15%烟酰胺产品更温和」), asked about (「0.5%视黄醇烂脸？」), supposed (「当0.5%视黄醇导致脱皮时」) or the
    high end of a range (「从低浓度（0.1%-0.3%）开始」; a range that holds the record's amount agrees with it):
    ``compared_number``, info."""
    before = _AMOUNT_BEFORE.search(norm, max(0, s - _AMOUNT_WINDOW), s)
    m = before or _AMOUNT_AFTER.match(norm[e:e + _AMOUNT_WINDOW])
    if not m:
        return None
    a, b = p.span(s, e)
    said = m.group(1) + ("%" if "p" in m.group(2) else m.group(2))
    record = (facts.amounts.get(term) or next((v for k, v in facts.amounts.items() if term in k or k in term), None)
              or next((facts.amounts[x] for x in synonyms(term) if x in facts.amounts), None))
    if record is None:
        return Finding(NAME, "unsupported_number", f"{said} {text[a:b]}: the record gives no amount", a, b, "warning")
    if _num_equal(said, record):
        return None
    at = before.start() if before else s  # where the claim starts: the amount, or the ingredient before it
    low = amount_range(norm, at) if before else None
    if low is not None and low <= float(_DECIMAL_RE.match(record).group()) <= float(m.group(1)):
        return None
    clause = _clause(norm, s)
    if (low is not None or negated_or_compared(norm, at, e) or question(norm, clause)
            or hypothetical(norm, at, clause)):
        return Finding(NAME, "compared_number", f"{said} {text[a:b]}: compared with, not claimed", a, b, "info")
    return Finding(NAME, "contradicted_number", f"{said} {text[a:b]}: the record says {record}", a, b)


def _code_swaps(text: str, p, norm: str, facts: SubjectFacts) -> list[Finding]:
    """Own ingredients whose trailing number is changed (棕榈酰三肽-1 → 棕榈酰三肽-5): a number that differs
    from the record's value, so an error (``contradicted_number``)."""
    out = []
    for term in sorted(facts.terms["ingredients"]):
        m = _CODE_RE.match(term)
        if not m or len(m.group(1)) < 3:
            continue
        for hit in regex.finditer(regex.escape(m.group(1)) + r"\s*-?\s*(\d+)(?![\d.%])", norm):
            if hit.group(1) != m.group(2) and not facts.owns(normalize_term(hit.group(0)).replace(" ", "")):
                a, b = p.span(*hit.span())
                out.append(Finding(NAME, "contradicted_number", f"{text[a:b]!r}: the record says {term!r}", a, b))
    return out


def _other_product(norm: str, term: str, s: int, e: int, clause: tuple[int, int], own_name: str,
                   vocab: Vocabulary) -> bool:
    """True when the mention is inside another catalog product's name, or that product is named in the
    same clause and lists the ingredient (「搭配我们的Y」, "pair it with our Y")."""
    for name, terms in vocab.products.items():
        if name == own_name or (own_name and name in own_name):
            continue
        i = norm.find(name, clause[0], clause[1])
        while i >= 0:
            if i <= s and e <= i + len(name) or term in terms:
                return True
            i = norm.find(name, i + 1, clause[1])
    return False


_ITEM_HEAD = regex.compile(r"(?:^|\n)" + LIST_MARKER + r"+\s*$")
"""A list-item marker (bullet, number, keycap emoji) right before a mention at the start of its line."""


def _heads_an_item(norm: str, s: int, e: int, own_spans: list[tuple[int, int]]) -> bool:
    """True when the mention starts an item of a list and the item describes it: a bullet or numbered
    item (「3️⃣ 神经酰胺：…」, 「▪️ 玻尿酸打底」), or a clause of an enumeration whose other clauses start with
    own ingredients (「山茶花精油…；玫瑰精油淡淡花香…；荷荷巴油…」). In a list of the formula, an item's
    head is named as the product's own."""
    if norm.startswith("(", e):
        return False
    if _ITEM_HEAD.search(norm, max(0, s - 12), s):
        return True
    if not norm[max(0, s - 2):s].rstrip().endswith(";"):
        return False
    line = (norm.rfind("\n", 0, s) + 1, len(norm) if norm.find("\n", e) < 0 else norm.find("\n", e))
    return any(line[0] <= a < line[1] and a != s and (a == line[0] or norm[max(0, a - 2):a].rstrip().endswith(";"))
               for a, _ in own_spans)


def _foreign_kind(norm: str, term: str, s: int, e: int, facts: SubjectFacts, names: list[str],
                  own_spans: list[tuple[int, int]], own_name: str, vocab: Vocabulary) -> str | None:
    """How a mention of an ingredient the record does not list counts: ``foreign_entity`` (named as the
    product's own), ``unsupported_entity`` (named in passing) or ``None`` (not a claim, see
    :mod:`slmforge.checks.fact_context`)."""
    cs, ce = _clause(norm, s)
    own_ends = [b for _, b in own_spans]
    if (inside_longer_word(norm, e) or negated_or_compared(norm, s, e) or constituent_of_own(norm, s, e, own_ends)
            or listed_under_own(norm, s, own_ends) or skin_substance(term, norm, s, (cs, ce))
            or _other_product(norm, term, s, e, (cs, ce), own_name, vocab) or given_as_example(norm, s)
            or names_a_product(norm, e) or glossed_in_parentheses(norm, s, e, own_spans)
            or class_of_own(term, facts.terms["ingredients"]) or question(norm, (cs, ce))
            or hypothetical(norm, s, (cs, ce))):
        return None
    clause = norm[cs:ce]
    own_clause = (_OWN_CUE.search(clause) or _names_product(norm, cs, ce, names, skip=(e, e + 2))
                  or any(o in clause for o in facts.terms["ingredients"] if len(o) >= 2)
                  or _heads_an_item(norm, s, e, own_spans))
    return "foreign_entity" if own_clause else "unsupported_entity"


def _ingredient_findings(text: str, p, subject: dict, facts: SubjectFacts, kit: Kit, vocab: Vocabulary) -> list[Finding]:
    """Amount and foreign-entity findings of the ingredient mentions of one text."""
    norm = p.norm
    names = [v for v in facts.values if len(v) >= 2 and v not in facts.terms["ingredients"]]
    own_name = normalize_term(str(subject.get(kit.catalog.id_field) or ""))
    name_spans = [(m.start(), m.end()) for m in regex.finditer(regex.escape(own_name), norm)] if len(own_name) >= 2 else []
    found = mentions(norm, "ingredients", facts, vocab)
    own_spans = [(s, e) for t, s, e in found if facts.owns(t) and not any(a <= s and e <= b for a, b in name_spans)]
    findings: list[Finding] = []
    amounts: list[tuple[str, bool, Finding | None]] = []  # (term, stated right here, finding) per own mention
    for term, s, e in found:
        if facts.owns(term):
            f = _amount_finding(text, p, norm, term, s, e, facts)
            in_name = any(a <= s and e <= b for a, b in name_spans)
            amounts.append((term, f is None and not in_name and _has_amount(norm, s, e), f))
            continue
        kind = _foreign_kind(norm, term, s, e, facts, names, own_spans, own_name, vocab)
        a, b = p.span(s, e)
        if kind == "foreign_entity":
            findings.append(Finding(NAME, kind, f"{text[a:b]!r} named as the product's own; the record does not list it",
                                    a, b))
        elif kind:
            findings.append(Finding(NAME, kind, f"{text[a:b]!r} is not in the record", a, b, "warning"))
    return findings + _discussed_amounts(amounts) + _code_swaps(text, p, norm, facts)


def _discussed_amounts(amounts: list[tuple[str, bool, Finding | None]]) -> list[Finding]:
    """The amount findings of one text, with one exception: when the text also states the record's amount
    for an ingredient (outside the product name, with no finding), its other amounts of that ingredient are
    concentrations under discussion (「5%烟酰胺已能控油…本品10%烟酰胺」, "20% niacinamide is not better; ours uses 5% niacinamide"):
    ``compared_number`` (info), not a contradiction. A changed amount with the right one nowhere else in the
    text stays ``contradicted_number``."""
    stated = {term for term, right, _ in amounts if right}
    out = []
    for term, _, f in amounts:
        if f is None:
            continue
        if f.code == "contradicted_number" and term in stated:
            f = Finding(NAME, "compared_number", f.message.replace(": the record says", ": discussed; the record's")
                        + " is stated too", f.start, f.end, "info")
        out.append(f)
    return out


def _has_amount(norm: str, s: int, e: int) -> bool:
    """Whether the mention ``norm[s:e]`` has an amount next to it (as :func:`_amount_finding` reads one)."""
    return bool(_AMOUNT_BEFORE.search(norm, max(0, s - _AMOUNT_WINDOW), s) or _AMOUNT_AFTER.match(norm[e:e + _AMOUNT_WINDOW]))


_TARGET_AFTER = regex.compile(r"\s*(?:的)?\s*(?:救星|福音|友好|专属|必备|首选|专用|闭眼入)")
"""Right after an audience, words that make it whom the product is for (#混合肌救星, 敏感肌友好)."""
_SPECIAL_BEFORE = regex.compile(r"(?:尤其|特别|更加|更)(?:是|适合|适用于?)?\s*$|专为\s*$|专门(?:为|针对)\s*$|"
                                r"(?<![a-z])(?:especially|particularly|made)\s+for\s+$")
"""Before an audience: the one group the product is especially for (「尤其适合油性肌肤」)."""


def _audience_findings(text: str, p, subject: dict, facts: SubjectFacts, vocab: Vocabulary) -> list[Finding]:
    """Audiences stated as whom the product is for that the record does not give (caveats, conditions and
    the writer's own skin excepted). A record for everyone (所有肤质) is contradicted only where it names a
    special group too (「特别是干性肌」) and the copy singles out another one (「尤其适合油性肌肤」)."""
    norm, out = p.norm, []
    names = [v for v in facts.values if len(v) >= 2 and v not in facts.terms["ingredients"]]
    kinds = {normalize_term(str(v)) for k, v in subject.items() if k.lower() in _CATEGORY_FIELDS and v}
    own_values = [n for n in names if n not in kinds]  # "面霜" / "serum" names a kind, not this product
    for term, s, e in mentions(norm, "audiences", facts, vocab):
        if any(facts.owns(n) for n in synonyms(term, AUDIENCE_SYNONYMS)):
            continue
        if facts.universal_audience and (not facts.special_audiences or any(u in term for u in UNIVERSAL_AUDIENCES)
                                         or not _SPECIAL_BEFORE.search(norm[max(0, s - 20):s])):
            continue
        cs, ce = _clause(norm, s)
        if (caveat(norm, (cs, ce)) or negated_or_compared(norm, s, e) or self_description(norm, s)
                or condition(norm, s, e) or question(norm, (cs, ce))):
            continue
        if _TARGET_CUE.search(norm, cs, ce) or _TARGET_AFTER.match(norm, e) or _names_product(norm, cs, ce, own_values):
            a, b = p.span(s, e)
            out.append(Finding(NAME, "contradicted_audience",
                               f"audience {text[a:b]!r}; the record says {sorted(facts.terms['audiences'])[0]!r}", a, b))
    return out


def _effect_findings(text: str, p, facts: SubjectFacts, vocab: Vocabulary) -> list[Finding]:
    """Effects the record does not give, in a clause naming the product (``info``)."""
    norm, out = p.norm, []
    names = [v for v in facts.values if len(v) >= 2 and v not in facts.terms["ingredients"]]
    for term, s, e in mentions(norm, "effects", facts, vocab):
        if facts.owns(term):
            continue
        cs, ce = _clause(norm, s)
        if any(n in norm[cs:ce] for n in names):
            a, b = p.span(s, e)
            out.append(Finding(NAME, "unsupported_effect", f"effect {text[a:b]!r} is not in the record", a, b, "info"))
    return out


def check_facts(text: str, *, subject: dict | None, kit: Kit, reference: str | None = None,
                vocab: Vocabulary | None = None) -> CheckResult:
    """Record-grounded facts of one text (plus reference-grounded edits when ``reference`` is given).

    Score: ``1 / (1 + contradictions + 0.1 × unsupported)``; passed: no contradiction (error).
    Reference edits are reported as ``info`` findings and in ``details["reference"]``; they do not
    change the score (a fluent rewrite of a reference may legitimately differ). Mentions that are not
    claims about the product (negated, compared, asked, supposed, a range of amounts, a gloss in
    parentheses, a constituent or the class of an own ingredient, the skin's own substance, another
    catalog product's, an audience in a caveat or named as a condition) are skipped:
    :mod:`slmforge.checks.fact_context`.

    Args:
        text: the copy.
        subject: the record it is about; ``None`` skips the record-grounded part.
        kit: roles of the catalog fields and the glossary.
        reference: a reference text for the same subject, optional.
        vocab: entity vocabulary (:func:`slmforge.checks.vocab.build_vocabulary` over the catalog);
            default: the kit's glossary only.

    Returns:
        :class:`CheckResult` with findings ``contradicted_number`` (an amount, or an own ingredient's
        number such as 三肽-1, that differs from the record), ``unsupported_number``, ``foreign_entity``,
        ``unsupported_entity`` (warning: named outside a product clause), ``contradicted_audience``,
        ``fact_edit``; details counts ``contradicted``, ``unsupported``.
    """
    vocab = vocab or default_vocabulary(kit)
    p = prepare(text)
    findings: list[Finding] = []
    if subject is not None:
        facts = subject_facts(subject, kit)
        findings += _ingredient_findings(text, p, subject, facts, kit, vocab)
        if facts.terms["audiences"]:
            findings += _audience_findings(text, p, subject, facts, vocab)
        if facts.terms["effects"]:
            findings += _effect_findings(text, p, facts, vocab)
    details: dict = {}
    if reference is not None:
        diff = reference_fact_edits(text, reference, subject=subject, kit=kit, vocab=vocab)
        details["reference"] = {"similarity": round(diff.similarity, 4), "edits": len(diff.edits),
                                "minimal_fact_edit": diff.is_minimal_fact_edit()}
        for ed in diff.edits:
            findings.append(Finding(NAME, "fact_edit", f"{ed.kind}: {ed.reference!r} → {ed.candidate!r}",
                                    ed.start, ed.end, "info"))
    errors = sum(f.severity == "error" for f in findings)
    unsupported = sum(f.severity == "warning" for f in findings)
    details.update({"contradicted": errors, "unsupported": unsupported})
    return CheckResult(NAME, 1.0 / (1 + errors + UNSUPPORTED_WEIGHT * unsupported), errors == 0, findings, details)
