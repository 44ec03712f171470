"""Context rules of the facts check: when a named ingredient or audience is *not* a claim about the product.

Copy names things that are not the product's own all the time, and flagging them as invented facts
teaches a model to avoid honest writing. Each rule below reads the normalised text (NFKC + casefold,
:func:`slmforge.checks.text.prepare`) around one mention and answers whether the mention is

* **negated or compared** (:func:`negated_or_compared`): the product avoids it or is compared with it —
  「不含酒精」「告别香精」「比普通VC温和」「是维生素E的30倍」, "no chemical filters like avobenzone",
  "gentler than retinol", "fragrance-free";
* **part of a longer word** (:func:`inside_longer_word`): 柠檬 in 柠檬酸 / 柠檬苦素, 玫瑰 in 玫瑰痤疮,
  维生素C in 维生素C衍生物 — a CJK term has no word boundary, so the continuation is read instead;
* **a source or constituent of an own ingredient** (:func:`constituent_of_own`): 「红没药醇：从洋甘菊中提取」,
  「山茶花提取物富含茶多酚」;
* **a substance of the skin itself** (:func:`skin_substance`): 「胶原蛋白流失」, "the collagen skin loses
  with age", the skin's own ceramide / cholesterol / fatty-acid barrier (the 3:1:1 physiological lipid
  ratio of Man et al., *J Invest Dermatol* 106:1096, 1996, is a cue);
* **an audience named in a caveat** (:func:`caveat`): 「敏感肌建议先试用」, "dry skin: try a sample first",
  or describing the writer (:func:`self_description`): 「作为干皮」, "as someone with dry skin";
* **an example in general talk** (:func:`given_as_example`): 「屏障修护成分（如神经酰胺、泛醇）」,
  「物理防晒剂如氧化锌」, "filters such as zinc oxide";
* **the name of another product** (:func:`names_a_product`): an ingredient followed by a product noun is a
  product named after it — 「建议搭配同系列神经酰胺面霜」, "our vitamin C serum";
* **asked or supposed** (:func:`question`, :func:`hypothetical`): 「0.5%视黄醇烂脸？」, 「当0.5%视黄醇导致脱皮时」;
* **a range of amounts** (:func:`amount_range`): 「从低浓度（0.1%-0.3%）开始」 — studied or recommended, not one
  formula (a range that holds the record's amount agrees with it);
* **a gloss in parentheses** (:func:`glossed_in_parentheses`): 「物理防晒（二氧化钛、氧化锌）」 in a chemical-sunscreen
  text, unless the parentheses also hold an own ingredient;
* **a constituent listed under an own ingredient** (:func:`listed_under_own`): 「山茶花提取物富含…包括：\n- 茶多酚」;
* **the class of an own ingredient** (:func:`class_of_own`): 「多肽复合物」 for 乙酰基六肽-8;
* **an audience named as a condition** (:func:`condition`): 「用户存在眼周干燥、刺痒等问题」.

Cue lists are plain regexes, Chinese and English, written from the kinds of false positives named in
issue 18 and checked on the development half of the seed products, then (examples, product nouns, audience
shorthands, headings; in a third round questions, suppositions, ranges, glosses, constituent lists, classes,
conditions) on one half of the held-out half; the last quarter of the products is never read
(``tests/checks/test_seed_acceptance.py`` reports each part).
"""

from __future__ import annotations

import regex

NEGATION_WINDOW = 40
"""Characters before a mention searched for a negation / comparison cue that governs it."""

_NEG_BEFORE = regex.compile(
    r"不含|无添加|不添加|未添加|零添加|无(?!论|需|须|法|数|限|比|惧)|零|0(?=\p{Han})|拒绝|告别|避开|避免|远离|摒弃|去除|没有|不是|而非|并非|"
    r"代替|替代|取代|相当于|比起|相比|相较|对比|不像|有别于|(?<![配占])比(?!例|重|率|值)|优于|胜过|超越|不同于|区别于|普通|常规|传统|某些|不用|不靠|抛弃|戒掉|"
    r"(?<![a-z])(?:no|not|never|without|free\s+(?:of|from)|instead\s+of|rather\s+than|unlike|compared\s+(?:to|with)|"
    r"than|versus|vs|avoid|avoids|skip|skips|ditch|replaces?|swap|harsh|typical|ordinary|conventional)(?![a-z])")
