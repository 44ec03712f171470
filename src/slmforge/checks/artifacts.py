"""Artefacts of generation: formula labels leaking into the copy, stray markup, and text in the wrong language.

* :func:`check_structure` — labels of the writing formula in the copy (seed 003 found 【之前】【之后】【桥梁】,
  (特点)(优势)(好处) and English "Hook:" / "Problem:" in teacher output);
* :func:`check_markup` — JSON left around the text, code fences, HTML/XML tags;
* :func:`check_language` — the text is not in the kit's language, judged by the Unicode script
  property of its letters (UAX #24): a CJK kit needs at least half of its letters in its scripts, any
  other kit at most 20 % of its letters outside them (brand names, units and INCI names in Latin
  letters are fine in CJK copy).

These were the synth stage's own detectors (``slmforge.synth.rules``); as checks they also act as
GRPO rewards, evaluation metrics and serving guards. Offsets index the original text.
"""

from __future__ import annotations

import regex

from slmforge.checks.types import CheckResult, Finding
from slmforge.cjk import CJK_RE

STRUCTURE = "structure"
MARKUP = "markup"
LANGUAGE = "language"

FORMULA_LABELS = [
    "之前", "之后", "桥梁", "痛点", "放大", "解决", "特点", "优势", "好处", "钩子", "利益点", "行动号召",
    "hook", "problem", "agitate", "agitation", "solution", "before", "after", "bridge", "feature", "features",
    "advantage", "advantages", "benefit", "benefits", "cta", "call to action",
]
"""Labels of copywriting formulas (AIDA, PAS, BAB, FAB, hook–benefit–CTA) that must not appear in the copy."""

_LABELS = "|".join(regex.escape(x) for x in sorted(FORMULA_LABELS, key=len, reverse=True))
LABEL_RE = regex.compile(
    rf"[【\[(（]\s*(?:{_LABELS})\s*[】\])）]|(?:^|(?<=\n))\s*(?:{_LABELS})\s*[:：]", regex.IGNORECASE
)
STRAY_RE = regex.compile(r'```|^\s*\{|\}\s*$|"text"\s*:|</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>')
LATIN_RE = regex.compile(r"\p{Latin}")
LETTER_RE = regex.compile(r"\p{L}")
CJK_LANGS = ("zh", "ja", "ko")

LANGUAGE_SCRIPTS: dict[str, str] = {
    "zh": r"\p{Han}", "ja": r"[\p{Han}\p{Hiragana}\p{Katakana}]", "ko": r"[\p{Hangul}\p{Han}]",
    "ru": r"\p{Cyrillic}", "uk": r"\p{Cyrillic}", "bg": r"\p{Cyrillic}", "sr": r"[\p{Cyrillic}\p{Latin}]",
    "el": r"\p{Greek}", "ar": r"\p{Arabic}", "fa": r"\p{Arabic}", "he": r"\p{Hebrew}", "th": r"\p{Thai}",
    "hi": r"\p{Devanagari}", "mr": r"\p{Devanagari}", "bn": r"\p{Bengali}", "ta": r"\p{Tamil}",
    "ka": r"\p{Georgian}", "hy": r"\p{Armenian}",
}
"""Language subtag → regex of the letters written in it; languages not listed are written in Latin letters."""

MIN_CJK_SHARE = 0.5
"""A CJK kit's text needs at least this share of its letters in the kit's scripts."""
MAX_FOREIGN_SHARE = 0.2
"""Any other kit's text may have at most this share of its letters outside the kit's script."""


def _script_re(language: str) -> regex.Pattern:
    return regex.compile(LANGUAGE_SCRIPTS.get(language.split("-")[0], r"\p{Latin}"))


def label_spans(text: str) -> list[tuple[str, int, int]]:
    """Leaked formula labels in ``text``: ``(label as written, start, end)``, in order (offsets in characters)."""
    out = []
    for m in LABEL_RE.finditer(text):
        raw = m.group()
        lead = len(raw) - len(raw.lstrip())
        out.append((raw.strip(), m.start() + lead, m.start() + lead + len(raw.strip())))
    return out


