from slmforge.checks.stated import StatedSummary, broken_rule, guess_language, judge_stated, stated_rules


def test_guess_language_by_script():
    assert [guess_language(t) for t in ("30文字以内で", "请写一条文案", "50자 이내", "under 80 chars")] == \
        ["ja", "zh", "ko", "en"]


def test_rules_one_per_family_with_labels():
    rules = stated_rules("「新登場」を必ず入れて、10〜45文字、句点なし、絵文字なし、改行なし、ハッシュタグなし、行動喚起を入れて")
    assert [(r.key, r.label) for r in rules] == [
        ("length", "10–45 chars"), ("hashtags", "no hashtags"), ("no_newline", "no line breaks"),
        ("no_emoji", "no emoji"), ("no_chars", "no 「。」"), ("cta", "call to action"),
        ("terms", "must contain 「新登場」"),
    ]
    assert stated_rules("プログラマティック広告とは？") == []


def test_each_rule_is_checked_on_its_own():
    length, emoji, period, terms = stated_rules("30文字以内、句点なし、絵文字なし、「送料無料」を含める")
    text = "送料無料の週末セール。今だけ‼"
    assert broken_rule(text, length) is None
    assert broken_rule(text, period) == "forbidden character '。'"
    assert broken_rule(text, emoji) == "emoji '‼' where none is allowed"
    assert broken_rule(text, terms) is None
    assert broken_rule("週末セール", terms) == "missing 「送料無料」"
    assert broken_rule("あ" * 31, length) == "31 characters, at most 30 allowed"
    assert all(broken_rule("  ", r) == "empty text" for r in (length, period, emoji, terms))


def test_cta_rule_uses_the_prompts_language_without_a_kit():
    (cta,) = stated_rules("行動喚起を入れてください")
    assert cta.language == "ja"
    assert broken_rule("新作ミスト、今すぐお試しください", cta) is None
    assert broken_rule("新作ミストのご紹介", cta) == "no call to action"


def test_pair_verdicts_and_summary():
    prompt = "20文字以内、句点なし"
    rows = [
        {"chosen": "在宅で働こう", "rejected": "在宅で働こう。"},                      # rejected alone breaks 句点
        {"chosen": "未経験から始められる在宅ワークで自分らしく働こう", "rejected": "在宅で働こう"},  # chosen too long
        {"chosen": "未経験から始められる在宅ワークで自分らしく働こう", "rejected": "働こう。"},      # each breaks one
        {"chosen": "働こう。", "rejected": "働こう。"},                              # both break the same
    ]
    verdicts = [judge_stated(prompt, r) for r in rows]
    assert [v.verdict for v in verdicts] == ["rejected_worse", "chosen_worse", "mixed", "same"]
    assert verdicts[2].to_dict()["chosen_only"] == ["length"]
    assert verdicts[2].to_dict()["rejected_only"] == ["no_chars"]
    summary = StatedSummary()
    for v in verdicts:
        summary.add(v)
    summary.add(judge_stated("広告とは？", {"chosen": "a", "rejected": "b"}))
    assert summary.verdicts["no_rules"] == 1
    (k1, length), (k2, period) = summary.ordered()
    assert (k1, length.stated, length.broken["chosen"], length.broken["rejected"]) == ("length", 4, 2, 0)
    assert (length.only["chosen"], length.only["rejected"]) == (2, 0)
    assert (k2, period.stated, period.broken["chosen"], period.broken["rejected"]) == ("no_chars", 4, 1, 3)
    assert (period.only["chosen"], period.only["rejected"]) == (0, 2)


def test_completion_verdict():
    v = judge_stated("絵文字なしで", {"completion": "しっとり❤️"})
    assert v.verdict == "breaks" and "chosen_only" not in v.to_dict()
    assert judge_stated("絵文字なしで", {"completion": "しっとり"}).verdict == "obeys"
    assert judge_stated("自由に", {"completion": "❤️"}).verdict == "no_rules"
