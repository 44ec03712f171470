"""Extract output constraints from an instruction's own text (zh / ja / ko / en), for imported datasets
whose rules live in the prompt rather than in a kit task: 「10〜45文字」, 「100字以内」, 「50자 이내」,
"under 120 characters", 「绝对不要使用表情」, "no line breaks", 「句点なし」 …

Matching runs on the NFKC + case-folded instruction (full-width digits become ASCII, ～ becomes ~,
－ becomes -; UAX #15); numbers may be Arabic, Chinese / kanji numerals (一百, 两百五十, 三十, 十五) or
positional kanji digits (二〇〇). A range's two numbers may be joined by any dash or wave of CJK text
(:data:`DASHES`: ‐ ‑ ‒ – — ― − 〜 ～ ~ －), or 至 / 到 / から / 에서. Every phrasing family of every
language is tried, since instructions mix languages ("no 句点"). Strict bounds ("under 120", 「少于100字」, 「45文字未満」,
「50자 미만」) exclude the number itself; inclusive ones (以内 / 以下 / 이내 / at most) include it.
"About N" (左右 / 程度 / 정도 / about) becomes the range N ± 20 %.

Terms an instruction requires (「『新登場』を必ず入れて」, 「包含“限时”」, 'include "free shipping"') are
read by :func:`extract_required_terms`: they are not a field of :class:`~slmforge.kit.schema.Constraints`,
:mod:`slmforge.checks.stated` checks them.
"""

from __future__ import annotations

import unicodedata

import regex

from slmforge.checks.text import normalize_term
from slmforge.kit.schema import Constraints

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
NUM = r"(\d+|[零〇一二两三四五六七八九十百千]+)"
CHARS = r"(?:个)?(?:字符|文字|字|글자|자|characters?|chars?)"
DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2053\u223c~\u301c\uff5e\uff0d"
"""Characters that join the two numbers of a range: hyphen-minus, the General Punctuation dashes
U+2010–U+2015, minus U+2212, swung dash U+2053, tilde operator U+223C, ~, wave dash 〜 U+301C and the
full-width ～ U+FF5E / － U+FF0D (the last two, and U+2011, only matter before NFKC; Unicode charts)."""
SEP = r"(?:[" + regex.escape(DASHES) + r"]|至|到|から|에서)"
RANGE_SEP = r"\s*" + SEP + r"\s*"
NEG = r"(?:不要|不能|不可|不得|不许|禁止|避免|请勿|勿|别|不用|不使用|无需|切勿|不带|不加)"

_FLAGS = regex.IGNORECASE


def _num(s: str) -> int:
    """Parse an Arabic or Chinese / kanji numeral (``"120"``, ``"一百二十"``, ``"两百"``, ``"十五"``, ``"二〇〇"``)."""
    if s.isdigit():
        return int(s)
    if all(ch in _CN_DIGITS for ch in s):  # positional kanji digits: 二〇〇 = 200, 四五 = 45
        return int("".join(str(_CN_DIGITS[ch]) for ch in s))
    total, digit = 0, None
    for ch in s:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        else:
            total += (1 if digit is None else digit) * _CN_UNITS[ch]
            digit = None
    return total + (digit or 0)


def _rx(*patterns: str) -> regex.Pattern:
    return regex.compile("|".join(f"(?:{p})" for p in patterns), _FLAGS)


RANGE_RE = _rx(NUM + r"\s*" + CHARS + "?" + RANGE_SEP + NUM + r"\s*" + CHARS,
               r"between\s+" + NUM + r"\s+and\s+" + NUM + r"\s+" + CHARS)
MAX_INCL_RE = _rx(r"(?:不超过|不多于|最多|至多|限|控制在|最大|上限)\s*(?:は|:)?\s*" + NUM + r"\s*" + CHARS,
                  NUM + r"\s*" + CHARS + r"\s*(?:以内|之内|以下|内|まで|이내|이하|내로|내)",
                  r"(?:at most|no more than|not more than|up to|maximum(?: of)?|max\.?|within|not exceed(?:ing)?)\s+"
                  + NUM + r"\s+" + CHARS,
                  NUM + r"\s+" + CHARS + r"\s+(?:or less|or fewer|max(?:imum)?)")
MAX_STRICT_RE = _rx(r"(?<!不)(?:少于|低于|小于)\s*" + NUM + r"\s*" + CHARS,
                    NUM + r"\s*" + CHARS + r"\s*(?:未満|미만)",
                    r"(?:under|fewer than|less than|below|shorter than)\s+" + NUM + r"\s+" + CHARS)
