"""QI series, measures table, funnels and the database mode of ``outcomes spc``/``funnel``.

Hand-made warehouses pin the arithmetic (a denominator of 12 in one month, 3 in another); the
session warehouse (sample_data, built once) checks the commands end to end.
"""

from __future__ import annotations

import datetime as dt
import json
import math

import duckdb
import pytest
from test_models_support import Warehouse

from cli.main import main
from queries import qi
from queries.qi_funnel import measure_funnel


def test_periods_parse_and_step_back():
    q3 = qi.parse_period("2025-Q3")
    assert (q3.start, q3.end) == (dt.date(2025, 7, 1), dt.date(2025, 9, 30))
    assert q3.previous().label == "2025-Q2"
    assert qi.parse_period("2025-Q1").previous().label == "2024-Q4"
    assert qi.parse_period("2024-02").end == dt.date(2024, 2, 29)
    assert qi.parse_period("2025-01").previous().label == "2024-12"
    assert qi.parse_period("2024").previous().end == dt.date(2023, 12, 31)
    with pytest.raises(qi.QIError, match="2025-Q3"):
        qi.parse_period("Q3 2025")


def test_a_phase_starts_with_the_period_holding_the_intervention():
    months = ["2024-01", "2024-02", "2024-03", "2024-04"]
    # 15 March starts a new phase with March: part break after point 2
    assert qi.phase_breaks(months, "month", [dt.date(2024, 3, 15)]) == [2]
    # before the first or after the last period: no break; two dates in one month: one break
    assert qi.phase_breaks(months, "month", [dt.date(2023, 6, 1), dt.date(2025, 1, 1)]) == []
    assert qi.phase_breaks(months, "month", [dt.date(2024, 2, 1), dt.date(2024, 2, 20)]) == [1]
    assert qi.phase_breaks(["2024-Q1", "2024-Q2"], "quarter", [dt.date(2024, 5, 1)]) == [1]


def _followup_clinic() -> Warehouse:
    """January: 12 new starts, 9 seen within 30 days. February: 3 new starts, all seen."""
    warehouse = Warehouse()
    for i in range(15):
        pid = f"P{i:02d}"
        warehouse.patient(pid)
        start = 0 if i < 12 else 35
        warehouse.fill(pid, "sertraline", start)
        if i < 9 or i >= 12:
            warehouse.visit(pid, start + 14)
    warehouse.build()
    return warehouse


def test_series_leaves_out_suppressed_periods_and_names_them():
    warehouse = _followup_clinic()
    series = qi.measure_series(warehouse.con, "followup_30d_new_rx", by="month", min_cell=0)
    assert (series.x, series.events, series.n) == (["2024-01", "2024-02"], [9, 3], [12, 3])
    # at the default threshold February (3 of 3) is hidden; January's 9 of 12 would reveal it
    # through the published total (15), so the complementary rule hides January too
    hidden = qi.measure_series(warehouse.con, "followup_30d_new_rx", by="month")
    assert hidden.x == [] and hidden.suppressed == ["2024-01", "2024-02"]


def test_measures_table_compares_with_the_previous_period_in_percentage_points():
    warehouse = _followup_clinic()
    table = qi.measures_table(
        warehouse.con, qi.parse_period("2024-02"), min_cell=0, names=("followup_30d_new_rx",)
    )
    row = table.row(0, named=True)
    assert (row["this_numerator"], row["this_denominator"]) == (3, 3)
    assert (row["previous_numerator"], row["previous_denominator"]) == (9, 12)
    assert row["change_pp"] == pytest.approx(25.0)  # 100% - 75%
    assert row["meets_target"] is True and row["direction"] == "higher"
    assert qi.top_changes(table).row(0, named=True)["better"] is True


def test_measures_table_hides_small_counts_and_their_change():
    warehouse = _followup_clinic()
    row = qi.measures_table(
        warehouse.con, qi.parse_period("2024-02"), names=("followup_30d_new_rx",)
    ).row(0, named=True)
    assert row["this_numerator"] is None and row["this_numerator_suppressed"] is True
    assert row["change_pp"] is None and row["meets_target"] is None


def test_a_non_proportion_metric_is_refused_by_name():
    warehouse = Warehouse()
    warehouse.build()
    with pytest.raises(qi.QIError, match="episodes is a count metric"):
        qi.measure_series(warehouse.con, "episodes")


# --------------------------------------------------------------------------- session warehouse


def test_funnel_never_shows_figures_of_a_suppressed_unit(warehouse_path):
    con = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        try:
            crude = measure_funnel(con, "dms_phq9_monitoring", by="site_id")
        except qi.QIError:
            pytest.skip("the session warehouse has fewer than 2 sites large enough to show")
        shown = {u["unit"] for u in crude.result.units}
        assert not shown & set(crude.suppressed)
        assert all((u["n"] >= 11 and u["events"] >= 11) or u["events"] == 0 for u in crude.result.units)
        assert all(u["n"] - u["events"] >= 11 or u["n"] == u["events"] for u in crude.result.units)
    finally:
        con.close()


def test_qi_page_funnel_draws_exact_limits(warehouse_path):
    """The QI page's funnel (measure_funnel, then the shared funnel_chart figure) draws its four
    exact-limit contours with a finite value at every grid point."""
    from charts import funnel_chart

    con = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        try:
            crude = measure_funnel(con, "dms_phq9_monitoring", by="site_id")
        except qi.QIError:
            pytest.skip("the session warehouse has fewer than 2 sites large enough to show")
    finally:
        con.close()
    assert crude.result.method == "exact"
    contours = [t for t in funnel_chart(crude, "PHQ-9 monitoring").data
                if t.legendgroup in ("dash", "dot")]
    assert len(contours) == 4
    assert all(v is not None and math.isfinite(v) for t in contours for v in t.y)


def test_outcomes_spc_metric_json_has_points_and_signals(warehouse_path, capsys):
    code = main(["spc", "--db", str(warehouse_path), "--metric", "dms_phq9_monitoring",
                 "--by", "quarter", "--chart", "p", "--format", "json"])
    out = capsys.readouterr()
    if code == 2 and "at least 2" in out.err:
        pytest.skip("the fallback extract is too small for a quarterly chart")
    assert code == 0, out.err
    payload = json.loads(out.out)
    assert payload["chart"] == "p" and len(payload["points"]) >= 2
    assert all(p["n"] >= 11 for p in payload["points"])


def test_outcomes_funnel_adjusted_and_refusals(warehouse_path, capsys):
    code = main(["funnel", "--db", str(warehouse_path), "--metric", "drr_response", "--by",
                 "site_id", "--adjust", "--format", "json"])
    out = capsys.readouterr()
    if code == 0:
        payload = json.loads(out.out)
        assert payload["adjusted"] is True and payload["scale"] == "ratio"
        assert "severity_band" in payload["strata"]
    else:
        assert "fewer than 2 units" in out.err
    assert main(["funnel", "--db", str(warehouse_path), "--metric", "nope", "--by", "site_id"]) == 2
    assert "unknown metric 'nope'" in capsys.readouterr().err
    assert main(["spc", "--db", str(warehouse_path), "--metric", "amm_acute", "--where", "x"]) == 2
    assert "KEY=VALUE" in capsys.readouterr().err
    assert main(["spc", "--db", "/nonexistent/w.duckdb", "--metric", "amm_acute"]) == 2
    assert "no warehouse file" in capsys.readouterr().err
