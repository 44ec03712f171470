import pytest

from slmforge.checks import check_constraints, extract_constraints, run_checks
from slmforge.checks.extract import extract_required_terms
from slmforge.kit.schema import Constraints

from tests.checks.helpers import make_kit

# (instruction, language, expected non-default fields) — one family per row, for each language
CASES = [
    # length: upper limits, inclusive
    ("请写一条100字以内的文案", "zh", {"max_chars": 100}),
    ("字数不超过八十字", "zh", {"max_chars": 80}),
    ("45文字以内で書いてください", "ja", {"max_chars": 45}),
    ("５０자 이내로 작성하세요", "ko", {"max_chars": 50}),
    ("Keep it to at most 120 characters.", "en", {"max_chars": 120}),
    # strict upper limits
    ("少于100字", "zh", {"max_chars": 99}),
    ("45文字未満", "ja", {"max_chars": 44}),
    ("100자 미만으로", "ko", {"max_chars": 99}),
    ("Write under 120 characters.", "en", {"max_chars": 119}),
    # ranges
    ("字数控制在50-100字", "zh", {"min_chars": 50, "max_chars": 100}),
    ("１０〜４５文字で", "ja", {"min_chars": 10, "max_chars": 45}),
    ("30~60자로 써 주세요", "ko", {"min_chars": 30, "max_chars": 60}),
    ("between 50 and 100 characters", "en", {"min_chars": 50, "max_chars": 100}),
    # minimums
    ("不少于二百字", "zh", {"min_chars": 200}),
    ("300文字以上", "ja", {"min_chars": 300}),
    ("최소 200자", "ko", {"min_chars": 200}),
    ("at least 200 characters", "en", {"min_chars": 200}),
    # approximate
    ("100字左右", "zh", {"min_chars": 80, "max_chars": 120}),
    ("200文字程度", "ja", {"min_chars": 160, "max_chars": 240}),
    ("100자 정도", "ko", {"min_chars": 80, "max_chars": 120}),
    ("about 100 characters", "en", {"min_chars": 80, "max_chars": 120}),
    # headings and lines
    ("不要使用标题", "zh", {"forbid_markdown_headings": True}),
    ("見出しなしで", "ja", {"forbid_markdown_headings": True}),
    ("제목 없이", "ko", {"forbid_markdown_headings": True}),
    ("no headings", "en", {"forbid_markdown_headings": True}),
    ("3行以内", "ja", {"max_lines": 3}),
    ("3줄 이내", "ko", {"max_lines": 3}),
    ("at most 3 lines", "en", {"max_lines": 3}),
    # no emoji
    ("绝对不要使用表情", "zh", {"emoji_allowed": False}),
    ("絵文字は使わないでください", "ja", {"emoji_allowed": False}),
    ("이모지 없이 작성", "ko", {"emoji_allowed": False}),
    ("No emoji, please.", "en", {"emoji_allowed": False}),
    # no line breaks
    ("不要换行", "zh", {"newlines_allowed": False}),
    ("改行なしで", "ja", {"newlines_allowed": False}),
    ("줄바꿈 없이 한 줄로", "ko", {"newlines_allowed": False}),
    ("no line breaks", "en", {"newlines_allowed": False}),
    # no full stops
    ("不要使用句号", "zh", {"forbidden_chars": ["。"]}),
    ("句点なしで書いて", "ja", {"forbidden_chars": ["。"]}),
    ("마침표 없이", "ko", {"forbidden_chars": [".", "。"]}),
    ("no 句点", "en", {"forbidden_chars": ["。"]}),
    ("no periods", "en", {"forbidden_chars": ["."]}),
    # hashtags
    ("带上3-5个话题标签", "zh", {"hashtags_min": 3, "hashtags_max": 5}),
    ("ハッシュタグを3つ付けて", "ja", {"hashtags_min": 3, "hashtags_max": 3}),
    ("해시태그 2개", "ko", {"hashtags_min": 2, "hashtags_max": 2}),
    ("no hashtags", "en", {"hashtags_max": 0}),
    # call to action
    ("钩子+利益点+行动号召风格的付费广告文案", "zh", {"cta_required": True}),
    ("行動喚起を入れて", "ja", {"cta_required": True}),
    ("End with a call to action.", "en", {"cta_required": True}),
]


@pytest.mark.parametrize(("instruction", "language", "expected"), CASES)
def test_extract_each_phrasing_family(instruction, language, expected):
    got = extract_constraints(instruction, language).model_dump(exclude_defaults=True)
    assert got == expected


def test_plain_instruction_states_nothing():
    assert extract_constraints("请为产品创作一条小红书文案", "zh") == Constraints()


def test_combined_instruction():
    c = extract_constraints("Write under 120 characters, no emoji, no line breaks, end with a call to action", "en")
    assert (c.max_chars, c.emoji_allowed, c.newlines_allowed, c.cta_required) == (119, False, False, True)


