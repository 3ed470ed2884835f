"""Cell-key perturbation (stats/cell_key.py, queries/cell_keys.py): the table, consistency across
views, small counts hidden and nothing more, figures derived from what is shown."""

from __future__ import annotations

import duckdb
import polars as pl
import pytest

from queries.engine import metric
from stats import cell_key


def test_perturbation_table_is_zero_mean_bounded_and_uses_every_key_once() -> None:
    noises = [cell_key.noise(50, key) for key in range(cell_key.KEY_BASE)]
    assert sum(noises) == 0  # symmetric: 38 keys give -2 and 38 give +2, 51 give -1 and 51 +1
    assert max(abs(n) for n in noises) == 2
    assert [noises.count(v) for v in (-2, -1, 0, 1, 2)] == [38, 51, 78, 51, 38]


def test_an_empty_cell_stays_zero_and_a_non_empty_one_never_reaches_zero() -> None:
    assert all(cell_key.perturb(0, key) == 0 for key in range(256))
    assert all(cell_key.perturb(1, key) >= 1 for key in range(256))
    assert cell_key.perturb(None, 3) is None


def test_chance_that_a_route_is_exact() -> None:
    # one noisy cell: noise 0 on 78 of 256 keys
    assert cell_key.chance_exact(1) == pytest.approx(78 / 256)
    # two: the noises cancel when they are equal in size and opposite (the law is symmetric)
    two = (2 * 38 * 38 + 2 * 51 * 51 + 78 * 78) / 256**2
    assert cell_key.chance_exact(2) == pytest.approx(two)
    assert cell_key.chance_exact(0) == 1.0


def test_the_same_units_show_the_same_value_in_every_view(warehouse) -> None:  # type: ignore[no-untyped-def]
    """ADHD-medication episodes aged 26-44: by age band filtered to the class, and by class
    filtered to the age band, are the same units, so the same published count."""
    by_age = metric(warehouse, "response", by="age_band", filters={"drug_class": "adhd_medication"}).frame
    by_class = metric(warehouse, "response", by="drug_class", filters={"age_band": "26-44"}).frame
    a = by_age.filter(pl.col("age_band") == "26-44")
    b = by_class.filter(pl.col("drug_class") == "adhd_medication")
    for col in ("episodes", "with_baseline", "eligible", "assessed", "responders"):
        assert a[col][0] == b[col][0], col


def test_published_counts_are_within_two_of_the_truth_and_rates_come_from_them(warehouse) -> None:  # type: ignore[no-untyped-def]
    shown = metric(warehouse, "response", by="drug").frame
    exact = metric(warehouse, "response", by="drug", min_cell=0).frame
    joined = shown.join(exact, on="drug", suffix="_true", nulls_equal=True)
    moved = 0
    for row in joined.iter_rows(named=True):
        for col in ("episodes", "eligible", "responders"):
            if row[col] is not None:
                assert abs(row[col] - row[f"{col}_true"]) <= 2
                moved += row[col] != row[f"{col}_true"]
        if row["rate"] is not None:
            assert row["rate"] == pytest.approx(row["numerator"] / row["denominator"])
            assert row["numerator"] <= row["denominator"]
    assert moved > 0  # the counts are perturbed, not exact


def test_a_small_attrition_step_hides_itself_not_the_headline(warehouse) -> None:  # type: ignore[no-untyped-def]
    """Rows whose numerator and denominator are at least 11 (true and shown) keep them visible
    even when a step between them (without follow-up, ineligible ...) is 1-10."""
    shown = metric(warehouse, "response", by="drug").frame
    exact = metric(warehouse, "response", by="drug", min_cell=0).frame
    joined = shown.join(exact, on="drug", suffix="_true", nulls_equal=True)
    steps = ("without_baseline", "ineligible_baseline", "without_follow_up")
    found = 0
    for row in joined.iter_rows(named=True):
        small_step = any(1 <= row[f"{s}_true"] <= 10 for s in steps)
        large = all(row[f"{c}_true"] >= 13 for c in ("responders", "eligible"))  # 13 - 2 >= 11
        if small_step and large:
            found += 1
            assert row["numerator"] is not None and row["denominator"] is not None, row["drug"]
            assert all(row[s] is None for s in steps if 1 <= row[f"{s}_true"] <= 10)
    assert found, "the sample clinic has no drug with a small step and a large headline"


def test_a_count_of_1_to_10_is_hidden_even_when_noise_lifts_it(warehouse) -> None:  # type: ignore[no-untyped-def]
    shown = metric(warehouse, "episodes", by=("drug", "age_band")).frame
    exact = metric(warehouse, "episodes", by=("drug", "age_band"), min_cell=0).frame
    joined = shown.join(exact, on=["drug", "age_band"], suffix="_true", nulls_equal=True)
    small = joined.filter(pl.col("episodes_true").is_between(1, 10))
    assert small.height and small["episodes"].is_null().all()
    visible = joined["episodes"].drop_nulls()
    assert ((visible == 0) | (visible >= 11)).all()


def test_method_and_parameters_are_recorded_and_min_cell_zero_is_exact(warehouse) -> None:  # type: ignore[no-untyped-def]
    result = metric(warehouse, "response")
    assert "cell-key perturbation" in result.meta["suppression"]
    assert result.meta["perturbation"]["max_noise"] == 2
    assert "salt" not in str(result.meta)
    off = metric(warehouse, "response", min_cell=0)
    assert off.meta["perturbation"] is None and "OFF" in off.meta["suppression"]


def test_a_warehouse_without_a_salt_falls_back_to_per_view_suppression(warehouse_path, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import shutil

    copy = tmp_path / "old.duckdb"
    shutil.copyfile(warehouse_path, copy)
    con = duckdb.connect(str(copy))
    con.execute("drop table meta.cell_key")
    result = metric(con, "response", by="drug_class")
    con.close()
    assert result.meta["perturbation"] is None
    assert "complementary" in result.meta["suppression"]


def test_the_salt_is_kept_across_loads(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from pipelines.meta import create_meta

    db = tmp_path / "w.duckdb"
    con = duckdb.connect(str(db))
    create_meta(con)
    first = con.sql("select value from meta.cell_key").fetchall()
    create_meta(con)  # the next load runs on a copy of the live file
    assert con.sql("select value from meta.cell_key").fetchall() == first
    assert len(first) == 1 and len(first[0][0]) == 64
    con.close()


def test_the_suppression_note_links_to_the_privacy_page(monkeypatch, warehouse_path) -> None:  # type: ignore[no-untyped-def]
    from test_dashboard_pages import _page

    from dashboard.views import PRIVACY_URL_PATH, VIEWS

    overview = next(v for v in VIEWS if v.file == "response.py")
    at = _page(monkeypatch, warehouse_path, overview)
    notes = [c.value for c in at.caption if "perturbed" in c.value]
    assert notes and f"]({PRIVACY_URL_PATH})" in notes[0]
    privacy = _page(monkeypatch, warehouse_path, next(v for v in VIEWS if v.url_path == PRIVACY_URL_PATH))
    text = " ".join(m.value for m in privacy.markdown)
    assert "Threat model" in text and "cell-key" in text.lower()
