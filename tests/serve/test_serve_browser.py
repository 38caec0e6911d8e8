"""One teacher and three students in real headless Chromium through a whole case: what each sees, and not."""

from __future__ import annotations

import csv
import io
import re
import shutil
import urllib.request

import pytest

from hemedx import load_pack
from hemedx.cases.library import resolve_case
from hemedx.engine.quizscore import STAGE_MAX, SUBTYPE_MAX, score_stage
from hemedx.engine.report import ranked_report

from support.serve_helpers import CASE, free_port, start, stop

pytest.importorskip("uvicorn")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
CHROMEDRIVER = shutil.which("chromedriver")
EVIL = "<script>x=1</script>"


@pytest.fixture
def browsers(tmp_path):
    if not CHROMIUM or not CHROMEDRIVER:
        pytest.skip("chromium and chromedriver are not installed (apt-get install chromium chromium-driver)")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.skip("selenium is not installed (pip install -e '.[test]')")
    drivers = []

    def make(width, height):
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-component-update", "--no-first-run", f"--window-size={width},{height}",
                     f"--user-data-dir={tmp_path / f'profile-{len(drivers)}'}"):  # fmt: skip
            options.add_argument(flag)
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        drivers.append(driver)
        return driver

    yield make
    for d in drivers:
        d.quit()


