"""Judge calibration against judges of known noise, served by a scripted OpenAI-compatible loopback server.

Each scripted judge reads the candidate text (and criterion) out of the real judge prompt and answers
from the human ratings: exactly (κ = 1), with a seeded ±1 offset (κ ≈ 0.90, see
``test_noisy_judge_kappa_in_expected_band``), a constant (κ = 0), or always "A" on pairs (agreement ½
once positions are swapped).
"""

from __future__ import annotations

import json
import random
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from slmforge.errors import DataError
from slmforge.evaluate.agreement import quadratic_kappa
from slmforge.evaluate.calibrate import CALIBRATION_FILE, calibrate, calibration_section
from slmforge.evaluate.ratings import load_ratings
from slmforge.kit import load_kit
from slmforge.llm.client import LLMClient
from slmforge.llm.config import ModelConfig
from slmforge.testing.server import ScriptedServer

CAND = re.compile(r'<candidate id="([^"]+)">(.*?)</candidate>', re.S)
CRITERION = re.compile(r"^Evaluation criterion: (\S+) ", re.M)
TASKS = {"paid_ad_cta": "voice", "product_note": "accuracy"}


def make_judge(point=None, pair=None):
    """A judge script: ``point(text, criterion) -> int`` for scores, ``pair(text_in_A, text_in_B) -> 'A'|'B'|'tie'``."""

    def script(req):
        user = req["messages"][-1]["content"]
        if "evaluation steps a careful grader" in user:
            return json.dumps({"steps": ["Read the instruction.", "Compare the text with the anchors.", "Score."]})
        slots = {k: json.loads(v) for k, v in CAND.findall(user)}
        if "A" in slots:
            return json.dumps({"reason": "scripted", "winner": pair(slots["A"], slots["B"])})
        (text,) = slots.values()
        return json.dumps({"reason": "scripted", "score": point(text, CRITERION.search(user).group(1))})

    return script


