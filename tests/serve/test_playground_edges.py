"""The playground's edges in headless Chromium (selenium), against a real `slmforge serve` on the tiny model:
max tokens follow the task's max_chars, an empty or rejected form ends in an error (never "generating…"),
check badges agree with their findings, hints are in the kit's language, and chat mode keeps a history.
Screenshots go to test-artifacts/."""

from __future__ import annotations

import math
import re

import pytest

from tests.conftest import EXAMPLE_KIT
from tests.serve.conftest import API_KEY, start_server, stop_server
from tests.serve.test_playground import browser  # noqa: F401 - fixture

pytestmark = pytest.mark.browser
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7a3\uff01-\uff5e]")


def _open(browser, root: str, n_tasks: int, key: str | None = None):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select, WebDriverWait

    wait = WebDriverWait(browser, 90, ignored_exceptions=())
    browser.get(root + "/")
    if key:
        browser.find_element(By.ID, "api-key").send_keys(key + Keys.TAB)
    wait.until(lambda d: len(Select(d.find_element(By.ID, "task")).options) == n_tasks)
    return wait


def _settled(browser) -> bool:
    from selenium.webdriver.common.by import By

    s = browser.find_element(By.ID, "status")
    return s.text == "done" or "error" in s.get_attribute("class")


def test_playground_edges(server, browser, artifacts_dir):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select, WebDriverWait

    wait = _open(browser, server.root, 2, API_KEY)
    find = browser.find_element
    task = Select(find(By.ID, "task"))

    # max tokens from the task's max_chars (English: ~4 characters a token, +30 %), never the old fixed 96
    for task_id, max_chars in (("paid_ad_cta", 120), ("product_note", 600)):
        task.select_by_value(task_id)
        value = int(find(By.ID, "max-tokens").get_attribute("value"))
        assert value == math.ceil(max_chars / 4 * 1.3) and value != 96, (task_id, value)
        assert f"{max_chars} characters" in find(By.ID, "max-tokens-hint").text
    task.select_by_value("paid_ad_cta")
    assert "at most 120 characters" in find(By.ID, "task-info").text
    hints = [h.text for h in browser.find_elements(By.CSS_SELECTOR, ".hint")]
    assert "(separate with |)" in " ".join(hints)
    assert not [h for h in hints if CJK.search(h)], hints  # an English kit gets English hints

    # an empty form, then a half-filled one: an error at once, nothing sent
    Select(find(By.ID, "catalog")).select_by_value("")
    find(By.ID, "generate").click()
    WebDriverWait(browser, 5).until(lambda d: "error" in d.find_element(By.ID, "status").get_attribute("class"))
    assert "subject is empty" in find(By.ID, "status").text
    assert "generating" not in find(By.ID, "results").text
    find(By.ID, "field-name").send_keys("Jasmine Pearl")
    find(By.ID, "generate").click()
    WebDriverWait(browser, 5).until(lambda d: "category" in d.find_element(By.ID, "status").text)
    assert "required subject fields" in find(By.ID, "status").text

    # a request the server rejects (n over --max-n): the column says why instead of "generating…"
    Select(find(By.ID, "catalog")).select_by_value("Jasmine Pearl")
    n = find(By.ID, "n")
    n.clear()
    n.send_keys("50")
    find(By.ID, "generate").click()
    wait.until(_settled)
    assert "error" in find(By.ID, "status").get_attribute("class") and "n must be" in find(By.ID, "status").text
    summary = find(By.CSS_SELECTOR, "#results .column .summary")
    assert summary.text.startswith("error:") and "generating" not in find(By.ID, "results").text

    # real drafts: every check with a warning or error finding shows ⚠ or ✗, never ✓
    n.clear()
    n.send_keys("2")
    find(By.ID, "generate").click()
    wait.until(_settled)
    assert find(By.ID, "status").text == "done", browser.get_log("browser")
    drafts = browser.find_elements(By.CSS_SELECTOR, "#results .draft")
    assert len(drafts) == 2
    for d in drafts:
        state = {b.get_attribute("data-check"): b.get_attribute("data-state")
                 for b in d.find_elements(By.CSS_SELECTOR, ".badge.check")}
        for li in d.find_elements(By.CSS_SELECTOR, "ul.findings li.warning, ul.findings li.error"):
            assert state[li.get_attribute("data-check")] != "pass", (li.text, state)
    shown = find(By.ID, "results").text  # the page's own words, not the random tiny model's drafts
    for d in drafts:
        shown = shown.replace(d.find_element(By.CSS_SELECTOR, ".text").text, "")
    assert not CJK.search(shown), shown

    # the badge rule on a report with each case: failed, passed with a warning, passed with information only
    browser.execute_script("""
      const card = draftCard(9); document.getElementById('results').append(card);
      renderDraft(card, {index: 9, status: 'flagged', attempts: 1, failed_checks: [], text: 'Jasmine Pearl with bergamot. Order now.',
        report: {score: 0.5, checks: {facts: {passed: true, score: 0.8}, cta: {passed: true, score: 1},
                                      constraints: {passed: false, score: 0}},
                 findings: [{check: 'facts', code: 'unsupported_entity', message: "'bergamot' is not in the record",
                             start: 19, end: 27, severity: 'warning'},
                            {check: 'cta', code: 'cta', message: "call to action 'Order'", start: 29, end: 34, severity: 'info'},
                            {check: 'constraints', code: 'too_long', message: 'too long', start: null, end: null,
                             severity: 'error'}]}});""")
    card = find(By.CSS_SELECTOR, '.draft[data-index="9"]')
    badge = {b.get_attribute("data-check"): (b.get_attribute("data-state"), b.text)
             for b in card.find_elements(By.CSS_SELECTOR, ".badge.check")}
    assert badge == {"facts": ("warn", "⚠ facts"), "cta": ("pass", "✓ cta"), "constraints": ("fail", "✗ constraints")}
    browser.execute_script("window.scrollTo(0, 0)")
    browser.save_screenshot(str(artifacts_dir / "serve_playground_edges.png"))

    # chat mode: free-form turns against /v1/chat/completions, each request carrying the history
    browser.execute_script("""
      window.__bodies = []; const f = window.fetch;
      window.fetch = (url, init) => { if (String(url).includes('/chat/')) window.__bodies.push(JSON.parse(init.body));
                                      return f(url, init); };""")
    find(By.ID, "mode-chat").click()
    assert find(By.ID, "chat-panel").is_displayed() and not find(By.ID, "copy-panel").is_displayed()
    find(By.ID, "chat-send").click()
    WebDriverWait(browser, 5).until(lambda d: "type a message" in d.find_element(By.ID, "status").text)
    box = find(By.ID, "chat-input")
    for i, text in enumerate(["Hello, which tea is calm?", "And which one has ginger?"]):
        box.send_keys(text + Keys.ENTER)
        wait.until(lambda d, k=i: len(d.execute_script("return window.__bodies")) == k + 1 and _settled(d))
        assert find(By.ID, "status").text == "done", (find(By.ID, "status").text, browser.get_log("browser"))
    bodies = browser.execute_script("return window.__bodies")
    assert [m["role"] for m in bodies[1]["messages"]] == ["user", "assistant", "user"]
    assert bodies[1]["messages"][0]["content"] == "Hello, which tea is calm?" and bodies[1]["stream"] is True
    msgs = browser.find_elements(By.CSS_SELECTOR, "#chat-log .msg")
    assert [m.get_attribute("data-role") for m in msgs] == ["user", "assistant", "user", "assistant"]
    assert not browser.find_elements(By.CSS_SELECTOR, "#chat-log .msg.error")
    assert isinstance(bodies[1]["messages"][1]["content"], str)  # the first reply, as streamed
    browser.save_screenshot(str(artifacts_dir / "serve_playground_chat.png"))
    find(By.ID, "chat-clear").click()
    assert not browser.find_elements(By.CSS_SELECTOR, "#chat-log .msg")


def test_playground_hints_follow_the_kit_language(tiny_model, browser, artifacts_dir, tmp_path):  # noqa: F811
    """A Chinese kit: hints in Chinese, max tokens at ~1.5 characters a token."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    srv = start_server(tiny_model, "--kit", str(EXAMPLE_KIT), log=tmp_path / "serve.log")
    try:
        _open(browser, srv.root, 9)
        Select(browser.find_element(By.ID, "task")).select_by_value("paid_ad_cta")  # max_chars 100
        assert int(browser.find_element(By.ID, "max-tokens").get_attribute("value")) == math.ceil(100 / 1.5 * 1.3)
        assert "约" in browser.find_element(By.ID, "max-tokens-hint").text
        assert "不超过100字" in browser.find_element(By.ID, "task-info").text
        hints = " ".join(h.text for h in browser.find_elements(By.CSS_SELECTOR, "#fields .hint"))
        assert "（用 | 分隔）" in hints and "separate with" not in hints
        Select(browser.find_element(By.ID, "catalog")).select_by_index(1)
        browser.save_screenshot(str(artifacts_dir / "serve_playground_zh.png"))
    finally:
        stop_server(srv)
