from slmforge.checks import check_lexicon, check_style
from slmforge.checks.text import grapheme_len, prepare

from tests.checks.helpers import SUBJECT_ZH, make_kit


def test_avoid_terms_full_width_and_case_map_to_original_offsets():
    kit = make_kit()
    text = "这瓶真的ＹＹＤＳ，也是Yyds级别"
    res = check_lexicon(text, kit)
    assert not res.passed
    spans = [(f.start, f.end) for f in res.findings if f.code == "avoid_term"]
    assert [text[s:e] for s, e in spans] == ["ＹＹＤＳ", "Yyds"]


def test_offsets_survive_length_changing_normalisation():
    text = "㍿ 神器"  # ㍿ NFKC-expands to 4 characters
    p = prepare(text)
    assert len(p.norm) > len(text)
    res = check_lexicon(text, make_kit())
    f = res.findings[0]
    assert text[f.start:f.end] == "神器"


def test_english_word_boundaries_and_plurals():
    kit = make_kit("en")
    assert check_lexicon("An insanely good cup.", kit).passed
    res = check_lexicon("Small MIRACLES happen; a game-changer.", kit)
    assert sorted(res.details["avoid"]) == ["game-changer", "miracle"]


def test_prefer_coverage_raises_score():
    kit = make_kit()
    low = check_lexicon("一支好用的精华。", kit)
    high = check_lexicon("温和配方，从源头修护屏障。", kit)
    assert low.passed and high.passed
    assert high.details["prefer_coverage"] == 1.0 and low.details["prefer_coverage"] == 0.0
    assert high.score > low.score


def test_negated_quoted_or_product_name_mentions_do_not_fail():
    kit = make_kit()
    negated = check_lexicon("护肤没有奇迹，只有科学配方。", kit)
    assert negated.passed and negated.findings[0].severity == "warning" and negated.score < 1.0
    quoted = check_style("那些宣称“一夜回春”的说法并不可信。", kit)
    assert quoted.passed
    subject = {**SUBJECT_ZH, "product_name": "修护奇迹精华"}
    named = check_lexicon("修护奇迹精华含神经酰胺。", kit, subject)
    assert named.passed and not named.findings
    claimed = check_lexicon("这就是奇迹！", kit)
    assert not claimed.passed


def test_style_flags_exaggeration_and_passes_calm_copy():
    kit = make_kit()
    loud = "姐妹们！我发现了油痘肌的救星！！！三天见效，一夜回春！！！😱😱😱"
    res = check_style(loud, kit)
    codes = {f.code for f in res.findings}
    assert {"punct_run", "emoji_run", "hype", "exclamation_density"} <= codes
    assert not res.passed and res.score < 0.2
    calm = "油痘肌反复出油？10%烟酰胺从源头调节皮脂分泌，红没药醇温和舒缓。点击了解配方。"
    ok = check_style(calm, kit)
    assert ok.passed and ok.score == 1.0
    run = next(f for f in res.findings if f.code == "emoji_run")
    assert loud[run.start:run.end] == "😱😱😱"


def test_all_caps_only_counts_in_latin_copy_and_thresholds_come_from_kit():
    en = make_kit("en")
    assert not check_style("BEST TEA EVER, TRULY AMAZING.", en).passed
    assert check_style("含TEWL与TRPV通道的研究结果。", make_kit()).passed
    text = "好用！真的！"
    assert check_style(text, make_kit()).passed is False  # 2 marks in 6 characters: above 2 % (min 1 allowed)
    assert check_style(text, make_kit(checks={"max_exclamation_density": 0.5})).passed
    assert not check_style("配方很精简", make_kit(checks={"hype_patterns": ["精简"]})).passed


def test_grapheme_length_counts_emoji_clusters_as_one():
    assert grapheme_len("1️⃣👍🏽👨‍👩‍👧") == 3
    assert grapheme_len("原素方程\n") == 4


def test_japanese_and_korean_hype_and_cta():
    from slmforge.checks import check_cta

    ja = make_kit("ja")
    assert not check_style("一晩で肌が生まれ変わる、奇跡のクリーム", ja).passed
    assert check_style("セラミド配合で、肌のバリアを穏やかに整えます。", ja).passed
    assert check_cta("今すぐお試しください。", ja, required=True).passed
    ko = make_kit("ko")
    assert not check_style("하룻밤 만에 피부가 달라지는 역대급 크림", ko).passed
    assert check_style("세라마이드가 피부 장벽을 부드럽게 지켜 줍니다.", ko).passed
    assert check_cta("지금 구매하세요.", ko, required=True).passed
    assert not check_cta("세라마이드 크림입니다.", ko, required=True).passed
