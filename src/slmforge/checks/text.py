"""Text helpers shared by the checks: normalisation with an offset map, grapheme length, emoji, scripts.

Normalisation is Unicode NFKC (full-width ASCII → ASCII, half-width katakana → full-width, ligatures
split; UAX #15) followed by case folding (``str.casefold``, Unicode default case folding), applied per
character so that every normalised character maps back to the original character it came from. Terms
are normalised the same way before matching, so matching is consistent.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import regex

from slmforge.cjk import CJK_RE

EMOJI_RE = regex.compile(
    r"(?:[0-9#*]\uFE0F?\u20E3|\p{Regional_Indicator}{2}|\p{Emoji_Presentation}|\p{Extended_Pictographic}\uFE0F"
    r"|(?![\u00A9\u00AE\u2122])\p{Extended_Pictographic}\uFE0E|[\u203C\u2049])"
    r"(?:[\U0001F3FB-\U0001F3FF]|\u200D(?:\p{Extended_Pictographic})\uFE0F?)*"
)
"""One emoji (UTS #51): keycap (1️⃣), flag, presentation emoji, a pictograph with either variation
selector (❤️ = U+2764 U+FE0F, ☺︎ = U+263A U+FE0E: a pictograph still, except © ® ™ with VS15), the
emoji punctuation ‼ U+203C and ⁉ U+2049 even bare, skin tones and ZWJ sequences. Other bare text-default
pictographs (▶ ✔ ©) stay symbols."""

GRAPHEME_RE = regex.compile(r"\X")
LATIN_WORD_CHARS = "A-Za-z0-9\u00C0-\u024F"


@lru_cache(maxsize=65536)
def _norm_char(ch: str) -> str:
    return unicodedata.normalize("NFKC", ch).casefold()


class _NormTable(dict):
    """``str.translate`` table filled on first sight of each character (C-speed lookups afterwards)."""

    def __missing__(self, code: int) -> str:
        self[code] = out = _norm_char(chr(code))
        return out


_TABLE = _NormTable()


@lru_cache(maxsize=65536)
def normalize_term(term: str) -> str:
    """Normalise a lexicon term / pattern literal exactly like :func:`prepare` normalises text."""
    return "".join(_norm_char(c) for c in term)


@dataclass(frozen=True)
class Prepared:
    """A text with its normalised form and the map back to original offsets.

    Attributes:
        text: the original text.
        norm: NFKC + casefolded text, per character.
        starts: ``starts[i]`` = original index of the character that produced ``norm[i]``
            (``None`` when the normalisation kept lengths, i.e. the identity map).
    """

    text: str
    norm: str
    starts: tuple[int, ...] | None

    def span(self, ns: int, ne: int) -> tuple[int, int]:
        """Map a span ``[ns, ne)`` of ``norm`` to ``[start, end)`` of ``text``."""
        if self.starts is None:
            return ns, ne
        if ne <= ns:
            s = self.starts[ns] if ns < len(self.starts) else len(self.text)
            return s, s
        return self.starts[ns], self.starts[ne - 1] + 1


@lru_cache(maxsize=8192)
def prepare(text: str) -> Prepared:
    """Normalise ``text`` once (cached by value) for every check.

    Args:
        text: any string.

    Returns:
        :class:`Prepared` with the normalised text and its offset map.
    """
    if text.isascii():
        return Prepared(text, text.lower(), None)
    norm = text.translate(_TABLE)
    if len(norm) == len(text):  # no character expanded (none maps to ''), so the map is the identity
        return Prepared(text, norm, None)
    starts: list[int] = []
    for i, c in enumerate(text):
        starts.extend([i] * len(_TABLE[ord(c)]))
    return Prepared(text, norm, tuple(starts))


@lru_cache(maxsize=8192)
def grapheme_len(text: str) -> int:
    """Length in user-perceived characters: extended grapheme clusters (UAX #29), line breaks not counted.

    An emoji with modifiers (👍🏽, 1️⃣, 👨‍👩‍👧) counts as one; a CJK character counts as one.
    """
    body = text.replace("\r", "").replace("\n", "")
    if body.isascii():
        return len(body)
    return len(GRAPHEME_RE.findall(body))


def emoji_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` character offsets of every emoji in ``text``."""
    if text.isascii():
        return []
    return [m.span() for m in EMOJI_RE.finditer(text)]


def is_cjk_term(term: str) -> bool:
    """True when the term contains Han, kana or Hangul: matched as a substring (no word boundaries)."""
    return CJK_RE.search(term) is not None


class TermMatcher:
    """Finds a fixed list of terms in normalised text: substrings for CJK terms, Latin terms between
    Latin word boundaries ("not next to a Latin letter or digit", so ``yyds`` is found in ``yyds我``
    while ``insane`` is not found in ``insanely``; an English plural ``-s`` / ``-es`` is allowed).

    Two literal alternations (CJK, Latin) run separately: the stdlib ``re`` engine then scans each
    with its first-character prefilter, several times faster than one mixed alternation.

    Args:
        terms: the terms as the kit writes them (normalised here).
    """

    def __init__(self, terms: tuple[str, ...]) -> None:
        self.original = {normalize_term(t): t for t in terms if t.strip()}
        keys = sorted(self.original, key=len, reverse=True)  # longest first: a longer term beats its prefix
        cjk = [k for k in keys if is_cjk_term(k)]
        latin = [k for k in keys if not is_cjk_term(k)]
        self.patterns: list[re.Pattern] = []
        if cjk:
            self.patterns.append(re.compile("(" + "|".join(map(re.escape, cjk)) + ")"))
        if latin:
            w = LATIN_WORD_CHARS
            self.patterns.append(re.compile(rf"(?<![{w}])(" + "|".join(map(re.escape, latin)) + rf")(?:e?s)?(?![{w}])"))

    def find(self, norm: str) -> list[tuple[str, int, int]]:
        """``(term as written in the kit, start, end)`` in ``norm``, by start, non-overlapping."""
        hits = sorted((m.start(), -m.end(), m.group(1)) for p in self.patterns for m in p.finditer(norm))
        out: list[tuple[str, int, int]] = []
        for s, neg_e, key in hits:
            if not out or s >= out[-1][2]:
                out.append((self.original[key], s, -neg_e))
        return out


@lru_cache(maxsize=256)
def term_matcher(terms: tuple[str, ...]) -> TermMatcher:
    """A cached :class:`TermMatcher` for ``terms``."""
    return TermMatcher(terms)


_CLAUSE_END = "，。！？；：,.!?;:\n"
_NEG_BEFORE = regex.compile(r"不|没|無|无需|无须|并非|非|别|拒绝|(?<![a-z])(?:not|no|never|without|isn't|don't|doesn't)(?![a-z])|n't")
_NEG_AFTER = regex.compile(r"ない|ません|じゃ|없|않|아니")
_QUESTION = regex.compile(r"吗|嗎|か\?|까")
_OPEN_QUOTES = "“「『\"'‘《〈"
_CLOSE_QUOTES = "”」』\"'’》〉"


def _clause_bounds(norm: str, ns: int, ne: int) -> tuple[int, int]:
    lo = max(norm.rfind(c, 0, ns) for c in _CLAUSE_END) + 1
    his = [i for i in (norm.find(c, ne) for c in _CLAUSE_END) if i >= 0]
    return lo, (min(his) if his else len(norm))


def is_mention(norm: str, ns: int, ne: int) -> bool:
    """True when the match ``norm[ns:ne]`` is talked *about* rather than claimed (use–mention distinction).

    A mention is negated within its clause (不 / 没 / 并非 / not / never … up to 8 characters before;
    ない / 없 / 않 … up to 6 characters after), asked about (the clause holds 吗 / か? / 까, or the match
    is directly followed by a question mark), or enclosed exactly in quotes (“奇迹”, 「一夜回春」).
    Such matches lower a score but do not fail a check: copy that says 「没有奇迹」 keeps the brand's voice.
    """
    lo, hi = _clause_bounds(norm, ns, ne)
    if _NEG_BEFORE.search(norm, max(lo, ns - 8), ns) or _NEG_AFTER.search(norm, ne, min(hi, ne + 6)):
        return True
    if _QUESTION.search(norm, lo, hi + 1) or norm[ne:ne + 1] in ("?", "？"):
        return True
    return 0 < ns and ne < len(norm) and norm[ns - 1] in _OPEN_QUOTES and norm[ne] in _CLOSE_QUOTES


def protected_spans(norm: str, subject: dict | None, brand: str = "") -> list[tuple[int, int]]:
    """Spans of ``norm`` covered by the subject's own values (product name, ingredients…) or the brand.

    A lexicon or hype term inside a proper name ("修护奇迹精华") is the name, not the writer's wording.
    """
    values: list[str] = [brand] if brand else []
    for v in (subject or {}).values():
        values.extend(v if isinstance(v, list) else [v] if isinstance(v, str) else [])
    out: list[tuple[int, int]] = []
    for v in values:
        t = normalize_term(v)
        if len(t) < 2:
            continue
        i = norm.find(t)
        while i >= 0:
            out.append((i, i + len(t)))
            i = norm.find(t, i + 1)
    return out


def inside(spans: list[tuple[int, int]], ns: int, ne: int) -> bool:
    """True when ``[ns, ne)`` lies within one of ``spans``."""
    return any(s <= ns and ne <= e for s, e in spans)


def clear_caches() -> None:
    """Forget every cached normalisation and length (benchmarks time cold passes with this)."""
    prepare.cache_clear()
    grapheme_len.cache_clear()
    normalize_term.cache_clear()
    _norm_char.cache_clear()
    _TABLE.clear()
