"""Results stored at load time (``queries.snapshots``, ``dashboard.precompute``) are the results of
the unit-level path: the same frame (counts, suppression flags, dtypes, column order exactly;
floats to the last bits DuckDB itself varies in) and the same metadata, for every metric the pages ask for under the default filters and under filters.

Two copies of the session warehouse: one with ``meta.metric_snapshots`` written the way
``outcomes ingest`` writes it, one without. Every request runs on both; on the first it must be
answered from the table (the aggregation functions are disabled there), on the second it is
computed from the marts.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

import queries
from queries import aggregate, qi, snapshots
from queries.access import user_for

#: Filtered variants recorded besides the stored requests (which cover every period of the
#: sidebar already): a site.
FILTERED = ({"site_id": "first"},)


def _read_only(path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to ``path``, for a ``with`` block (closed when it ends)."""
    return duckdb.connect(str(path), read_only=True)


def _filtered_requests(con, defaults):  # type: ignore[no-untyped-def]
    from dashboard import filters

    site = con.sql("select min(site_id) from marts.fct_treatment_episodes").fetchall()[0][0]
    out = []
    defaults = [r for r in defaults if r[1].period == filters.DEFAULT_PERIOD]  # one period is enough
    for change in FILTERED:
        if "period" in change:
            from queries.periods import completeness

            info = completeness(con)
            start, end = filters.period_dates(change["period"], (info.data_start, info.data_end), info)
            changed = {"start_date": start, "end_date": end}
        else:
            changed = {k: (site if v == "first" else v) for k, v in change.items()}
        out += [(name, dataclasses.replace(f, **changed), by, overrides) for name, f, by, overrides in defaults]
    # a breakdown by clinician: small cells, so suppressed and complementary cells are stored too
    out.append(("response", defaults[0][1], ("clinician_id",), {}))
    return out


