"""The differencing attack of issue 16, run against every metric: no hidden count comes back.

**The attacker** sees every published figure (CLI JSON, dashboard tiles and CSVs) under any
single filter or pair of filters (``--where`` on site, clinician, diagnosis group, age band,
sex, drug class, drug) and any grouping. For a hidden cell ``S`` (a count whose true value is
1-10, e.g. response episodes with drug_class=adhd_medication, age_band=45-64) they write it as
a published total minus published cells along every available route:

* **direct**: the margin ``T(F)`` minus the other cells of the view ``(F, by D)``
  (``S = F + {D=v}``), for every way of splitting ``S`` into filters ``F`` and a grouping ``D``
  (this is the issue's route: 243 - 63 - 61 - 111 = 8);
* **through a third dimension E**: the same, with each other cell read as the sum of its
  cells by ``E`` (``F + {D=u}`` by ``E``, from other filtered views), and with the margin read
  either as ``T(F)`` or as the sum of the cells of ``(F, by E)``.

A route is usable when every term it needs is published (a hidden term is unknown). Cells are
read from grouped results: ``by=(D, A, B)`` gives the views ``(F={A=a, B=b}, by D)`` because the
published value of a cell depends only on its set of units (cell-key perturbation; rule 1
decides from the true and the published count of that set). ``test_filtered_views_equal_the_
grouped_cells`` checks that claim through the CLI's JSON (in process and as a subprocess) and
the dashboard's tile/CSV functions, so the sweep may read the grouped results.

**Recovered**, for a perturbation method, is defined as follows. Every published non-zero count
carries noise from -2 to +2 (``stats.cell_key``), so a route over ``t`` published cells hits the
true value exactly only by chance, with probability ``chance_exact(t)`` (0.30 for one cell,
0.22 for two ...), and the attacker cannot tell which routes hit. We assert:

1. **No confirmation**: a hidden cell counts as recovered if at least two routes over different
   published cells all give its true value (the attacker could then confirm it). The number of
   such cells may not exceed what chance alone gives (the sum over cells of the smallest route
   chance, plus four standard deviations).
2. **No better than chance per route**: the share of usable routes that give the true value is
   at most the chance rate computed from the perturbation table for those routes (plus four
   standard deviations), and far below the 100% of unperturbed counts.
3. **The attack is real**: with the per-view method that preceded perturbation
   (``perturb=False``), the issue's route recovers the hidden count exactly
   (``test_the_issue_route_no_longer_gives_the_hidden_count``).

Coverage, on the sample clinic and on a generated one: every grouped metric (proportion, mean,
survival, count), every count column, every single filter and every pair of filters on all seven
dimensions (each view ``(F, by D)`` with up to two filters: every grouping of up to three
dimensions); fixed-grain tables by single filters; worklist counts across sites and clinicians
(``test_worklist_counts_resist_differencing_across_sites_and_clinicians``). The third dimension
of a route is one of the few-valued dimensions.

Cost: one ``queries.metric`` call per grouping (64 per metric); the true value of each cell is
the one the suppression rule itself receives in that call (``_true_counts_seen``), and the
routes are sums kept per view, so the sweep's time is the metric calls.

With ``--min-cell 0`` counts are exact: they equal a recount of the metric's unit rows.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import threading
from collections import defaultdict
from contextlib import contextmanager
from itertools import combinations
from pathlib import Path

import duckdb
import polars as pl
import pytest
from conftest import REPO, fix_cell_key_salt

import queries
from queries.engine import dimensions_of, metric
from stats import suppression
from stats.cell_key import chance_exact

ATTACK_DIMS = ("site_id", "clinician_id", "diagnosis_group", "age_band", "sex", "drug_class", "drug")
#: Dimensions with a handful of values: the third dimension E of a route.
FEW_VALUES = ("site_id", "diagnosis_group", "age_band", "sex", "drug_class")
MIN_CELL = 11
GROUPED = sorted(n for n, q in queries.catalog().items() if q.kind != "table")
TABLES = sorted(
    n for n, q in queries.catalog().items()
    if q.kind == "table" and any(c.get("fmt") == "count" for c in q.columns.values())
    and any(d in q.params for d in ATTACK_DIMS)
)


def attack_dims(name: str) -> tuple[str, ...]:
    query = queries.describe(name)
    return tuple(d for d in ATTACK_DIMS if d in query.params and d in dimensions_of(query))


def count_columns(result) -> list[str]:  # type: ignore[no-untyped-def]
    return [c for c, f in result.formats().items()
            if f == "count" and c not in ("numerator", "denominator") and c in result.frame.columns]


Cell = frozenset  # of (dimension, value) pairs


@contextmanager
def _true_counts_seen():  # type: ignore[no-untyped-def]
    """Capture, for each ``queries.metric`` call, the frame and the true counts that the
    suppression rule itself receives (``SuppressionSpec.true_counts``, aligned with the frame's
    rows): the exact value of every perturbed cell, without a second, unperturbed query."""
    seen: list[tuple[pl.DataFrame, dict]] = []
    real = suppression.suppress
    # Only this thread's calls: a dashboard test run earlier on the same worker may have left the
    # dashboard's warm-up thread (dashboard.warm) computing other metrics in the background.
    owner = threading.get_ident()

    def spy(frame, spec, min_cell=suppression.DEFAULT_MIN_CELL):  # type: ignore[no-untyped-def]
        if threading.get_ident() == owner:
            seen.append((frame, dict(spec.true_counts)))
        return real(frame, spec, min_cell)

    suppression.suppress = spy
    try:
        yield seen
    finally:
        suppression.suppress = real


def test_the_spy_sees_only_its_own_threads_metric_calls(warehouse_path: Path) -> None:
    # A metric computed meanwhile on another thread (the dashboard's warm-up thread, left running
    # by an earlier dashboard test on the same worker) must not be read as this call's counts.
    def background() -> None:
        con = duckdb.connect(str(warehouse_path), read_only=True)  # a cursor per thread
        try:
            metric(con, "active_patients", by=("sex",))
        finally:
            con.close()

    con = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        with _true_counts_seen() as seen:
            other = threading.Thread(target=background)
            other.start()
            other.join()
            assert seen == []
            metric(con, "active_patients", by=("site_id",))
        assert len(seen) == 1 and "site_id" in seen[0][0].columns
    finally:
        con.close()


def cube(con, name: str, perturb: bool = True, pairs_over: tuple[str, ...] = ATTACK_DIMS):  # type: ignore[no-untyped-def]
    """Published and true value of every cell of up to two attack dimensions, and of three
    among ``pairs_over``, per count: ``{column: {cell: value}}`` (None = hidden; a cell with no
    units is absent = 0). One ``queries.metric`` call per grouping: the published frame, and the
    true counts its suppression rule received (with ``perturb=False`` the frame before
    suppression holds them)."""
    dims = attack_dims(name)
    published: dict[str, dict[Cell, int | None]] = defaultdict(dict)
    true: dict[str, dict[Cell, int]] = defaultdict(dict)
    computed: set[frozenset] = set()
    for size in range(4):
        for group in combinations(dims, size):
            if size == 3 and not set(group) <= set(pairs_over):
                continue
            computed.add(frozenset(group))
            with _true_counts_seen() as seen:
                shown = metric(con, name, by=group, min_cell=MIN_CELL, perturb=perturb)
            (before, true_counts), = seen
            keys = shown.frame.select(group).rows() if group else [()] * shown.frame.height
            cells = [Cell(zip(group, key, strict=True)) for key in keys]
            for col in count_columns(shown):
                exact = true_counts.get(col) or before.get_column(col).to_list()
                published[col].update(zip(cells, shown.frame.get_column(col).to_list(), strict=True))
                true[col].update((c, int(v or 0)) for c, v in zip(cells, exact, strict=True))
    return computed, published, true


def routes(computed, published, true):  # type: ignore[no-untyped-def]
    """Every usable route to every hidden cell of true value 1..MIN_CELL-1, per count column:
    yields (column, cell, derived value, true value, terms, route id)."""
    parents: dict[Cell, list[tuple[str, object, Cell]]] = {}
    for col, cells in true.items():
        for cell in cells.keys() - parents.keys():  # the same cells for every count of a metric
            parents[cell] = [(d, v, cell - {(d, v)}) for d, v in cell]
        yield from _column_routes(col, cells, published[col], computed, parents)


class _Sum:
    """A sum of published cells: its value, how many non-empty cells it adds, how many of its
    cells are hidden (then it is unknown to the attacker)."""

    __slots__ = ("hidden", "terms", "value")

    def __init__(self) -> None:
        self.value = self.terms = self.hidden = 0

    def add(self, published: int | None, true: int, sign: int = 1) -> None:
        if published is None:
            self.hidden += sign
        else:
            self.value += sign * published
            self.terms += sign * (true != 0)

    def add_sum(self, other: _Sum, sign: int = 1) -> None:
        self.value += sign * other.value
        self.terms += sign * other.terms
        self.hidden += sign * other.hidden


def _column_routes(col, cells, shown, computed, parents):  # type: ignore[no-untyped-def]
    """``routes`` for one count column (true ``cells``, published ``shown``; ``parents`` of
    each cell: (dimension, value, the cell without it)).

    ``view[(f, d)]`` sums the cells of the view (filters ``f``, by ``d``), i.e. ``f`` plus one
    value of ``d``; ``split[(f, d, e)]`` sums those cells each read by ``e``. A route's other
    cells are the view's cells but the hidden one: the sum minus that cell (or its split)."""
    view: dict[tuple[Cell, str], _Sum] = defaultdict(_Sum)
    for cell, x in cells.items():
        published = shown.get(cell)
        for d, _, f in parents[cell]:
            view[(f, d)].add(published, x)
    split: dict[tuple[Cell, str, str], _Sum] = defaultdict(_Sum)
    for (f, e), part in view.items():  # part: the cells of (f, by e); f = s, a cell of (g, by d)
        for d, _, g in parents.get(f, ()):
            split[(g, d, e)].add_sum(part)
    empty = _Sum()

    def margin_of(f: Cell) -> _Sum:
        s = _Sum()
        if f in cells:
            s.add(shown.get(f), cells[f])
        return s

    for cell, x in cells.items():
        if not 1 <= x < MIN_CELL or shown.get(cell) is not None:
            continue
        dims = frozenset(d for d, _ in cell)
        for d, _, f in parents[cell]:
            margin = margin_of(f)
            others = _Sum()
            others.add_sum(view[(f, d)])
            others.add(None, x, -1)  # leave the hidden cell itself out
            if margin.hidden == 0 and others.hidden == 0:
                yield col, cell, margin.value - others.value, x, margin.terms + others.terms, ("direct", d)
            for e in FEW_VALUES:
                if e in dims or dims | {e} not in computed:
                    continue  # that grouping was not published to the sweep
                others_e = _Sum()
                others_e.add_sum(split.get((f, d, e), empty))
                others_e.add_sum(view.get((cell, e), empty), -1)
                margin_e = view.get((f, e), empty)
                for route, m, o in (("via", margin, others_e), ("margin", margin_e, others)):
                    if m.hidden == 0 and o.hidden == 0:
                        yield col, cell, m.value - o.value, x, m.terms + o.terms, (route, d, e)


