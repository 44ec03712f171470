"""Entity vocabulary for the facts checks: ingredient, audience and effect terms of a kit.

Terms come from ``kit.glossary`` and, when the catalog is given, from the subjects' own fields. A
field's role is read from ``kit.checks.fact_fields`` (field name → ``ingredients`` / ``audiences`` /
``effects``) or, when that is empty, from its name (``*ingredient*``, ``*audience*`` / ``*skin*``,
``*feature*`` / ``*effect*`` / ``*benefit*``). Catalog values such as ``10%烟酰胺`` split into the
entity ``烟酰胺`` and its stated amount ``10%``.
"""

from __future__ import annotations

import json
import re
import weakref
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

import regex

from slmforge.checks.text import LATIN_WORD_CHARS, is_cjk_term, normalize_term
from slmforge.kit.schema import Kit

if TYPE_CHECKING:
    from slmforge.kit.load import LoadedKit

ROLES = ("ingredients", "audiences", "effects")
_AMOUNT_RE = regex.compile(r"^\s*(\d+(?:\.\d+)?)\s*(%|‰|ppm|mg|g|ml)\s*")
_SPLIT_RE = regex.compile(r"[\s,，、/;；]+|特别是|尤其是|以及|和|及")
"""Splits a CJK audience / effect value into its parts (「干性肌 敏感肌」, 「所有肤质，特别是干性肌」)."""
_LATIN_SPLIT_RE = regex.compile(r"\s*[,，、/;；]\s*")
"""Splits a space-delimited value only at list punctuation: "dry skin" stays one term (never "dry" + "skin")."""
_INGREDIENT_SUFFIX_RE = regex.compile(r"(?:提取物|萃取物|萃取液|精油|精萃|花水|籽油|果油|[ ]?(?:extract|oil|essential oil))$")
UNIVERSAL_AUDIENCES = ("所有肤质", "全肤质", "各种肤质", "任何肤质", "all skin types", "every skin type", "すべての肌",
                       "全ての肌", "모든 피부")
"""Audience terms that include every other audience (a specific audience never contradicts them)."""
SYNONYMS: tuple[frozenset[str], ...] = tuple(frozenset(g) for g in (
    {"透明质酸", "玻尿酸", "hyaluronic acid"},
    {"维生素c", "vc", "维c", "抗坏血酸", "vitamin c", "ascorbic acid", "l-ascorbic acid"},
    {"维生素e", "维e", "生育酚", "vitamin e", "tocopherol"},
    {"泛醇", "维生素b5", "维他命b5", "原维生素b5", "panthenol", "provitamin b5", "vitamin b5"},
    {"烟酰胺", "维生素b3", "niacinamide", "nicotinamide", "vitamin b3"},
    {"视黄醇", "a醇", "retinol"},
    {"玻色因", "羟丙基四氢吡喃三醇", "pro-xylane", "hydroxypropyl tetrahydropyrantriol"},
))
"""Names of one ingredient (normalised): INCI name, common name and trade shorthand (INCI / CosIng names;
玻尿酸 and VC are the everyday Chinese names of hyaluronic acid and vitamin C). A record that lists one
owns them all; a text naming any of them names that ingredient."""


AUDIENCE_SYNONYMS: tuple[frozenset[str], ...] = tuple(frozenset(g) for g in (
    {"干敏肌", "干敏皮", "干性敏感肌", "干性敏感肌肤"},
    {"油痘肌", "油痘皮", "油性痘痘肌", "油性痘肌"},
    {"油皮", "油性肌", "油性皮", "油性肌肤", "油性皮肤"},
    {"干皮", "干性肌", "干性皮", "干性肌肤", "干性皮肤"},
    {"敏感肌", "敏皮", "敏感肌肤", "敏感皮肤", "敏感性肌肤"},
    {"混合肌", "混合皮", "混合性肌肤", "混合性皮肤"},
))
"""Everyday Chinese shorthands of one skin type (干敏肌 is how copy writes 干性敏感肌): a record that names
one form names them all."""


def aliases(term: str) -> list[str]:
    """The term plus its short form without a generic ingredient suffix: 洋甘菊精油 → 洋甘菊,
    积雪草提取物 → 积雪草, "rosemary extract" → "rosemary" (copy often names the plant alone)."""
    short = _INGREDIENT_SUFFIX_RE.sub("", term).strip()
    return [term, short] if short != term and len(short) >= 2 else [term]


def synonyms(term: str, groups: tuple[frozenset[str], ...] = SYNONYMS) -> list[str]:
    """Every name of ``term`` (normalised) in ``groups`` (:data:`SYNONYMS`, or :data:`AUDIENCE_SYNONYMS` for
    an audience), the term itself first."""
    out = [term]
    for g in groups:
        if term in g:
            out += sorted(g - {term})
    return out


def field_role(name: str, kit: Kit) -> str | None:
    """The facts role of a catalog field (``ingredients`` / ``audiences`` / ``effects``) or ``None``."""
    declared = kit.checks.fact_fields
    if declared:
        return declared.get(name)
    return field_role_by_name(name)