MIN_INCL_RE = _rx(r"(?:不少于|至少|最少|不低于|不短于|最低|最小)\s*(?:は|:)?\s*" + NUM + r"\s*" + CHARS,
                  NUM + r"\s*" + CHARS + r"\s*(?:以上|이상)", r"최소\s*" + NUM + r"\s*" + CHARS,
                  r"(?:at least|minimum(?: of)?|min\.?|no fewer than|no less than|not less than)\s+" + NUM + r"\s+" + CHARS)
MIN_STRICT_RE = _rx(r"(?<!不)(?:超过|多于|大于)\s*" + NUM + r"\s*" + CHARS,
                    r"(?:more than|over|longer than)\s+" + NUM + r"\s+" + CHARS,
                    NUM + r"\s*" + CHARS + r"\s*(?:を超える|초과)")
ABOUT_RE = _rx(NUM + r"\s*" + CHARS + r"\s*(?:左右|上下|程度|前後|정도|내외)",
               r"(?:about|around|approximately|roughly|~)\s*" + NUM + r"\s+" + CHARS)

NO_EMOJI_RE = _rx(NEG + r"\S{0,6}?(?:表情|emoji|颜文字)", r"无表情", r"(?:絵文字|emoji)\S{0,3}?(?:なし|無し|禁止|不要|不可|ng|使わ|使用しない|使用せず|抜き|入れな|含めな|つけな|付けな|控え)",
                  r"(?:이모지|이모티콘|emoji)\S{0,3}?\s*(?:없이|없는|금지|사용\s*금지|사용하지|쓰지|넣지|빼고|제외)",
                  r"no\s+emojis?", r"without\s+(?:any\s+)?emojis?", r"(?:don't|do not|never)\s+use\s+(?:any\s+)?emojis?",
                  r"avoid\s+(?:using\s+)?emojis?", r"emoji[- ]free")
NO_NEWLINE_RE = _rx(NEG + r"\S{0,4}?(?:换行|分段|分行)", r"不换行", r"(?:用|写成|写在)?一段(?:话|文字)(?:内|中|里)?(?:写|完成|表达)",
                    r"单行", r"改行\S{0,3}?(?:なし|無し|しない|せず|禁止|不要|を?使わ|を?入れ)", r"(?:一|1)行で",
                    r"줄\s*바꿈\S{0,3}?\s*(?:없이|금지|하지)", r"한\s*줄로", r"개행\s*없이",
                    r"no\s+(?:line\s*breaks?|newlines?)", r"without\s+(?:any\s+)?(?:line\s*breaks?|newlines?)",
                    r"(?:on|in|as)\s+(?:a\s+)?single\s+line", r"(?:on|in)\s+one\s+line", r"single[- ]line")
NO_PERIOD_RE = _rx(NEG + r"\S{0,4}?(?:句号|句点)", r"(?:无|没有)句号", r"句点\S{0,3}?(?:なし|無し|禁止|不要|使わ|つけ|付け|打た)",
                   r"no\s+句点", r"[「『“\"'(]。[」』”\"')]\S{0,3}?(?:なし|無し|使わ|禁止|不要|不可|つけ|付け|打た|入れな)", r"마침표\S{0,3}?\s*(?:없이|금지|사용하지|찍지|쓰지)")
NO_STOPS_JA_RE = _rx(r"句読点\S{0,3}?(?:なし|無し|禁止|不要|不可|使わ|つけ|付け|打た|入れな)")
"""「句読点なし」: neither the full stop 。 nor the comma 、."""
NO_PERIOD_EN_RE = _rx(r"no\s+(?:periods?|full\s+stops?)", r"without\s+(?:any\s+)?(?:periods?|full\s+stops?)",
                      r"(?:don't|do not|never)\s+use\s+(?:any\s+)?(?:periods?|full\s+stops?)")
NO_HEADING_RE = _rx(NEG + r"\S{0,4}?标题", r"見出し\S{0,3}?(?:なし|不要|使わ|禁止)", r"제목\s*없이",
                    r"no\s+(?:markdown\s+)?headings?", r"without\s+(?:markdown\s+)?headings?")
NO_HASHTAG_RE = _rx(NEG + r"\S{0,4}?(?:话题|标签|hashtag|#)", r"ハッシュタグ\S{0,3}?(?:なし|不要|使わ|禁止)",
                    r"해시태그\s*(?:없이|금지|사용하지)", r"no\s+hashtags?", r"without\s+(?:any\s+)?hashtags?")
