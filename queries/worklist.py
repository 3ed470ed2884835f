"""Worklists: patient-level lists of who needs what on a day (DOMAIN.md section 13).

Each worklist is one SQL file in ``queries/worklists/`` with its rule in words, its source and
its parameters in the header; every window and threshold is a bound parameter whose header
default is the DOMAIN default. ``run_worklist`` binds the configured values
(``[definitions.worklists]`` of ``outcomes.toml``, ``Definitions.worklist_params``), the as-of
date (default: the data end date) and the clinician filter, after ``queries.access.authorise``
has allowed patient-level rows for the user (a leadership user is refused; a clinician sees
only their own patients).

Every worklist returns the same leading columns: ``worklist, patient_id, clinician_id, drug,
drug_class, reason, facts, trigger_on, due_on, days_overdue, clears`` (words on screen say
"review", never "failure").
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pipelines.query_files import SHARED_COLUMNS
from queries import loader
from queries.access import ANALYST, User, authorise

if TYPE_CHECKING:
    import duckdb
    import polars as pl

    from pipelines.definitions import Definitions

#: Command-line name -> query file name.
WORKLISTS: dict[str, str] = {
    "not-on-track": "not_on_track",
    "item9-follow-up": "item9_follow_up",
    "overdue-monitoring": "overdue_monitoring",
    "adherence-drop": "adherence_drop",
    "prescribing-safety": "prescribing_safety",
}

#: Shown with a list wherever it is shown (DOMAIN 13.1, 13.3).
CAUTIONS: dict[str, str] = {
    "not-on-track": (
        "Early non-improvement predicts poorly for individuals (29% of predicted non-responders "
        "responded by week 6, 43% by week 12): review dose, adherence and side effects; this is "
        "not a prompt to switch."),
    "item9-follow-up": (
        "A retrospective review list, not an alerting system: act on positive screens through "
        "the clinic's own safety pathway."),
}

#: The leading columns of every worklist, declared once (``columns_from: worklist`` in a header).
COMMON_COLUMNS: tuple[str, ...] = tuple(SHARED_COLUMNS["worklist"])


class WorklistError(ValueError):
    """An unknown worklist name or a bad parameter."""


@dataclass(frozen=True)
class Worklist:
    """One worklist's rows and how they were selected."""

    name: str
    frame: pl.DataFrame
    as_of: dt.date | None
    parameters: dict[str, Any]
    title: str
    definition: str
    caution: str | None


def query_of(name: str) -> loader.Query:
    if name not in WORKLISTS:
        raise WorklistError(f"unknown worklist {name!r}; worklists are: {', '.join(WORKLISTS)}")
    return loader.describe(WORKLISTS[name])


def run_worklist(con: duckdb.DuckDBPyConnection, name: str, *, user: User = ANALYST,
                 clinician_id: str | None = None, as_of: dt.date | None = None,
                 definitions: Definitions | None = None) -> Worklist:
    """Rows of worklist ``name`` for ``user`` on ``as_of`` (None: the data end date)."""
    from pipelines.definitions import Definitions

    query = query_of(name)
    clinician_filter = authorise(user, "patient_rows", what=f"worklist {name!r} (patient-level rows)",
                                 clinician_id=clinician_id)
    configured = (definitions or Definitions.from_config()).worklist_params()
    params = {k: v for k, v in configured.items() if k in query.params}
    params["as_of"] = as_of
    params["clinician_id"] = clinician_filter
    bound = loader.check_params(query, params)
    frame = con.sql(query.sql, params=bound).pl()
    if as_of is None:  # the data end date; none in an empty warehouse
        found = con.sql("select data_end_on from marts.data_coverage").fetchall()
        as_of = found[0][0] if found else None
    return Worklist(name, frame, as_of, {k: v for k, v in bound.items() if k != "clinician_id"},
                    query.title, query.description, CAUTIONS.get(name))