def field_role_by_name(name: str) -> str | None:
    """The role a field's name suggests (``*ingredient*``, ``*audience*`` / ``*skin*``, ``*feature*`` …)."""
    n = name.lower()
    if "ingredient" in n or "component" in n:
        return "ingredients"
    if "audience" in n or "skin" in n:
        return "audiences"
    if any(k in n for k in ("feature", "effect", "benefit", "claim")):
        return "effects"
    return None


def split_amount(value: str) -> tuple[str, str | None]:
    """``"10%烟酰胺"`` → ``("烟酰胺", "10%")``; a value without a leading amount keeps ``None``."""
    m = _AMOUNT_RE.match(value)
    if not m:
        return value.strip(), None
    return value[m.end():].strip(), m.group(1) + m.group(2)


def _values(v: object) -> list[str]:
    return [str(x) for x in v] if isinstance(v, list) else [str(v)] if v not in (None, "") else []


@dataclass
class SubjectFacts:
    """What one subject record states, normalised: terms per role and amounts per ingredient.

    Attributes:
        terms: role → set of normalised terms of this subject.
        amounts: normalised ingredient → normalised amount stated by the record (``"10%"``).
        values: every normalised string value of the record (product name, category …).
    """

    terms: dict[str, set[str]] = field(default_factory=lambda: {r: set() for r in ROLES})
    amounts: dict[str, str] = field(default_factory=dict)
    values: list[str] = field(default_factory=list)

    @property
    def universal_audience(self) -> bool:
        """The record's audience includes everyone (所有肤质 / all skin types)."""
        return any(u in a for a in self.terms["audiences"] for u in UNIVERSAL_AUDIENCES)

    @property
    def special_audiences(self) -> list[str]:
        """The record's audiences that are not everyone (特别是干性肌 beside 所有肤质)."""
        return [a for a in self.terms["audiences"] if not any(u in a for u in UNIVERSAL_AUDIENCES)]

    def owns(self, term: str) -> bool:
        """True when the record names ``term`` (or a longer / shorter form of it) anywhere."""
        return any(term in v or (len(v) >= 2 and v in term) for v in self.values)


def subject_facts(subject: dict | None, kit: Kit) -> SubjectFacts:
    """Parse a subject record into :class:`SubjectFacts` (empty when ``subject`` is ``None``; cached by
    value, so treat the result as read-only)."""
    key = json.dumps(subject, ensure_ascii=False, sort_keys=True, default=str)
    return _subject_facts(key, json.dumps(kit.checks.fact_fields, sort_keys=True))


@lru_cache(maxsize=1024)
def _subject_facts(subject_key: str, fact_fields_key: str) -> SubjectFacts:
    subject = json.loads(subject_key) or {}
    declared = json.loads(fact_fields_key)
    out = SubjectFacts()
    for name, v in subject.items():
        role = declared.get(name) if declared else field_role_by_name(name)
        for raw in _values(v):
            out.values.append(normalize_term(raw))
            if role is None:
                continue
            if role == "ingredients":
                term, amount = split_amount(raw)
                for t in sorted({x for a in aliases(normalize_term(term)) for x in synonyms(a)}):
                    out.terms[role].add(t)
                    out.values.append(t)
                if amount:
                    out.amounts[normalize_term(term)] = normalize_term(amount)
            else:
                split = _SPLIT_RE if is_cjk_term(raw) else _LATIN_SPLIT_RE
                parts = [normalize_term(p) for p in [raw, *split.split(raw)] if len(p.strip()) >= 2]
                out.terms[role].update(parts)
                out.values.extend(parts)
    return out


