"""Full eval: base / SFT (tiny local model) / DPO (hosted endpoint) / golden / prompting baseline,
scripted judge on loopback, the report opened in headless Chromium."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from slmforge.evaluate import CandidateSpec, EvalConfig, JudgeConfig, Sampling, evaluate, read_scores_csv
from slmforge.kit import load_kit
from slmforge.llm.client import LLMClient
from slmforge.llm.config import ModelConfig
from slmforge.testing.server import ScriptedServer

CAND = re.compile(r'<candidate id="([^"]+)">(.*?)</candidate>', re.S)


def judge_script(req):
    """Steps → a list; pointwise → score grows with length; pairwise → prefers the longer text."""
    user = req["messages"][-1]["content"]
    if "evaluation steps a careful grader" in user:
        return json.dumps({"steps": ["Read the instruction.", "Check every claim against the record.", "Score."]})
    slots = {k: json.loads(v) for k, v in CAND.findall(user)}
    if "A" in slots:
        return json.dumps({"reason": "more detail", "winner": "A" if len(slots["A"]) >= len(slots["B"]) else "B"})
    (text,) = slots.values()
    return json.dumps({"reason": "scripted", "score": min(5, 1 + len(text) // 40)})


def hosted_script(req):
    return "Jasmine Pearl: a calm, balanced green tea. Brew at 80°C and order your first tin today."


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from slmforge.train.tiny import build_tiny_model

    kit = Path(__file__).resolve().parents[1] / "fixtures" / "minikit"
    return build_tiny_model(tmp_path_factory.mktemp("tiny"), [kit / "products.csv", kit / "golden.jsonl"],
                            vocab_size=600, hidden_size=32, num_layers=2)


def _config():
    return EvalConfig(
        candidates=[CandidateSpec(name="base"), CandidateSpec(name="sft"), CandidateSpec(name="dpo"),
                    CandidateSpec(name="golden", kind="golden"),
                    CandidateSpec(name="prompting", kind="prompting", role="base", few_shot=1, plan_then_write=True)],
        sampling=Sampling(temperature=0.7, max_tokens=24, seed=1),
        judge=JudgeConfig(pairs=[("sft", "base"), ("sft", "golden"), ("dpo", "golden")], teacher_model="judge-model"),
        n_boot=100, worst_n=5,
    )


def test_full_eval_produces_report_that_renders(tiny, minikit_path, tmp_path, artifacts_dir):
    lk = load_kit(minikit_path)
    with ScriptedServer(judge_script) as judge_srv, ScriptedServer(hosted_script) as hosted:
        local = ModelConfig(backend="local", model=str(tiny), device="cpu")
        models = {"base": local, "sft": local.model_copy(update={"temperature": 0.9}),
                  "dpo": ModelConfig(backend="openai", model="hosted-dpo", base_url=hosted.base_url, max_retries=0),
                  "judge": ModelConfig(backend="openai", model="judge-model", base_url=judge_srv.base_url, max_retries=0)}
        client = LLMClient(models, ledger=tmp_path / "ledger.sqlite")
        out = evaluate(lk, _config(), client, tmp_path / "report")
        calls = judge_srv.stats.requests
        evaluate(lk, _config(), client, tmp_path / "report")  # rerun: everything from the ledger
        assert judge_srv.stats.requests == calls and hosted.stats.requests == 4
    for name in ("report.html", "report.md", "scores.csv", "scores_by_task.csv", "win_rates.csv", "pairwise.csv",
                 "check_pass_rates.csv", "lengths.csv", "generations.jsonl", "judge_steps.json", "manifest.json"):
        assert (out / name).is_file(), name
    rows = read_scores_csv(out / "scores.csv")
    assert {r["candidate"] for r in rows} == {"base", "sft", "dpo", "golden", "prompting"}
    assert len(rows) == 5 * 4  # 4 golden items as held-out
    golden = [r for r in rows if r["candidate"] == "golden"]
    assert all("rougeL" not in r for r in golden) and all("judge.overall" in r for r in golden)
    dpo = [r for r in rows if r["candidate"] == "dpo"]
    assert all(0 < r["rougeL"] < 1 and 0 < r["chrF"] < 100 for r in dpo)
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "same model family" in md  # judge and teacher are the same model: the report warns
    assert "raw integer" in md  # the scripted judge returns no logprobs: the report says so
    steps = json.loads((out / "judge_steps.json").read_text())
    assert {v["source"] for v in steps.values()} == {"judge"}
    shutil.copytree(out, artifacts_dir / "eval-report", dirs_exist_ok=True)
    _render_in_browser(out / "report.html", artifacts_dir / "eval-report.png")


def _render_in_browser(html: Path, screenshot: Path) -> None:
    if not (Path("/usr/bin/chromium").exists() and Path("/usr/bin/chromedriver").exists()):
        pytest.skip("headless Chromium not installed (/usr/bin/chromium, /usr/bin/chromedriver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,2400"):
        opts.add_argument(a)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    try:
        driver.get(html.as_uri())
        for table_id in ("scores-by-task", "win-rates", "check-pass-rates", "lengths", "worst-items"):
            rows = driver.find_elements(By.CSS_SELECTOR, f"table#{table_id} tbody tr")
            assert rows, table_id
        imgs = driver.find_elements(By.TAG_NAME, "img")
        assert len(imgs) >= 5
        for img in imgs:
            assert driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth", img) > 100
        driver.save_screenshot(str(screenshot))
    finally:
        driver.quit()
    assert screenshot.stat().st_size > 10_000


def test_report_from_scores_cli(tmp_path):
    from slmforge.cli import app

    csv_path = tmp_path / "past.csv"
    csv_path.write_text("item_id,task,candidate,fluency,accuracy,text\n"
                        "1,ad,old,3,4,short\n1,ad,new,4,5,a longer text\n"
                        "2,ad,old,2,3,tiny\n2,ad,new,5,4,the longest text of all\n", encoding="utf-8")
    res = CliRunner().invoke(app, ["report", "--from-scores", str(csv_path), "--out", str(tmp_path / "r"), "--n-boot", "100"])
    assert res.exit_code == 0, res.output
    table = (tmp_path / "r" / "scores_by_task.csv").read_text().splitlines()
    assert table[0].startswith("task,candidate,n,judge.accuracy,judge.fluency,judge.overall")
    assert "ad,new,2,4.5" in "\n".join(table)
    best = (tmp_path / "r" / "best_counts.csv").read_text()
    assert "ad,new,2.0,2" in best


def test_eval_cli_reports_bad_config_as_one_line(tmp_path, minikit_path):
    from slmforge.cli import app

    (tmp_path / "eval.yaml").write_text("candidates:\n  - {name: base, kind: fancy}\n")
    (tmp_path / "models.yaml").write_text("base: {backend: local, model: x}\n")
    res = CliRunner().invoke(app, ["eval", "--kit", str(minikit_path), "--config", str(tmp_path / "eval.yaml"),
                                   "--models", str(tmp_path / "models.yaml"), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2
    assert "eval.yaml" in res.output and "candidates[0].kind" in res.output