"""Cues before a mention that make it something the product avoids or is compared with."""
_NEG_AFTER = regex.compile(r"\s*(?:的\s*)?\d+(?:\.\d+)?\s*倍|\s*-?\s*free(?![a-z])|\s*(?:的)?(?:平替|替代品)|\s*alternatives?(?![a-z])|"
                           r"\s*类(?:产品|成分)")
"""Cues right after a mention (used with ``match(norm, pos)``, which anchors at ``pos``): 「维生素E的30倍」, "fragrance-free", 「X的平替」."""
_BREAK = regex.compile(r"[;。!?\n]|,(?=\s*\p{Han})|含(?!量)|添加|加入|搭配|复配|富含|蕴含|采用|搭载|"
                       r"(?<![a-z])(?:contains?|with|formulated|infused|enriched|plus)(?![a-z])")
"""What ends the reach of a negation cue: a clause break (NFKC turns 「，；！？」 into ASCII; a comma ends one
only before Chinese text, as English lists use commas) or a composition cue (「不含香精，含角鲨烷」)."""
_CONTINUATION = regex.compile(r"(?:\p{Han}?[酸醇素苷酮醛酯碱酚烯]|痤疮|衍生物|类似物|[ -]?derivatives?(?![a-z]))")
"""A CJK term followed by these is part of another word (柠檬酸, 薄荷醇, 柠檬苦素, 玫瑰痤疮, VC衍生物)."""
_SOURCE_AFTER = regex.compile(r"\s*(?:中\s*(?:提取|萃取|分离|提炼)|来源)")
_SOURCE_BEFORE = regex.compile(r"(?:提取自|萃取自|源自|来自|来源于|(?<![a-z])(?:derived|extracted|sourced)\s+from)\s*$")
_CONSTITUENT_GAP = regex.compile(r"^[^，,。;；!?！？\n+]{0,14}$")
_CONSTITUENT_CUE = regex.compile(r"富含|含有|含(?!量)|中的|里的|蕴含|(?<![a-z])(?:rich\s+in|contains?\s+natural)(?![a-z])")
SKIN_SUBSTANCES = frozenset({
    "胶原蛋白", "胶原", "弹性蛋白", "弹力蛋白", "神经酰胺", "胆固醇", "脂肪酸", "游离脂肪酸", "皮脂", "角蛋白", "黑色素",
    "天然保湿因子", "透明质酸", "collagen", "elastin", "ceramide", "ceramides", "cholesterol", "fatty acids",
    "fatty acid", "free fatty acids", "sebum", "keratin", "melanin", "natural moisturizing factor", "hyaluronic acid"})
"""Substances the skin makes itself (dermatology textbooks: the stratum-corneum lipids, dermal proteins,
pigment, NMF); named with a skin cue they describe the skin, not the formula."""
_SKIN_CUE = regex.compile(
    r"流失|减少|下降|衰减|降解|断裂|分泌|自身|本身|天然|人体|生理|砖墙|水泥|细胞间|皮脂膜|模拟|仿生|同源|结构一致|"
    r"\d\s*:\s*\d\s*:\s*\d|随着年龄|年龄增长|"
    r"(?<![a-z])(?:skin's\s+own|your\s+skin's|skin's\s+natural|naturally|loses?|losing|loss|produces?|production|makes|"
    r"mimics?|mirrors?|found\s+in\s+(?:the\s+)?skin|with\s+age|as\s+we\s+age|breaks?\s+down)(?![a-z])")
_ATTACHED_OWN = regex.compile(r"(?:含|添加|加入|富含|蕴含|复配|搭载|(?<![a-z])(?:contains?|with|added)(?![a-z]))\s*(?:\d+(?:\.\d+)?\s*%)?\s*$")
"""A composition cue directly before a mention: 「复配胆固醇」 still names the formula's own cholesterol."""
_CAVEAT = regex.compile(
    r"建议先|先试用|试用|小样|皮试|局部测试|耳后|慎用|谨慎|注意|咨询|遵医嘱|不建议|停用|先测试|建立耐受|"
    r"(?<![a-z])(?:try\s+a\s+sample|sample\s+first|patch[\s-]test|test\s+(?:it\s+)?first|consult|caution|check\s+with|"
    r"start\s+slowly|if\s+irritation)(?![a-z])")
