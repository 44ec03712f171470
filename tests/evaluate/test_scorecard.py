"""The scorecard: paired deltas with bootstrap intervals, plain-language sentences, first in the report."""

from __future__ import annotations

import json

from slmforge.evaluate.report import ReportMeta, write_report
from slmforge.evaluate.scorecard import scorecard, small_n_warning


def _rows(n: int = 16) -> list[dict]:
    rows = []
    for i in range(n):
        rows.append({"item_id": f"i{i}", "task": "ad", "candidate": "base", "text": "b", "check.score": 0.5,
                     "pass.all": float(i < 5)})
        rows.append({"item_id": f"i{i}", "task": "ad", "candidate": "sft", "text": "s", "check.score": 0.5 + 0.02 * (i % 5),
                     "pass.all": float(i < 14)})
        rows.append({"item_id": f"i{i}", "task": "ad", "candidate": "prompting", "text": "p", "check.score": 0.9,
                     "pass.all": 1.0})
    return rows


def test_paired_delta_interval_and_sentence():
    card = scorecard(_rows(), ["sft"], ["base", "prompting"], n_boot=500, seed=0)
    by = {(r["against"], r["metric"]): r for r in card}
    assert set(by) == {("base", "check.score"), ("base", "pass.all"), ("prompting", "check.score"), ("prompting", "pass.all")}
    pr = by[("base", "pass.all")]
    assert pr["n"] == 16 and pr["wins"] == 9 and pr["losses"] == 0
    assert abs(pr["delta"] - 9 / 16) < 1e-9 and 0 < pr["ci_low"] <= pr["delta"] <= pr["ci_high"] <= 1
    assert pr["sentence"].startswith("sft beats base on all-checks pass rate: better on 9 of 16 held-out items, 31 % → 88 %")
    vs_prompting = by[("prompting", "check.score")]
    assert vs_prompting["ci_high"] < 0 and "trails prompting" in vs_prompting["sentence"]
    assert small_n_warning(card) is None
    assert "only 4 held-out items" in small_n_warning(scorecard(_rows(4), ["sft"], ["base"], n_boot=100))


def test_items_missing_a_metric_are_left_out_of_the_pairing():
    rows = _rows(6)
    rows[0].pop("check.score")  # base, item i0: a failed generation has no scores
    card = scorecard(rows, ["sft"], ["base"], n_boot=100)
    assert {r["metric"]: r["n"] for r in card} == {"check.score": 5, "pass.all": 6}


def test_report_opens_with_the_scorecard(tmp_path):
    rows = _rows()
    card = scorecard(rows, ["sft"], ["base", "prompting"], n_boot=200)
    (tmp_path / "scorecard.json").write_text(json.dumps(card))
    html = write_report(rows, [], tmp_path, ReportMeta(title="t", warnings=["a warning"]), scorecard=card).read_text()
    assert html.index("Scorecard") < html.index("a warning") < html.index("Mean scores per task")
    assert card[0]["sentence"].replace("→", "&rarr;") in html or card[0]["sentence"] in html
    md = (tmp_path / "report.md").read_text()
    assert md.index("## Scorecard") < md.index("## Mean scores")
