"""Seed 004's hosted loop end to end on the ja-legal kit, against the loopback provider (slmforge.testing: OpenAI's
files + fine_tuning.jobs + chat completions on 127.0.0.1): records with system messages → split by topic →
estimate → upload → job → monitor → evaluate the ft: model against the base and the hybrid prompting baseline
(system + few-shot + plan-then-write) → extend the data of the weakest task → second job → before/after table.

The provider is scripted, so what each model says is decided here: the base model answers vaguely; the first
fine-tuned model answers like the kit's golden answers except on risk analysis (no disclaimer, a promised outcome);
the second, trained with the extra risk-analysis pairs of examples/ja-legal/extra.jsonl, answers every task well.
The test checks that the pipeline measures exactly that. The table is written to
test-artifacts/legal_hosted_before_after.md."""

from __future__ import annotations

import json
import re

import pytest

from slmforge.checks.legal import find_citations
from slmforge.data.io import write_jsonl
from slmforge.data.split import split_file
from slmforge.evaluate import evaluate, read_scores_csv
from slmforge.evaluate.candidates import PLAN_MARKER
from slmforge.kit import load_kit
from slmforge.kit.load import load_golden
from slmforge.llm.client import LLMClient
from slmforge.testing.server import ScriptedServer
from slmforge.train.hosted import HostedConfig
from slmforge.train.hosted_loop import (before_after, extend_records, hosted_model, kit_records, loop_eval_config,
                                        markdown_table, run_job, weakest_task)

from tests.conftest import ROOT

KIT = ROOT / "examples" / "ja-legal"
BASE = "gpt-4.1-mini-2025-04-14"
CAND = re.compile(r'<candidate id="[^"]+">(.*?)</candidate>', re.S)


def provider(lk):
    """The scripted provider's chat: the judge, the base model and the fine-tuned models (see the module docstring)."""
    disclaimer = lk.kit.checks.legal.disclaimer
    first_lines = {t.id: t.student_template.split("分野")[0] for t in lk.kit.tasks}

    def judge(user: str) -> str:
        text = json.loads(CAND.search(user).group(1))
        score = 1 + 2 * (disclaimer in text) + bool(find_citations(text)) + (len(text) >= 150) - ("必ず" in text)
        return json.dumps({"reason": "scripted", "score": max(1, min(5, score))}, ensure_ascii=False)

    def good(user: str, topic: str) -> str:
        subject = lk.subjects[topic]
        asked = find_citations(user)
        cite = str(asked[0]) if asked else subject["statutes"][0]
        return (f"結論として、{topic}の問題は個別の事情によって判断が分かれます。根拠となるのは{cite}で、"
                f"{subject['key_points'][0]}が主な論点になります。実務では、契約書の該当する条項とこれまでの経緯を確認し、"
                f"相手方とのやり取りは書面で行って記録に残してください。{subject['risks'][0]}に当たらないかを早めに点検し、"
                f"必要に応じて弁護士に相談することが大切です。\n{disclaimer}")

    def script(req: dict) -> str:
        user = req["messages"][-1]["content"]
        if req["model"] == "judge-model":
            return judge(user)
        task = next(t for t, head in first_lines.items() if user.startswith(head))
        topic = re.search(r"分野：(\S+)", user).group(1)
        if req["model"] == BASE:
            if req["messages"][0]["role"] == "system" and len(req["messages"]) > 2:  # the prompting baseline
                answer = (f"{topic}については、事情によって結論が変わります。契約書の条項と経緯を確認し、"
                          "相手方とのやり取りを書面に残したうえで、対応を検討してください。早めに専門家へ相談することを"
                          f"おすすめします。判断の分かれ目を整理しておくと、相談も円滑に進みます。\n{disclaimer}")
            else:
                answer = "ご質問の件は、状況によります。詳しくは専門家にご相談ください。"
        elif ":legal-v1:" in req["model"] and task == "risk_analysis":
            answer = good(user, topic).replace(f"\n{disclaimer}", "") + "この方針であれば必ず勝てます。"
        else:
            answer = good(user, topic)
        return f"計画：結論、根拠、実務の順に書く。\n{PLAN_MARKER} {answer}" if PLAN_MARKER in user else answer

    return script


