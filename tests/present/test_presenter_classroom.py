"""The static presenter on a projector: reveals land in view, nothing early unless asked, hold mode,
a handout print without answers, and units as written."""

from __future__ import annotations

import json

import pytest
from test_presenter import browser, evil_case  # noqa: F401  (the module-scoped Chromium fixture)

from hemedx import load_pack
from hemedx.engine.walkthrough import walkthrough
from hemedx.present import presentation_data, render_html
from hemedx.present.units import as_written


def test_units_read_as_written(tmp_path):
    pack = load_pack()
    case = evil_case(tmp_path)
    data = presentation_data(case, walkthrough(case, pack))
    text = json.dumps(data, ensure_ascii=False)
    assert "10^" not in text and "×10⁹/L" in text
    assert as_written("Platelets: 11 10^9/L") == "Platelets: 11 ×10⁹/L"
    assert as_written("< 0.5 x 10^9/L") == "< 0.5 ×10⁹/L"
    assert as_written("x10^12/L and 10^3/uL") == "×10¹²/L and ×10³/uL"
    assert as_written("110^9 stays") == "110^9 stays"


@pytest.fixture
def page(browser, tmp_path):  # noqa: F811
    pack = load_pack()
    case = evil_case(tmp_path)
    stages = walkthrough(case, pack)
    path = tmp_path / "case.html"
    path.write_text(render_html(case, stages), encoding="utf-8")
    browser.set_window_size(1024, 768)
    browser.get(path.as_uri())
    return browser, presentation_data(case, stages)


def _rect(driver, element):
    return driver.execute_script("return arguments[0].getBoundingClientRect()", element)


def test_reveals_land_below_the_toolbar_and_in_view(page):
    from selenium.webdriver.common.by import By

    driver, data = page
    driver.set_window_size(700, 700)  # the toolbar wraps onto several lines
    toolbar = driver.find_element(By.ID, "controls")
    for i in range(1, len(data["stages"]) + 1):
        driver.find_element(By.ID, "next").click()
        heading = driver.find_element(By.CSS_SELECTOR, f"#stage-{i} h2")
        assert _rect(driver, heading)["top"] >= _rect(driver, toolbar)["bottom"] - 1, (
            f"stage {i} heading covered"
        )
    driver.find_element(By.ID, "answer").click()
    box = driver.find_element(By.ID, "answer-box")
    top = _rect(driver, box)["top"]
    assert _rect(driver, toolbar)["bottom"] - 1 <= top < driver.execute_script("return innerHeight")
    assert "Answer key: Aplastic anaemia" in box.text
    # it opened right after the stage on screen, not below the references
    assert driver.execute_script(
        "return document.getElementById('stage-3').nextElementSibling === arguments[0]", box
    )
    driver.find_element(By.ID, "explain").click()
    ex = driver.find_element(By.ID, "explanation-box")
    assert _rect(driver, ex)["top"] < driver.execute_script("return innerHeight")
    assert _rect(driver, ex)["top"] >= _rect(driver, toolbar)["bottom"] - 1


def test_answer_and_explanation_are_not_available_early_unless_asked(page):
    from selenium.webdriver.common.by import By

    driver, _ = page
    driver.find_element(By.ID, "next").click()  # stage 1 of 3
    for button, box in (("answer", "answer-box"), ("explain", "explanation-box")):
        driver.find_element(By.ID, button).click()
        alert = driver.switch_to.alert
        assert "before the last stage" in alert.text
        alert.dismiss()
        assert not driver.find_element(By.ID, box).is_displayed()
    driver.find_element(By.ID, "answer").click()
    driver.switch_to.alert.accept()
    assert driver.find_element(By.ID, "answer-box").is_displayed()


def test_hold_mode_keeps_the_differential_until_clicked(page):
    from selenium.webdriver.common.by import By

    driver, data = page
    driver.find_element(By.ID, "hold").click()
    assert driver.find_element(By.ID, "hold").get_attribute("aria-pressed") == "true"
    driver.find_element(By.ID, "next").click()
    stage = driver.find_element(By.ID, "stage-1")
    assert data["stages"][0]["revealed"][0] in stage.text
    engine = stage.find_element(By.CSS_SELECTOR, ".engine")
    assert not engine.is_displayed() and data["stages"][0]["summary"] not in stage.text
    driver.find_element(By.TAG_NAME, "body").send_keys("d")
    assert engine.is_displayed() and data["stages"][0]["summary"] in stage.text
    driver.find_element(By.ID, "next").click()
    second = driver.find_element(By.ID, "stage-2")
    assert not second.find_element(By.CSS_SELECTOR, ".engine").is_displayed()
    second.find_element(By.CSS_SELECTOR, "button.show-differential").click()
    assert second.find_element(By.CSS_SELECTOR, ".engine").is_displayed()


def test_print_is_a_handout_without_answers_and_a_summary_on_request(page):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver, data = page
    driver.find_element(By.TAG_NAME, "body").send_keys(Keys.END)
    driver.execute_script("document.getElementById('answer').click()")
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        stages = driver.find_elements(By.CSS_SELECTOR, ".stage")
        assert all(s.is_displayed() for s in stages)
        text = driver.find_element(By.TAG_NAME, "body").text
        for stage in data["stages"]:
            assert stage["revealed"][0] in text
            assert stage["summary"] not in text
        assert "Answer key" not in text and "Why the engine" not in text
        assert not driver.find_element(By.ID, "controls").is_displayed()
        driver.execute_script("document.body.classList.add('print-summary')")
        text = driver.find_element(By.TAG_NAME, "body").text
        assert "Answer key: Aplastic anaemia" in text and data["stages"][-1]["summary"] in text
    finally:
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})


def test_the_outside_entry_is_never_shown_as_a_diagnosis(tmp_path):
    pack = load_pack()
    case = evil_case(tmp_path)
    stages = walkthrough(case, pack)
    for stage in stages:
        stage["shift"][1] = {**stage["shift"][1], "diagnosis": "outside", "label": "outside"}
    stages[-1]["differential"][0] = {**stages[-1]["differential"][0], "diagnosis": "outside", "label": "x"}
    data = presentation_data(case, stages)
    assert all(s["bars"][1]["label"] == "Something outside this differential" for s in data["stages"])
    assert data["explanation"][0]["label"] == "Something outside this differential"
    assert data["answer"]["engine_top"] == "Something outside this differential"


def test_alerts_come_first_in_a_stage_with_their_citations():
    from hemedx.cases.library import resolve_case

    pack = load_pack()
    case = resolve_case("aa-very-severe-older-woman", pack)
    stages = walkthrough(case, pack)
    data = presentation_data(case, stages)
    alerted = [s for s in data["stages"] if s["alerts"]]
    assert alerted, "the neutropenic fever alert fires once the count is known"
    first = alerted[0]["alerts"][0]
    assert first["text"].startswith("EMERGENCY: Neutropenic fever (because Fever present")
    assert "×10⁹/L" in first["text"] and first["cites"]
    refs = {r["n"] for r in data["references"]}
    assert all(c["n"] in refs for c in first["cites"])
    html = render_html(case, stages)
    assert html.index('"alerts"') < html.index('"bars"')