def kit_with(tmp_path: Path, minikit: Path, rows: list[dict]) -> Path:
    kit = tmp_path / "kit"
    shutil.copytree(minikit, kit)
    (kit / "ratings.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return kit


def synthetic_points(n: int, seed: int = 7) -> list[dict]:
    """n pointwise ratings, human scores uniform on 1..5, unique texts, both tasks."""
    rng = random.Random(seed)
    out = []
    for k in range(n):
        task = "paid_ad_cta" if k % 2 else "product_note"
        out.append({"task": task, "item_id": "g1" if task == "paid_ad_cta" else "g3", "criterion": TASKS[task],
                    "text": f"Draft {k}: a calm note on origin, harvest and brew.", "score": rng.randint(1, 5)})
    return out


def synthetic_pairs(n: int) -> list[dict]:
    """n preference pairs, half preferring A and half B, no ties."""
    return [{"task": "paid_ad_cta", "item_id": "g1", "text_a": f"Pair {k}, first text.", "text_b": f"Pair {k}, second text.",
             "preference": "A" if k % 2 else "B"} for k in range(n)]


def run(kit: Path, tmp_path: Path, script, **kw) -> dict:
    with ScriptedServer(script) as srv:
        models = {"judge": ModelConfig(backend="openai", model="judge-model", base_url=srv.base_url, max_retries=0)}
        client = LLMClient(models, ledger=tmp_path / "ledger.sqlite")
        try:
            return calibrate(load_kit(kit), client, out_dir=tmp_path / "out", n_boot=200, **kw)
        finally:
            client.close()


def group(cal: dict, kind: str, name: str = "ALL") -> dict:
    return next(g for g in cal[kind] if g["criterion"] == name)


# ---- the statistics --------------------------------------------------------------------------------
def test_quadratic_kappa_equals_mean_squared_disagreement_ratio():
    """With quadratic weights κ_w = 1 − mean (h_i − j_i)² / mean over all (i, k) of (h_i − j_k)² (Cohen 1968)."""
    rng = np.random.default_rng(0)
    for _ in range(20):
        h, j = rng.integers(1, 6, 30), rng.integers(1, 6, 30)
        expected = 1 - np.mean((h - j) ** 2) / np.mean((h[:, None] - j[None, :]) ** 2)
        assert quadratic_kappa(h, j) == pytest.approx(expected)
    assert quadratic_kappa([1, 2, 3, 4, 5], [1, 2, 3, 4, 5]) == pytest.approx(1.0)
    assert quadratic_kappa([1, 1, 2, 2], [1, 2, 1, 2]) == pytest.approx(0.0)
    assert quadratic_kappa([1, 2, 3, 4, 5], [5, 4, 3, 2, 1]) < 0
    assert np.isnan(quadratic_kappa([3, 3], [3, 3]))


# ---- scripted judges of known noise ----------------------------------------------------------------
def test_exact_judge_gives_kappa_one(tmp_path, minikit_path):
    rows = synthetic_points(60)
    human = {r["text"]: r["score"] for r in rows}
    cal = run(kit_with(tmp_path, minikit_path, rows), tmp_path, make_judge(point=lambda t, c: human[t]))
    for name in ("voice", "accuracy", "ALL"):
        g = group(cal, "pointwise", name)
        assert g["kappa"] == {"value": 1.0, "low": 1.0, "high": 1.0}
        assert g["spearman"]["value"] == pytest.approx(1.0) and g["exact"]["value"] == 1.0
        assert g["failed"] == 0
    assert group(cal, "pointwise")["n"] == 60
    assert json.loads((tmp_path / "out" / CALIBRATION_FILE).read_text())["pointwise"] == cal["pointwise"]


def test_noisy_judge_kappa_in_expected_band(tmp_path, minikit_path):
    """Judge = human score + a seeded offset in {−1, 0, 0, +1}, clipped to 1..5. For uniform human scores the
    squared disagreement is 1 with probability 0.5 − 2·0.2·0.25 = 0.4 (clipping at 1 and 5), the chance
    disagreement ≈ 3.95, so κ_w ≈ 1 − 0.4 / 3.95 ≈ 0.90; 2000 simulated sets of 120 ratings put 99 % of κ in
    [0.86, 0.93]. Exact agreement ≈ 0.6, within ±1 = 1."""
    rows = synthetic_points(120)
    human = {r["text"]: r["score"] for r in rows}

    def noisy(text, criterion):
        return min(5, max(1, human[text] + random.Random(f"noise:{text}").choice([-1, 0, 0, 1])))

    g = group(run(kit_with(tmp_path, minikit_path, rows), tmp_path, make_judge(point=noisy)), "pointwise")
    assert 0.85 <= g["kappa"]["value"] <= 0.95
    assert g["kappa"]["low"] < g["kappa"]["value"] < g["kappa"]["high"] <= 1.0
    assert 0.85 <= g["spearman"]["value"] <= 0.95
    assert 0.45 <= g["exact"]["value"] <= 0.75 and g["within_1"]["value"] == 1.0


def test_constant_judge_gives_kappa_zero(tmp_path, minikit_path):
    rows = synthetic_points(60)
    cal = run(kit_with(tmp_path, minikit_path, rows), tmp_path, make_judge(point=lambda t, c: 3))
    g = group(cal, "pointwise")
    assert abs(g["kappa"]["value"]) < 1e-9  # observed table = expected table: no agreement beyond chance
    assert g["spearman"]["value"] is None  # a constant has no ranks: undefined, not 0
    assert g["exact"]["value"] == pytest.approx(sum(r["score"] == 3 for r in rows) / 60, abs=1e-4)


def test_position_biased_pair_judge_agrees_half_after_swapping(tmp_path, minikit_path):
    rows = synthetic_pairs(20)
    cal = run(kit_with(tmp_path, minikit_path, rows), tmp_path, make_judge(pair=lambda a, b: "A"))
    g = group(cal, "pairwise")
    assert g["n"] == 20 and g["agreement"]["value"] == pytest.approx(0.5)  # every verdict is a tie
    assert g["consistency"]["value"] == 0.0 and g["exact"]["value"] == 0.0
    assert all(r["judge"] == "tie" and r["consistent"] is False for r in cal["ratings"])


def test_faithful_pair_judge_agrees_fully(tmp_path, minikit_path):
    rows = synthetic_pairs(12)
    best = {r["text_a"] if r["preference"] == "A" else r["text_b"] for r in rows}
    cal = run(kit_with(tmp_path, minikit_path, rows), tmp_path,
              make_judge(pair=lambda a, b: "A" if a in best else "B"))
    g = group(cal, "pairwise")
    assert g["agreement"]["value"] == 1.0 and g["consistency"]["value"] == 1.0
    assert cal["pointwise"] == []


def test_unparseable_judge_replies_are_kept_and_counted(tmp_path, minikit_path):
    rows = synthetic_points(20)
    human = {r["text"]: r["score"] for r in rows}
    bad = {rows[0]["text"], rows[1]["text"]}

    def script(req):
        user = req["messages"][-1]["content"]
        if any(json.dumps(t) in user for t in bad):
            return "I would give it a four."
        return make_judge(point=lambda t, c: human[t])(req)

    cal = run(kit_with(tmp_path, minikit_path, rows), tmp_path, script)
    g = group(cal, "pointwise")
    assert g["failed"] == 2 and g["n"] == 18 and g["kappa"]["value"] == 1.0
    failed = [r for r in cal["ratings"] if r["error"]]
    assert {r["line"] for r in failed} == {1, 2} and "not one JSON object" in failed[0]["error"]


def test_overall_rating_is_compared_with_rubric_weighted_judge_score(tmp_path, minikit_path):
    """A rating without a criterion is judged on every criterion of its task; the judge's overall is the
    rubric-weighted mean (as the report's judge.overall), rounded half up for κ / exact / ±1."""
    kit = kit_with(tmp_path, minikit_path, [{"task": "paid_ad_cta", "item_id": "g1", "text": "Calm copy.", "score": 4}])
    yaml_text = (kit / "kit.yaml").read_text(encoding="utf-8")
    extra = ("        - name: clarity\n          description: easy to read\n          weight: 3\n"
             "          anchors: {1: muddled, 5: clear}\n    constraints: {max_chars: 120")
    (kit / "kit.yaml").write_text(yaml_text.replace("    constraints: {max_chars: 120", extra, 1), encoding="utf-8")
    cal = run(kit, tmp_path, make_judge(point=lambda t, c: {"voice": 2, "clarity": 5}[c]))
    (row,) = cal["ratings"]
    assert row["criterion"] == "overall" and row["judge"] == pytest.approx((2 * 1 + 5 * 3) / 4) and row["judge_int"] == 4
    assert group(cal, "pointwise", "overall")["exact"]["value"] == 1.0


# ---- the shipped fixture, the CLI and the report section -------------------------------------------
def fixture_judge(kit: Path):
    """Exact judge for tests/fixtures/minikit/ratings.jsonl: the human score, the human preference."""
    rows = [json.loads(x) for x in (kit / "ratings.jsonl").read_text(encoding="utf-8").splitlines()]
    score = {r["text"]: r["score"] for r in rows if "score" in r}
    pref = {}
    for r in rows:
        if "preference" in r:
            pref[(r["text_a"], r["text_b"])] = r["preference"]
            pref[(r["text_b"], r["text_a"])] = {"A": "B", "B": "A"}.get(r["preference"], "tie")
    return make_judge(point=lambda t, c: score[t], pair=lambda a, b: pref[(a, b)])


def test_cli_calibrate_on_fixture_kit_prints_80_column_table(tmp_path, minikit_path):
    from slmforge.cli import app

    with ScriptedServer(fixture_judge(minikit_path)) as srv:
        (tmp_path / "models.yaml").write_text(
            f"judge: {{backend: openai, model: judge-model, base_url: '{srv.base_url}', max_retries: 0}}\n")
        args = ["judge", "calibrate", "--kit", str(minikit_path), "--models", str(tmp_path / "models.yaml"),
                "--out", str(tmp_path / "eval"), "--ledger", str(tmp_path / "ledger.sqlite"), "--n-boot", "100"]
        res = CliRunner().invoke(app, args)
        assert res.exit_code == 0, res.output
        calls = srv.stats.requests
        assert CliRunner().invoke(app, args).exit_code == 0
        assert srv.stats.requests == calls  # rerun answered from the ledger
    assert max(len(line) for line in res.output.splitlines()) <= 80
    assert "κ quadratic" in res.output and "pair agreement" in res.output
    cal = json.loads((tmp_path / "eval" / CALIBRATION_FILE).read_text())
    assert group(cal, "pointwise")["n"] == 18 and group(cal, "pairwise")["n"] == 7
    assert {g["criterion"] for g in cal["pointwise"]} == {"voice", "accuracy", "overall", "ALL"}
    assert group(cal, "pointwise")["kappa"]["value"] == 1.0 and group(cal, "pairwise")["agreement"]["value"] == 1.0
    assert (tmp_path / "eval" / "judge_steps.json").is_file()

    section = calibration_section(tmp_path / "eval")
    assert section["id"] == "judge-calibration" and "Cohen" in section["intro"]
    assert [r["criterion"] for r in section["rows"]][-1] == "ALL"
    all_row = section["rows"][-1]
    assert all_row["κ quadratic"].startswith("1.00") and all_row["pairs"] == 7
    assert calibration_section(tmp_path / "eval" / CALIBRATION_FILE) == section
    assert calibration_section(tmp_path / "nowhere") is None
    assert calibration_section(minikit_path) is None


def test_report_renders_calibration_section(tmp_path, minikit_path):
    from slmforge.evaluate.report import ReportMeta, write_report

    rows = synthetic_points(12)
    human = {r["text"]: r["score"] for r in rows}
    run(kit_with(tmp_path, minikit_path, rows), tmp_path, make_judge(point=lambda t, c: human[t]))
    section = calibration_section(tmp_path / "out")
    score_rows = [{"item_id": "1", "task": "paid_ad_cta", "candidate": "sft", "judge.voice": 4.0, "text": "x"}]
    html = write_report(score_rows, [], tmp_path / "report", ReportMeta(), n_boot=50, extra_sections=[section])
    assert "Judge calibration against human ratings" in html.read_text(encoding="utf-8")
    assert "κ quadratic" in (tmp_path / "report" / "report.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(("row", "field", "message"), [
    ({"task": "paid_ad_cta", "item_id": "g1", "text": "x", "score": 6}, "score", "integer from 1 to 5"),
    ({"task": "paid_ad_cta", "item_id": "g1", "text": "x", "score": 4.5}, "score", "integer from 1 to 5"),
    ({"task": "paid_ad_cta", "item_id": "g1", "criterion": "accuracy", "text": "x", "score": 4}, "criterion", "no criterion"),
    ({"task": "paid_ad_cta", "item_id": "g1", "instruction": "Write.", "text": "x", "score": 4}, "instruction", "exactly one"),
    ({"task": "paid_ad_cta", "item_id": "g3", "text": "x", "score": 4}, "task", "belongs to task"),
    ({"task": "paid_ad_cta", "item_id": "g9", "text": "x", "score": 4}, "item_id", "unknown golden item"),
    ({"task": "ad", "item_id": "g1", "text": "x", "score": 4}, "task", "unknown task"),
    ({"task": "paid_ad_cta", "item_id": "g1", "text": "x", "scroe": 4}, "scroe", "unknown key"),
    ({"task": "paid_ad_cta", "item_id": "g1", "text_a": "x", "text_b": "y", "preference": "left"}, "preference", "'A', 'B'"),
    ({"task": "paid_ad_cta", "item_id": "g1", "text": "x", "score": 4, "preference": "A"}, "score", "either"),
    ({"task": "paid_ad_cta", "item_id": "g1", "subject_id": "Oolong", "text": "x", "score": 4}, "subject_id", "unknown subject"),
])
def test_bad_ratings_name_file_line_field_and_fix(tmp_path, minikit_path, row, field, message):
    good = {"task": "paid_ad_cta", "item_id": "g1", "text": "fine", "score": 3}
    kit = kit_with(tmp_path, minikit_path, [good, row])
    with pytest.raises(DataError) as e:
        load_ratings(load_kit(kit))
    assert e.value.line == 2 and e.value.field == field and message in str(e.value) and e.value.fix
    assert str(e.value).startswith(f"{kit / 'ratings.jsonl'}:2: {field}: ")


