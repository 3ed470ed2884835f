"""End to end: who may see patient ids, in a real browser on the sample clinic.

A ``leadership`` dashboard (the local default) is visited page by page: no patient surrogate id
appears in any page's DOM or in any CSV its download buttons give. A ``clinician`` dashboard shows
"My patients" with that clinician's rows only, and the screenshot of it is saved (what a
psychiatrist sees on Monday morning).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import duckdb
import pytest
import test_app_e2e as app_e2e

from dashboard.views import VIEWS

# the browser and screenshot-folder fixtures of the app's end-to-end test, shared
chromium_browser = app_e2e.chromium_browser
shots = app_e2e.shots
_free_port, _settle = app_e2e._free_port, app_e2e._settle

pytestmark = pytest.mark.e2e


def _serve(warehouse_path: Path, config: Path):  # type: ignore[no-untyped-def]
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "serve", "--db", str(warehouse_path), "--port",
         str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "OUTCOMES_CONFIG": str(config)})
    url = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).read() == b"ok":
                return process, url
        except OSError:
            time.sleep(0.5)
    process.terminate()
    pytest.fail("outcomes serve did not become healthy in 60 s")


@pytest.fixture(scope="module")
def patient_ids(warehouse_path: Path) -> list[str]:
    con = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        return con.sql("select patient_id from marts.dim_patients").pl()["patient_id"].to_list()
    finally:
        con.close()


def _ids_in(text: str, patient_ids: list[str]) -> set[str]:
    """The patient ids found anywhere in ``text``, also inside a longer word.

    Every id is a prefix without digits and a number of digits ("PT0000001", "PW000001"), so a
    regular expression of those shapes, tried at every position (a lookahead, so matches may
    overlap), finds every place an id could be: the same hits as testing each of the 2,015 ids
    with ``in``, which scanned each page's DOM 2,015 times.
    """
    parts = [re.fullmatch(r"([^0-9]*)([0-9]+)", i) for i in patient_ids]
    assert all(parts), "a patient id that is not a prefix and digits"
    shapes = sorted({(re.escape(m.group(1)), len(m.group(2))) for m in parts if m})
    pattern = re.compile("(?=(" + "|".join(f"{prefix}[0-9]{{{n}}}" for prefix, n in shapes) + "))")
    return set(pattern.findall(text)) & set(patient_ids)


def test_leadership_never_receives_a_patient_id(warehouse_path, chromium_browser, patient_ids,
                                                tmp_path):
    config = tmp_path / "outcomes.toml"
    config.write_text('[roles]\ndashboard = "leadership"\n')
    process, url = _serve(warehouse_path, config)
    try:
        page = chromium_browser.new_page(viewport={"width": 1280, "height": 1600},
                                         accept_downloads=True)
        for view in VIEWS:
            page.goto(url + ("/" if view.default else f"/{view.url_path}"))
            _settle(page)
            for expander in page.locator("[data-testid=stExpander] summary").all():
                expander.click()  # open every expander so hidden tables render too
            _settle(page)
            body = page.content()
            leaked = _ids_in(body, patient_ids)
            assert not leaked, (view.title, len(leaked))
            for button in page.locator("[data-testid=stDownloadButton] button").all():
                if not button.is_visible():  # a button in a tab not shown
                    continue
                # the button's text starts with its icon's ligature ("image\n\nPNG")
                if button.inner_text().split()[-1] in ("PNG", "SVG"):
                    # a chart image: drawn from the same aggregated frame as the page's CSV,
                    # which this loop reads; rendering each one in kaleido takes seconds
                    continue
                with page.expect_download() as info:
                    button.click()
                text = Path(info.value.path()).read_text(errors="replace")
                assert not _ids_in(text, patient_ids), view.title
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_a_clinician_sees_their_own_patients_on_my_patients(warehouse_path, chromium_browser,
                                                            tmp_path, shots):
    con = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        from queries.worklist import run_worklist

        rows = run_worklist(con, "not-on-track").frame
        others = run_worklist(con, "overdue-monitoring").frame
    finally:
        con.close()
    clinician = rows["clinician_id"].drop_nulls()[0]
    mine_rows = rows.filter(rows["clinician_id"] == clinician)
    mine = set(mine_rows["patient_id"])
    not_mine = set(rows.filter(rows["clinician_id"] != clinician)["patient_id"]) - mine
    not_mine |= set(others.filter(others["clinician_id"] != clinician)["patient_id"]) - set(
        others.filter(others["clinician_id"] == clinician)["patient_id"])
    config = tmp_path / "outcomes.toml"
    config.write_text(f'[roles]\ndashboard = "clinician"\ndashboard_clinician_id = "{clinician}"\n')
    process, url = _serve(warehouse_path, config)
    try:
        page = chromium_browser.new_page(viewport={"width": 1400, "height": 1200},
                                         accept_downloads=True)
        page.goto(url + "/my-patients")
        _settle(page)
        body = page.inner_text("body")
        # the list's size is in the heading; its rows are in the grid (a canvas) and the CSV
        assert f"Not on track: {len(mine_rows)} on " in body
        page.screenshot(path=str(shots / "my-patients-clinician.png"), full_page=True)
        with page.expect_download() as info:
            page.get_by_text("Download this list (CSV)").click()
        text = Path(info.value.path()).read_text()
        assert all(p in text for p in mine)
        assert not [p for p in not_mine if p in text]
    finally:
        process.terminate()
        process.wait(timeout=15)
