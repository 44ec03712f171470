import csv
import json

import pytest

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


# Seed 002's shape: Japanese ad-tech prompts with 「N文字以内」, 句点なし, 絵文字なし and chosen / rejected.
JA_PAIRS = [
    ("新作ミスト「潤いミスト」の広告見出しを30文字以内で書いてください。句点なし、絵文字なし。",
     "潤いミストで朝の肌にすっとうるおいを",
     "潤いミストが登場しました。毎日の乾燥をしっかりケアする新しいスキンケア体験をお届けします✨"),
    ("ECサイト向けのバナー文言を二十字以内で。",
     "人気のハンドクリームが今だけ特別価格でお求めいただけます、お見逃しなく", "人気ハンドクリームが今だけ特価"),
    ("アプリ広告のキャッチコピーを書いてください（「。」を使わない）", "家計簿が三秒でつけられる。", "家計簿が三秒でつけられる"),
    ("化粧水の広告文を作成。絵文字は使わないでください", "しっとり化粧水で乾燥知らず❤️", "しっとり化粧水で乾燥知らずの毎日"),
    ("セールの告知文を書いてください。「送料無料」を必ず入れてください", "週末限定セール開催中、全品20%オフ",
     "週末限定セール開催中、全品送料無料"),
    ("新商品の紹介文を10〜45文字で書いてください", "香りで選べる三種類の新しいボディソープが登場", "新しいボディソープ"),
    ("求人広告のコピーを20文字以内、句点なしで", "未経験から始められる在宅ワークで、あなたらしい働き方を見つけませんか",
     "在宅で働こう。"),
    ("プログラマティック広告とは？", "広告枠の買い付けを自動化する仕組みです。", "広告です"),
]
JA_VERDICTS = ["rejected_worse", "chosen_worse", "chosen_worse", "chosen_worse", "chosen_worse", "rejected_worse",
               "mixed", "no_rules"]


def _ja_pairs(path):
    rows = [{"prompt": p, "chosen": c, "rejected": r, "method": "weak"} for p, c, r in JA_PAIRS]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def _table_rows(output: str) -> dict[str, list[str]]:
    """Rule name → its number cells, from the printed stated-rule table."""
    out = {}
    for line in output.splitlines():
        cells = [c.strip() for c in line.strip("│ ").split("│")]
        if len(cells) >= 6 and cells[1].isdigit():
            out[cells[0]] = cells[1:]
    return out


def test_check_without_kit_reports_stated_rules_per_pair(tmp_path):
    out = tmp_path / "verdicts.jsonl"
    res = runner.invoke(app, ["check", str(_ja_pairs(tmp_path / "pairs.jsonl")), "--out", str(out)])
    assert res.exit_code == 0, res.output
    # rule → prompts, chosen breaks, rejected breaks, only chosen, only rejected
    assert _table_rows(res.output) == {"length": ["4", "2", "2", "2", "2"], "no emoji": ["2", "1", "1", "1", "1"],
                                       "forbidden chars": ["3", "1", "2", "1", "2"],
                                       "required terms": ["1", "1", "0", "1", "0"]}
    assert "5/7 pairs: chosen breaks a stated rule that rejected obeys" in res.output
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["stated"]["verdict"] for r in rows] == JA_VERDICTS
    first, mixed = rows[0]["stated"], rows[6]["stated"]
    assert [r["label"] for r in first["rules"]] == ["≤30 chars", "no emoji", "no 「。」"]
    assert first["rejected_only"] == ["length", "no_emoji", "no_chars"] and first["broken"]["chosen"] == {}
    assert (mixed["chosen_only"], mixed["rejected_only"]) == (["length"], ["no_chars"])
    assert rows[3]["stated"]["broken"]["chosen"] == {"no_emoji": "emoji '❤️' where none is allowed"}
    assert "chosen" not in rows[0] and rows[0]["strategy"] == "weak"  # no kit: no kit reports


def test_stated_table_fits_80_columns():
    from rich.console import Console

    from slmforge.checks.stated import StatedSummary, judge_stated
    from slmforge.cli.checks import stated_table

    summary = StatedSummary()
    for p, c, r in JA_PAIRS:
        summary.add(judge_stated(p, {"chosen": c, "rejected": r}))
    summary.add(judge_stated("行動喚起、改行なし、3行以内、ハッシュタグ3個、見出しなし", {"completion": "x"}))
    console = Console(width=200, record=True)
    console.print(stated_table(summary))
    lines = console.export_text().splitlines()
    assert max(len(line.rstrip()) for line in lines) <= 80
    assert any("call to action" in line and "no line breaks" not in line for line in lines)  # one row a line


