"""Counts that do not come from a metric's unit rows, published the way metric counts are.

``queries.metric`` perturbs and suppresses every count it returns (``queries.aggregate``,
``queries.cell_keys``, docs/privacy.md). Two families of counts are computed elsewhere and used
to leave the product exact, with only their own 1-10 cells hidden, so that differencing (all
sites minus the other sites' meeting packs, a list's total minus the other clinicians' rows,
rows read minus rows loaded) gave a hidden count back. This module is the one place they are
published:

* **Worklist counts**: distinct patients on each worklist on a day (the meeting pack's worklist
  section, the My patients page for leadership, the Clinicians page per clinician). Each
  patient is a unit with the same record key as a ``distinct patient_id`` metric count
  (``md5(salt | patient_id)``); a count's cell key is the sum of its patients' keys, so the same
  set of patients shows the same value in every pack and page, and a difference of counts
  carries their noise.
* **Data-quality tables** (``queries/data_quality/*.sql``: load history, rejects by reason,
  unmapped drugs, quarantined values, scale completeness, audits): fixed-grain tables of source
  records, published through ``queries.aggregate.table`` like every fixed-grain metric (content
  keys, nested parts capped, shares recomputed from the published counts), for every role but the
  analyst. An analyst (``queries.access``, capability ``exact_data_quality``) sees the exact
  counts with only counts of 1 to ``min_cell - 1`` hidden, as before: they reconcile loads
  against source files and may see patient rows anyway.

Without a cell-key salt (a warehouse older than perturbation) or with ``min_cell`` 0 the counts
are exact, with per-view suppression (``stats.suppression``) when ``min_cell`` is above 1.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING

import polars as pl

from queries import aggregate, cell_keys, loader
from queries.access import ANALYST
from queries.worklist import WORKLISTS, run_worklist
from stats import suppression

if TYPE_CHECKING:
    import duckdb

    from pipelines.definitions import Definitions

#: The one count column of the worklist-count frames.
PATIENTS = "patients"


def _patient_rows(con: duckdb.DuckDBPyConnection, as_of: dt.date | None, site_id: str | None,
                  definitions: Definitions | None) -> dict[str, pl.DataFrame]:
    """Per worklist, its distinct (clinician_id, patient_id) pairs, of ``site_id``'s patients
    when given. The lists run as the analyst because only counts leave this module."""
    site_patients: list[str] | None = None
    if site_id is not None:
        found = con.sql("select patient_id from marts.dim_patients where site_id = $site",
                        params={"site": site_id}).fetchall()
        site_patients = [row[0] for row in found]
    rows = {}
    for name in WORKLISTS:
        frame = run_worklist(con, name, user=ANALYST, as_of=as_of, definitions=definitions).frame
        frame = frame.select("clinician_id", "patient_id").drop_nulls("patient_id").unique()
        if site_patients is not None:
            frame = frame.filter(pl.col("patient_id").is_in(site_patients))
        rows[name] = frame
    return rows


def _count_with_keys(con: duckdb.DuckDBPyConnection, rows: dict[str, pl.DataFrame],
                     by_clinician: bool, salt: str | None) -> pl.DataFrame:
    """Long frame: worklist, [clinician_id], patients (distinct), and the cell key of
    ``patients`` when ``salt`` is given (the same SQL as a metric's ``distinct patient_id`` key)."""
    long = pl.concat([f.with_columns(pl.lit(n).alias("worklist")) for n, f in rows.items()],
                     how="vertical_relaxed")
    group = ["worklist", "clinician_id"] if by_clinician else ["worklist"]
    measures = [f"count(distinct patient_id)::bigint as {PATIENTS}"]
    params: dict[str, object] = {
        "w": long["worklist"].to_list(),
        "c": long["clinician_id"].cast(pl.String).fill_null("unknown").to_list(),
        "p": long["patient_id"].cast(pl.String).to_list(),
    }
    if salt is not None:
        measures.append(cell_keys.key_measure(PATIENTS, "distinct patient_id"))
        params[cell_keys.SALT_PARAM] = salt
    # fixed identifiers only (this module's and cell_keys'); the lists and the salt are bound
    units = ("with units as (select unnest($w::varchar[]) as worklist, unnest($c::varchar[]) "
             "as clinician_id, unnest($p::varchar[]) as patient_id)")
    columns, grouping = ", ".join([*group, *measures]), ", ".join(group)
    sql = f"{units}\nselect {columns} from units group by {grouping}"
    counted = con.sql(sql, params=params).pl()
    # every list appears, with 0 patients when nobody is on it (0 is published as 0)
    frame = pl.DataFrame({"worklist": list(WORKLISTS)})
    if by_clinician:
        clinicians = counted.select("clinician_id").unique().sort("clinician_id")
        frame = frame.join(clinicians, how="cross")
    frame = frame.join(counted, on=group, how="left")
    return frame.with_columns(pl.col(c).fill_null(0) for c in frame.columns if c not in group)


def worklist_counts(con: duckdb.DuckDBPyConnection, min_cell: int, *,
                    as_of: dt.date | None = None, site_id: str | None = None,
                    definitions: Definitions | None = None) -> pl.DataFrame:
    """Distinct patients on each worklist on ``as_of`` (None: the data end), of ``site_id``'s
    patients when given: columns ``worklist``, ``patients`` (published: perturbed, hidden when
    the true or published count is 1 to ``min_cell - 1``) and its flags. One row per list in
    ``WORKLISTS`` order. The lists overlap, so no total is published and none is implied."""
    salt = _salt(con, min_cell)

    def compute() -> pl.DataFrame:
        frame = _count_with_keys(con, _patient_rows(con, as_of, site_id, definitions), False, salt)
        return publish(frame, (PATIENTS,), min_cell, perturbed=salt is not None)

    return _stored_or(con, "worklist_counts", {"as_of": as_of, "site_id": site_id}, definitions,
                      min_cell, salt, compute)


def worklist_counts_by_clinician(con: duckdb.DuckDBPyConnection, min_cell: int, *,
                                 as_of: dt.date | None = None,
                                 definitions: Definitions | None = None) -> pl.DataFrame:
    """Distinct patients on each worklist per clinician: one row per clinician (``unknown`` for
    none), one count column per worklist (named as in ``WORKLISTS``), published as
    ``worklist_counts``. Without perturbation the per-view rule adds complementary cells along
    the clinician margin (each list's total is published on My patients)."""
    salt = _salt(con, min_cell)
    return _stored_or(con, "worklist_counts_by_clinician", {"as_of": as_of}, definitions, min_cell,
                      salt, lambda: _by_clinician(con, min_cell, as_of, definitions, salt))


def _by_clinician(con: duckdb.DuckDBPyConnection, min_cell: int, as_of: dt.date | None,
                  definitions: Definitions | None, salt: str | None) -> pl.DataFrame:
    long = _count_with_keys(con, _patient_rows(con, as_of, None, definitions), True, salt)
    values = [PATIENTS, cell_keys.key_column(PATIENTS)] if salt is not None else [PATIENTS]
    wide = None
    for value in values:
        part = long.pivot(on="worklist", index="clinician_id", values=value)
        part = part.rename({n: n if value == PATIENTS else cell_keys.key_column(n) for n in WORKLISTS
                            if n in part.columns})
        wide = part if wide is None else wide.join(part, on="clinician_id")
    assert wide is not None
    # a warehouse with no list rows has no clinician and no pivoted column: every list is 0
    missing = [c for v in values for c in (WORKLISTS if v == PATIENTS else map(cell_keys.key_column, WORKLISTS))
               if c not in wide.columns]
    wide = wide.with_columns(pl.lit(0, pl.Int64).alias(c) for c in missing)
    wide = wide.select("clinician_id", *[c for c in wide.columns if c != "clinician_id"])
    wide = wide.with_columns(pl.col(c).fill_null(0) for c in wide.columns if c != "clinician_id")
    return publish(wide.sort("clinician_id"), tuple(WORKLISTS), min_cell,
                   perturbed=salt is not None, margins=("clinician_id",))


def _stored_or(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, object],
               definitions: Definitions | None, min_cell: int, salt: str | None,
               compute: Callable[[], pl.DataFrame]) -> pl.DataFrame:
    """``compute()``, or the same published frame stored by the load (``queries.snapshots``:
    ``dashboard.precompute`` stores the Clinicians and My patients pages' counts; at 1,000,000
    patients running the five lists takes seconds). Keyed on the lists' SQL and every parameter
    they bind (the definitions in force included), the threshold, the salt and the version."""
    from pipelines.definitions import Definitions
    from queries import snapshots

    configured = (definitions or Definitions.from_config()).worklist_params()
    sql = "\n".join(loader.describe(WORKLISTS[n]).sql for n in WORKLISTS)
    return snapshots.published(con, name, sql, {**configured, **params}, min_cell, salt, compute)


