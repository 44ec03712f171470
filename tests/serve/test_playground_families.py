"""The playground adapts to the kit's task families, in headless Chromium (selenium) against `slmforge serve` on a
tiny random model: the ja-legal kit (family legal_qa) gets the Q&A chat with history and checked answers, the
English kit the copy form with its value picker and CTA cues, the Korean kit 자 units and Korean hints, and a kit
with both families switches between form and chat as tasks are picked. Lengths are shown as the checks count them
(graphemes). Screenshots go to test-artifacts/playground_*.png."""

from __future__ import annotations

import contextlib
import re

import pytest
import yaml

from slmforge.checks.text import grapheme_len
from tests.conftest import ROOT
from tests.serve.conftest import start_server, stop_server
from tests.serve.test_playground import browser  # noqa: F401 - the headless Chromium fixture

pytestmark = pytest.mark.browser
EXAMPLES = ROOT / "examples"
HANGUL = re.compile(r"[\uac00-\ud7a3]")
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7a3\uff01-\uff5e]")
RECORD_FETCH = """window.__bodies = []; const f = window.fetch;
  window.fetch = (url, init) => { if (init && init.body) window.__bodies.push([String(url), JSON.parse(init.body)]);
                                  return f(url, init); };"""


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """A tiny random Qwen2 whose tokenizer was trained on the three kits' own text (ja, ko, en)."""
    from slmforge.train.tiny import build_tiny_model

    files = [EXAMPLES / "ja-legal" / "topics.csv", EXAMPLES / "ja-legal" / "golden.jsonl",
             EXAMPLES / "ko-pv-copy" / "products.csv", EXAMPLES / "ko-pv-copy" / "golden.jsonl",
             EXAMPLES / "elemental-equation-en" / "products.csv"]
    return build_tiny_model(tmp_path_factory.mktemp("tiny-families"), files, vocab_size=1200)


@contextlib.contextmanager
def serving(model, kit, tmp_path):
    srv = start_server(model, "--served-model-name", "base", "--kit", str(kit), "--max-tokens", "32",
                       log=tmp_path / "serve.log")
    try:
        yield srv
    finally:
        stop_server(srv)


def _open(browser, root: str, picker: str, n_tasks: int):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    wait = WebDriverWait(browser, 120, ignored_exceptions=())
    browser.get(root + "/")
    wait.until(lambda d: len(Select(d.find_element(By.ID, picker)).options) == n_tasks
               and d.find_element(By.ID, "status").text.startswith("ready"))
    return wait


def _settled(d) -> bool:
    from selenium.webdriver.common.by import By

    s = d.find_element(By.ID, "status")
    return s.text == "done" or "error" in s.get_attribute("class")


def _text(browser, element) -> str:
    return browser.execute_script("return arguments[0].textContent", element)


