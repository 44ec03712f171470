import json

from typer.testing import CliRunner

from slmforge.cli import app
from slmforge.kit import load_kit, render_student_prompt

runner = CliRunner()


def _pairs_file(tmp_path, minikit_path):
    lk = load_kit(minikit_path)
    task = lk.kit.task("paid_ad_cta")
    subject = lk.subjects["Jasmine Pearl"]
    prompt = render_student_prompt(lk.kit, task, subject)
    rows = [
        {"prompt": prompt, "chosen": "Jasmine Pearl: green tea from one harvest, soft jasmine finish. Order a tin today.",
         "rejected": "Jasmine Pearl is a MIRACLE!!! INSANE tea 😱😱😱", "method": "exaggerated"},
        {"prompt": prompt, "chosen": "Jasmine Pearl: green tea from one harvest, soft jasmine finish. Order a tin today.",
         "rejected": "Jasmine Pearl: green tea from one harvest, soft bergamot finish. Order a tin today.",
         "method": "fake"},
    ]
    path = tmp_path / "pairs.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_check_preference_file_prints_tables_and_writes_findings(tmp_path, minikit_path):
    path = _pairs_file(tmp_path, minikit_path)
    out = tmp_path / "findings.jsonl"
    res = runner.invoke(app, ["check", str(path), "--kit", str(minikit_path), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "pass rate per task" in res.output and "paid_ad_cta" in res.output
    assert "1/2 rejected sides are minimal fact edits" in res.output
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["task"] for r in rows] == ["paid_ad_cta", "paid_ad_cta"]
    assert rows[0]["subject_id"] == "Jasmine Pearl"
    assert rows[0]["chosen"]["passed"] is True
    loud = rows[0]["rejected"]
    assert not loud["passed"] and {"avoid_term", "punct_run", "emoji"} <= {f["code"] for f in loud["findings"]}
    assert rows[1]["reference"]["minimal_fact_edit"] is True


def test_check_sft_file(tmp_path, minikit_path):
    lk = load_kit(minikit_path)
    prompt = render_student_prompt(lk.kit, lk.kit.task("product_note"), lk.subjects["Mint Field"])
    path = tmp_path / "sft.jsonl"
    row = {"messages": [{"role": "user", "content": prompt}, {"role": "assistant", "content": "Short."}]}
    path.write_text(json.dumps(row) + "\n", encoding="utf-8")
    res = runner.invoke(app, ["check", str(path), "--kit", str(minikit_path), "--check", "constraints"])
    assert res.exit_code == 0, res.output
    assert "product_note" in res.output and " 0% " in res.output  # "Short." is under min_chars 40


def test_bad_row_is_a_user_error(tmp_path, minikit_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"foo": 1}\n', encoding="utf-8")
    res = runner.invoke(app, ["check", str(path), "--kit", str(minikit_path)])
    assert res.exit_code == 2
    assert "bad.jsonl:1" in res.output