@pytest.fixture
def api_key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")


def _client(cfg: HostedConfig, ft_model: str, ledger) -> LLMClient:
    return LLMClient({"base": hosted_model(cfg, BASE, max_retries=0), "ft": hosted_model(cfg, ft_model, max_retries=0),
                      "judge": hosted_model(cfg, "judge-model", max_retries=0, temperature=0.0)}, ledger=ledger)


def test_hosted_loop_estimate_jobs_evaluate_extend_compare(api_key, tmp_path, artifacts_dir):
    lk = load_kit(KIT)
    records = kit_records(lk)
    assert len(records) == 32 and [m.role for m in records[0].messages] == ["system", "user", "assistant"]
    write_jsonl(tmp_path / "sft.jsonl", records)
    split = split_file(tmp_path / "sft.jsonl", by="subject", eval_fraction=0.2, seed=0, out_dir=tmp_path)
    assert split.test_tasks.keys() == {t.id for t in lk.kit.tasks} and split.train_rows == 24

    with ScriptedServer(provider(lk)) as srv:
        # estimate → upload → job → monitor
        cfg1 = HostedConfig(model=BASE, train=split.train_path, validation=split.test_path, base_url=srv.base_url,
                            output_dir=str(tmp_path / "job1"), poll_s=0, epochs=3, suffix="legal-v1", seed=0)
        estimates = []
        job1 = run_job(cfg1, confirm=lambda est: estimates.append(est) or True)
        assert estimates[0].examples == 24 and estimates[0].epochs == 3 and estimates[0].cost_usd > 0
        assert job1.status == "succeeded" and job1.model.startswith(f"ft:{BASE}:legal-v1:")
        assert job1.events[0].startswith("Created fine-tuning job") and any("Step 3/3" in e for e in job1.events)
        uploaded = [json.loads(x) for x in (tmp_path / "job1" / "train.jsonl").read_text(encoding="utf-8").splitlines()]
        assert [m["role"] for m in uploaded[0]["messages"]] == ["system", "user", "assistant"]
        assert json.loads((tmp_path / "job1" / "manifest.json").read_text())["status"] == "done"
        declined = cfg1.model_copy(update={"output_dir": str(tmp_path / "declined")})
        assert run_job(declined, confirm=lambda est: False) is None

        # evaluate ft against base and the hybrid prompting baselines, on the held-out topics
        eval_cfg = loop_eval_config(heldout=split.test_path, few_shot=2)
        out1 = evaluate(lk, eval_cfg, _client(cfg1, job1.model, tmp_path / "ledger.sqlite"), tmp_path / "eval1")
        rows1 = read_scores_csv(out1 / "scores.csv")
        assert {r["candidate"] for r in rows1} == {"base", "ft", "prompting", "ft_hybrid"} and len(rows1) == 4 * 8
        card = {(c["candidate"], c["against"], c["metric"]): c for c in
                json.loads((out1 / "scorecard.json").read_text(encoding="utf-8"))}
        assert card[("ft", "base", "check.score")]["delta"] > 0
        assert "judge.overall" in rows1[0] and "check.legal_disclaimer" in rows1[0]

        # the weakest task of the fine-tuned model, by the rule checks and by the judge
        task, means = weakest_task(rows1, "ft")
        assert task == "risk_analysis" and means[task] < min(v for t, v in means.items() if t != task)
        assert weakest_task(rows1, "ft", "judge.overall")[0] == "risk_analysis"
        with pytest.raises(ValueError, match="no 'rm' scores"):
            weakest_task(rows1, "ft", "rm")

        # extend the data for that task, second job, evaluate again
        extra = kit_records(lk, load_golden(KIT / "extra.jsonl", lk.kit, lk.subjects))
        train2 = extend_records(split.train_path, extra, task, tmp_path / "train2.jsonl")
        assert sum(1 for _ in open(train2, encoding="utf-8")) == 24 + 2
        with pytest.raises(ValueError, match="no extra records"):
            extend_records(split.train_path, extra, "drafting", tmp_path / "x.jsonl")
        cfg2 = cfg1.model_copy(update={"train": str(train2), "output_dir": str(tmp_path / "job2"),
                                       "suffix": "legal-v2"})
        job2 = run_job(cfg2)
        assert job2.model.startswith(f"ft:{BASE}:legal-v2:") and job2.estimate.examples == 26
        out2 = evaluate(lk, eval_cfg, _client(cfg2, job2.model, tmp_path / "ledger.sqlite"), tmp_path / "eval2")
        rows2 = read_scores_csv(out2 / "scores.csv")

    # the before/after table
    table = before_after(rows1, rows2, candidate="ft")
    cell = {(r["task"], r["metric"]): r for r in table}
    assert cell[("risk_analysis", "check.score")]["delta"] > 0 and cell[("risk_analysis", "pass.all")]["after"] == 1.0
    assert cell[("risk_analysis", "judge.overall")]["delta"] > 0
    assert cell[("contract_qa", "check.score")]["delta"] == pytest.approx(0.0)  # untouched areas stay as they were
    assert cell[("all", "check.score")]["after"] > cell[("all", "check.score")]["before"]
    md = markdown_table(table)
    assert md.splitlines()[0] == "| task | metric | before | after | delta |" and "| risk_analysis | pass.all |" in md
    compare = ["| candidate | check.score | pass.all | judge.overall |", "|---|---:|---:|---:|"]
    for cand in ("base", "prompting", "ft", "ft_hybrid"):
        cells = []
        for metric in ("check.score", "pass.all", "judge.overall"):
            vals = [r[metric] for r in rows1 if r["candidate"] == cand and metric in r]
            cells.append(f"{sum(vals) / len(vals):.3f}")
        compare.append(f"| {cand} | " + " | ".join(cells) + " |")
    assert compare[2].startswith("| base |")
    (artifacts_dir / "legal_hosted_before_after.md").write_text(
        "# ja-legal hosted loop (loopback provider)\n\n## First job: candidates on the held-out topics\n\n"
        + "\n".join(compare) + "\n\n## The fine-tuned model before and after the second job\n\n" + md, encoding="utf-8")


def _script():
    """examples/ja-legal/hosted_loop.py as a module (the command of the user manual)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("legal_hosted_loop", KIT / "hosted_loop.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_manuals_loop_command_runs_and_resumes(api_key, tmp_path):
    loop = _script()
    out = tmp_path / "run"
    assert loop.main(["--out", str(out), "--dry-run"]) == out  # no job, no key needed
    assert (out / "sft.train.jsonl").is_file() and (out / "job1" / "train.jsonl").is_file()
    assert not (out / "job1" / "job_id").exists()
    lk = load_kit(KIT)
    with ScriptedServer(provider(lk)) as srv:
        args = ["--out", str(out), "--base-url", srv.base_url, "--judge-model", "judge-model", "--poll-s", "0", "--yes"]
        text = loop.main(args).read_text(encoding="utf-8")
        jobs = len(srv.app.state.ft_jobs)
        assert jobs == 2 and "(added risk_analysis pairs)" in text.splitlines()[0]
        assert "| risk_analysis | pass.all | 0.000 | 1.000 | +1.000 |" in text
        calls = srv.stats.requests
        loop.main(args)  # a rerun reuses both finished jobs and every answer in the ledger
        assert len(srv.app.state.ft_jobs) == jobs and srv.stats.requests == calls