"""Caveat cues: an audience named with them is warned, not targeted."""


def negated_or_compared(norm: str, s: int, e: int) -> bool:
    """True when the mention ``norm[s:e]`` is something the product avoids or is compared with.

    A cue of ``_NEG_BEFORE`` within :data:`NEGATION_WINDOW` characters before it governs the mention when
    no clause break or composition cue stands between them (「不含酒精、香精」 governs 香精; 「不含香精，含角鲨烷」
    does not govern 角鲨烷); a cue of ``_NEG_AFTER`` must follow it directly.

    Args:
        norm: the normalised text; s / e: character offsets of the mention in ``norm``.
    """
    if _NEG_AFTER.match(norm, e):
        return True
    lo = max(0, s - NEGATION_WINDOW)
    last = None
    for m in _NEG_BEFORE.finditer(norm, lo, s):
        last = m
    while last is not None:
        if not _BREAK.search(norm, last.end(), s):
            return True
        prev = None
        for m in _NEG_BEFORE.finditer(norm, lo, last.start()):
            prev = m
        last = prev
    return False


def inside_longer_word(norm: str, e: int) -> bool:
    """True when the CJK mention ending at ``e`` continues into another word (柠檬 → 柠檬酸, 玫瑰 → 玫瑰痤疮)."""
    return bool(_CONTINUATION.match(norm, e))


def constituent_of_own(norm: str, s: int, e: int, own_ends: list[int]) -> bool:
    """True when the mention is the source of an own ingredient (「从洋甘菊中提取」, "derived from X") or a
    constituent of one named just before it in the same clause (「山茶花提取物富含茶多酚」; a list under an own
    ingredient is :func:`listed_under_own`).

    Args:
        norm: the normalised text; s / e: the mention's offsets.
        own_ends: end offsets of the record's own ingredients mentioned in ``norm`` (outside the product name).
    """
    if _SOURCE_AFTER.match(norm, e) or _SOURCE_BEFORE.search(norm[max(0, s - 12):s]):
        return True
    for oe in own_ends:
        if oe <= s and s - oe <= 24:
            gap = norm[oe:s]
            if _CONSTITUENT_GAP.match(gap) and _CONSTITUENT_CUE.search(gap):
                return True
    return False


def skin_substance(term: str, norm: str, s: int, clause: tuple[int, int]) -> bool:
    """True when ``term`` is one of :data:`SKIN_SUBSTANCES` and its clause describes the skin (a skin cue,
    e.g. 流失 / 人体 / "your skin's" / a 3:1:1 ratio) without a composition cue directly before it."""
    if term not in SKIN_SUBSTANCES:
        return False
    if _ATTACHED_OWN.search(norm[max(0, s - 10):s]):
        return False
    return bool(_SKIN_CUE.search(norm, clause[0], clause[1]))


_SELF = regex.compile(r"(?:作为|身为|我是|我这种|我这样的|本|像我这种|我们)\s*(?:一个|一名|资深|多年)?\s*$|"
                      r"(?<![a-z])(?:as\s+(?:someone|a\s+person)\s+with|my|i\s+have)\s*$")
"""First-person cues right before an audience: the writer describes their own skin (「作为干皮」, "my dry skin")."""


def self_description(norm: str, s: int) -> bool:
    """True when the audience mention at ``s`` describes the writer (「作为敏感肌」「本油皮」, "as someone with dry skin")."""
    return bool(_SELF.search(norm[max(0, s - 24):s]))


def caveat(norm: str, clause: tuple[int, int]) -> bool:
    """True when the clause holding an audience mention is a caveat (「敏感肌建议先试用」, "patch test first")."""
    return bool(_CAVEAT.search(norm, clause[0], clause[1]))


_EXAMPLE_CUE = regex.compile(r"(?:(?<![何假例])如(?![何果此今])|比如|例如|譬如|诸如|"
                             r"(?<![a-z])(?:such\s+as|e\.g\.|for\s+example|for\s+instance|including)(?![a-z]))\s*:?\s*")
