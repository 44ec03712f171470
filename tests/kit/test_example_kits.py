"""The shipped kits. Every kit.yaml under examples/ gets the same kit-generic assertions: it loads and renders
every template for every subject, its golden examples number at least 5 per task, pass the kit's own checks,
keep its constraints and lexicon, and state only facts of their record. The 原素方程 kit (elemental-equation)
additionally has its brand-specific catalog, tasks, glossary and golden examples in shape."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from slmforge.checks.constraints import find_cta
from slmforge.kit import load_kit, render_student_prompt, render_teacher_prompt, system_prompt
from slmforge.kit.quality import MIN_GOLDEN_PER_TASK, coverage_problems, golden_problems

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "adgenius"
SEED_TASKS = [
    "social_media_review", "social_media_educational", "social_media_myth_busting", "social_media_storytelling",
    "ecommerce_long_form", "paid_ad_cta", "paid_ad_pas", "paid_ad_bab", "paid_ad_fab",
]
CONC = re.compile(r"(\d+(?:\.\d+)?)\s*%")


def _kit_files() -> list[Path]:
    return sorted(EXAMPLES.glob("*/kit.yaml"))


KITS = pytest.mark.parametrize("kit_file", _kit_files(), ids=lambda p: p.parent.name)


def _load(kit_file: Path):
    if "../shared/" in kit_file.read_text(encoding="utf-8") and not SHARED.is_dir():
        pytest.skip(f"kit {kit_file.parent.name} reads the shared seed data, not found at {SHARED}")
    return load_kit(kit_file.parent)


def _with_golden(kit_file: Path):
    lk = _load(kit_file)
    if lk.kit.golden is None:  # adgenius-replay: a replay of imported data ships no golden file by design
        pytest.skip(f"kit {kit_file.parent.name} ships no golden file")
    return lk


def test_examples_ship_the_kits():
    names = {p.parent.name for p in _kit_files()}
    assert {"elemental-equation", "elemental-equation-en", "ja-ad-rules", "ko-pv-copy", "adgenius-replay"} <= names


# ---- kit-generic: every shipped kit ------------------------------------------------------------------
@KITS
def test_every_template_renders_for_every_subject(kit_file):
    lk = _load(kit_file)
    assert system_prompt(lk.kit).startswith("You write for ")
    for task in lk.kit.tasks:
        examples = [g.text for g in lk.golden_for(task.id)[:3]]
        for subject in lk.subjects.values():
            student = render_student_prompt(lk.kit, task, subject)
            assert student and "{{" not in student and "{%" not in student
            assert render_student_prompt(lk.kit, task, subject, value="温和").startswith(student.split("\n")[0][:8])
            teacher = render_teacher_prompt(lk.kit, task, subject, examples)
            assert subject[lk.kit.catalog.id_field] in teacher
            assert '{"text"' in teacher, "teacher must ask for JSON {\"text\": ...}"
            for line in teacher.splitlines():
                assert not re.search(r"\['|'\]", line), f"a list rendered as a Python list: {line}"
            for e in examples:
                assert e in teacher


@KITS
def test_rubrics_anchor_low_middle_high(kit_file):
    lk = _load(kit_file)
    for t in lk.kit.tasks:
        assert 1 <= len(t.rubric.criteria) <= 5, t.id
        assert all({1, 3, 5} <= set(c.anchors) for c in t.rubric.criteria), t.id


@KITS
def test_golden_counts(kit_file):
    lk = _with_golden(kit_file)
    assert coverage_problems(lk) == [], [str(p) for p in coverage_problems(lk)]
    assert all(len(lk.golden_for(t.id)) >= MIN_GOLDEN_PER_TASK for t in lk.kit.tasks)
    assert len({g.text for g in lk.golden}) == len(lk.golden), "a golden text is repeated"


@KITS
def test_golden_passes_the_kits_own_checks(kit_file):
    lk = _with_golden(kit_file)
    assert golden_problems(lk) == [], [str(p) for p in golden_problems(lk)]


@KITS
def test_golden_meets_constraints_and_lexicon(kit_file):
    lk = _with_golden(kit_file)
    kit = lk.kit
    for task in kit.tasks:
        c = task.constraints
        for g in lk.golden_for(task.id):
            where, text = f"golden {g.id}", g.text
            n = len(text)
            assert c.min_chars is None or n >= c.min_chars, f"{where}: {n} chars < {c.min_chars}"
            assert c.max_chars is None or n <= c.max_chars, f"{where}: {n} chars > {c.max_chars}"
            tags = re.findall(r"#[^\s#]+", text)
            assert c.hashtags_min is None or len(tags) >= c.hashtags_min, where
            assert c.hashtags_max is None or len(tags) <= c.hashtags_max, where
            if c.cta_required:
                assert find_cta(text, kit), f"{where}: no CTA cue"
            if not c.newlines_allowed:
                assert "\n" not in text, where
            if c.forbid_markdown_headings:
                assert not re.search(r"(?m)^#{1,6} ", text), where
            assert not [w for w in kit.lexicon.avoid if w.lower() in text.lower()], where
            assert not [p for p in kit.checks.hype_patterns if re.search(p, text)], where
            bangs = text.count("！") + text.count("!")
            assert bangs <= max(1, kit.checks.max_exclamation_density * n), f"{where}: {bangs} exclamation marks"


@KITS
def test_golden_is_grounded_in_its_record(kit_file):
    """Every concentration a golden text states is one its record states (the facts check's rule, applied to
    the kit's own data)."""
    lk = _with_golden(kit_file)
    for g in lk.golden:
        s = lk.subjects[g.subject_id]
        record = " ".join(" ".join(v) if isinstance(v, list) else str(v) for v in s.values() if v is not None)
        stated = set(CONC.findall(record))
        for pct in CONC.findall(g.text):
            assert pct in stated, f"golden {g.id}: {pct}% not in the record of {g.subject_id}"


# ---- brand-specific: the 原素方程 kit ------------------------------------------------------------------
@pytest.fixture(scope="module")
def ee():
    return load_kit(EXAMPLES / "elemental-equation")


def test_elemental_kit_shape(ee):
    assert ee.kit.language == "zh" and ee.kit.brand == "原素方程"
    assert [t.id for t in ee.kit.tasks] == SEED_TASKS
    assert len(ee.subjects) >= 40
    assert len({s["category"] for s in ee.subjects.values()}) >= 8
    assert set(ee.kit.lexicon.prefer) >= {"屏障", "修护", "科学", "精简", "配方", "浓度", "源头", "温和"}
    assert set(ee.kit.lexicon.avoid) >= {"神器", "逆天", "奇迹", "秒杀", "绝绝子", "yyds", "家人们"}
    for t in ee.kit.tasks:
        assert 3 <= len(t.rubric.criteria) <= 5
        if t.family == "paid_ad":
            assert t.constraints.cta_required and 100 <= t.constraints.max_chars <= 120
        else:
            assert t.constraints.min_chars and t.constraints.max_chars


def test_elemental_catalog_is_our_own(ee):
    """No product name of the seed catalog is reused (the kit is written by us)."""
    seed = SHARED / "products.csv"
    if not seed.is_file():
        pytest.skip("shared seed data absent")
    seed_names = {line.split(",")[0] for line in seed.read_text(encoding="utf-8").splitlines()[1:]}
    assert not seed_names & set(ee.subjects)


def test_elemental_glossary_covers_catalog_ingredients(ee):
    gloss = set(ee.kit.glossary.ingredients)
    assert len(gloss) >= 40
    missing = set()
    for s in ee.subjects.values():
        for item in s["core_ingredients"]:
            name = re.sub(r"^\d+(?:\.\d+)?%", "", item)
            if name not in gloss:
                missing.add(name)
    assert not missing, f"add to glossary.ingredients: {sorted(missing)}"
    assert ee.kit.glossary.audiences and ee.kit.glossary.effects


def test_elemental_golden_counts(ee):
    for t in SEED_TASKS:
        assert len(ee.golden_for(t)) >= 5, t


@pytest.mark.parametrize("task_id", SEED_TASKS)
def test_elemental_golden_house_style(ee, task_id):
    """原素方程's own house rules, beyond its constraints: at most one exclamation mark, a prefer-term in
    every text but the ads."""
    task = ee.kit.task(task_id)
    for g in ee.golden_for(task_id):
        assert g.text.count("！") + g.text.count("!") <= 1, g.id
        assert any(w in g.text for w in ee.kit.lexicon.prefer) or task.family == "paid_ad", g.id


def test_elemental_golden_names_only_its_record(ee):
    """Every glossary ingredient a golden text names is in its record, and ads name the product."""
    gloss = ee.kit.glossary.ingredients
    for g in ee.golden:
        s = ee.subjects[g.subject_id]
        record = " ".join([s["product_name"], *s["core_ingredients"], *s["features"]])
        named = [i for i in gloss if i in g.text and i not in record]
        assert not named, f"golden {g.id}: names {named}, not in the record of {g.subject_id}"
        assert s["product_name"] in g.text or g.task.startswith("social_media"), g.id