HASHTAG_N_RE = _rx(NUM + r"\s*(?:" + SEP + r"\s*" + NUM + r")?\s*(?:个|つ|個|개)?\s*(?:话题标签|话题|标签|hashtags?|ハッシュタグ|해시태그)",
                   r"(?:ハッシュタグ|해시태그)\s*(?:を)?\s*" + NUM + r"\s*(?:個|つ|개)")
MAX_LINES_RE = _rx(NUM + r"\s*(?:行|줄)\s*(?:以内|以下|まで|이내|이하)", r"(?:不超过|最多)\s*" + NUM + r"\s*行",
                   r"(?:at most|no more than|up to|within)\s+" + NUM + r"\s+lines?", NUM + r"\s+lines?\s+or\s+(?:fewer|less)")
CTA_RE = _rx(r"行动号召", r"号召行动", r"行動喚起", r"행동\s*유도", r"call[- ]to[- ]action", r"\bcta\b")


def _first_num(m: regex.Match) -> list[int]:
    return [_num(g) for g in m.groups() if g]


# Keywords that must occur before a family's regexes are tried (most instructions state nothing).
_LENGTH_KEYS = ("字", "자", "char")
_EMOJI_KEYS = ("表情", "emoji", "絵文字", "이모지", "이모티콘")
_NEWLINE_KEYS = ("换行", "分段", "分行", "一段", "单行", "改行", "行で", "줄", "개행", "line")
_PERIOD_KEYS = ("句", "。", "마침표", "period", "full stop")
_HEADING_KEYS = ("标题", "見出し", "제목", "heading")
_HASHTAG_KEYS = ("话题", "标签", "hashtag", "ハッシュタグ", "해시태그", "#")
_LINE_KEYS = ("行", "줄", "line")
_CTA_KEYS = ("号召", "喚起", "유도", "call", "cta")


def _has(t: str, keys: tuple[str, ...]) -> bool:
    return any(k in t for k in keys)


def _length(t: str) -> dict[str, int | None]:
    lo: list[int] = []
    hi: list[int] = []
    for m in RANGE_RE.finditer(t):
        a, b = _first_num(m)[:2]
        lo.append(min(a, b))
        hi.append(max(a, b))
    hi += [_first_num(m)[0] for m in MAX_INCL_RE.finditer(t)]
    hi += [_first_num(m)[0] - 1 for m in MAX_STRICT_RE.finditer(t)]
    lo += [_first_num(m)[0] for m in MIN_INCL_RE.finditer(t)]
    lo += [_first_num(m)[0] + 1 for m in MIN_STRICT_RE.finditer(t)]
    for m in ABOUT_RE.finditer(t):
        n = _first_num(m)[0]
        lo.append(int(n * 0.8))
        hi.append(int(n * 1.2 + 0.999))
    max_chars = min(hi) if hi else None
    min_chars = max(lo) if lo else None
    if max_chars is not None and max_chars < 1:
        max_chars = None
    if min_chars is not None and max_chars is not None and min_chars > max_chars:
        min_chars = None
    return {k: v for k, v in (("min_chars", min_chars), ("max_chars", max_chars)) if v is not None}


def extract_constraints(instruction: str, language: str = "en") -> Constraints:
    """Constraints an instruction states in its own words.

    Args:
        instruction: the user prompt / instruction text (the part before any record JSON is enough,
            the whole prompt works too).
        language: BCP-47 tag of the copy; decides which full stop 「no periods」 forbids in
            addition to ``.`` (``。`` for zh / ja).

    Returns:
        :class:`~slmforge.kit.schema.Constraints` with only what the text states; everything else at
        its permissive default. Contradictory statements keep the strictest bound that still leaves
        a valid range (a minimum above the maximum is dropped).
    """
    t = normalize_term(instruction)
    out: dict = {}
    if _has(t, _LENGTH_KEYS):
        out.update(_length(t))
    if _has(t, _EMOJI_KEYS) and NO_EMOJI_RE.search(t):
        out["emoji_allowed"] = False
    if _has(t, _NEWLINE_KEYS) and NO_NEWLINE_RE.search(t):
        out["newlines_allowed"] = False
    forbidden: set[str] = set()
    if _has(t, _PERIOD_KEYS):
        if NO_PERIOD_RE.search(t):
            forbidden.add("。")
            if "마침표" in t:
                forbidden.add(".")
        if NO_STOPS_JA_RE.search(t):
            forbidden.update(("。", "、"))
        if NO_PERIOD_EN_RE.search(t):
            forbidden.add(".")
            if language.split("-")[0] in ("zh", "ja"):
                forbidden.add("。")
    if forbidden:
        out["forbidden_chars"] = sorted(forbidden)
    if _has(t, _HEADING_KEYS) and NO_HEADING_RE.search(t):
        out["forbid_markdown_headings"] = True
    if _has(t, _HASHTAG_KEYS):
        if NO_HASHTAG_RE.search(t):
            out["hashtags_max"] = 0
        elif m := HASHTAG_N_RE.search(t):
            nums = _first_num(m)
            out["hashtags_min"], out["hashtags_max"] = min(nums), max(nums)
    if _has(t, _LINE_KEYS):
        lines = [_first_num(m)[0] for m in MAX_LINES_RE.finditer(t)]
        if lines and min(lines) >= 1:
            out["max_lines"] = min(lines)
    if _has(t, _CTA_KEYS) and CTA_RE.search(t):
        out["cta_required"] = True
    return Constraints(**out)


