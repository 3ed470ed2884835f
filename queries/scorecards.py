"""Clinician scorecards (DOMAIN.md 13.5): each clinician's rate of a measure against the
clinic's funnel limits, case-mix adjusted, and its trend by quarter. Aggregates only.

* **Position** (``Scorecard.positions``, one row per clinician): the crude rate with the
  clinic's funnel limits at the clinician's number of episodes (``queries.qi_funnel``: exact
  binomial limits at 95% and 99.8% around the clinic's rate, Spiegelhalter 2005) and the
  case-mix adjusted observed/expected ratio (indirect standardisation over the strata the
  measure returns: age band and diagnosis group for response and remission) with its flag.
  Fewer than ``MIN_EVALUABLE`` (30) evaluable episodes read "insufficient data" whatever the
  limits say; a clinician whose count is hidden (1-10, or hidden to protect another) has no
  position, only "suppressed".
* **Trend** (``Scorecard.trend``): numerator, denominator and rate per clinician and quarter of
  the episode start, from ``queries.metric`` (suppressed as every aggregate is), and the
  clinic's by quarter (``Scorecard.clinic_trend``) over the same episodes.

Only episodes that could be evaluated count: episodes started at the latest on the data end
minus ``EVALUABLE_AFTER_DAYS`` (112, the end of the default follow-up window [+42, +112]; an
earlier ``end_date`` filter stays), so that every follow-up window has closed. No ranks, no
league table.

Who sees what: no patient id ever leaves this module. Leadership and analysts see every
clinician; a clinician sees their own row and the clinic's (``queries.access``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl

from queries.access import ANALYST, User, authorise
from queries.engine import metric, resolve_min_cell
from queries.qi import QIError
from queries.qi_funnel import measure_funnel
from stats.funnel import INSUFFICIENT
from stats.suppression import DEFAULT_MIN_CELL

if TYPE_CHECKING:
    import duckdb

#: Measures a scorecard shows (PHQ-9 by default, as their headers say).
SCORECARD_MEASURES = ("response", "remission")
#: DOMAIN 13.5: below this many evaluable episodes a clinician reads "insufficient data".
MIN_EVALUABLE = 30
#: The default follow-up window ends on day 112: later starts cannot be evaluated yet.
EVALUABLE_AFTER_DAYS = 112
SUPPRESSED = "suppressed (1-10 or protecting another count)"


@dataclass(frozen=True)
class Scorecard:
    """One measure's clinician positions and quarterly trend (see the module docstring)."""

    measure: str
    clinic_rate: float | None
    positions: pl.DataFrame
    trend: pl.DataFrame
    clinic_trend: pl.DataFrame
    end_date: dt.date | None


def evaluable_end(con: duckdb.DuckDBPyConnection) -> dt.date | None:
    """The last episode start whose default follow-up window has closed by the data end."""
    found = con.sql("select data_end_on from marts.data_coverage").fetchall()
    if not found or found[0][0] is None:
        return None
    return found[0][0] - dt.timedelta(days=EVALUABLE_AFTER_DAYS)


def _positions(con: duckdb.DuckDBPyConnection, measure: str, filters: dict[str, Any],
               min_cell: int) -> tuple[pl.DataFrame, float]:
    crude = measure_funnel(con, measure, by="clinician_id", filters=filters, min_cell=min_cell)
    rows: dict[str, dict[str, Any]] = {}
    for unit in crude.result.units:
        episodes = int(float(str(unit["n"])))
        rows[str(unit["unit"])] = {
            "clinician_id": str(unit["unit"]), "episodes": episodes,
            "events": int(float(str(unit["events"]))), "rate": unit["rate"],
            "lower_95": unit["lower_95"], "upper_95": unit["upper_95"],
            "lower_998": unit["lower_998"], "upper_998": unit["upper_998"],
            "position": INSUFFICIENT if episodes < MIN_EVALUABLE else unit["flag"],
            "observed_expected": None, "adjusted_position": None,
        }
    try:
        adjusted = measure_funnel(con, measure, by="clinician_id", filters=filters,
                                  min_cell=min_cell, adjust=True)
    except QIError:
        adjusted = None
    if adjusted is not None:
        for unit in adjusted.result.units:
            row = rows.get(str(unit["unit"]))
            if row is not None:
                row["observed_expected"] = unit.get("ratio")
                row["adjusted_position"] = (INSUFFICIENT if row["episodes"] < MIN_EVALUABLE
                                            else unit["flag"])
    for hidden in crude.suppressed:
        rows[hidden] = {"clinician_id": hidden, "position": SUPPRESSED}
    schema = {"clinician_id": pl.String, "episodes": pl.Int64, "events": pl.Int64,
              "rate": pl.Float64, "lower_95": pl.Float64, "upper_95": pl.Float64,
              "lower_998": pl.Float64, "upper_998": pl.Float64, "position": pl.String,
              "observed_expected": pl.Float64, "adjusted_position": pl.String}
    frame = pl.DataFrame([{k: row.get(k) for k in schema} for row in rows.values()],
                         schema=schema)
    return frame.sort("clinician_id"), crude.result.target


def clinician_scorecard(con: duckdb.DuckDBPyConnection, measure: str = "response", *,
                        user: User = ANALYST, filters: dict[str, Any] | None = None,
                        min_cell: int | None = None) -> Scorecard:
    """The scorecard of ``measure`` for ``user`` (a clinician gets their own rows only)."""
    if measure not in SCORECARD_MEASURES:
        raise QIError(f"scorecards show {', '.join(SCORECARD_MEASURES)}, not {measure!r}")
    min_cell = resolve_min_cell(min_cell)[0]
    if min_cell < DEFAULT_MIN_CELL:
        authorise(user, "lower_suppression", what=f"scorecards with a suppression threshold below "
                  f"{DEFAULT_MIN_CELL}")
    # every clinician is compared: a clinician filter would leave one unit and no funnel
    given = {k: v for k, v in (filters or {}).items() if v is not None and k != "clinician_id"}
    end = evaluable_end(con)
    if end is not None and (given.get("end_date") is None or given["end_date"] > end):
        given["end_date"] = end
    try:
        positions, target = _positions(con, measure, given, min_cell)
    except QIError:
        positions, target = pl.DataFrame(schema={"clinician_id": pl.String}), None
    trend = metric(con, measure, by=("clinician_id", "quarter"), filters=given, min_cell=min_cell,
                   user=ANALYST).frame
    clinic_trend = metric(con, measure, by=("quarter",), filters=given, min_cell=min_cell,
                          user=ANALYST).frame
    if user.role == "clinician":
        positions = positions.filter(pl.col("clinician_id") == user.clinician_id)
        trend = trend.filter(pl.col("clinician_id") == user.clinician_id)
    return Scorecard(measure, target, positions, trend, clinic_trend, given.get("end_date"))


__all__ = ["MIN_EVALUABLE", "SCORECARD_MEASURES", "Scorecard", "clinician_scorecard",
           "evaluable_end"]
