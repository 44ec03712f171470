"""Rule metrics on the AdGenius held-out products: golden vs its own rejected sides."""

from __future__ import annotations

from slmforge.evaluate.adgenius import REPLAY_KIT, heldout_rows, rule_metric_rows
from slmforge.evaluate.tables import check_pass_rates, scores_by_task
from slmforge.kit import load_kit


def test_golden_beats_rejected_sides_on_rule_metrics(shared_data):
    lk = load_kit(REPLAY_KIT)
    rm = heldout_rows(shared_data)
    assert 0 < len(rm) < 612
    rows = rule_metric_rows(lk, rm[:60])
    mean = {r["candidate"]: r for r in scores_by_task(rows) if r["task"] == "ALL"}
    passes = {r["candidate"]: r for r in check_pass_rates(rows)}
    assert mean["golden"]["check.score"] > mean["rejected:exaggerated"]["check.score"]
    assert passes["golden"]["style"] > passes["rejected:exaggerated"]["style"]
    # 'fake' rejections are near-copies of the chosen text with a fact changed: high overlap, failing facts
    assert mean["rejected:fake"]["rougeL"] > 0.8 > mean["rejected:weak"]["rougeL"]
    assert mean["rejected:fake"]["chrF"] > mean["rejected:weak"]["chrF"]
    assert passes["golden"]["facts"] > passes["rejected:fake"]["facts"]