@dataclass
class Vocabulary:
    """Known domain terms per role, normalised, plus a compiled matcher per role (longest first).

    Attributes:
        terms: role → normalised terms.
        frozen: the same as frozensets (filled on construction).
        name_words: normalised word of a catalog name → number of names holding it (space-delimited
            names only; empty without a catalog), so that a word unique to one name can stand for it.
        products: normalised catalog name → the ingredient terms of that record (empty without a
            catalog), so that a text recommending another product of the catalog names its ingredients
            as that product's, not as this one's.
    """

    terms: dict[str, set[str]]
    frozen: dict[str, frozenset[str]] = field(default_factory=dict)
    name_words: dict[str, int] = field(default_factory=dict)
    products: dict[str, frozenset[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.frozen = {role: frozenset(self.terms.get(role, ())) for role in ROLES}

    def find(self, role: str, norm: str) -> list[tuple[str, int, int]]:
        """``(term, start, end)`` of the terms of ``role`` in ``norm`` (normalised text): leftmost,
        longest at a position, non-overlapping."""
        return find_terms(self.frozen[role], norm)


@lru_cache(maxsize=2048)
def _literal_res(terms: frozenset[str]) -> tuple[re.Pattern, ...]:
    """Two literal alternations (longest first): CJK terms as substrings, the others between Latin word
    boundaries with an optional plural ``-s`` / ``-es`` (so ``all`` is not found in ``usually`` nor
    ``dry skin`` in ``dry skincare``). Stdlib ``re`` scans a literal alternation ~3x faster than ``regex``."""
    ordered = sorted((t for t in terms if len(t) >= 2), key=len, reverse=True)
    cjk = [t for t in ordered if is_cjk_term(t)]
    latin = [t for t in ordered if not is_cjk_term(t)]
    w = LATIN_WORD_CHARS
    out = []
    if cjk:
        out.append(re.compile("(" + "|".join(map(re.escape, cjk)) + ")"))
    if latin:
        out.append(re.compile(rf"(?<![{w}])(" + "|".join(map(re.escape, latin)) + rf")(?:e?s)?(?![{w}])"))
    return tuple(out)


def find_terms(terms: frozenset[str], norm: str) -> list[tuple[str, int, int]]:
    """Occurrences of ``terms`` (≥ 2 characters) in ``norm`` as ``(term, start, end)``: leftmost,
    longest at a position, non-overlapping. CJK terms match as substrings, others on Latin word
    boundaries (a plural ``-s`` / ``-es`` is part of the match, not of the returned term)."""
    hits = sorted((m.start(), -m.end(), m.group(1)) for p in _literal_res(terms) for m in p.finditer(norm))
    out: list[tuple[str, int, int]] = []
    for s, neg_e, term in hits:
        if not out or s >= out[-1][2]:
            out.append((term, s, -neg_e))
    return out


def build_vocabulary(kit: Kit, subjects: Iterable[dict] | None = None) -> Vocabulary:
    """Vocabulary from ``kit.glossary`` and the catalog's ingredient / audience / effect fields.

    Args:
        kit: the kit (glossary, ``checks.fact_fields``).
        subjects: catalog records (``LoadedKit.subjects.values()``), optional.
    """
    terms: dict[str, set[str]] = {r: set() for r in ROLES}
    g = kit.glossary
    for role, declared in (("ingredients", g.ingredients), ("audiences", g.audiences), ("effects", g.effects)):
        for t in declared:
            terms[role].update({x for a in aliases(normalize_term(t)) for x in synonyms(a)} if role == "ingredients"
                               else [normalize_term(t)])
    name_words: Counter[str] = Counter()
    products: dict[str, frozenset[str]] = {}
    for s in subjects or []:
        facts = subject_facts(s, kit)
        for role in ROLES:
            terms[role] |= facts.terms[role]
        name = normalize_term(str(s.get(kit.catalog.id_field) or ""))
        name_words.update(set(name.split()))
        if len(name) >= 2:
            products[name] = frozenset(facts.terms["ingredients"])
    return Vocabulary(terms, name_words=dict(name_words), products=products)


_KIT_VOCAB: dict[int, tuple[weakref.ref, Kit, dict, Vocabulary]] = {}


def kit_vocabulary(lk: LoadedKit) -> Vocabulary:
    """The vocabulary of a loaded kit (glossary plus every catalog subject), built once per :class:`LoadedKit`.

    Every stage that checks texts of a loaded kit (clean, prefs, audit, GRPO, eval, serving) passes this to
    :func:`slmforge.checks.run_checks`, so the facts and coverage checks know every product's ingredients,
    not only the glossary's. The cache is keyed by the object (a weak reference), and rebuilt when its
    ``kit`` or ``subjects`` attribute is replaced by another object.
    """
    key = id(lk)
    hit = _KIT_VOCAB.get(key)
    if hit is not None and hit[0]() is lk and hit[1] is lk.kit and hit[2] is lk.subjects:
        return hit[3]
    vocab = build_vocabulary(lk.kit, lk.subjects.values())
    _KIT_VOCAB[key] = (weakref.ref(lk, lambda _ref: _KIT_VOCAB.pop(key, None)), lk.kit, lk.subjects, vocab)
    return vocab


def mentions(norm: str, role: str, facts: SubjectFacts, vocab: Vocabulary) -> list[tuple[str, int, int]]:
    """Vocabulary and own-record terms of ``role`` in the normalised text ``norm``, as ``(term, start, end)``
    character offsets: leftmost first, the longest at a position wins, no overlaps."""
    found = vocab.find(role, norm) + find_terms(frozenset(facts.terms[role]), norm)
    found.sort(key=lambda x: (x[1], -(x[2] - x[1])))
    out: list[tuple[str, int, int]] = []
    for t, s, e in found:
        if not out or s >= out[-1][2]:
            out.append((t, s, e))
    return out


@lru_cache(maxsize=64)
def _glossary_vocab(ingredients: tuple[str, ...], audiences: tuple[str, ...], effects: tuple[str, ...]) -> Vocabulary:
    return Vocabulary({"ingredients": {x for t in ingredients for a in aliases(normalize_term(t)) for x in synonyms(a)},
                       "audiences": {normalize_term(t) for t in audiences},
                       "effects": {normalize_term(t) for t in effects}})


def default_vocabulary(kit: Kit) -> Vocabulary:
    """Vocabulary of the kit's glossary alone (cached); pass ``build_vocabulary(kit, subjects)`` for more."""
    g = kit.glossary
    return _glossary_vocab(tuple(g.ingredients), tuple(g.audiences), tuple(g.effects))