_LIST_GAP = regex.compile(r"(?:[^,，、;；。!?！？\n()（）]{0,12}?(?:[,，、/]|\s(?:and|or)\s|和|及|或)\s*)*")
"""Between an example cue and a later item of its list: other items and their separators (、 , / 和 and or)."""
EXAMPLE_WINDOW = 40
"""Characters before a mention searched for an example cue heading its list."""


def given_as_example(norm: str, s: int) -> bool:
    """True when the mention at ``s`` is an item of a list headed by an example cue (如 / 比如 / 例如 /
    "such as" / "e.g."): general talk about a kind of ingredient, not the product's formula.

    The cue must head the list the mention is in: only other items and list separators (、 , /) may
    stand between them, so 「如氧化锌、二氧化钛」 covers both filters and 「如何选择：本品含X」 covers nothing.
    """
    for m in _EXAMPLE_CUE.finditer(norm, max(0, s - EXAMPLE_WINDOW), s):
        if _LIST_GAP.fullmatch(norm, m.end(), s):
            return True
    return False


_PRODUCT_NOUN = regex.compile(r"\s*(?:面霜|精华液|精华乳|精华|眼霜|乳液|面膜|洁面乳|洁面|爽肤水|化妆水|喷雾|防晒霜|"
                              r"(?:face\s+|eye\s+|night\s+)?(?:cream|serum|moisturi[sz]er|cleanser|toner|mask|lotion)s?(?![a-z]))")
"""Product nouns: right after an ingredient they make the name of a product (神经酰胺面霜, "retinol serum")."""


def names_a_product(norm: str, e: int) -> bool:
    """True when the ingredient mention ending at ``e`` is followed by a product noun: 「同系列神经酰胺面霜」,
    "a vitamin C serum" — another product named after the ingredient, not this product's formula."""
    return bool(_PRODUCT_NOUN.match(norm, e))


def question(norm: str, clause: tuple[int, int]) -> bool:
    """True when the clause holding a mention is a question (「0.5%视黄醇烂脸？」, "Is 20% niacinamide better?"):
    a question raises a claim, it does not make one (NFKC turns ？ into ``?``)."""
    return norm.startswith("?", clause[1])


_HYPOTHETICAL = regex.compile(r"当(?![然下天前季红地即年时])(?=[^,;。!?\n]{0,30}时)|如果|假如|假设|一旦|倘若")
"""Chinese cues of a supposition before a mention (「当0.5%视黄醇导致脱皮时」「如果用了高浓度A醇」).
English "if" / "when" are left out: "when applied, our 10% serum …" is a claim."""


def hypothetical(norm: str, s: int, clause: tuple[int, int]) -> bool:
    """True when a supposition cue stands before the mention in its clause: what happens *if* some
    amount or ingredient is used is general talk, not the product's formula."""
    m = _HYPOTHETICAL.search(norm, clause[0], clause[1])  # the whole clause: 当 looks ahead for its 时
    return m is not None and m.start() < s


_RANGE_LOW = regex.compile(r"(\d+(?:\.\d+)?)\s*(?:%|‰)?\s*(?:-|~|–|—|‒|‐|‑|〜|至|到|(?<![a-z])to(?![a-z]))\s*$")
"""The low end of a range written before an amount: 「0.1%-0.3%」「0.02-0.1%」「2~5%」, "0.1% to 0.3%" (NFKC
maps ～ and － to ~ and -)."""


def amount_range(norm: str, amount_start: int) -> float | None:
    """The low end of the range whose high end starts at ``amount_start`` (「0.1%-」 before 「0.3%」), or
    ``None`` when the amount is a single number. A range of concentrations describes what is recommended
    or studied, not one formula."""
    m = _RANGE_LOW.search(norm, max(0, amount_start - 12), amount_start)
    return float(m.group(1)) if m else None


def glossed_in_parentheses(norm: str, s: int, e: int, own_spans: list[tuple[int, int]]) -> bool:
    """True when the mention is inside parentheses that hold none of the record's own ingredients:
    a gloss of the noun before them (「物理防晒（二氧化钛、氧化锌）厚重」 in a chemical-sunscreen text), not the
    formula. A parenthesis that also names an own ingredient (「舒缓成分（积雪草、泛醇）」) lists the formula.

    Args:
        norm: the normalised text (NFKC turns （） into ``()``); s / e: the mention's offsets.
        own_spans: ``(start, end)`` of the record's own ingredients mentioned in ``norm``.
    """
    lo, hi = max(0, s - 40), min(len(norm), e + 40)
    p, q = norm.rfind("(", lo, s), norm.find(")", e, hi)
    if p < 0 or q < 0 or ")" in norm[p:s] or "(" in norm[e:q]:
        return False
    return not any(p < a and b <= q for a, b in own_spans)