def attack(con, names, perturb: bool = True, pairs_over=ATTACK_DIMS) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Run every route on every metric; the figures the assertions read."""
    hits = expected = variance = 0.0
    used = 0
    per_cell: dict[tuple, list[tuple[int, int, int]]] = defaultdict(list)
    for name in names:
        computed, published, true = cube(con, name, perturb, pairs_over)
        for col, cell, derived, x, terms, _ in routes(computed, published, true):
            p = chance_exact(terms) if perturb else 1.0
            used += 1
            hits += derived == x
            expected += p
            variance += p * (1 - p)
            per_cell[(name, col, cell)].append((derived, x, terms))
    confirmed = confirm_expected = confirm_variance = 0.0
    for found in per_cell.values():
        if len(found) < 2:
            continue
        if all(derived == x for derived, x, _ in found):
            confirmed += 1
        p = min(chance_exact(t) for _, _, t in found) if perturb else 1.0
        confirm_expected += p
        confirm_variance += p * (1 - p)
    return {
        "routes": used, "hits": hits, "expected": expected, "sd": math.sqrt(variance),
        "cells": len(per_cell), "confirmed": confirmed, "confirm_expected": confirm_expected,
        "confirm_sd": math.sqrt(confirm_variance),
    }


def assert_not_recovered(figures: dict[str, float]) -> None:
    print("differencing sweep:", {k: round(v, 1) for k, v in figures.items()})  # -rP shows it
    assert figures["routes"] > 0, "the sweep found no usable route: it tested nothing"
    assert figures["hits"] <= figures["expected"] + 4 * figures["sd"] + 1, figures
    assert figures["hits"] / figures["routes"] < 0.5, figures
    assert figures["confirmed"] <= figures["confirm_expected"] + 4 * figures["confirm_sd"] + 1, figures


# --------------------------------------------------------------------------- the sweeps


@pytest.mark.slow
def test_no_hidden_count_is_recovered_on_the_sample_clinic(warehouse) -> None:  # type: ignore[no-untyped-def]
    assert_not_recovered(attack(warehouse, GROUPED))


@pytest.fixture(scope="module")
def generated_clinic(tmp_path_factory) -> Path:  # type: ignore[no-untyped-def]
    from pipelines.ingest import ingest
    from synthetic.generator import generate

    root = tmp_path_factory.mktemp("generated_clinic")
    generate(300, 16, root / "extract")
    db = root / "outcomes.duckdb"
    assert ingest(root / "extract", db).status == "ok"
    fix_cell_key_salt(db, "another-fixed-salt")
    return db


@pytest.mark.slow
def test_no_hidden_count_is_recovered_on_a_generated_clinic(generated_clinic: Path) -> None:
    con = duckdb.connect(str(generated_clinic), read_only=True)
    try:
        assert_not_recovered(attack(con, GROUPED))
    finally:
        con.close()


def test_the_issue_route_no_longer_gives_the_hidden_count(warehouse) -> None:  # type: ignore[no-untyped-def]
    """ADHD-medication episodes by age band: total minus the visible bands is not the hidden
    band's true count under perturbation, though it is with the per-view method (so the attack
    is real and this test can fail: each view's complementary suppression held, yet the hidden
    band came back exactly)."""
    f = {"drug_class": "adhd_medication"}

    def route(perturb: bool):  # type: ignore[no-untyped-def]
        total = metric(warehouse, "response", filters=f, perturb=perturb).frame["episodes"][0]
        bands = metric(warehouse, "response", by="age_band", filters=f, perturb=perturb).frame
        exact = metric(warehouse, "response", by="age_band", filters=f, min_cell=0).frame
        hidden = bands.filter(pl.col("episodes").is_null())["age_band"].to_list()
        results = []
        for band in hidden:
            others = 0
            for other in bands["age_band"].to_list():
                if other == band:
                    continue
                # each other band read from its own filtered view (as the issue does)
                view = metric(warehouse, "response", by="drug_class",
                              filters={"age_band": other}, perturb=perturb).frame
                value = view.filter(pl.col("drug_class") == "adhd_medication")["episodes"]
                others = None if others is None or value.is_empty() or value[0] is None else others + value[0]
            if others is not None and total is not None:
                true = exact.filter(pl.col("age_band") == band)["episodes"][0]
                results.append((total - others, true))
        return results

    old = route(perturb=False)
    assert old and all(derived == true for derived, true in old)
    new = route(perturb=True)
    assert not new or not all(derived == true for derived, true in new)


# --------------------------------------------------------------------------- consistency


def _cli_json(db: Path, name: str, by: str, where: dict[str, str], capsys) -> list[dict]:  # type: ignore[no-untyped-def]
    from cli.main import main

    argv = ["metric", name, "--db", str(db), "--format", "json"]
    argv += ["--by", by] if by else []
    for k, v in where.items():
        argv += ["--where", f"{k}={v}"]
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("name", ["response", "episodes", "score_change", "persistence", "adherence"])
def test_filtered_views_equal_the_grouped_cells(name, warehouse, warehouse_path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The same cell shows the same value wherever it appears: the CLI JSON with two --where
    filters, the dashboard's metric and its CSV strings, and the grouped result all agree."""
    from dashboard import components, data

    dims = attack_dims(name)
    a, b, d = [x for x in ("drug_class", "age_band", "sex") if x in dims][:3]
    grouped = metric(warehouse, name, by=(d, a, b), min_cell=MIN_CELL)
    columns = count_columns(grouped)
    monkeypatch.setenv(data.ENV_DB, str(warehouse_path))
    checked = 0
    for key in grouped.frame.select(a, b).unique().rows()[:6]:
        where = {a: key[0], b: key[1]}
        rows = _cli_json(warehouse_path, name, d, where, capsys)
        dash = data._metric(name, data.version(), (d,), tuple(sorted(where.items())), (), MIN_CELL)
        csv = components.display_frame(dash.frame, dash.formats)
        for row, dash_row, csv_row in zip(rows, dash.frame.iter_rows(named=True),
                                          csv.iter_rows(named=True), strict=True):
            cell = grouped.frame.filter((pl.col(a) == key[0]) & (pl.col(b) == key[1])
                                        & (pl.col(d) == row[d]))
            for col in columns:
                assert row[col] == dash_row[col] == cell[col][0], (where, row[d], col)
                shown = "-" if row[col] is None else f"{row[col]:,}"
                assert csv_row[col] in (shown, f"<{MIN_CELL}", "suppressed"), (csv_row[col], shown)
                checked += 1
    assert checked


