"""synth → clean → prefs against the ScriptedServer, driven by the official openai client (nothing mocked)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from slmforge.data.io import read_jsonl, read_records
from slmforge.data.records import PreferencePair, SFTExample
from slmforge.kit import load_kit, render_student_prompt
from slmforge.llm.ledger import Ledger
from slmforge.synth import CleanConfig, PrefsConfig, SynthConfig, build_prefs, clean, synthesize
from slmforge.synth.rules import evaluate, structure_labels
from tests.synth.conftest import PRICE, make_client

DEFECTS = {1: "label", 2: "no_cta", 3: "avoid", 4: "markup"}


def defects(task_id: str, i: int) -> str | None:
    """Injected defects: by subject index; CTA drops only matter for tasks that require a CTA."""
    return DEFECTS.get(i % 6)


def unfixable(i: int) -> bool:
    return i == 3  # the teacher's rewrite of subject 3 keeps the avoid-term → dropped


def _report(d: Path) -> dict:
    return json.loads((d / "report.json").read_text(encoding="utf-8"))


def _ledger_totals(ledger: Path, stage_prefix: str) -> dict:
    rows = [r for r in Ledger(ledger).rows() if r["stage"].startswith(stage_prefix) and not r["from_cache"]]
    return {"cost": sum(r["cost_usd"] for r in rows), "prompt": sum(r["prompt_tokens"] for r in rows),
            "completion": sum(r["completion_tokens"] for r in rows), "cached": sum(r["cached_tokens"] for r in rows)}


def run_all(lk, srv_url: str, out: Path, synth_cfg: SynthConfig):
    client = make_client(srv_url, out / "ledger.sqlite", run_id="t")
    sft = synthesize(lk, synth_cfg, client, out / "synth")
    cleaned = clean(lk, CleanConfig(), client, sft, out / "clean")
    pairs = build_prefs(lk, PrefsConfig(seed=1), client, cleaned, out / "prefs")
    return sft, cleaned, pairs


def test_example_kit_pipeline_exact_reports(example_kit_path, scripted, tmp_path):
    lk = load_kit(example_kit_path)
    srv = scripted(lk, defects=defects, unfixable=unfixable)
    cfg = SynthConfig(limit_subjects=8, k_examples=2)
    sft, cleaned, pairs_path = run_all(lk, srv.base_url, tmp_path, cfg)
    ledger = tmp_path / "ledger.sqlite"

    # --- synth: every request answered, records valid, provenance and student prompt in place
    rep = _report(tmp_path / "synth")
    n = 8 * len(lk.kit.tasks)
    assert (rep["requested"], rep["received"], rep["parse_failures"]) == (n, n, 0)
    recs = read_records(sft, SFTExample)
    assert len(recs) == n and len({r.id for r in recs}) == n
    sids = list(lk.subjects)[:8]
    for r in recs:
        task = lk.kit.task(r.task)
        assert r.messages[0].content == render_student_prompt(lk.kit, task, lk.subjects[r.subject_id])
        assert r.provenance.request_id and r.provenance.template_hash and r.provenance.model == "teach"
        assert len(r.provenance.golden_ids) == min(2, len(lk.golden_for(r.task)))
    tot = _ledger_totals(ledger, "synth")
    use = rep["usage"]["generate"]
    assert use["cost_usd"] == pytest.approx(tot["cost"], abs=1e-9) and use["prompt_tokens"] == tot["prompt"]
    expected = ((use["prompt_tokens"] - use["cached_tokens"]) * PRICE["input"] + use["cached_tokens"]
                * PRICE["cached_input"] + use["completion_tokens"] * PRICE["output"]) / 1e6
    assert rep["cost_usd"] == pytest.approx(expected, abs=1e-9)

    # --- clean: every removed record is in removed.jsonl; flagged counts are the injected defects
    crep = _report(tmp_path / "clean")
    removed = [o for _, o in read_jsonl(tmp_path / "clean" / "removed.jsonl")]
    kept = read_records(cleaned, SFTExample)
    assert crep["input"] == n == len(kept) + len(removed) and crep["output"] == len(kept)
    for step in crep["steps"]:
        assert step["removed"] == sum(1 for x in removed if x["step"] == step["step"])
        assert step["kept"] == step["in"] - step["removed"]
    inj = Counter()
    for r in recs:
        kind = defects(r.task, sids.index(r.subject_id))
        cta = lk.kit.task(r.task).constraints.cta_required
        if kind == "label":
            inj["structure_labels"] += 1
        elif kind == "avoid":
            inj["avoid_terms"] += 1
        elif kind == "markup":
            inj["stray_markup"] += 1
        elif kind == "no_cta" and cta:
            inj["cta_missing"] += 1
    for rule in ("structure_labels", "avoid_terms", "stray_markup", "cta_missing"):
        assert crep["rules"][rule]["in"] == inj[rule], rule
    # subject 3's avoid-term cannot be fixed: exactly its records go, with the reason
    unfix = [x for x in removed if x["step"] == "rewrite1"]
    assert {x["id"].split(":")[1] for x in unfix} == {sids[3]} and all(x["rule"] == "avoid_terms" for x in unfix)
    assert crep["rules"]["avoid_terms"]["removed"] == len(unfix) == inj["avoid_terms"] - sum(
        1 for x in removed if x["step"] == "dedup" and sids.index(x["id"].split(":")[1]) == 3)
    assert crep["rules"]["structure_labels"]["rewritten"] >= 1
    for r in kept:  # what is kept passes every rule, and rewrites are recorded
        assert not structure_labels(r.completion)
        out = evaluate([r.completion], lk, lk.kit.task(r.task), lk.subjects[r.subject_id], r.messages[0].content,
                       CleanConfig().rules)[0]
        assert out.failed == {}, (r.id, out.failed)
    assert sum(len(r.provenance.clean["rewrites"]) for r in kept) == sum(
        s.get("rewritten", 0) for s in crep["steps"]) - sum(1 for x in removed if x["step"] == "rewrite2")

    # --- prefs: exact mix, verified rejected sides
    prep = _report(tmp_path / "prefs")
    pairs = read_records(pairs_path, PreferencePair)
    assert len(pairs) == prep["pairs"] == len(kept) and prep["failed"] == 0
    realised = Counter(p.strategy for p in pairs)
    for s, share in {"weak": 0.5, "exaggerated": 0.3, "fake": 0.2}.items():
        assert abs(realised[s] - share * len(kept)) <= 1, (s, realised)
    by_id = {r.id: r for r in kept}
    for p in pairs:
        assert p.chosen == by_id[p.id].completion and p.prompt == by_id[p.id].prompt
        if p.strategy == "exaggerated":
            assert {f["check"] for f in p.findings} & {"lexicon", "style"}
        if p.strategy == "fake":
            edits = [f for f in p.findings if f["code"].startswith("fact_edit")]
            assert 1 <= len(edits) <= 2
    tot = _ledger_totals(ledger, "prefs")
    assert prep["cost_usd"] == pytest.approx(tot["cost"], abs=1e-9)

    # --- a rerun on the same ledger pays nothing and writes the same records
    before = [sft.read_bytes(), cleaned.read_bytes(), pairs_path.read_bytes()]
    run_all(lk, srv.base_url, tmp_path, cfg)
    assert [sft.read_bytes(), cleaned.read_bytes(), pairs_path.read_bytes()] == before
    for stage in ("synth", "clean", "prefs"):
        again = _report(tmp_path / stage)
        assert again["spent_usd"] == 0.0
    assert _report(tmp_path / "synth")["cost_usd"] == pytest.approx(rep["cost_usd"])


def _strip(path: Path, keys: tuple[str, ...]) -> list[dict]:
    return [{k: o[k] for k in keys if k in o} for _, o in read_jsonl(path)]


def test_faults_give_the_same_records(minikit_path, scripted, tmp_path):
    lk = load_kit(minikit_path)
    clean_srv = scripted(lk, defects=defects)
    faulty = scripted(lk, defects=defects, fault_rate=0.2, seed=5, hang_s=3.0)
    cfg = SynthConfig(variants=2)
    a = run_all(lk, clean_srv.base_url, tmp_path / "a", cfg)
    b = run_all(lk, faulty.base_url, tmp_path / "b", cfg)
    assert sum(faulty.stats.faults.values()) >= 3, faulty.stats.faults
    keys = ("id", "task", "subject_id", "messages", "prompt", "chosen", "rejected", "strategy")
    for pa, pb in zip(a, b, strict=True):
        assert _strip(pa, keys) == _strip(pb, keys)
    # two identical variants per subject × task: dedup removes exactly one of each pair
    assert _report(tmp_path / "a" / "clean")["near_duplicates"] == len(lk.subjects) * len(lk.kit.tasks)


def test_value_mode(minikit_path, scripted, tmp_path):
    kit_dir = tmp_path / "kit"
    kit_dir.mkdir()
    for f in minikit_path.iterdir():
        (kit_dir / f.name).write_bytes(f.read_bytes())
    yml = (kit_dir / "kit.yaml").read_text(encoding="utf-8")
    yml = yml.replace("Reply as JSON {\\\"text\\\": \\\"...\\\"}.", "Focus: {{ value }}. Reply as JSON.")
    (kit_dir / "kit.yaml").write_text(yml, encoding="utf-8")
    lk = load_kit(kit_dir)
    srv = scripted(lk)
    client = make_client(srv.base_url, tmp_path / "ledger.sqlite")
    cfg = SynthConfig(value_mode=True, values_per_product=2, tasks=["product_note"], limit_subjects=3)
    sft = synthesize(lk, cfg, client, tmp_path / "synth")
    values = {o["subject_id"]: o["values"] for _, o in read_jsonl(tmp_path / "synth" / "values.jsonl")}
    for sid, vals in values.items():
        notes = lk.subjects[sid]["notes"]
        assert vals == notes[:2]  # the teacher's near-duplicate "note!" was dropped
    recs = read_records(sft, SFTExample)
    assert len(recs) == sum(len(v) for v in values.values())
    assert {(r.subject_id, r.provenance.value) for r in recs} == {(s, v) for s, vs in values.items() for v in vs}
    assert _report(tmp_path / "synth")["usage"]["values"]["calls"] == 3


def test_dry_run_calls_nothing(minikit_path, scripted, tmp_path):
    lk = load_kit(minikit_path)
    srv = scripted(lk)
    client = make_client(srv.base_url, tmp_path / "ledger.sqlite", dry_run=True)
    path = synthesize(lk, SynthConfig(), client, tmp_path / "synth")
    rep = json.loads(path.read_text(encoding="utf-8"))
    assert rep["dry_run"] and rep["calls"] == rep["requested"] == 12 and rep["estimated_cost_usd"] > 0
    assert srv.stats.requests == 0 and not (tmp_path / "synth" / "sft.jsonl").exists()


def test_adgenius_catalog_end_to_end(shared_data, scripted, tmp_path):
    kit = Path(__file__).resolve().parents[2] / "examples" / "adgenius-replay"
    lk = load_kit(kit)
    assert len(lk.subjects) >= 60  # seed 003's 68 products, `|`-separated lists parsed
    first = next(iter(lk.subjects.values()))
    assert isinstance(first["core_ingredients"], list) and len(first["core_ingredients"]) >= 2
    srv = scripted(lk)
    cfg = SynthConfig(limit_subjects=4, tasks=["social_media_review", "paid_ad_cta", "paid_ad_fab"], k_examples=0)
    sft, cleaned, pairs = run_all(lk, srv.base_url, tmp_path, cfg)
    assert _report(tmp_path / "synth")["received"] == 12
    assert len(read_records(cleaned, SFTExample)) + len(list(read_jsonl(tmp_path / "clean" / "removed.jsonl"))) == 12
    assert len(read_records(pairs, PreferencePair)) == len(read_records(cleaned, SFTExample))


@pytest.mark.slow
def test_example_kit_full_catalog(example_kit_path, scripted, tmp_path):
    lk = load_kit(example_kit_path)
    srv = scripted(lk)
    sft, cleaned, pairs = run_all(lk, srv.base_url, tmp_path, SynthConfig())
    n = len(lk.subjects) * len(lk.kit.tasks)
    assert n >= 40 * 9 and _report(tmp_path / "synth")["received"] == n
    kept = read_records(cleaned, SFTExample)
    realised = Counter(p.strategy for p in read_records(pairs, PreferencePair))
    for s, share in {"weak": 0.5, "exaggerated": 0.3, "fake": 0.2}.items():
        assert abs(realised[s] - share * len(kept)) <= 1