def _generate_one(browser, wait) -> None:
    """One draft of at most 16 tokens from the first catalog entry; waits for the status to settle."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    Select(browser.find_element(By.ID, "catalog")).select_by_index(1)
    for box, value in (("n", "1"), ("max-tokens", "16")):
        browser.find_element(By.ID, box).clear()
        browser.find_element(By.ID, box).send_keys(value)
    browser.find_element(By.ID, "generate").click()
    wait.until(_settled)
    assert browser.find_element(By.ID, "status").text == "done", browser.get_log("browser")


def test_ja_legal_kit_shows_the_qa_chat(model, browser, artifacts_dir, tmp_path):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    with serving(model, EXAMPLES / "ja-legal", tmp_path) as srv:
        wait = _open(browser, srv.root, "qa-task", 4)
        find = browser.find_element
        assert find(By.ID, "qa-panel").is_displayed() and not find(By.ID, "copy-panel").is_displayed()
        assert find(By.ID, "mode-qa").is_displayed() and not find(By.ID, "mode-copy").is_displayed()
        assert browser.execute_script("return document.documentElement.lang") == "ja"
        info = find(By.ID, "qa-task-info").text
        assert "150文字以上" in info and "600文字以内" in info and "最後の行は免責文「本回答は一般的な情報提供" in info
        punct = find(By.ID, "qa-task-punct").text
        assert punct.startswith("句読点：全角の「、」「。」を使う") and "感嘆符は3個まで" in punct  # 600 × 0.005 (kit.checks)
        assert "600文字" in find(By.ID, "qa-max-tokens-hint").text
        assert find(By.ID, "qa-input").get_attribute("placeholder").startswith("質問を入力")
        assert Select(find(By.ID, "qa-topic")).options[0].text == "指定なし（一般的な質問）"
        # the page counts graphemes as the checks do (emoji with modifiers, keycaps, Hangul syllables: one each)
        sample = " 👍🏽1️⃣가각\n한글。 "
        assert browser.execute_script("return graphemes(arguments[0])", sample) == grapheme_len(sample.strip())

        browser.execute_script(RECORD_FETCH)
        Select(find(By.ID, "qa-task")).select_by_value("risk_analysis")
        Select(find(By.ID, "qa-topic")).select_by_value("解雇")
        find(By.ID, "qa-max-tokens").clear()
        find(By.ID, "qa-max-tokens").send_keys("24")
        questions = ["勤務態度に問題のある社員を即日解雇できますか。", "解雇予告手当はいくら必要ですか。"]
        for i, q in enumerate(questions):
            find(By.ID, "qa-input").send_keys(q + Keys.ENTER)
            wait.until(lambda d, k=i: len(d.execute_script("return window.__bodies")) == k + 1 and _settled(d))
            assert find(By.ID, "status").text == "done", (find(By.ID, "status").text, browser.get_log("browser"))
        browser.save_screenshot(str(artifacts_dir / "playground_ja_legal.png"))
        bodies = [b for url, b in browser.execute_script("return window.__bodies")]
        assert [url for url, _ in browser.execute_script("return window.__bodies")] == ["/v1/legal/ask"] * 2
        assert bodies[0]["history"] == [] and bodies[0]["task"] == "risk_analysis" and bodies[0]["topic"] == "解雇"
        assert [t["role"] for t in bodies[1]["history"]] == ["user", "assistant"]
        assert questions[0] in bodies[1]["history"][0]["content"]  # the rendered instruction the model saw
        msgs = browser.find_elements(By.CSS_SELECTOR, "#qa-log .msg")
        assert [m.get_attribute("data-role") for m in msgs] == ["user", "assistant"] * 2
        for answer in msgs[1::2]:
            assert "error" not in answer.get_attribute("class")
            checks = {b.get_attribute("data-check") for b in answer.find_elements(By.CSS_SELECTOR, ".badge.check")}
            assert {"legal_citation", "legal_guarantee", "legal_disclaimer", "constraints"} <= checks
            assert answer.find_elements(By.CSS_SELECTOR, '.badge.check.fail[data-check="legal_disclaimer"]')
            length = answer.find_element(By.CSS_SELECTOR, ".len")
            assert re.fullmatch(r"\d+文字（150〜600）", length.text), length.text
            text = _text(browser, answer.find_element(By.CSS_SELECTOR, ":scope > .text"))
            assert int(length.get_attribute("data-chars")) == grapheme_len(text.strip())
        find(By.ID, "qa-clear").click()
        assert not browser.find_elements(By.CSS_SELECTOR, "#qa-log .msg")


def test_english_kit_shows_the_form(model, browser, artifacts_dir, tmp_path):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    with serving(model, EXAMPLES / "elemental-equation-en", tmp_path) as srv:
        wait = _open(browser, srv.root, "task", 4)
        find = browser.find_element
        assert find(By.ID, "copy-panel").is_displayed() and not find(By.ID, "qa-panel").is_displayed()
        assert not find(By.ID, "mode-qa").is_displayed()
        Select(find(By.ID, "task")).select_by_value("paid_ad_cta")
        info = find(By.ID, "task-info").text
        assert "a call to action (e.g. Shop now / Shop / Try / Discover" in info and "characters" in info
        assert find(By.ID, "task-punct").text.startswith("Punctuation: at most")
        Select(find(By.ID, "catalog")).select_by_index(1)
        values = [o.get_attribute("value") for o in browser.find_elements(By.CSS_SELECTOR, "#value-options option")]
        entry = browser.execute_script("return KIT.catalog[0].fields['values']")
        assert values == entry and values
        find(By.ID, "value").send_keys(values[0])
        hints = [h.text for h in browser.find_elements(By.CSS_SELECTOR, ".hint") if h.is_displayed()]
        assert not [h for h in hints if CJK.search(h)], hints
        browser.execute_script(RECORD_FETCH)
        _generate_one(browser, wait)
        (url, body), = browser.execute_script("return window.__bodies")
        assert url == "/v1/copy" and body["value"] == values[0] and body["task"] == "paid_ad_cta"
        draft = find(By.CSS_SELECTOR, "#results .draft")
        length = draft.find_element(By.CSS_SELECTOR, ".len")
        assert re.fullmatch(r"\d+ characters \(at most \d+\)", length.text), length.text
        text = _text(browser, draft.find_element(By.CSS_SELECTOR, ".text"))
        assert int(length.get_attribute("data-chars")) == grapheme_len(text.strip())
        assert draft.find_elements(By.CSS_SELECTOR, '.badge.check[data-check="cta"]')
        browser.execute_script("window.scrollTo(0, 0)")
        browser.save_screenshot(str(artifacts_dir / "playground_en_form.png"))


def test_korean_kit_shows_korean_units_and_hints(model, browser, artifacts_dir, tmp_path):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    with serving(model, EXAMPLES / "ko-pv-copy", tmp_path) as srv:
        wait = _open(browser, srv.root, "task", 3)
        find = browser.find_element
        assert browser.execute_script("return document.documentElement.lang") == "ko"
        assert find(By.ID, "copy-panel").is_displayed() and not find(By.ID, "mode-qa").is_displayed()
        Select(find(By.ID, "task")).select_by_value("short_ad")
        info = find(By.ID, "task-info").text
        assert "20자 이상" in info and "60자 이내" in info and "행동 유도 문구 필요 (예: 알아보기 / 알아보세요" in info
        punct = find(By.ID, "task-punct").text
        assert punct.startswith("문장부호: 반각(. , ? !)으로 쓰기") and "느낌표 최대 1개" in punct and "!·? 겹쳐 쓰지 않기" in punct
        assert "60자" in find(By.ID, "max-tokens-hint").text and "토큰" in find(By.ID, "max-tokens-hint").text
        fields = " ".join(h.text for h in browser.find_elements(By.CSS_SELECTOR, "#fields .hint"))
        assert "(| 로 구분)" in fields and "separate with" not in fields
        hints = [h.text for h in browser.find_elements(By.CSS_SELECTOR, ".hint") if h.is_displayed() and h.text]
        assert hints and all(HANGUL.search(h) for h in hints), hints
        assert not [h for h in hints if "characters" in h or "tokens" in h], hints
        assert HANGUL.search(find(By.ID, "value").get_attribute("placeholder"))
        _generate_one(browser, wait)
        length = find(By.CSS_SELECTOR, "#results .draft .len")
        assert re.fullmatch(r"\d+자 \(20~60\)", length.text), length.text
        browser.execute_script("window.scrollTo(0, 0)")
        browser.save_screenshot(str(artifacts_dir / "playground_ko.png"))


def test_a_kit_with_both_families_switches_between_form_and_chat(model, browser, artifacts_dir, tmp_path):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    src = EXAMPLES / "ko-pv-copy"
    data = yaml.safe_load((src / "kit.yaml").read_text(encoding="utf-8"))
    data["tasks"].append(dict(data["tasks"][0], id="care_qa", family="care_qa", description="쓰임과 관리에 관한 질문"))
    kit = tmp_path / "kit"
    kit.mkdir()
    (kit / "kit.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    for f in ("products.csv", "golden.jsonl"):
        (kit / f).write_bytes((src / f).read_bytes())
    with serving(model, kit, tmp_path) as srv:
        _open(browser, srv.root, "task", 4)
        find = browser.find_element
        shown = lambda: [p for p in ("copy", "qa", "chat") if find(By.ID, p + "-panel").is_displayed()]  # noqa: E731
        assert find(By.ID, "mode-copy").is_displayed() and find(By.ID, "mode-qa").is_displayed()
        assert shown() == ["copy"]
        groups = [g.get_attribute("label") for g in browser.find_elements(By.CSS_SELECTOR, "#task optgroup")]
        assert groups == ["copy: form", "Q&A: chat"]
        Select(find(By.ID, "task")).select_by_value("care_qa")  # a task of the other family: the chat
        assert shown() == ["qa"] and Select(find(By.ID, "qa-task")).first_selected_option.get_attribute("value") == "care_qa"
        assert "40자 이내" in find(By.ID, "qa-task-info").text
        browser.save_screenshot(str(artifacts_dir / "playground_both_qa.png"))
        Select(find(By.ID, "qa-task")).select_by_value("sns_caption")  # and back to the form
        assert shown() == ["copy"] and find(By.ID, "task").get_attribute("value") == "sns_caption"
        find(By.ID, "mode-qa").click()
        assert shown() == ["qa"] and find(By.ID, "qa-task").get_attribute("value") == "care_qa"
        find(By.ID, "mode-copy").click()
        assert shown() == ["copy"] and find(By.ID, "task").get_attribute("value") == "sns_caption"
        find(By.ID, "mode-chat").click()
        assert shown() == ["chat"]