def test_a_real_cli_subprocess_shows_the_same_cells(warehouse, warehouse_path) -> None:  # type: ignore[no-untyped-def]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run(
        [sys.executable, "-m", "cli.main", "metric", "response", "--db", str(warehouse_path),
         "--by", "age_band", "--where", "drug_class=adhd_medication", "--where", "sex=F",
         "--format", "json"], capture_output=True, text=True, env=env, check=True, cwd=REPO,
    )
    rows = json.loads(out.stdout)
    grouped = metric(warehouse, "response", by=("age_band", "drug_class", "sex"))
    for row in rows:
        cell = grouped.frame.filter((pl.col("drug_class") == "adhd_medication") & (pl.col("sex") == "F")
                                    & (pl.col("age_band") == row["age_band"]))
        assert row["episodes"] == cell["episodes"][0]
        assert row["responders"] == cell["responders"][0]


# --------------------------------------------------------------------------- exact at min_cell 0


@pytest.mark.parametrize("name", ["response", "remission", "side_effects", "adherence", "mbc_coverage"])
def test_min_cell_zero_counts_equal_a_recount_of_the_unit_rows(name, warehouse) -> None:  # type: ignore[no-untyped-def]
    """With suppression off, each count by drug class is the number of unit rows with its flag."""
    query = queries.describe(name)
    units = queries.run(warehouse, name)
    exact = metric(warehouse, name, by="drug_class", min_cell=0).frame.sort("drug_class", nulls_last=True)
    for out, source in query.metric["counts"].items():
        flagged = units if source == "*" else units.filter(pl.col(source))
        recount = flagged.group_by("drug_class").len().sort("drug_class", nulls_last=True)
        joined = exact.select("drug_class", out).join(recount, on="drug_class", how="left", nulls_equal=True)
        assert joined[out].to_list() == joined["len"].fill_null(0).to_list(), out


