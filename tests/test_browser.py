"""A real browser: headless Chromium (Debian's package) driven by Playwright uploads an image in the page, and a
clinician confirms one prediction with one click and corrects another with two.

No browser can be downloaded here, so Playwright launches the system Chromium (`make browser` installs it).
In CI (CI=true) the test must run; elsewhere it skips, with the reason, when Chromium is missing.
"""
import csv, hashlib, os, shutil
from pathlib import Path

import pytest

from eye_classifier.core import CLASSES

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-dev-shm-usage",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# The page keeps a heartbeat request open (Gradio's per-session state), so the tests wait for "load" and then for
# the elements they need, never for "networkidle".
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
    page.goto(server + "/", wait_until="load")
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


def _classify(browser, server, img) -> tuple:
    "A fresh page with `img` classified: the page and the predicted class."
    page = browser.new_page(viewport={"width": 1280, "height": 1200})
    page.goto(server + "/", wait_until="load")
    page.locator("#upload input[type=file]").set_input_files(str(img))
    page.wait_for_function(LOADED.replace("ID", "photo"), timeout=30_000)
    page.locator("#classify").click()
    page.locator("#note").get_by_text("Predicted").wait_for(timeout=60_000)
    predicted = page.locator("#note").inner_text().split()[1]
    assert predicted in CLASSES
    return page, predicted


def _answers(project) -> dict:
    f = project["root"]/"data/feedback/feedback.csv"
    return {r["prediction_id"]: r for r in csv.DictReader(open(f))} if f.exists() else {}


def test_feedback_confirm_one_click_correct_two(browser, server, project):
    before = _answers(project)
    page, predicted = _classify(browser, server, project["images"]["normal"][2])
    page.locator("#confirm").click()                                               # one click
    page.locator("#thanks").get_by_text("Thank you: confirmed").wait_for(timeout=30_000)
    new = [r for k, r in _answers(project).items() if k not in before]
    assert [(r["label"], r["predicted"], r["file"]) for r in new] == [(predicted, predicted, "")]
    assert "feedback: clinicians agreed on" in page.locator("#model-info").inner_text()
    page.close()

    before = _answers(project)
    img = project["images"]["cataract"][2]
    page, predicted = _classify(browser, server, img)
    right = next(c for c in CLASSES if c != predicted)
    page.locator("#keep input").check()                                            # consent, not part of the answer
    page.locator("#right").get_by_text(right, exact=True).click()                  # click one
    page.locator("#correct").click()                                               # click two
    page.locator("#thanks").get_by_text(f"corrected to {right}").wait_for(timeout=30_000)
    new = [r for k, r in _answers(project).items() if k not in before]
    kept = f"{right}/{hashlib.sha256(img.read_bytes()).hexdigest()}.jpg"
    assert [(r["label"], r["predicted"], r["file"]) for r in new] == [(right, predicted, kept)]
    assert (project["root"]/"data/feedback"/kept).read_bytes() == img.read_bytes()
    out = Path(os.environ.get("EYE_ARTIFACTS", "reports/screenshots")); out.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(out/"feedback.png"), full_page=True)
    page.close()
