"""The legal assistant page (/legal) in headless Chromium against `slmforge serve` running a tiny random model with
the ja-legal kit: a chat with history whose answers carry the legal check badges, a contract review whose clauses
end in findings or clear error cards (a random model writes no JSON), a review refused for want of 第N条 headings,
and drafting. Screenshots go to test-artifacts/legal_*.png."""

from __future__ import annotations

import pytest

from tests.conftest import ROOT
from tests.serve.conftest import start_server, stop_server
from tests.serve.test_playground import browser  # noqa: F401 - the headless Chromium fixture

pytestmark = pytest.mark.browser
KIT = ROOT / "examples" / "ja-legal"


@pytest.fixture(scope="module")
def legal_server(tmp_path_factory):
    """`slmforge serve` with a tiny random Qwen2 whose tokenizer was trained on the ja-legal kit, and that kit."""
    from slmforge.train.tiny import build_tiny_model

    model = build_tiny_model(tmp_path_factory.mktemp("tiny-ja"), [KIT / "topics.csv", KIT / "golden.jsonl"],
                             vocab_size=800)
    s = start_server(model, "--served-model-name", "base", "--kit", str(KIT), "--max-tokens", "32",
                     log=tmp_path_factory.mktemp("legal-log") / "serve.log")
    yield s
    stop_server(s)


def _shot(browser, artifacts_dir, name: str, scroll_to: str | None = None) -> None:
    """Save a screenshot of the viewport, scrolled to the top or to the element with id ``scroll_to``."""
    if scroll_to:
        browser.execute_script(f"document.getElementById('{scroll_to}').scrollIntoView()")
    else:
        browser.execute_script("window.scrollTo(0, 0)")
    browser.save_screenshot(str(artifacts_dir / name))


def _set(browser, element_id: str, value: str) -> None:
    from selenium.webdriver.common.by import By

    box = browser.find_element(By.ID, element_id)
    box.clear()
    box.send_keys(value)


def test_legal_page_chat_review_and_draft(legal_server, browser, artifacts_dir):  # noqa: F811 - fixture
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    wait = WebDriverWait(browser, 120, ignored_exceptions=())
    status = lambda d: d.find_element(By.ID, "status").text  # noqa: E731
    browser.get(legal_server.root + "/legal")
    wait.until(lambda d: status(d).startswith("準備完了"))
    assert len(Select(browser.find_element(By.ID, "task")).options) == 4
    assert browser.find_element(By.ID, "disclaimer").text.startswith("本回答は一般的な情報提供")

    # 法律相談: two questions, the second sent with the first turn as history
    Select(browser.find_element(By.ID, "task")).select_by_value("risk_analysis")
    Select(browser.find_element(By.ID, "topic")).select_by_value("解雇")
    _set(browser, "chat-max-tokens", "24")
    for n, question in enumerate(["勤務態度に問題のある社員を即日解雇したいのですが、リスクはありますか。",
                                  "解雇予告手当はいくら必要ですか。"], 1):
        _set(browser, "question", question)
        browser.find_element(By.ID, "ask").click()
        try:
            done = "#history .turn.assistant:not(.pending)"
            wait.until(lambda d, n=n: len(d.find_elements(By.CSS_SELECTOR, done)) == n)
        finally:
            _shot(browser, artifacts_dir, "legal_chat.png", scroll_to="history")
    turns = browser.find_elements(By.CSS_SELECTOR, "#history .turn")
    assert [t.get_attribute("class").split()[1] for t in turns] == ["user", "assistant", "user", "assistant"]
    answer = turns[1]
    assert "error" not in answer.get_attribute("class"), (answer.text, browser.get_log("browser"))
    checks = {b.get_attribute("data-check") for b in answer.find_elements(By.CSS_SELECTOR, ".badge.check")}
    assert set(("legal_citation", "legal_guarantee", "legal_disclaimer", "legal_articles")) <= checks
    # a random model does not write the kit's disclaimer line: its badge is red
    assert answer.find_elements(By.CSS_SELECTOR, '.badge.check.fail[data-check="legal_disclaimer"]')

    # 契約書レビュー: the sample contract, four clauses, each a finding or an error card; the hints need no model
    browser.find_element(By.ID, "tab-review").click()
    browser.find_element(By.ID, "sample").click()
    _set(browser, "review-max-tokens", "24")
    browser.find_element(By.ID, "review").click()
    banner = lambda d: d.find_element(By.ID, "review-banner")  # noqa: E731
    try:
        wait.until(lambda d: banner(d).get_attribute("class") in ("ok", "warn", "error"))
    finally:
        _shot(browser, artifacts_dir, "legal_review.png", scroll_to="review-banner")
    cards = browser.find_elements(By.CSS_SELECTOR, "#clauses .clause")
    assert [c.get_attribute("data-number") for c in cards] == ["1", "2", "3", "4"], browser.get_log("browser")
    statuses = [c.get_attribute("data-status") for c in cards]
    assert set(statuses) <= {"ok", "unparsed"}
    for card, st in zip(cards, statuses, strict=True):
        assert card.find_elements(By.CSS_SELECTOR, ".risk.error" if st == "unparsed" else ".risk:not(.error)")
    if "ok" not in statuses:  # what the tiny random model gets: a clear error state, not a spinner
        assert banner(browser).get_attribute("class") == "error" and "JSON" in banner(browser).text
    assert cards[2].find_elements(By.CSS_SELECTOR, '[data-hint="unlimited_liability"]')
    assert cards[3].find_elements(By.CSS_SELECTOR, '[data-hint="no_notice_termination"]')

    # a contract without 第N条 headings is refused with the fix
    _set(browser, "contract", "甲は乙に業務を委託する。乙は誠実に業務を行う。")
    browser.find_element(By.ID, "review").click()
    wait.until(lambda d: "見出し" in banner(d).text)
    assert banner(browser).get_attribute("class") == "error"
    assert not browser.find_elements(By.CSS_SELECTOR, "#clauses .clause")
    _shot(browser, artifacts_dir, "legal_review_error.png")

    # 文書作成
    browser.find_element(By.ID, "tab-draft").click()
    Select(browser.find_element(By.ID, "draft-kind")).select_by_value("notice")
    _set(browser, "draft-max-tokens", "24")
    _set(browser, "points", "納期の3月31日を過ぎても納品がない。4月14日までに納品がなければ契約を解除する。")
    browser.find_element(By.ID, "draft").click()
    out = lambda d: d.find_element(By.ID, "draft-output")  # noqa: E731
    try:
        wait.until(lambda d: "pending" not in out(d).get_attribute("class"))
    finally:
        _shot(browser, artifacts_dir, "legal_draft.png")
    assert "error" not in out(browser).get_attribute("class"), out(browser).text
    assert out(browser).find_elements(By.CSS_SELECTOR, '.badge.check[data-check="legal_guarantee"]')
    assert status(browser) == "通知書の案を作成しました"
