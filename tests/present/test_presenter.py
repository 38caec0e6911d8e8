"""The HTML presenter: escaping, self-containment, and a click-through in real headless Chromium."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from hemedx import load_pack
from hemedx.cases.library import case_code
from hemedx.cases.loader import load_case
from hemedx.cli import cli
from hemedx.engine.walkthrough import walkthrough
from hemedx.present import embed_json, presentation_data, render_html

from support.helpers import write_case

EVIL = "</script><script>window.__pwned = 1</script> & <b>bold</b>"


def evil_case(tmp_path: Path):
    path = write_case(
        tmp_path,
        [
            {"findings": {"petechiae": "present", "bleeding": "present"}},
            {"labs": {"hemoglobin": 6.8, "wbc": 1.9, "anc": 0.3, "platelets": 11, "reticulocytes": 15}},
            {"labs": {"marrow_cellularity": 10, "marrow_blasts": 1}},
        ],
        answer={"diagnosis": "aplastic_anemia"},
    )
    text = path.read_text().replace("title: A test case", f"title: '{EVIL}'")
    path.write_text(text)
    return load_case(path, load_pack())


def test_embedded_json_cannot_close_the_script_element():
    text = embed_json({"t": EVIL})
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"t": EVIL}


def test_html_is_self_contained_and_deterministic(tmp_path):
    pack = load_pack()
    case = evil_case(tmp_path)
    stages = walkthrough(case, pack)
    html = render_html(case, stages)
    assert html == render_html(case, walkthrough(case, pack))
    assert EVIL not in html and "__pwned" in html  # present only in escaped form
    assert len(re.findall(r"<script", html)) == 2  # the data element and the page's own script
    assert not re.search(r"(src|href)=\"(https?:)?//", html)
    assert "innerHTML" not in html
    data = presentation_data(case, stages)
    assert [s["name"] for s in data["stages"]] == [s["stage"] for s in stages]


def test_present_command_writes_the_file(tmp_path):
    out = tmp_path / "slides.html"
    result = CliRunner().invoke(cli, ["present", "aa-severe-young-woman", "--out", str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert "aa-severe-young-woman" not in html  # the id names the answer; the page carries the neutral code
    assert f'"case": "{case_code("aa-severe-young-woman")}"' in html


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
CHROMEDRIVER = shutil.which("chromedriver")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not CHROMIUM or not CHROMEDRIVER:
        pytest.skip("chromium and chromedriver are not installed (apt-get install chromium chromium-driver)")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.skip("selenium is not installed (pip install -e '.[test]')")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--window-size=1200,900",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def test_presenter_in_headless_chromium(browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    pack = load_pack()
    case = evil_case(tmp_path)
    stages = walkthrough(case, pack)
    data = presentation_data(case, stages)
    page = tmp_path / "case.html"
    page.write_text(render_html(case, stages), encoding="utf-8")
    browser.get(page.as_uri())

    # the escaped <script> shows as text and never runs
    assert browser.execute_script("return window.__pwned") is None
    assert browser.find_element(By.ID, "title").text == EVIL
    assert browser.title.startswith(EVIL)

    shown = lambda: [s for s in browser.find_elements(By.CSS_SELECTOR, ".stage") if s.is_displayed()]  # noqa: E731
    assert shown() == []
    answer = browser.find_element(By.ID, "answer-box")
    assert not answer.is_displayed()
    for i, stage in enumerate(data["stages"], 1):
        if i % 2:
            browser.find_element(By.ID, "next").click()
        else:
            browser.find_element(By.TAG_NAME, "body").send_keys(Keys.ARROW_RIGHT)
        visible = shown()
        assert len(visible) == i
        section = browser.find_element(By.ID, f"stage-{i}")
        assert stage["name"] in section.text
        for item in stage["revealed"]:
            assert item in section.text
        rows = section.find_elements(By.CSS_SELECTOR, ".row")
        assert [r.get_attribute("data-diagnosis") for r in rows] == [b["diagnosis"] for b in stage["bars"]]
        for row, bar in zip(rows, stage["bars"], strict=True):
            track = row.find_element(By.CSS_SELECTOR, ".track").size["width"]
            width = row.find_element(By.CSS_SELECTOR, ".bar").size["width"]
            assert width / track == pytest.approx(bar["probability"], abs=0.01)
            assert row.find_element(By.CSS_SELECTOR, ".pct").text == bar["shown"]
    assert browser.find_element(By.ID, "next").get_attribute("disabled")
    assert not answer.is_displayed()

    browser.find_element(By.TAG_NAME, "body").send_keys("a")
    assert answer.is_displayed() and "Answer key: Aplastic anaemia" in answer.text
    browser.find_element(By.ID, "explain").click()
    assert browser.find_element(By.ID, "explanation-box").is_displayed()

    # every citation resolves to an entry of the reference list
    refs = {li.get_attribute("id") for li in browser.find_elements(By.CSS_SELECTOR, "ol.references li")}
    links = browser.find_elements(By.CSS_SELECTOR, "a.cite")
    assert links
    for a in links:
        target = a.get_attribute("href").split("#", 1)[1]
        assert target in refs, target
        assert a.text == f"[{target.removeprefix('ref-')}]"
    assert len(refs) == len(data["references"])

    # back one stage hides the last one again
    browser.find_element(By.ID, "prev").click()
    assert len(shown()) == len(data["stages"]) - 1
    assert browser.execute_script("return window.__pwned") is None