# --------------------------------------------------------------------------- fixed-grain tables


@pytest.mark.parametrize("name", TABLES)
def test_fixed_grain_tables_resist_single_filter_differencing(name, warehouse) -> None:  # type: ignore[no-untyped-def]
    """A table row under filter A=a, hidden, written as the unfiltered row minus the same row
    under every other value of A: exact no more often than chance."""
    query = queries.describe(name)
    counts = [c for c, spec in query.columns.items() if spec.get("fmt") == "count"]
    labels = None
    hits = used = 0
    expected = 0.0
    for dim in (d for d in ("site_id", "age_band", "sex", "drug_class", "diagnosis_group") if d in query.params):
        values = [v for (v,) in warehouse.sql(
            f"select distinct {dim} from marts.fct_treatment_episodes where {dim} is not null"  # noqa: S608 - dim from a fixed tuple
        ).fetchall()]
        whole = metric(warehouse, name).frame
        labels = labels or [c for c in whole.columns if c not in counts and whole.schema[c] in (pl.String, pl.Int64, pl.Int32)
                            and not c.endswith(("_suppressed", "_complementary"))]
        parts = {v: metric(warehouse, name, filters={dim: v}) .frame for v in values}
        exact = {v: metric(warehouse, name, filters={dim: v}, min_cell=0).frame for v in values}
        for v in values:
            for row in exact[v].iter_rows(named=True):
                key = {c: row[c] for c in labels if c in row and c not in counts}
                for col in counts:
                    if not 1 <= (row[col] or 0) < MIN_CELL:
                        continue
                    terms = 0
                    total = _row_value(whole, key, col)
                    if total is None:
                        continue
                    terms += total != 0
                    others = 0
                    for u in values:
                        if u == v:
                            continue
                        value = _row_value(parts[u], key, col)
                        if value is None:
                            others = None
                            break
                        others += value
                        terms += value != 0
                    if others is None:
                        continue
                    used += 1
                    hits += total - others == row[col]
                    expected += chance_exact(terms)
    if used == 0:
        pytest.skip(f"{name}: no usable single-filter route on this warehouse")
    assert hits <= expected + 4 * math.sqrt(expected) + 1, (hits, expected, used)