@pytest.fixture(scope="module")
def two_warehouses(warehouse_path: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """(with snapshots, without, the requests recorded)."""
    from dashboard import precompute

    folder = tmp_path_factory.mktemp("snapshots")
    stored, plain = folder / "stored.duckdb", folder / "plain.duckdb"
    shutil.copy(warehouse_path, stored)
    shutil.copy(warehouse_path, plain)
    with duckdb.connect(str(stored)) as con:
        defaults = precompute.requests(con, sites=False)
        extra = _filtered_requests(con, defaults)
        # the defaults exactly as the load stores them (a site under the default period
        # included: those are not recorded here, so the comparison shows the load stored them),
        # plus the breakdown by clinician
        with snapshots.recording() as recorded:
            _run_all(con, [r for r in extra if r[1].site_id is None])
        count = precompute.precompute(con)
        snapshots.store(con, [*recorded, *_records(con)])
    return stored, plain, defaults + extra, count


def _records(con):  # type: ignore[no-untyped-def]
    """The rows precompute() wrote, back as records (store() replaces the table)."""
    rows = con.sql("select request_key, metric from meta.metric_snapshots").fetchall()
    out = []
    for key, name in rows:
        frame, meta = snapshots.lookup(con, key)
        out.append((key, name, frame, meta))
    return out


def _run(con, name, f, by, overrides):  # type: ignore[no-untyped-def]
    declared = queries.describe(name).params
    chosen = {k: v for k, v in f.query_filters().items() if k in declared}
    return queries.metric(con, name, by=by, filters=chosen, min_cell=11,
                          user=user_for(None, "dashboard"), **overrides)


def _run_all(con, requests):  # type: ignore[no-untyped-def]
    for request in requests:
        _run(con, *request)


def _same(a, b) -> None:  # type: ignore[no-untyped-def]
    """Counts, flags, labels and nulls exactly equal; floats to 1e-12 relative: DuckDB's parallel
    ``stddev_samp`` can differ in the last bit between two runs of the same query (seen on
    ``weight_change_12w``), so a stored sd is a unit-level result, not every run's bits."""
    assert a.frame.columns == b.frame.columns
    assert a.frame.schema == b.frame.schema
    assert_frame_equal(a.frame, b.frame, check_exact=False, rel_tol=1e-12, abs_tol=1e-15)
    for column in a.frame.columns:
        if not a.frame.schema[column].is_float():
            assert a.frame[column].equals(b.frame[column]), column
        assert a.frame[column].is_null().equals(b.frame[column].is_null()), column
    # the same metadata as JSON (the form it is stored in), but for when it was computed
    meta_a = {k: v for k, v in a.meta.items() if k not in ("computed_at", "curve")}
    meta_b = {k: v for k, v in b.meta.items() if k not in ("computed_at", "curve")}
    assert json.dumps(meta_a, sort_keys=True, default=str) == json.dumps(meta_b, sort_keys=True, default=str)
    if isinstance(a.meta.get("curve"), pl.DataFrame):
        assert_frame_equal(a.meta["curve"], b.meta["curve"], check_exact=False, rel_tol=1e-12)


def _all_same(requests, read, fresh) -> None:  # type: ignore[no-untyped-def]
    for request, a, b in zip(requests, read, fresh, strict=True):
        try:
            _same(a, b)
        except AssertionError as exc:
            raise AssertionError(f"{request[0]} by {request[2]} ({request[1]}): {exc}") from None


def _no_aggregation(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("computed from the marts, not read from meta.metric_snapshots")

    for kind in ("proportion", "mean", "survival", "count", "table"):
        monkeypatch.setattr(aggregate, kind, refuse)


def test_the_load_stores_every_default_request_of_the_pages(two_warehouses) -> None:  # type: ignore[no-untyped-def]
    stored, _, _, count = two_warehouses
    with _read_only(stored) as con:
        names = {row[0] for row in con.sql("select metric from meta.metric_snapshots").fetchall()}
    assert count > 0
    # the Overview's tiles and the QI page's measures are among them
    assert {"response", "remission", "adherence", "side_effects", "active_patients"} <= names
    assert set(qi.MEASURES) <= names


def test_stored_results_equal_the_unit_level_path(two_warehouses, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    stored, plain, requests, _ = two_warehouses
    with _read_only(plain) as computed:
        fresh = [_run(computed, *request) for request in requests]
    _no_aggregation(monkeypatch)
    with _read_only(stored) as con:
        read = [_run(con, *request) for request in requests]
    _all_same(requests, read, fresh)
    flags = [c for r in read for c in r.frame.columns if c.endswith("_suppressed") and r.frame[c].any()]
    assert flags, "no stored result holds a suppressed cell: the comparison would not cover them"


def test_quality_page_defaults_are_read_not_computed(two_warehouses, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    stored, plain, _, _ = two_warehouses
    from dashboard.qi_data import quarter_options

    with _read_only(plain) as computed:
        quarter = quarter_options(computed)[0]
        fresh = qi.measures_table(computed, qi.parse_period(quarter), filters=None, min_cell=11)
    _no_aggregation(monkeypatch)
    with _read_only(stored) as con:
        read = qi.measures_table(con, qi.parse_period(quarter), filters=None, min_cell=11)
    assert read.equals(fresh)


def test_a_site_filter_is_read_from_the_load_and_equals_the_live_path(two_warehouses, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """Under the default period with a site chosen, every page's request (the Overview's tiles,
    their previous period and trend, the by-class charts; ``precompute.requests``) and the
    Quality improvement page (measures table, series, funnel) are stored by the load itself, and
    what is read is the published result the live path computes (the same perturbed counts, the
    same suppressed cells)."""
    from dashboard import filters, precompute
    from dashboard.qi_data import quarter_options
    from queries.qi_funnel import measure_funnel

    stored, plain = two_warehouses[:2]
    with _read_only(plain) as computed:
        site = computed.sql("select min(site_id) from marts.fct_treatment_episodes").fetchall()[0][0]
        requests = [r for r in precompute.requests(computed) if r[1].site_id == site]
        assert {r[1].period for r in requests} == {filters.DEFAULT_PERIOD}
        assert {"response", "remission", "adherence", "side_effects", "active_patients"} <= {r[0] for r in requests}
        fresh = [_run(computed, *r) for r in requests]
        quarter = quarter_options(computed)[0]
        f = requests[0][1]
        window = {"start_date": f.start_date, "end_date": f.end_date, "site_id": site}

        def quality(con):  # type: ignore[no-untyped-def]
            name = qi.proportion_metrics()[0]
            try:
                funnel = measure_funnel(con, name, by="site_id", filters=window, adjust=False, min_cell=11)
            except qi.QIError as exc:  # one site is fewer than two units: the same refusal
                funnel = str(exc)
            return (qi.measures_table(con, qi.parse_period(quarter), filters={"site_id": site}, min_cell=11),
                    qi.measure_series(con, name, by="month", filters={"site_id": site}, min_cell=11), funnel)

        fresh_quality = quality(computed)
    _no_aggregation(monkeypatch)
    with _read_only(stored) as con:
        read = [_run(con, *r) for r in requests]
        read_quality = quality(con)
    _all_same(requests, read, fresh)
    assert read_quality[0].equals(fresh_quality[0])
    assert _untimed(read_quality[1]) == _untimed(fresh_quality[1])
    assert str(_untimed(read_quality[2])) == str(_untimed(fresh_quality[2]))


def _untimed(result):  # type: ignore[no-untyped-def]
    """A QI series or funnel without the time it was computed (a stored one: the load's)."""
    if dataclasses.is_dataclass(result) and isinstance(getattr(result, "meta", None), dict):
        return dataclasses.replace(result, meta={k: v for k, v in result.meta.items() if k != "computed_at"})
    return result


def test_the_clinician_pages_counts_and_scorecards_are_read_and_equal_the_live_path(two_warehouses, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """The worklist counts (My patients for leadership, Clinicians per clinician) and the
    Clinicians page's scorecards under a site: stored by the load, read without running a
    worklist, and the same published frames as the live path."""
    from queries import published_counts
    from queries.scorecards import clinician_scorecard

    stored, plain = two_warehouses[:2]

    def pages(con):  # type: ignore[no-untyped-def]
        site = con.sql("select min(site_id) from marts.fct_treatment_episodes").fetchall()[0][0]
        from dashboard import precompute

        f = next(r[1] for r in precompute.requests(con) if r[1].site_id == site)
        chosen = {k: v for k, v in f.query_filters().items() if v is not None}
        card = clinician_scorecard(con, "response", filters=chosen, min_cell=11)
        return (published_counts.worklist_counts(con, 11), published_counts.worklist_counts_by_clinician(con, 11),
                card.positions, card.trend, card.clinic_trend)

    with _read_only(plain) as computed:
        fresh = pages(computed)

    def refuse(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("a worklist was run, not read from meta.metric_snapshots")

    monkeypatch.setattr(published_counts, "_patient_rows", refuse)
    with _read_only(stored) as con:
        read = pages(con)
    for a, b in zip(read, fresh, strict=True):
        assert_frame_equal(a, b, check_exact=False, rel_tol=1e-12)
    assert read[1].height > 1  # a row per clinician


def test_every_period_of_the_sidebar_has_the_overview_stored(two_warehouses, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """A period change is answered from the table too: for each period the sidebar offers (the
    rolling periods, each calendar year of the data, all data), the Overview's response tile
    under that period's dates is read, not computed."""
    from dashboard import filters
    from queries.periods import completeness

    stored = two_warehouses[0]
    _no_aggregation(monkeypatch)
    with _read_only(stored) as con:
        info = completeness(con)
        span = (info.data_start, info.data_end)
        keys = filters.period_keys(span)
        assert keys[:3] == ["last_12m", "last_6m", "last_3m"] and keys[-1] == "all"
        assert keys[3:-1] == [str(y) for y in range(span[1].year, span[0].year - 1, -1)]
        for key in keys:
            start, end = filters.period_dates(key, span, info)
            _run(con, "response", filters.Filters(period=key, start_date=start, end_date=end), (), {})


def test_another_threshold_or_salt_is_computed_not_read(two_warehouses, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    stored, _, requests, _ = two_warehouses
    name, f, by, overrides = next(r for r in requests if r[0] == "response")
    _no_aggregation(monkeypatch)
    with _read_only(stored) as con:
        _run(con, name, f, by, overrides)  # stored: read
        declared = queries.describe(name).params
        chosen = {k: v for k, v in f.query_filters().items() if k in declared}
        with pytest.raises(AssertionError, match="computed from the marts"):
            queries.metric(con, name, by=by, filters=chosen, min_cell=20, **overrides)
    shutil.copy(stored, stored.with_name("resalted.duckdb"))
    with duckdb.connect(str(stored.with_name("resalted.duckdb"))) as resalted:
        resalted.execute("update meta.cell_key set value = 'another salt' where key = 'salt'")
        with pytest.raises(AssertionError, match="computed from the marts"):
            _run(resalted, name, f, by, overrides)


def test_a_new_load_starts_without_the_previous_loads_results(two_warehouses, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Each load builds from a copy of the live warehouse, salt included, so the previous load's
    keys would match the new data's requests: they are dropped when the load starts."""
    from pipelines.meta import create_meta

    stored = two_warehouses[0]
    copy = tmp_path / "next-load.duckdb"
    shutil.copy(stored, copy)
    with duckdb.connect(str(copy)) as con:
        create_meta(con)
        assert snapshots.lookup(con, "any") is None
        left = con.sql("select count(*) from information_schema.tables "
                       "where table_schema = 'meta' and table_name = 'metric_snapshots'").fetchall()
        assert left == [(0,)]


def test_two_stages_store_what_one_stage_stores_unless_a_newer_load_came(two_warehouses, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A large clinic's load stores the default period's results (``first_only``), publishes,
    and ``complete`` adds the other periods and the sites on the published file: the same
    requests as a one-stage load, the first stage's among them. On a file that a newer load has
    replaced since (another identity) it stores nothing and leaves the file as it was."""
    from dashboard import precompute

    plain, one_stage = two_warehouses[1], two_warehouses[3]
    live = tmp_path / "live.duckdb"
    shutil.copy(plain, live)
    with duckdb.connect(str(live)) as con:
        first = precompute.precompute(con, first_only=True)
        first_keys = {k for (k,) in con.sql("select request_key from meta.metric_snapshots").fetchall()}
    before = live.read_bytes()
    assert precompute.complete(live, "0:0") is None
    assert live.read_bytes() == before
    assert precompute.complete(live, precompute.identity(live)) == one_stage
    with _read_only(live) as con:
        keys = {k for (k,) in con.sql("select request_key from meta.metric_snapshots").fetchall()}
    assert 0 < first < one_stage and first_keys < keys and len(keys) == one_stage
    assert not (tmp_path / "live.duckdb.tmp").exists()


def test_the_two_stages_start_at_the_configured_number_of_patients(warehouse_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dashboard import precompute

    with _read_only(warehouse_path) as con:
        patients = con.sql("select count(*) from marts.dim_patients").fetchall()[0][0]
        monkeypatch.setattr(precompute, "BACKGROUND_FROM_PATIENTS", patients)
        assert precompute.needs_background(con)
        monkeypatch.setattr(precompute, "BACKGROUND_FROM_PATIENTS", patients + 1)
        assert not precompute.needs_background(con)


def test_scale_completeness_is_read_from_the_load_and_equals_the_live_path(two_warehouses, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """The Data & loads page's table that reads every score is stored as published, for an
    analyst (exact counts, 1-10 hidden) and for every other role (content-key perturbed): both
    read back equal to what the live path publishes, without running the query."""
    from queries import loader
    from queries.published_counts import stored_data_quality_table

    stored, plain = two_warehouses[0], two_warehouses[1]
    with _read_only(plain) as computed:
        fresh = {exact: stored_data_quality_table(computed, "scale_completeness", 11, exact=exact)
                 for exact in (True, False)}

    def refuse(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("ran the data-quality query instead of reading the load's result")

    monkeypatch.setattr(loader, "run", refuse)
    with _read_only(stored) as con:
        for exact in (True, False):
            frame, formats = stored_data_quality_table(con, "scale_completeness", 11, exact=exact)
            assert_frame_equal(frame, fresh[exact][0])
            assert formats == fresh[exact][1] and formats["scores"] == "count"
    assert not fresh[True][0].equals(fresh[False][0]), "the two audiences' tables should differ (perturbation)"


def test_the_compare_pages_default_baselines_are_read_from_the_load(two_warehouses, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """Compare regimens opens on the two drugs with the most episodes (the response metric by
    drug) and shows each one's baseline table: both are stored and read back as computed."""
    from dashboard import precompute
    from dashboard.comparisons import candidate_groups

    stored, plain = two_warehouses[0], two_warehouses[1]
    with _read_only(plain) as computed:
        f = precompute.default_filters(computed)
        response = _run(computed, "response", f, ("drug",), {})
        drugs = candidate_groups(response.frame, "drug")[:2]
        requests = [("baseline_characteristics", dataclasses.replace(f, drug=d), (), {}) for d in drugs]
        fresh = [_run(computed, *r) for r in requests]
    assert len(drugs) == 2
    _no_aggregation(monkeypatch)
    with _read_only(stored) as con:
        read = [_run(con, *r) for r in requests]
    _all_same(requests, read, fresh)
