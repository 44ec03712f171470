"""The ``rm+checks`` scorer (issue 18 item 5): checks overrule a reward model that prefers a text that
fails one, the same seed gives the same scores, and the eval column / GRPO reward / check hook agree."""

from __future__ import annotations

import pytest

from slmforge.checks import run_checks
from slmforge.data.io import write_jsonl
from slmforge.evaluate.scorers import (
    NAME,
    add_rm_checks_column,
    combine,
    product_halves,
    rm_checks_reward,
    score_reports,
)
from slmforge.kit import load_kit
from slmforge.train import load_train_config, train_rm

from tests.conftest import MINIKIT

PROMPT = "Write a short note about Jasmine Pearl tea."
GOOD = "Jasmine Pearl is a calm green tea with jasmine and honey notes."
BAD = "Jasmine Pearl is a miracle tea with jasmine and honey notes."  # "miracle" is an avoid-term


@pytest.fixture(scope="module")
def misled_rm(tmp_path_factory):
    """A tiny reward model trained on inverted pairs: it learns to prefer the avoid-term."""
    from slmforge.train.tiny import build_tiny_model

    tmp = tmp_path_factory.mktemp("rmchecks")
    tiny = build_tiny_model(tmp / "tiny", [MINIKIT / "products.csv", MINIKIT / "golden.jsonl"], vocab_size=600,
                            hidden_size=32, num_layers=2, seed=0)
    rows = [{"prompt": f"Write a short note about tea {i}.", "chosen": f"Tea {i} is a miracle tea, truly a miracle.",
             "rejected": f"Tea {i} is a calm tea with honey notes.", "method": "exaggerated"} for i in range(8)]
    write_jsonl(tmp / "prefs.jsonl", rows)
    cfg = load_train_config(None, {"method": "rm", "output_dir": str(tmp / "rm"), "model.base": [str(tiny)],
                                   "data.train": str(tmp / "prefs.jsonl"), "data.eval_fraction": 0, "lora.enabled": False,
                                   "trl.num_train_epochs": 8, "trl.learning_rate": 3e-3,
                                   "trl.per_device_train_batch_size": 8, "trl.max_length": 256, "trl.seed": 0,
                                   "trl.save_strategy": "no"})
    return train_rm(cfg)


def test_combine_is_lexicographic_in_failed_checks():
    assert combine(-50.0, 0) > combine(50.0, 1) > combine(-50.0, 1)
    assert combine(2.0, 0) > combine(1.0, 0)
    assert combine(3.0, 1, penalty=0.1) > combine(-3.0, 0, penalty=0.1)  # a weighted sum below penalty 1
    with pytest.raises(ValueError):
        combine(0.0, -1)


def test_checks_overrule_a_reward_model_that_prefers_the_failing_text(misled_rm):
    lk = load_kit(MINIKIT)
    task = lk.kit.tasks[0]
    reports = run_checks([GOOD, BAD], task=task, subject=lk.subjects["Jasmine Pearl"], kit=lk.kit, instruction=PROMPT)
    assert not reports[1].results["lexicon"].passed and reports[0].results["lexicon"].passed
    good, bad = score_reports(misled_rm, [PROMPT, PROMPT], reports, seed=0)
    assert bad["rm"] > good["rm"]  # the reward model alone ranks the pair wrongly
    assert good[NAME] > bad[NAME]  # the combined scorer ranks it right
    again = score_reports(misled_rm, [PROMPT, PROMPT], reports, seed=0)
    assert [s[NAME] for s in again] == [good[NAME], bad[NAME]]  # same seed, identical scores

    reward = rm_checks_reward(misled_rm, lk.kit, subjects=lk.subjects, seed=0)
    got = reward(prompts=[PROMPT, PROMPT], completions=[GOOD, BAD], task=[task.id] * 2, subject_id=["Jasmine Pearl"] * 2)
    assert got == [good[NAME], bad[NAME]] and reward.__name__ == "rm_checks_reward"


def test_eval_column_from_rm_and_pass_columns():
    rows = [{"rm": 4.0, "pass.lexicon": 0.0, "pass.style": 1.0, "pass.all": 0.0},
            {"rm": -4.0, "pass.lexicon": 1.0, "pass.style": 1.0, "pass.all": 1.0}, {"text": ""}]
    add_rm_checks_column(rows)
    assert rows[1][NAME] > rows[0][NAME] and rows[0][NAME] == round(combine(4.0, 1), 4) and NAME not in rows[2]


def test_product_halves_are_deterministic_and_disjoint():
    ids = [f"p{i}" for i in range(9)]
    dev, held = product_halves(ids)
    assert (dev, held) == product_halves(list(reversed(ids))) and len(dev) == 4 and not set(dev) & set(held)
    assert sorted(dev + held) == sorted(ids) and product_halves(ids, seed=1) != (dev, held)


def test_check_cli_scores_pairs_with_rm_and_checks(misled_rm, tmp_path):
    """`slmforge check PAIRS --kit KIT --rm DIR`: per-text rm and rm+checks in --out, pairwise accuracy per
    strategy; the misled reward model loses the pair, the combined scorer wins it."""
    import json

    from typer.testing import CliRunner

    from slmforge.cli import app

    lk = load_kit(MINIKIT)
    task = lk.kit.tasks[0]
    pairs = tmp_path / "pairs.jsonl"
    write_jsonl(pairs, [{"prompt": PROMPT, "chosen": GOOD, "rejected": BAD, "method": "exaggerated",
                         "task": task.id, "subject_id": "Jasmine Pearl"}])
    out = tmp_path / "out.jsonl"
    res = CliRunner().invoke(app, ["check", str(pairs), "--kit", str(MINIKIT), "--rm", str(misled_rm),
                                   "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "pairwise accuracy" in res.output and "exaggerated" in res.output
    row = json.loads(out.read_text(encoding="utf-8").splitlines()[0])
    assert row["chosen"]["rm"] < row["rejected"]["rm"] and row["chosen"][NAME] > row["rejected"][NAME]
    tail = res.output[res.output.index("pairwise accuracy"):]
    line = next(ln for ln in tail.splitlines() if " all " in ln)
    assert "0.000" in line and "1.000" in line  # rm alone 0/1, rm+checks 1/1
    bad = CliRunner().invoke(app, ["check", str(pairs), "--rm", str(misled_rm)])
    assert bad.exit_code == 2 and "--kit" in bad.output
