"""The interactive view in a real browser: headless Chromium (the system's ``chromium``
and ``chromium-driver`` packages; .ci/run installs them) driven by selenium."""

from __future__ import annotations

import shutil

from pathlib import Path

import pytest

from paxsim import load_scenario, run_scenario
from paxsim.diagram.html import write_view
from paxsim.figures import SCENARIO_DIR


from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

# "fig12b" in these tests: the old, busy Fig. 12b (12 requests, 3 clients), kept as test data
BUSY = Path(__file__).parent / "data" / "busy5.toml"

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")


@pytest.fixture(scope="module")
def browser():
    if not (CHROMIUM and DRIVER):
        pytest.fail("headless Chromium is needed: apt-get install -y chromium chromium-driver")
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1440,900"):
        opts.add_argument(a)
    opts.binary_location = CHROMIUM
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(service=Service(DRIVER), options=opts)
    yield drv
    drv.quit()


@pytest.fixture(scope="module")
def views(tmp_path_factory):
    folder = tmp_path_factory.mktemp("views")
    out = {}
    for name in ("fig05", "fig12b"):
        r = run_scenario(load_scenario(BUSY if name == "fig12b" else SCENARIO_DIR / f"{name}.toml"))
        path = folder / f"{name}.html"
        write_view(r, str(path))
        out[name] = (path, r, list(r.trace.records()))
    r = out["fig12b"][1]                  # a window of a long run: S1 is down, S2 cut off all along
    path = folder / "fig12b-window.html"
    write_view(r, str(path), t_from=30, t_to=40, only=["C1", "S1", "S2", "S3"])
    out["fig12b-window"] = (path, r, out["fig12b"][2])
    return out


def _open(browser, views, name):
    path, r, recs = views[name]
    browser.get(path.as_uri())
    browser.get_log("browser")          # start each page with an empty console
    return r, recs


def _empty(box) -> None:
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(Keys.DELETE)          # (clear() would fire no input event)


def _arrows(browser) -> list[int]:
    return browser.execute_script(          # one round trip, not one per arrow
        "return [...document.querySelectorAll('#dia line.arrow')].map(e => +e.dataset.i)")


@pytest.mark.parametrize("name", ["fig05", "fig12b", "fig12b-window"])
def test_page_loads_without_console_errors(browser, views, name):
    path, _, _ = views[name]
    browser.get(path.as_uri())
    errors = [l for l in browser.get_log("browser") if l["level"] in ("SEVERE", "WARNING")]
    assert not errors, errors
    assert browser.execute_script("return typeof window.paxview") == "object"


@pytest.mark.parametrize("name", ["fig05", "fig12b"])
def test_lanes_and_arrows_match_the_trace(browser, views, name):
    r, recs = _open(browser, views, name)
    lanes = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#heads .lane")]
    clients = [c.name for c in r.scenario.clients]
    assert lanes == sorted(clients, key=lambda c: int(c[1:])) + list(r.scenario.servers)
    messages = [x for x in recs if x["ev"] in ("deliver", "drop")]
    shown = sorted(_arrows(browser))
    assert shown == sorted(x["i"] for x in messages if x.get("type") != "HB")     # heartbeats hidden by default
    lost = browser.find_elements(By.CSS_SELECTOR, "#dia .lostx")
    assert len(lost) == sum(1 for x in messages if x["ev"] == "drop" and x.get("type") != "HB")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#dia .crash")) == sum(x["ev"] == "crash" for x in recs)
    assert len(browser.find_elements(By.CSS_SELECTOR, "#dia rect.band")) == sum(x["ev"] == "partition" for x in recs)
    browser.find_element(By.CSS_SELECTOR, '#f-types input[data-k="HB"]').click()
    assert sorted(_arrows(browser)) == sorted(x["i"] for x in messages)