def test_instruction_constraints_applied_to_texts():
    c = extract_constraints("10〜20文字、絵文字なし、句点なし", "ja")
    bad = check_constraints("とても長い説明文です。絵文字もあります😀そして句点も。", c)
    codes = {f.code for f in bad.findings}
    assert {"too_many_chars", "emoji", "forbidden_char"} <= codes
    assert check_constraints("肌にやさしい保湿クリーム", c).passed


def test_pair_whose_chosen_breaks_the_stated_length_is_flagged_end_to_end():
    kit = make_kit()
    instruction = "请为产品写一条45字以内的付费广告文案，不要使用表情"
    chosen = "净颜焕采精华含10%烟酰胺与锌PCA，从源头调节皮脂分泌，红没药醇温和舒缓泛红，帮助油痘肌回归清爽稳定的状态。点击了解科学配方。"
    rejected = "净颜焕采精华含10%烟酰胺，源头控油，温和修护。点击了解。"
    chosen_rep, rejected_rep = run_checks([chosen, rejected], task=kit.task("ad"), subject=None, kit=kit,
                                          instruction=instruction, checks=["constraints"])
    assert not chosen_rep.passed
    assert [f.code for f in chosen_rep.results["constraints"].findings] == ["too_many_chars"]
    assert rejected_rep.passed
    assert chosen_rep.score < rejected_rep.score


# every dash and wave CJK text writes between the two numbers of a range (U+2010–U+2014, 〜, ～, ~, －)
@pytest.mark.parametrize("dash", ["\u2010", "\u2011", "\u2012", "\u2013", "\u2014", "\u301c", "\uff5e", "~", "\uff0d"])
@pytest.mark.parametrize(("unit", "language"), [("字", "zh"), ("文字", "ja"), ("자", "ko")])
def test_range_with_every_cjk_dash(dash, unit, language):
    got = extract_constraints(f"10{dash}45{unit}で", language)
    assert (got.min_chars, got.max_chars) == (10, 45)


@pytest.mark.parametrize(("instruction", "expected"), [
    ("１０‐４５字", {"min_chars": 10, "max_chars": 45}),  # full-width digits, U+2010 hyphen
    ("４５文字以内で", {"max_chars": 45}),
    ("三十文字以内", {"max_chars": 30}),
    ("二十字以内", {"max_chars": 20}),
    ("百字以内", {"max_chars": 100}),
    ("十五文字程度", {"min_chars": 12, "max_chars": 18}),
    ("二〇〇字以内", {"max_chars": 200}),  # positional kanji digits
    ("最大30文字", {"max_chars": 30}),
    ("最低は50文字", {"min_chars": 50}),
])
def test_length_numerals_and_bounds(instruction, expected):
    assert extract_constraints(instruction, "ja").model_dump(exclude_defaults=True) == expected


@pytest.mark.parametrize(("instruction", "language", "expected"), [
    ("絵文字なし", "ja", {"emoji_allowed": False}),
    ("絵文字を使わない", "ja", {"emoji_allowed": False}),
    ("絵文字は入れないでください", "ja", {"emoji_allowed": False}),
    ("絵文字NG", "ja", {"emoji_allowed": False}),
    ("이모지 없이", "ko", {"emoji_allowed": False}),
    ("이모지는 넣지 마세요", "ko", {"emoji_allowed": False}),
    ("句点なし", "ja", {"forbidden_chars": ["。"]}),
    ("「。」を使わない", "ja", {"forbidden_chars": ["。"]}),
    ("文末に（。）は不要", "ja", {"forbidden_chars": ["。"]}),
    ("句読点なしで", "ja", {"forbidden_chars": ["、", "。"]}),
])
def test_emoji_and_full_stop_phrasings(instruction, language, expected):
    assert extract_constraints(instruction, language).model_dump(exclude_defaults=True) == expected


@pytest.mark.parametrize(("instruction", "terms"), [
    ("「新登場」を含める", ["新登場"]),
    ("必ず「送料無料」を入れてください", ["送料無料"]),
    ("キーワード「春」を盛り込んでください。『限定』は必須", ["春", "限定"]),
    ("必须包含“限时”", ["限时"]),
    ("“新品”一词必须出现", ["新品"]),
    ("'무료배송'을 반드시 포함하세요", ["무료배송"]),
    ('Include the phrase "free shipping".', ["free shipping"]),
    ('"Spring" must appear', ["Spring"]),
    # negated or merely quoted: nothing is required
    ("「。」を使わない", []),
    ("「激安」を含めないでください", []),
    ("不要使用“最”", []),
    ("'최고'를 포함하지 마세요", []),
    ('Do not use "miracle".', []),
    ('Write like "hello there"', []),
])
def test_required_terms(instruction, terms):
    assert extract_required_terms(instruction) == terms
