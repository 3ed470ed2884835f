"""Complete periods: the last day whose episodes can be judged, and what is still maturing.

An episode's outcome is known only once its follow-up window has closed. Counting an episode
whose window is still open as "not achieved" makes the latest rates fall for no clinical reason.
So by default a period ends on the **complete end**:

    complete_end = data_end - follow_up_days
    follow_up_days = the longest window an outcome waits for: max(followup_end_days (response and
                     remission, day +112 under the default preset), side_effect_window_days (90))

Episodes that start after the complete end and on or before the data end are **maturing**:
shown as such, kept out of every denominator. Asking for provisional figures moves the end back
to the data end, and every page, export and pack then says "provisional".

The dashboard (``dashboard.filters``), the CLI (``outcomes report``) and the exports all take
the end from here, so they agree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import duckdb

#: Used when the warehouse predates ``meta.definitions`` (the clinic_w6_16 preset's day +112).
DEFAULT_FOLLOW_UP_DAYS = 112
WINDOW_KEYS = ("followup_end_days", "side_effect_window_days")


@dataclass(frozen=True)
class Completeness:
    """The data's last day, the follow-up wait and the last day whose windows have closed."""

    data_start: dt.date | None
    data_end: dt.date | None
    follow_up_days: int

    @property
    def complete_end(self) -> dt.date | None:
        if self.data_end is None:
            return None
        return self.data_end - dt.timedelta(days=self.follow_up_days)

    def maturing_span(self) -> tuple[dt.date, dt.date] | None:
        """First and last start day of maturing episodes (None when nothing can be maturing)."""
        if self.data_end is None or self.complete_end is None:
            return None
        return self.complete_end + dt.timedelta(days=1), self.data_end

    def clip(self, start: dt.date | None, end: dt.date | None) -> tuple[dt.date | None, dt.date | None]:
        """A period cut at the complete end (a period entirely after it keeps its start)."""
        complete = self.complete_end
        if complete is None:
            return start, end
        return start, complete if end is None or end > complete else end


def follow_up_days(definitions: dict[str, Any]) -> int:
    """The longest follow-up window in force (days after the episode start), from
    ``meta.definitions`` values; the default preset's when none is recorded."""
    days = []
    for key in WINDOW_KEYS:
        try:
            days.append(int(str(definitions[key])))
        except (KeyError, ValueError):
            continue
    return max(days) if days else DEFAULT_FOLLOW_UP_DAYS


def completeness(con: duckdb.DuckDBPyConnection) -> Completeness:
    """Read the data span (``meta.deployment``) and the windows (``meta.definitions``)."""
    def rows(sql: str) -> dict[str, str]:
        try:
            return {str(k): str(v) for k, v in con.sql(sql).fetchall() if v is not None}
        except duckdb.Error:
            return {}

    deployment = rows("select key, value from meta.deployment")
    definitions = rows("select key, value from meta.definitions")
    return Completeness(_date(deployment.get("data_start")), _date(deployment.get("data_end")),
                        follow_up_days(definitions))


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None


def latest_complete_quarter(info: Completeness) -> str | None:
    """The newest calendar quarter that ends on or before the complete end (``2025-Q2``)."""
    end = info.complete_end
    if end is None:
        return None
    year, quarter = end.year, (end.month - 1) // 3 + 1
    quarter_end = dt.date(year + (quarter == 4), (quarter * 3) % 12 + 1, 1) - dt.timedelta(days=1)
    if quarter_end > end:
        year, quarter = (year - 1, 4) if quarter == 1 else (year, quarter - 1)
    return f"{year}-Q{quarter}"