def test_cursor_steps_and_jumps_to_the_violation(browser, views):
    r, recs = _open(browser, views, "fig05")
    body = browser.find_element(By.TAG_NAME, "body")
    first = browser.execute_script("return paxview.cursorIndex()")
    body.send_keys(Keys.ARROW_RIGHT)
    second = browser.execute_script("return paxview.cursorIndex()")
    assert second > first
    body.send_keys(Keys.SPACE)
    assert browser.execute_script("return paxview.cursorIndex()") > second
    body.send_keys(Keys.END)
    last = browser.execute_script("return paxview.cursorIndex()")
    body.send_keys(Keys.HOME)
    assert browser.execute_script("return paxview.cursorIndex()") == first < last
    # the checker's conflicting replies: jump to each, the panel shows what the trace says
    v = next(v for v in r.verdict.violations if v.invariant == "prefix_chain")
    links = browser.find_elements(By.CSS_SELECTOR, "#violations li:first-child a.jump")
    assert len(links) == len(v.positions)
    for link, pos in zip(links, v.positions):
        link.click()
        assert browser.execute_script("return paxview.cursorIndex()") == pos
        reply = recs[pos]
        assert f"<{reply['state']}>" in browser.find_element(By.ID, "cur-ev").text
        srv = reply["src"]
        panel = browser.find_element(By.CSS_SELECTOR, f'#side .srv[data-pid="{srv}"]').text
        crashed = any(x["ev"] == "crash" and x["src"] == srv and x["i"] <= pos for x in recs)
        executed = [x["state"] for x in recs if x["ev"] == "execute" and x["src"] == srv and x["i"] <= pos]
        if crashed:
            assert "(crashed)" in panel
        else:
            assert f"executed {executed[-1]}" in panel
        assert "conflicting reply" in panel
        client = browser.find_element(By.CSS_SELECTOR, f'#side .cli[data-pid="{reply["dst"]}"]').text
        assert f"{reply['m']}→<{reply['state']}> from {srv}" in client
    # S2 went alone and suspects S1, as its state says at that moment
    s2 = browser.find_element(By.CSS_SELECTOR, '#side .srv[data-pid="S2"]').text
    assert "suspects [S1]" in s2 and "alone yes" in s2


def test_filters_hide_what_they_should(browser, views):
    r, recs = _open(browser, views, "fig12b")
    by_i = {x["i"]: x for x in recs}
    box = browser.find_element(By.ID, "f-m")
    box.send_keys("m5")
    shown = _arrows(browser)
    assert shown and all(by_i[i].get("m") == "m5" or "m5" in (by_i[i].get("m") or []) for i in shown)
    _empty(box)
    assert len(_arrows(browser)) > len(shown)
    slot = browser.find_element(By.ID, "f-slot")
    slot.send_keys("2-3")
    shown = _arrows(browser)
    assert shown and all(by_i[i].get("slot") in (2, 3) for i in shown)
    _empty(slot)
    browser.find_element(By.CSS_SELECTOR, '#f-procs input[data-k="S2"]').click()
    lanes = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#heads .lane")]
    assert "S2" not in lanes and len(lanes) == 7
    shown = _arrows(browser)
    assert shown and all("S2" not in (by_i[i]["src"], by_i[i]["dst"]) for i in shown)
    browser.find_element(By.CSS_SELECTOR, '#f-types input[data-k="LRN"]').click()
    shown = _arrows(browser)
    assert shown and all(by_i[i].get("type") != "LRN" for i in shown)


def test_a_window_starts_with_what_holds_at_its_start(browser, views):
    _, recs = _open(browser, views, "fig12b-window")
    lanes = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#heads .lane")]
    assert lanes == ["C1", "S1", "S2", "S3"]
    shown = _arrows(browser)
    by_i = {x["i"]: x for x in recs}
    assert shown and all(by_i[i]["t"] >= 30 and by_i[i]["src"] in lanes and by_i[i]["dst"] in lanes for i in shown)
    assert len(browser.find_elements(By.CSS_SELECTOR, "#dia rect.band")) == 1       # S2 still cut off
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.HOME)
    assert "(crashed)" in browser.find_element(By.CSS_SELECTOR, '#side .srv[data-pid="S1"]').text
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.END)
    assert "(crashed)" not in browser.find_element(By.CSS_SELECTOR, '#side .srv[data-pid="S1"]').text   # back at 35