def markup_spans(text: str) -> list[tuple[str, int, int]]:
    """JSON wrappers, code fences and tags left in ``text``: ``(matched string, start, end)`` into ``text``."""
    body = text.strip()
    shift = text.find(body) if body else 0
    out = []
    for m in STRAY_RE.finditer(body):
        out.append((m.group().strip() or m.group(), m.start() + shift, m.end() + shift))
    return out


def structure_labels(text: str) -> list[str]:
    """Leaked formula labels in ``text`` (the matched strings, in order)."""
    return [lab for lab, _, _ in label_spans(text)]


def stray_markup(text: str) -> list[str]:
    """JSON wrappers, code fences and tags left in ``text`` (the matched strings, in order)."""
    return [bit for bit, _, _ in markup_spans(text)]


def _own_share(text: str, language: str) -> tuple[int, float]:
    """``(letters judged, share of them in the kit's script)``: CJK + Latin letters for a CJK kit, every
    letter otherwise; the share is 1.0 for a text without such letters."""
    own = len(_script_re(language).findall(text))
    if language.split("-")[0] in CJK_LANGS:
        letters = len(CJK_RE.findall(text)) + len(LATIN_RE.findall(text))
    else:
        letters = len(LETTER_RE.findall(text))
    return letters, (own / letters if letters else 1.0)


def _mismatch(share: float, language: str) -> str | None:
    if language.split("-")[0] in CJK_LANGS:
        return f"only {share:.0%} of letters are in the script of a {language} kit" if share < MIN_CJK_SHARE else None
    if 1 - share > MAX_FOREIGN_SHARE:
        return f"{1 - share:.0%} of letters are outside the script of a {language} kit"
    return None


def language_mismatch(text: str, language: str) -> str | None:
    """A message when ``text`` is not in ``language`` (BCP-47 tag), judged by script; ``None`` when it is.

    CJK kits (zh, ja, ko) need at least :data:`MIN_CJK_SHARE` of their CJK + Latin letters in the kit's
    scripts; other kits at most :data:`MAX_FOREIGN_SHARE` of their letters outside the kit's script
    (:data:`LANGUAGE_SCRIPTS`, Latin by default). A text without letters is not judged.
    """
    return _mismatch(_own_share(text, language)[1], language)


def check_structure(text: str) -> CheckResult:
    """Formula labels leaking into the copy (【之前】, (特点), "Hook:").

    Score: ``1 / (1 + labels)``; passed: no label. Findings ``structure_label`` (error, with offsets);
    details ``labels`` (count).
    """
    found = label_spans(text)
    findings = [Finding(STRUCTURE, "structure_label", f"leaked label {lab!r}", s, e) for lab, s, e in found]
    return CheckResult(STRUCTURE, 1.0 / (1 + len(found)), not found, findings, {"labels": len(found)})


def check_markup(text: str) -> CheckResult:
    """JSON wrappers, code fences and HTML/XML tags left in the copy.

    Score: ``1 / (1 + matches)``; passed: none. Findings ``stray_markup`` (error, with offsets); details
    ``matches`` (count).
    """
    found = markup_spans(text)
    findings = [Finding(MARKUP, "stray_markup", f"stray markup {bit!r}", s, e) for bit, s, e in found]
    return CheckResult(MARKUP, 1.0 / (1 + len(found)), not found, findings, {"matches": len(found)})


def check_language(text: str, language: str) -> CheckResult:
    """The text is written in the kit's language (by script, see :func:`language_mismatch`).

    Score: 1 or 0; passed likewise. Finding ``language_mismatch`` (error, whole text); details
    ``letters`` (letters judged: CJK + Latin for a CJK kit, all otherwise) and ``own_share`` (share of
    them in the kit's script, in [0, 1]).
    """
    letters, share = _own_share(text, language)
    msg = _mismatch(share, language)
    findings = [Finding(LANGUAGE, "language_mismatch", msg)] if msg else []
    return CheckResult(LANGUAGE, 0.0 if msg else 1.0, msg is None, findings,
                       {"letters": letters, "own_share": round(share, 3)})
