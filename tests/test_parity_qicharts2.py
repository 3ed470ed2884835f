"""Parity with qicharts2 0.8.1: every point's centre line, limits and signals, and the
``summary(qic(...))`` row of each part, for the cases in tests/parity/reference.py.

Always compared with the values qicharts2 printed (tests/parity/qicharts2_cases.json, with the
commit, R version and R code); re-run live when ``Rscript`` and a qicharts2 checkout are
available. The cases cover the g chart with freeze/exclude, the mr chart's 95% line, Nelson
screening on i and Laney p'/u' charts, freeze with part, and NA where qicharts2 says NA.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from parity_support import reference, same, stored

from stats import spc

STORED = stored("qicharts2_cases.json")
CASES = {case["name"]: case for case in STORED["cases"]}
POINT_FIELDS = {"y": "y", "cl": "cl", "lcl": "lcl", "lcl.95": "lcl95", "ucl.95": "ucl95",
                "ucl": "ucl"}


def product_chart(case: dict) -> spc.SPCChart:
    return spc.qic(case["y"], case.get("n"), chart=case["chart"], freeze=case.get("freeze"),
                   part=case.get("part"), exclude=case.get("exclude"),
                   screened_mr=bool(case.get("screened_mr")))


def assert_matches(chart: spc.SPCChart, expected: dict) -> None:
    points = expected["points"]
    assert len(points) == len(chart.y)
    for i, point in enumerate(points):
        for r_name, attribute in POINT_FIELDS.items():
            value = float(getattr(chart, attribute)[i])
            assert same(value, point[r_name]), f"point {i + 1} {r_name}: {value} != {point[r_name]}"
        assert int(chart.part[i]) == point["part"]
        assert bool(chart.sigma_signal[i]) is point["sigma.signal"], f"point {i + 1} sigma.signal"
        assert bool(chart.runs_signal[i]) is point["runs.signal"], f"point {i + 1} runs.signal"
    summary = chart.summary()
    assert len(summary) == len(expected["summary"])
    for ours, theirs in zip(summary, expected["summary"], strict=True):
        for column, value in theirs.items():
            if column == "runs.signal":  # R's max() of logicals is 0/1
                assert ours[column] is bool(value)
            else:
                assert same(ours[column], value), f"part {theirs['part']} {column}"


def test_stored_cases_are_the_case_list():
    """The JSON holds exactly the cases reference.py defines (rerun it after editing them)."""
    inputs = [{k: v for k, v in c.items() if k not in ("r_code", "points", "summary")}
              for c in STORED["cases"]]
    assert inputs == reference.QIC_CASES
    assert reference.QICHARTS2_COMMIT in STORED["reference"]


@pytest.mark.parametrize("name", list(CASES))
def test_matches_values_printed_by_qicharts2(name):
    assert_matches(product_chart(CASES[name]), CASES[name])


def test_headline_cases_of_issue_15():
    """Read straight from qicharts2's output, the fixed behaviours: g centre line 3 (median of
    the six frozen points 3,1,4,2,5,3), not 4.5 (median of all ten); mr 95% line
    (3.267/3)·2·MR̄ = 2.178·MR̄; freeze ignored with part (i chart part 1 = 1,2,3,4: CL 2.5)."""
    assert CASES["g_freeze"]["summary"][0]["CL"] == 3
    mr = CASES["mr_plain"]["summary"][0]
    assert mr["aUCL.95"] == pytest.approx(3.267 / 3 * 2 * mr["CL"])
    assert CASES["i_freeze_part"]["points"][0]["cl"] == 2.5
    assert product_chart(CASES["i_freeze_part"]).options["freeze_ignored_with_part"] is True


@pytest.fixture(scope="module")
def live_qicharts2():
    if reference.rscript() is None:
        pytest.skip("Rscript is not installed")
    with tempfile.TemporaryDirectory() as tmp:
        source = reference.qicharts2_source(Path(tmp))
        if source is None:
            pytest.skip("no qicharts2 checkout (set QICHARTS2_SRC or QICHARTS2_GIT)")
        return reference.compute_qic(reference.QIC_CASES, source)


@pytest.mark.parametrize("name", list(CASES))
def test_matches_qicharts2_run_live(live_qicharts2, name):
    live = live_qicharts2[name]
    assert_matches(product_chart(CASES[name]), live)
    assert live["points"] == CASES[name]["points"] and live["summary"] == CASES[name]["summary"]