def rows_of(driver, bars):
    """(diagnosis, shown value) of each bar row, read in one script turn (the page may re-render)."""
    return driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0] + ' .row')).map(function (r) {"
        " return [r.getAttribute('data-diagnosis'), r.querySelector('.pct').textContent]; });",
        bars,
    )


def test_a_class_through_a_whole_case(browsers, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    pack = load_pack()
    case = resolve_case(CASE, pack)
    labels = {d.id: d.label for d in pack.diagnoses}
    ranked = [
        ranked_report(case, pack, case.snapshot(i), i, False, next_test=True) for i in range(len(case.stages))
    ]
    rankings = [ranking for ranking, _ in ranked]
    reports = [report for _, report in ranked]
    orders = [[d["diagnosis"] for d in r["differential"]] for r in reports]
    plans = {  # nickname -> picks per stage
        "quokka": [o[:3] for o in orders],  # the engine's top three
        "wombat": [["aplastic_anemia"]] * len(orders),
        EVIL: [["itp", "aiha"]] * len(orders),
    }

    port = free_port()
    proc, out = start(port, tmp_path / "class.sqlite3", CASE)
    try:
        code = re.search(r"enter code ([A-Z0-9]{5})", out).group(1)
        teacher_url = re.search(r"Teacher \(keep private\): (\S+)", out).group(1)
        base = f"http://127.0.0.1:{port}"

        teacher = browsers(1024, 768)
        teacher.get(teacher_url.replace(f"127.0.0.1:{port}", f"127.0.0.1:{port}"))
        wait_t = WebDriverWait(teacher, 15)
        wait_t.until(lambda d: d.find_element(By.ID, "code").text == code)
        qr = teacher.find_element(By.CSS_SELECTOR, "img.qr")
        wait_t.until(lambda d: d.execute_script("return arguments[0].naturalWidth", qr) > 0)
        assert case.title in teacher.find_element(By.ID, "left").text

        students = {}
        for nick in plans:
            s = browsers(412, 900)
            s.get(f"{base}/?code={code}")
            assert s.find_element(By.ID, "code").get_attribute("value") == code
            s.find_element(By.ID, "nickname").send_keys(nick)
            s.find_element(By.CSS_SELECTOR, "#join button[type=submit]").click()
            WebDriverWait(s, 15).until(lambda d: "/s/" in d.current_url)
            assert s.find_element(By.ID, "nickname").text == nick
            students[nick] = s
        assert students[EVIL].execute_script("return window.x") is None
        wait_t.until(lambda d: "3 joined" in d.find_element(By.ID, "hint").text)

        body = teacher.find_element(By.TAG_NAME, "body")
        for i, order in enumerate(orders):
            body.send_keys(Keys.ARROW_RIGHT)
            wait_t.until(lambda d, i=i: f"stage {i + 1} of" in d.find_element(By.ID, "progress").text)
            stage_box = teacher.find_element(By.CSS_SELECTOR, f'.stage.current[data-stage="{i + 1}"]').text
            assert case.stages[i].name in stage_box
            assert not teacher.find_elements(By.CSS_SELECTOR, ".engine-bars")
            for nick, s in students.items():
                WebDriverWait(s, 15).until(lambda d: d.find_element(By.ID, "answer").is_displayed())
                text = s.find_element(By.TAG_NAME, "body").text
                assert f"Stage {i + 1}: {case.stages[i].name}" in text
                # One atomic read: the page may re-render between finding elements and reading them.
                shown = s.execute_script(
                    "return Array.from(document.querySelectorAll('.result')).map(r => +r.dataset.stage)"
                )
                assert shown == list(reversed(range(i)))
                assert reports[i]["summary"] not in text
                for n, picks in enumerate(plans[nick][i], 1):
                    box = s.find_element(By.ID, f"pick-{n}")
                    box.clear()
                    box.send_keys(labels[picks])
                s.find_element(By.ID, "commit").click()
                WebDriverWait(s, 15).until(lambda d: "Committed" in d.find_element(By.ID, "status").text)
            wait_t.until(lambda d: "3 of 3 answered" in d.find_element(By.ID, "right").text)
            assert not teacher.find_elements(By.CSS_SELECTOR, ".engine-bars")

            body.send_keys(Keys.ARROW_RIGHT)  # reveal the class
            wait_t.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".class-bars .row"))
            firsts = {}
            for picks in plans.values():
                firsts[picks[i][0]] = firsts.get(picks[i][0], 0) + 1
            counts = dict(rows_of(teacher, ".class-bars"))
            assert {dx: int(text.split()[0]) for dx, text in counts.items()} == firsts
            assert not teacher.find_elements(By.CSS_SELECTOR, ".engine-bars")
            assert reports[i]["summary"] not in teacher.find_element(By.ID, "screen").text
            for s in students.values():
                WebDriverWait(s, 15).until(lambda d: "Answers closed" in d.find_element(By.ID, "status").text)
                assert not s.find_element(By.ID, "answer").is_displayed()
                assert "wombat" not in s.find_element(By.ID, "results").text

            body.send_keys(Keys.ARROW_RIGHT)  # reveal the engine
            wait_t.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".engine-bars .row"))
            assert [dx for dx, _ in rows_of(teacher, ".engine-bars")] == order[:6]
            screen = teacher.find_element(By.ID, "screen").text
            assert reports[i]["summary"] in screen
            height = teacher.execute_script("return window.innerHeight")
            for selector in (".engine-bars", ".next", ".class-bars"):
                rect = teacher.execute_script(
                    "return document.querySelector(arguments[0]).getBoundingClientRect()", selector
                )
                assert rect["bottom"] <= height, f"{selector} below the fold at 1024×768"
            for nick, s in students.items():
                key = "aplastic_anemia" if i == len(orders) - 1 else None
                expected = score_stage(plans[nick][i], rankings[i], key)["points"]
                WebDriverWait(s, 15).until(
                    lambda d, i=i: d.find_elements(By.CSS_SELECTOR, f'.result[data-stage="{i}"]')
                )
                result = s.find_element(By.CSS_SELECTOR, f'.result[data-stage="{i}"]').text
                assert f"Your score: {expected} of {STAGE_MAX}" in result
                assert labels[order[0]] in result
                assert not s.find_element(By.ID, "answer-box").text

        body.send_keys(Keys.ARROW_RIGHT)  # the answer
        wait_t.until(lambda d: "Answer key: Aplastic anaemia" in d.find_element(By.ID, "left").text)
        totals = {}
        for nick, picks in plans.items():
            keys = [None] * (len(reports) - 1) + ["aplastic_anemia"]
            stages = zip(picks, rankings, keys, strict=True)
            totals[nick] = sum(score_stage(p, r, k)["points"] for p, r, k in stages)
        scores = teacher.find_element(By.CSS_SELECTOR, "table.scores").text
        maximum = STAGE_MAX * len(orders) + SUBTYPE_MAX  # no student answers the subtype here
        for nick, points in totals.items():
            assert f"{nick} {points} / {maximum}" in scores
        assert teacher.execute_script("return window.x") is None
        teacher.set_window_size(1920, 1080)
        wait_t.until(lambda d: d.execute_script("return window.innerWidth") > 1500)
        fits = "return document.querySelector(arguments[0]).getBoundingClientRect().bottom <= innerHeight;"
        wait_t.until(lambda d: d.execute_script(fits, "table.scores") and d.execute_script(fits, ".points"))
        for nick, s in students.items():
            WebDriverWait(s, 15).until(lambda d: "Total:" in d.find_element(By.ID, "answer-box").text)
            box = s.find_element(By.ID, "answer-box").text
            assert f"Total: {totals[nick]} of {maximum}" in box and "Answer key: Aplastic anaemia" in box
            others = [n for n in plans if n != nick]
            assert not any(n in s.find_element(By.TAG_NAME, "main").text for n in others)

        href = teacher.find_element(By.ID, "export-csv").get_attribute("href")
        with urllib.request.urlopen(href, timeout=10) as r:
            rows = list(csv.DictReader(io.StringIO(r.read().decode())))
        assert len(rows) == len(plans) * (len(orders) + 1)
        final = {r["nickname"]: int(r["points"]) for r in rows if r["stage"] == "total"}
        assert final == totals
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(href.split("?")[0], timeout=10)
        assert refused.value.code == 403
        refused.value.close()
    finally:
        stop(proc)
