"""Facts and style on English copy (reported by the kit writer): sentences are clauses, audiences are whole
phrases matched on word boundaries, a restated amount must match the record, ``#1`` is not a hashtag."""

from __future__ import annotations

import pytest

from slmforge.checks.facts import check_facts
from slmforge.checks.style import check_style
from slmforge.checks.vocab import build_vocabulary, subject_facts

from slmforge.kit import load_kit

from tests.checks.helpers import make_kit
from tests.conftest import ROOT

GLOSSARY = {"ingredients": ["niacinamide", "zinc PCA", "vitamin C", "ceramide NP", "cholesterol", "squalane"],
            "audiences": ["all skin types", "oily skin", "dry skin", "sensitive skin", "combination skin"]}
SERUM = {"product_name": "Clear Niacinamide Serum", "category": "serum",
         "core_ingredients": ["5% niacinamide", "1% zinc PCA"], "features": ["balances oil", "evens skin tone"],
         "target_audience": ["oily skin", "combination skin"]}
CREAM = {"product_name": "Ceramide Barrier Cream", "category": "moisturizer",
         "core_ingredients": ["3% ceramide NP", "cholesterol"], "features": ["replenishes barrier lipids"],
         "target_audience": ["dry skin", "sensitive skin"]}


def kit():
    return make_kit("en", glossary=GLOSSARY)


def codes(res):
    return [f.code for f in res.findings]


def test_english_sentences_are_clauses():
    text = ("Ceramide Barrier Cream replenishes barrier lipids with 3% ceramide NP in a simple formula. "
            "Layer it after vitamin C in the morning.")
    res = check_facts(text, subject=CREAM, kit=kit())
    assert res.passed and codes(res) == ["unsupported_entity"]
    # the noun right after a foreign ingredient names another product of that kind, not this serum
    res = check_facts("Clear Niacinamide Serum balances oil. Layer it after a vitamin C serum.", subject=SERUM, kit=kit())
    assert res.passed and codes(res) == []
    # within one sentence, a foreign ingredient next to the product name is still named as its own
    assert codes(check_facts("Clear Niacinamide Serum pairs niacinamide and vitamin C.", subject=SERUM,
                             kit=kit())) == ["foreign_entity"]
    # a decimal point does not end a sentence
    assert not check_facts("Clear Niacinamide Serum with 1.5% zinc PCA.", subject=SERUM, kit=kit()).passed


def test_audience_phrases_match_on_word_boundaries():
    facts = subject_facts(CREAM, kit())
    assert facts.terms["audiences"] == {"dry skin", "sensitive skin"}  # not "dry", "skin", "sensitive"
    vocab = build_vocabulary(kit(), [SERUM, CREAM])
    assert {"dry", "skin", "all"}.isdisjoint(vocab.frozen["audiences"])
    calm = "Clear Niacinamide Serum usually suits small routines and absorbs without leaving skin dry."
    assert codes(check_facts(calm, subject=SERUM, kit=kit(), vocab=vocab)) == []
    wrong = check_facts("Clear Niacinamide Serum is made for dry skin.", subject=SERUM, kit=kit(), vocab=vocab)
    assert codes(wrong) == ["contradicted_audience"] and not wrong.passed
    right = check_facts("Clear Niacinamide Serum is made for oily skin.", subject=SERUM, kit=kit(), vocab=vocab)
    assert right.passed and codes(right) == []


def test_a_restated_amount_must_match_the_record():
    for text in ("Clear Niacinamide Serum has niacinamide at 10% for shine.",
                 "Clear Niacinamide Serum: 10 percent niacinamide for shine.",
                 "Clear Niacinamide Serum holds niacinamide at a concentration of 10%."):
        res = check_facts(text, subject=SERUM, kit=kit())
        assert codes(res) == ["contradicted_number"] and not res.passed, text
        f = res.findings[0]
        assert text[f.start:f.end].lower() == "niacinamide" and "5%" in f.message
    for text in ("Clear Niacinamide Serum has niacinamide at 5% for shine.",
                 "Clear Niacinamide Serum: 5 percent niacinamide for shine."):
        assert check_facts(text, subject=SERUM, kit=kit()).passed, text


def test_hype_number_one_is_not_a_hashtag():
    k = kit()
    assert codes(check_style("Start your #10minuteroutine with Clear Niacinamide Serum.", k)) == []
    assert codes(check_style("The #1 serum for shine.", k)) == ["hype"]


# issue 18 item 4 on the English kit: mentions that are not claims about the product

EN_KIT = ROOT / "examples" / "elemental-equation-en"


@pytest.fixture(scope="module")
def en():
    lk = load_kit(EN_KIT)
    return lk, build_vocabulary(lk.kit, lk.subjects.values())


def _en_codes(en, product, text):
    lk, vocab = en
    return codes(check_facts(text, subject=lk.subjects[product], kit=lk.kit, vocab=vocab))


@pytest.mark.parametrize("text", [
    "Mineral Shield SPF 50 relies on mineral filters only, with no retinol and no ferulic acid.",
    "Mineral Shield SPF 50 is gentler on reactive skin than retinol.",
    "Clear Niacinamide Serum with 5% niacinamide, unlike harsh retinol.",
])
def test_en_avoided_or_compared_ingredient(en, text):
    assert "foreign_entity" not in _en_codes(en, "Mineral Shield SPF 50" if "Mineral" in text else "Clear Niacinamide Serum", text)


def test_en_skin_substance_and_catalog_pairing(en):
    assert "foreign_entity" not in _en_codes(
        en, "Clear Niacinamide Serum", "Clear Niacinamide Serum with 5% niacinamide supports your skin's own ceramide barrier.")
    assert "foreign_entity" not in _en_codes(
        en, "Clear Niacinamide Serum", "Clear Niacinamide Serum balances oil; in the morning, pair it with our Vitamin C Bright Serum "
        "for ascorbic acid.")
    assert "foreign_entity" in _en_codes(en, "Clear Niacinamide Serum", "Clear Niacinamide Serum contains ascorbic acid.")


def test_en_audience_in_a_caveat(en):
    assert "contradicted_audience" not in _en_codes(
        en, "Clear Niacinamide Serum", "If you have dry skin, patch test Clear Niacinamide Serum first.")
    assert "contradicted_audience" in _en_codes(en, "Clear Niacinamide Serum", "Clear Niacinamide Serum is made for dry skin.")