def _row_value(frame: pl.DataFrame, key: dict, col: str):  # type: ignore[no-untyped-def]
    """The published value of ``col`` in the row with these labels; 0 when the row is absent."""
    match = frame
    for c, v in key.items():
        if c in match.columns:
            match = match.filter(pl.col(c).is_null() if v is None else pl.col(c) == v)
    if match.is_empty():
        return 0
    return match[col][0]


# --------------------------------------------------------------------------- worklist counts


def test_worklist_counts_resist_differencing_across_sites(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The meeting pack of the whole clinic and of each site (``queries.published_counts``, as
    the pack, My patients and the Clinicians page publish them): a site with 1-10 patients on a
    list, hidden, written as the clinic's count minus the other sites' counts, is exact no more
    often than chance. Sites split the patients, so with exact counts every such route would
    give the hidden count back (checked with ``min_cell`` 0). Planted lists (60 clinics of four
    sites, one of them small; the sample clinic has too few non-empty lists to form a route)."""
    import random

    from queries import published_counts
    from queries.worklist import WORKLISTS

    rng = random.Random(16)
    con = duckdb.connect()
    con.execute("create schema meta; create table meta.cell_key(key varchar, value varchar); "
                "insert into meta.cell_key values ('salt', 'planted-worklists-salt')")
    sites = ("S1", "S2", "S3", "S4")
    hits = used = 0
    expected = variance = 0.0
    for clinic in range(60):
        sizes = {"S1": rng.randint(1, MIN_CELL - 1), **{s: rng.randint(30, 80) for s in sites[1:]}}
        members = {s: [f"P{clinic}-{s}-{i}" for i in range(n)] for s, n in sizes.items()}

        def planted(con, as_of, site_id, definitions, members=members):  # type: ignore[no-untyped-def]
            ids = [p for s, ps in members.items() if site_id in (None, s) for p in ps]
            frame = pl.DataFrame({"clinician_id": ["C1"] * len(ids), "patient_id": ids})
            return dict.fromkeys(WORKLISTS, frame)

        monkeypatch.setattr(published_counts, "_patient_rows", planted)

        def count(site, min_cell=MIN_CELL):  # type: ignore[no-untyped-def]
            frame = published_counts.worklist_counts(con, min_cell, site_id=site)
            return frame[published_counts.PATIENTS][0]

        whole, shown = count(None), {s: count(s) for s in sites}
        if clinic < 3:
            assert count(None, 0) == sum(count(s, 0) for s in sites) == sum(sizes.values())
        assert shown["S1"] is None
        if whole is None or any(shown[s] is None for s in sites[1:]):
            continue
        used += 1
        hits += whole - sum(shown[s] for s in sites[1:]) == sizes["S1"]
        expected += chance_exact(4)
        variance += chance_exact(4) * (1 - chance_exact(4))
    assert used >= 40
    assert hits <= expected + 4 * math.sqrt(variance) + 1, (hits, expected, used)
    assert hits < used / 2