def _salt(con: duckdb.DuckDBPyConnection, min_cell: int) -> str | None:
    return None if suppression.is_off(min_cell) else cell_keys.read_salt(con)


def publish(frame: pl.DataFrame, counts: tuple[str, ...], min_cell: int, *, perturbed: bool,
            margins: tuple[str, ...] = ()) -> pl.DataFrame:
    """Publish ``counts`` of ``frame``: with ``perturbed`` (the frame holds each count's
    ``cell_keys.key_column``) replace them by their published values and hide those whose true
    or published value is 1 to ``min_cell - 1``; without, the per-view rule (``margins``: the
    dimensions whose totals are published elsewhere)."""
    if not perturbed:
        return suppression.suppress(frame, suppression.SuppressionSpec(counts=counts,
                                                                       margins=margins), min_cell)
    frame, true = cell_keys.perturb_counts(frame, counts)
    spec = suppression.SuppressionSpec(counts=counts, true_counts=cell_keys.true_counts_of(true),
                                       perturbed=True)
    return suppression.suppress(frame, spec, min_cell)


# --------------------------------------------------------------------------- data quality


def data_quality_table(con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame,
                       min_cell: int, *, exact: bool) -> tuple[pl.DataFrame, dict[str, str | None]]:
    """The rows of data-quality query ``name`` (``frame``, from ``queries.run``) as published,
    and the display format of each column (``rows`` read as ``count``); see
    ``data_quality_spec``."""
    frame, spec, formats = data_quality_spec(con, name, frame, min_cell, exact=exact)
    if spec.counts:
        frame = suppression.suppress(frame, spec, min_cell)
    return frame, formats


