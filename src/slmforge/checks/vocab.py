"""Entity vocabulary for the facts checks: ingredient, audience and effect terms of a kit.

Terms come from ``kit.glossary`` and, when the catalog is given, from the subjects' own fields. A
field's role is read from ``kit.checks.fact_fields`` (field name → ``ingredients`` / ``audiences`` /
``effects``) or, when that is empty, from its name (``*ingredient*``, ``*audience*`` / ``*skin*``,
``*feature*`` / ``*effect*`` / ``*benefit*``). Catalog values such as ``10%烟酰胺`` split into the
entity ``烟酰胺`` and its stated amount ``10%``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import regex

from slmforge.checks.text import normalize_term
from slmforge.kit.schema import Kit

ROLES = ("ingredients", "audiences", "effects")
_AMOUNT_RE = regex.compile(r"^\s*(\d+(?:\.\d+)?)\s*(%|‰|ppm|mg|g|ml)\s*")
_SPLIT_RE = regex.compile(r"[\s,，、/;；]+|特别是|尤其是|以及|和|及")
_INGREDIENT_SUFFIX_RE = regex.compile(r"(?:提取物|萃取物|萃取液|精油|精萃|花水|籽油|果油|[ ]?(?:extract|oil|essential oil))$")
UNIVERSAL_AUDIENCES = ("所有肤质", "全肤质", "各种肤质", "任何肤质", "all skin types", "every skin type", "すべての肌",
                       "全ての肌", "모든 피부")
"""Audience terms that include every other audience (a specific audience never contradicts them)."""


def aliases(term: str) -> list[str]:
    """The term plus its short form without a generic ingredient suffix: 洋甘菊精油 → 洋甘菊,
    积雪草提取物 → 积雪草, "rosemary extract" → "rosemary" (copy often names the plant alone)."""
    short = _INGREDIENT_SUFFIX_RE.sub("", term).strip()
    return [term, short] if short != term and len(short) >= 2 else [term]


def field_role(name: str, kit: Kit) -> str | None:
    """The facts role of a catalog field (``ingredients`` / ``audiences`` / ``effects``) or ``None``."""
    declared = kit.checks.fact_fields
    if declared:
        return declared.get(name)
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

    def owns(self, term: str) -> bool:
        """True when the record names ``term`` (or a longer / shorter form of it) anywhere."""
        return any(term in v or (len(v) >= 2 and v in term) for v in self.values)


def subject_facts(subject: dict | None, kit: Kit) -> SubjectFacts:
    """Parse a subject record into :class:`SubjectFacts` (empty when ``subject`` is ``None``)."""
    out = SubjectFacts()
    for name, v in (subject or {}).items():
        role = field_role(name, kit)
        for raw in _values(v):
            out.values.append(normalize_term(raw))
            if role is None:
                continue
            if role == "ingredients":
                term, amount = split_amount(raw)
                for t in aliases(normalize_term(term)):
                    out.terms[role].add(t)
                    out.values.append(t)
                if amount:
                    out.amounts[normalize_term(term)] = normalize_term(amount)
            else:
                parts = [normalize_term(p) for p in [raw, *_SPLIT_RE.split(raw)] if len(p) >= 2]
                out.terms[role].update(parts)
                out.values.extend(parts)
    return out


@dataclass
class Vocabulary:
    """Known domain terms per role, normalised, plus a compiled matcher per role (longest first)."""

    terms: dict[str, set[str]]
    patterns: dict[str, regex.Pattern | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for role in ROLES:
            ts = sorted((t for t in self.terms.get(role, set()) if len(t) >= 2), key=len, reverse=True)
            self.patterns[role] = regex.compile("|".join(regex.escape(t) for t in ts)) if ts else None

    def find(self, role: str, norm: str, start: int = 0, end: int | None = None) -> list[tuple[str, int, int]]:
        """``(term, start, end)`` of every term of ``role`` in ``norm[start:end]`` (normalised text)."""
        pat = self.patterns.get(role)
        if pat is None:
            return []
        return [(m.group(), m.start(), m.end()) for m in pat.finditer(norm, start, len(norm) if end is None else end)]


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
            terms[role].update(aliases(normalize_term(t)) if role == "ingredients" else [normalize_term(t)])
    for s in subjects or []:
        facts = subject_facts(s, kit)
        for role in ROLES:
            terms[role] |= facts.terms[role]
    return Vocabulary(terms)
