import pytest

from slmforge.checks import NearDuplicateIndex, distinct_n, run_checks
from slmforge.checks.similarity import near_duplicates, pairwise_max_jaccard, shingles

from tests.checks.helpers import make_kit

GOLDEN = ["净颜焕采精华含10%烟酰胺与锌PCA，科学配方从源头调节皮脂分泌，红没药醇温和舒缓泛红。点击了解。",
          "Jasmine Pearl: hand-rolled green tea with a soft jasmine finish. Brew at 80°C. Order your first tin today."]


def test_near_duplicates_are_flagged_and_fresh_text_passes():
    index = NearDuplicateIndex(GOLDEN)
    leak = index.check(GOLDEN[0].replace("点击了解。", "点击了解！"))
    assert not leak.passed and leak.details["nearest"] == 0 and leak.score < 1.0
    copy = index.check(GOLDEN[1])
    assert copy.details["jaccard"] == 1.0 and copy.score == 0.0
    fresh = index.check("星夜焕颜面膜含虾青素与麦角硫因，熬夜后帮助肌肤抵御氧化压力。")
    assert fresh.passed and fresh.score == 1.0


def test_distinct_n_by_hand():
    assert distinct_n(["a b a b"], 1) == pytest.approx(2 / 4)
    assert distinct_n(["a b a b"], 2) == pytest.approx(2 / 3)
    assert distinct_n(["好好好"], 1) == pytest.approx(1 / 3)
    assert distinct_n([""], 2) == 0.0


def test_pairwise_self_duplication():
    texts = [GOLDEN[0], GOLDEN[0] + "。", GOLDEN[1]]
    sims = pairwise_max_jaccard(texts)
    assert sims[0] > 0.8 and sims[1] > 0.8 and sims[2] < 0.2


def test_similarity_runs_when_a_corpus_is_given():
    reps = run_checks([GOLDEN[0]], task=None, subject=None, kit=make_kit(), corpus=GOLDEN)
    assert "similarity" in reps[0].results and not reps[0].results["similarity"].passed


def test_cjk_shingles_and_near_duplicates():
    assert shingles("烟酰胺精华") == {"烟酰胺", "酰胺精", "胺精华"}  # CJK: character 3-grams
    assert shingles("Brew it at 80") == {"brew ", "rew i", "ew it", "w it ", " it a", "it at", "t at ", " at 8",
                                         "at 80"}  # otherwise character 5-grams of the normalised text
    assert shingles("Brew it", n=3) == {"bre", "rew", "ew ", "w i", " it"}
    base = "这支精华以5%烟酰胺与1%锌PCA为核心，帮助调节油脂分泌，适合油性肌与混合肌日常使用。"
    texts = [base, base.replace("日常", "每日"), "完全不同：神经酰胺与胆固醇补充脂质，修护屏障，适合干性肌。", base]
    dups = near_duplicates(texts, [0.5, 0.9, 1.0, 0.1], threshold=0.7)
    # the better-scored near-copy (index 1) is kept; 0 and 3 go
    assert [(d.index, d.kept) for d in dups] == [(0, 1), (3, 1)]