def test_cli_bad_ratings_exit_2(tmp_path, minikit_path):
    from slmforge.cli import app

    kit = kit_with(tmp_path, minikit_path, [{"task": "paid_ad_cta", "item_id": "g1", "text": "x", "score": 0}])
    (tmp_path / "models.yaml").write_text("judge: {backend: openai, model: m, base_url: 'http://127.0.0.1:9/v1'}\n")
    res = CliRunner().invoke(app, ["judge", "calibrate", "--kit", str(kit), "--models", str(tmp_path / "models.yaml"),
                                   "--out", str(tmp_path / "o"), "--ledger", str(tmp_path / "l.sqlite")])
    assert res.exit_code == 2 and "ratings.jsonl:1: score:" in res.output
    res = CliRunner().invoke(app, ["judge", "calibrate", "--kit", str(kit), "--models", str(tmp_path / "models.yaml"),
                                   "--role", "grader", "--out", str(tmp_path / "o"), "--ledger", str(tmp_path / "l.sqlite")])
    assert res.exit_code == 2 and "--role" in res.output


def test_missing_ratings_file(tmp_path, minikit_path):
    kit = tmp_path / "kit"
    shutil.copytree(minikit_path, kit, ignore=shutil.ignore_patterns("ratings.jsonl"))
    with pytest.raises(DataError, match="ratings file not found"):
        load_ratings(load_kit(kit))