LIST_MARKER = r"[ \t\-•·*▪▫◾◽●○■□►▶✅✔️✓🔹🔸\d.、)\ufe0f\u20e3]"
"""One character of a list-item marker: bullets, digits, keycap emoji (1️⃣ is 1 + U+FE0F + U+20E3)."""
_MARKER = LIST_MARKER + "*"
_CONSTITUENT_LIST = regex.compile(
    r"(?:[^\n。;!?]{0,16}?(?:富含|含有|蕴含|包含|包括)[^\n。]{0,20}\n+|\s*:?\s*\n+)"   # heading: 「X富含…包括：」 or 「X：」 / 「X」 alone
    r"(?:" + _MARKER + r"[^\n]{1,80}\n+){0,6}?" + _MARKER +                        # earlier items of the list
    r"(?:[^\n,，。]{0,6}?(?:" + _CONSTITUENT_CUE.pattern + r")[^\n,，。]{0,8}?)?\s*$")  # the item: 「含」「富含天然」…
"""A list of constituents under an own ingredient: the ingredient heads it (alone on its line, or with a
cue such as 富含 / 包括), its items are bullet or numbered lines, and the mention starts an item
(「山茶花提取物：\\n- 含茶多酚」「山茶花提取物富含多种活性成分，包括：\\n- 茶多酚」「山茶花精油\\n\\n1️⃣ 含油酸\\n2️⃣ 富含茶多酚」)."""


def listed_under_own(norm: str, s: int, own_ends: list[int]) -> bool:
    """True when the mention at ``s`` starts an item of a list of constituents headed by an own ingredient
    (:data:`_CONSTITUENT_LIST`), within 400 characters of it."""
    return any(oe <= s and s - oe <= 400 and _CONSTITUENT_LIST.fullmatch(norm, oe, s) for oe in own_ends)


_COMPLEX = regex.compile(r"^(?:多|复合|poly\s*)?(.+?)(?:复合物|复合体|复合|家族|群|类|\s*complex(?:es)?)$")


def class_of_own(term: str, own: set[str]) -> bool:
    """True when ``term`` names the class of an own ingredient: 「多肽复合物」 for 乙酰基六肽-8 and 棕榈酰三肽-1
    ("peptide complex" for palmitoyl tripeptide-1) — the class name stripped of 多 / 复合物 / complex is the
    tail of an own ingredient's name (its trailing code such as -8 dropped)."""
    m = _COMPLEX.match(term)
    if not m:
        return False
    head = m.group(1).strip()
    return bool(head) and any(regex.sub(r"\s*-?\s*\d+$", "", o).endswith(head) for o in own)


_CONDITION_BEFORE = regex.compile(r"(?:存在|出现|伴有|伴随|常见|面临)\s*$")
_CONDITION_AFTER = regex.compile(r"^[^,;。!?\n]{0,16}?(?:问题|困扰|症状|现象|烦恼|情况)")
_CLAIM_BEFORE = regex.compile(r"(?:适合|专为|针对|适用于?|改善|缓解|减轻|减少|解决|告别|摆脱|淡化|击退)\s*(?:有)?\s*$")
"""Before an audience-like term, a target (「适合有眼周干燥问题的人」) or an effect the product claims
(「改善肤色暗沉」): a claim to check against the record, not a condition described."""


def condition(norm: str, s: int, e: int) -> bool:
    """True when an audience term is named as a condition the copy describes (「83%的用户存在眼周干燥、刺痒等问题」),
    not as whom the product is for or what it improves (「适合有眼周干燥问题的人」「改善肤色暗沉」 are claims)."""
    if _CLAIM_BEFORE.search(norm[max(0, s - 8):s]):
        return False
    return bool(_CONDITION_BEFORE.search(norm[max(0, s - 8):s]) or _CONDITION_AFTER.match(norm[e:e + 24]))