def stored_data_quality_table(con: duckdb.DuckDBPyConnection, name: str, min_cell: int, *,
                              exact: bool) -> tuple[pl.DataFrame, dict[str, str | None]]:
    """``data_quality_table`` of query ``name``'s own rows, read when the load stored it.

    Every data-quality table is a constant of the load (no parameters, no clock), and some read
    every score (``scale_completeness``: seconds at 1,000,000 patients), so ``dashboard.precompute``
    stores each as published, for both audiences (``exact``), through ``queries.snapshots``: keyed
    on the query's SQL, ``exact``, the threshold, the salt and the software version."""
    from queries import snapshots

    def compute() -> pl.DataFrame:
        return data_quality_table(con, name, loader.run(con, name), min_cell, exact=exact)[0]

    frame = snapshots.published(con, f"data_quality {name}", loader.describe(name).sql,
                                {"exact": exact}, min_cell, _salt(con, min_cell), compute)
    return frame, data_quality_formats(name)


def data_quality_formats(name: str) -> dict[str, str | None]:
    """The display format of each column of data-quality query ``name`` (``rows`` as ``count``)."""
    return {c: ("count" if spec.get("fmt") == "rows" else spec.get("fmt"))
            for c, spec in loader.describe(name).columns.items()}


def data_quality_spec(con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame,
                      min_cell: int, *, exact: bool
                      ) -> tuple[pl.DataFrame, suppression.SuppressionSpec, dict[str, str | None]]:
    """The frame to suppress, its ``SuppressionSpec`` and the display formats.

    ``exact`` (an analyst: ``queries.access``, capability ``exact_data_quality``): the counts as
    they are, counts of 1 to ``min_cell - 1`` hidden, and a share hidden with any count of its
    row. Otherwise as every fixed-grain metric: perturbed with content keys, nested parts capped
    at their wholes, declared shares recomputed from the published counts, then the same rule."""
    query = loader.describe(name)
    formats = data_quality_formats(name)
    counts = tuple(c for c, f in formats.items() if f == "count" and c in frame.columns)
    # Conservative: a share in a data-quality row is hidden when any count of that row is.
    shares = {c: counts for c, f in formats.items() if f == "pct1" and c in frame.columns}
    salt = None if exact or not counts else _salt(con, min_cell)
    if salt is None:
        return frame, suppression.SuppressionSpec(counts=counts, derived=shares), formats
    as_counts = dataclasses.replace(query, columns={
        c: {**spec, "fmt": formats[c]} for c, spec in query.columns.items()})
    frame, spec = aggregate.table(frame, as_counts, salt)
    return frame, dataclasses.replace(spec, derived={**shares, **spec.derived}), formats
