"""A real browser: headless Chromium (Debian's package) driven by Playwright uploads an image in the page.

No browser can be downloaded here, so Playwright launches the system Chromium (`make browser` installs it).
In CI (CI=true) the test must run; elsewhere it skips, with the reason, when Chromium is missing.
"""
import os, shutil
from pathlib import Path

import pytest

from eye_classifier.core import CLASSES

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-dev-shm-usage",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
LOADED = "() => { const i = document.querySelector('#ID img'); return !!i && i.complete && i.naturalWidth > 0 }"


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        if os.environ.get("CI") == "true": pytest.fail("CI=true but Chromium is missing: `make browser` should have installed it")
        pytest.skip("Chromium is not installed (apt-get install chromium chromium-driver, or `make browser`)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


def test_upload_shows_label_and_version(browser, server, project):
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.goto(server + "/", wait_until="networkidle")
    page.get_by_text("Research demo, not a diagnostic device").first.wait_for()
    img = project["images"]["diabetic_retinopathy"][0]
    page.locator("#upload input[type=file]").set_input_files(str(img))
    # the photograph appears as soon as it is chosen, before classifying
    page.wait_for_function(LOADED.replace("ID", "photo"), timeout=30_000)
    page.locator("#classify").click()
    note = page.locator("#note")
    note.get_by_text("Predicted").wait_for(timeout=60_000)
    version = project["summary"]["production"]
    text = note.inner_text()
    assert f"model {version}" in text
    probs = page.locator("#probs").inner_text()
    assert any(c in probs for c in CLASSES)
    assert version in page.locator("#model-info").inner_text()
    page.wait_for_function(LOADED.replace("ID", "gradcam"), timeout=30_000)   # the overlay beside the photograph
    page.wait_for_function(LOADED.replace("ID", "photo"), timeout=30_000)
    out = Path(os.environ.get("EYE_ARTIFACTS", "reports/screenshots")); out.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(out/"app.png"), full_page=True)
    assert (out/"app.png").stat().st_size > 10_000