QUOTED = (r"(?|「([^「」\n]{1,40})」|『([^『』\n]{1,40})』|“([^“”\n]{1,40})”|\"([^\"\n]{1,40})\""
          r"|‘([^‘’\n]{1,40})’|'([^'\n]{1,40})'|【([^【】\n]{1,40})】)")
"""A quoted term in any of the quote pairs of CJK and English text; group 1 is the term (branch reset)."""
_NEG_ZH = r"(?<!不|别|勿|禁止|避免|不要|不能|不得|不可|不必|不用|切勿|无需|无须)"
REQUIRED_RE = regex.compile("(?|" + "|".join(f"(?:{p})" for p in (
    # ja: 「X」を(必ず)含める / 入れてください / 盛り込む / 使って / は必須
    QUOTED + r"\s*(?:という(?:言葉|単語|語句?|キーワード|フレーズ|表現|文言))?\s*(?:を|は|も)?\s*(?:必ず|かならず)?\s*"
    r"(?:(?:含め|入れ|盛り込ん|盛り込|使っ|使用し|用い|記載し|入れ込)(?:て|で|る|ます|ること)|含む|含ん|必須)",
    # zh: (必须)包含「X」/ 带上“X” / 提到“X”; 「X」必须出现
    _NEG_ZH + r"(?:包含|包括|含有|带上|带有|加入|加上|提到|提及|写上|写进|用上|使用)\s*(?:关键词|关键字|词语|字样|品牌名)?\s*"
    + QUOTED,
    QUOTED + r"\s*(?:一词|这个词|字样|关键词)?\s*(?:必须|务必|一定要)\s*(?:出现|包含|提到|写进|使用)",
    # ko: 'X'를 (반드시) 포함 / 넣어 / 사용해
    QUOTED + r"\s*(?:이?라는\s*(?:단어|키워드|문구|표현))?\s*(?:를|을|은|는|도)?\s*(?:반드시|꼭)?\s*"
    r"(?:포함(?!하지|\s*금지)|넣어|넣고|사용해|사용하여|언급해)",
    # en: include / mention / use (the word) "X"; "X" must appear
    r"(?<!n't |not |never |no )\b(?:include|contain|mention|use|feature)s?\s+(?:the\s+)?(?:exact\s+)?"
    r"(?:(?:word|phrase|term|keyword|tagline|slogan)s?\s+)?" + QUOTED,
    QUOTED + r"\s+must\s+(?:appear|be\s+(?:included|used|mentioned))",
)) + ")", regex.IGNORECASE)
"""Positive phrasings that require a quoted term; negated ones (「X」を使わない, 不要使用“X”, don't use "X",
'X'를 포함하지) do not match."""


def extract_required_terms(instruction: str) -> list[str]:
    """Terms an instruction says the copy must contain, in order of first mention, without duplicates.

    Only quoted terms count (「」『』“”""‘’''【】), followed or preceded by a verb of inclusion
    (:data:`REQUIRED_RE`): 「『新登場』を必ず入れてください」 → ``["新登場"]``, 「必须包含“限时”」 →
    ``["限时"]``, 'Include the phrase "free shipping"' → ``["free shipping"]``. The instruction is
    NFKC-normalised first (UAX #15: half-width ｢｣ become 「」), case is kept.

    Args:
        instruction: the prompt text.

    Returns:
        ``[n]`` terms (1–40 characters each, stripped), possibly empty.
    """
    t = unicodedata.normalize("NFKC", instruction)
    terms = [m.group(1).strip() for m in REQUIRED_RE.finditer(t)]
    return list(dict.fromkeys(x for x in terms if x))
