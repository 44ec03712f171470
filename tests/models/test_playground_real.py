"""The playground on a real model: SmolLM2-135M-Instruct and the English kit write readable English
drafts, each with its check badges (screenshot in test-artifacts/)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.serve.conftest import start_server, stop_server
from tests.serve.test_playground import browser  # noqa: F401 - fixture

pytestmark = pytest.mark.browser
KIT = Path(__file__).resolve().parents[2] / "examples" / "elemental-equation-en"


def test_playground_shows_readable_english_drafts(smollm2, browser, artifacts_dir, tmp_path):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    server = start_server(str(smollm2), "--served-model-name", "base", "--kit", str(KIT), "--max-tokens", "48",
                          log=tmp_path / "serve.log")
    try:
        wait = WebDriverWait(browser, 120, ignored_exceptions=())
        browser.get(server.root + "/")
        wait.until(lambda d: len(Select(d.find_element(By.ID, "task")).options) == 4)
        Select(browser.find_element(By.ID, "task")).select_by_value("paid_ad_cta")
        Select(browser.find_element(By.ID, "catalog")).select_by_index(1)
        browser.find_element(By.ID, "seed").send_keys("0")  # the same drafts on every run
        browser.find_element(By.ID, "generate").click()
        try:
            wait.until(lambda d: d.find_element(By.ID, "status").text == "done"
                       or "error" in d.find_element(By.ID, "status").get_attribute("class"))
        finally:
            browser.execute_script("document.getElementById('results').scrollIntoView()")
            browser.save_screenshot(str(artifacts_dir / "playground_smollm2.png"))
        assert browser.find_element(By.ID, "status").text == "done", browser.get_log("browser")
        drafts = browser.find_elements(By.CSS_SELECTOR, "#results .draft")
        assert drafts
        texts = [d.find_element(By.CSS_SELECTOR, ".text").text for d in drafts]
        # readable English, not mojibake: every draft is ASCII words, and the drafts together are sentences,
        # not names (seed 0: an unseeded draw of the base model can be as short as "HDFM+Caviar")
        assert sum(len(re.findall(r"[A-Za-z]{2,}", t)) for t in texts) >= 4 * len(texts), texts
        for d, text in zip(drafts, texts, strict=True):
            assert len(re.findall(r"[A-Za-z]{2,}", text)) >= 2 and sum(c.isascii() for c in text) / len(text) > 0.95, text
            checks = {b.get_attribute("data-check") for b in d.find_elements(By.CSS_SELECTOR, ".badge.check")}
            assert {"lexicon", "style", "constraints", "cta", "facts"} <= checks
    finally:
        stop_server(server)