def test_check_with_kit_adds_the_stated_verdict(tmp_path, minikit_path):
    path = _ja_pairs(tmp_path / "pairs.jsonl")
    out = tmp_path / "f.jsonl"
    res = runner.invoke(app, ["check", str(path), "--kit", str(minikit_path), "--check", "constraints",
                              "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "pass rate per task" in res.output and "rules stated in the prompts" in res.output
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["stated"]["verdict"] for r in rows] == JA_VERDICTS
    assert rows[1]["chosen"]["checks"]["constraints"]["passed"] is False  # 35 characters, the prompt says 20


def test_check_with_kit_and_no_stated_rules_prints_no_stated_table(tmp_path, minikit_path):
    path = tmp_path / "p.jsonl"
    path.write_text(json.dumps({"prompt": "Describe a tea.", "chosen": "A calm tea.", "rejected": "A tea."}) + "\n",
                    encoding="utf-8")
    res = runner.invoke(app, ["check", str(path), "--kit", str(minikit_path), "--check", "constraints"])
    assert res.exit_code == 0, res.output
    assert "rules stated" not in res.output and "no prompt states" not in res.output


def test_check_csv_pairs_without_kit(tmp_path):
    path = tmp_path / "pairs.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["Instruction", "chosen", "rejected", "method"])
        for p, c, r in JA_PAIRS:
            w.writerow([p, c, r, "weak"])
        w.writerow(["見出しを20文字以内、改行なしで", "一行の見出し", "二行の\n見出し", "weak"])  # a quoted cell over 2 lines
        w.writerow(["絵文字なし", "ok", "ok‼", "weak"])
    out = tmp_path / "v.jsonl"
    res = runner.invoke(app, ["check", str(path), "--out", str(out)])
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["stated"]["verdict"] for r in rows] == [*JA_VERDICTS, "rejected_worse", "rejected_worse"]
    assert [r["line"] for r in rows[-2:]] == [10, 12]  # the record starting on line 10 spans lines 10–11
    assert rows[-2]["stated"]["rejected_only"] == ["no_newline"]


def test_check_csv_sft_with_kit(tmp_path, minikit_path):
    lk = load_kit(minikit_path)
    prompt = render_student_prompt(lk.kit, lk.kit.task("product_note"), lk.subjects["Mint Field"])
    path = tmp_path / "sft.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([["prompt", "completion", "task"], [prompt, "Short.", "product_note"]])
    res = runner.invoke(app, ["check", str(path), "--kit", str(minikit_path), "--check", "constraints"])
    assert res.exit_code == 0, res.output
    assert "product_note" in res.output and " 0% " in res.output


@pytest.mark.parametrize(("content", "where", "says"), [
    (b"prompt,answer\nx,y\n", "bad.csv:1", "no completion column"),
    (b"question,chosen,rejected\nx,y,z\n", "bad.csv:1", "no prompt column (columns: question, chosen, rejected)"),
    (b"prompt,chosen\nx,y\n", "bad.csv:1", "no rejected column"),
    (b"prompt,completion\nok,fine\n\xe3\x81\x82,\xff\n", "bad.csv:3", "not UTF-8"),
    (b"prompt,completion\nx,y,z\n", "bad.csv:2", "3 cells for 2 columns"),
    (b"prompt,completion\nx\n", "bad.csv:2", "no completion cell"),
    (b'prompt,completion\nx,"y\n', "bad.csv:2", "malformed CSV"),
    (b"\xff\xfep\x00,\x00", "bad.csv", "UTF-16"),
])
def test_bad_csv_is_a_user_error_naming_file_line_and_fix(tmp_path, content, where, says):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    res = runner.invoke(app, ["check", str(path)])
    assert res.exit_code == 2, res.output
    assert where in res.output and says in res.output and "fix:" in res.output
    assert "invalid JSON" not in res.output and "Traceback" not in res.output


def test_user_text_is_printed_literally(tmp_path, minikit_path):
    folder = tmp_path / "[new]"
    folder.mkdir()
    path = folder / "pairs[bold].jsonl"
    rows = [{"prompt": "30文字以内で", "chosen": "短い", "rejected": "長い" * 20, "task": "promo[v2]", "method": "[red]x"}]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    out = folder / "out[new].jsonl"
    res = runner.invoke(app, ["check", str(path), "--kit", str(minikit_path), "--check", "constraints",
                              "--out", str(out)])
    assert res.exit_code == 0, res.output
    flat = res.output.replace("\n", "")
    assert "[new]/pairs[bold].jsonl: 1 rows" in flat
    assert "promo[v2]" in res.output and "rejected:[red]x" in res.output
    assert "out[new].jsonl" in flat and out.exists()


def test_check_option_needs_a_kit(tmp_path):
    res = runner.invoke(app, ["check", str(_ja_pairs(tmp_path / "p.jsonl")), "--check", "constraints"])
    assert res.exit_code == 2 and "--kit" in res.output


def test_prompt_contradicting_the_task_is_a_user_error(tmp_path, minikit_path):
    path = tmp_path / "conflict.jsonl"
    row = {"prompt": "Write it in under 20 characters.", "chosen": "Short.", "rejected": "x", "task": "product_note"}
    path.write_text(json.dumps(row) + "\n", encoding="utf-8")
    res = runner.invoke(app, ["check", str(path), "--kit", str(minikit_path), "--check", "constraints"])
    assert res.exit_code == 2, res.output
    assert "conflict.jsonl:1: prompt:" in res.output and "product_note" in res.output and "fix:" in res.output


def test_kit_pass_rate_tables_cut_nothing_at_80_columns(tmp_path, minikit_path, monkeypatch):
    """Twelve check columns do not fit 80 columns: the table stacks (narrow table + one wrapped line per
    group) instead of cutting headers to "lexic…"."""
    from slmforge.cli import checks as cli_checks

    monkeypatch.setattr(cli_checks.console, "width", 80)
    path = _pairs_file(tmp_path, minikit_path)
    res = runner.invoke(app, ["check", str(path), "--kit", str(minikit_path)])
    assert res.exit_code == 0, res.output
    assert "…" not in res.output and all(len(ln) <= 80 for ln in res.output.splitlines())
    first = [ln for ln in res.output.splitlines() if ln.startswith("* / chosen: ")]
    assert first and first[0].split(": ", 1)[1].startswith("lexicon ") and "%" in first[0]
