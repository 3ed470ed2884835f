"""Global sidebar filters, carried across views and in the URL, and the frozen ``Filters`` value.

Every widget has a ``key`` that is also its query-parameter name and ``bind="query-params"``,
so ``/response?period=Year+2024&class=antidepressant`` opens that view with those filters
(Streamlit writes the option *label* into the URL). URL values
are untrusted: Streamlit drops values not among a widget's options, and ``current()`` checks them
again against the same option lists before anything reaches a query. "All" is the sentinel
``"all"`` and becomes ``None`` (no restriction) in the query filters.

**Period.** ``last_12m``/``last_6m``/``last_3m`` end on the **complete end**: the last day of
data (``meta.deployment`` ``data_end``; not today, because extracts lag) minus the longest
follow-up window (``queries.periods``), so every episode counted has had its chance to respond.
A calendar year ``YYYY`` is 1 January–31 December and ``all`` the whole data span, both cut at
the complete end. Episodes starting after it are *maturing*: counted apart, left out of every
denominator. The sidebar's "Provisional figures" toggle (``?provisional=true``) moves the end to
the last day of data, and every page then says the figures are provisional. The previous period is the same length immediately
before (for a year: the year before); ``all`` has none.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

import streamlit as st

from dashboard import data
from pipelines.instruments import outcome_instruments
from pipelines.reference import DRUG_CLASSES, age_band_labels
from queries.labels import FIELDS as LABELS

ALL = "all"
DEFAULT_PERIOD = "last_12m"
DEFAULT_INSTRUMENT = "PHQ-9"
ROLLING_PERIODS: dict[str, tuple[str, int]] = {
    "last_12m": ("Last 12 months", 12),
    "last_6m": ("Last 6 months", 6),
    "last_3m": ("Last 3 months", 3),
}

#: Filter field -> (URL / widget key, fallback options when the warehouse has none).
_FILTER_KEYS: dict[str, tuple[str, tuple[str, ...]]] = {
    "site_id": ("site", ()),
    "clinician_id": ("clinician", ()),
    "diagnosis_group": ("dx", (
        "major_depression", "anxiety", "bipolar", "schizophrenia", "adhd", "ptsd", "ocd",
        "substance_use", "other")),
    "age_band": ("age", age_band_labels()),
    "sex": ("sex", ("F", "M", "X", "U")),
    "drug_class": ("class", DRUG_CLASSES),
}
#: Filter field -> (URL / widget key, label, fallback options); the label is the field's words in
#: the one label table (``queries.labels.FIELDS``), as every chart and table reads it.
FIELDS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    field: (key, LABELS[field][0], fallback) for field, (key, fallback) in _FILTER_KEYS.items()}
#: the instruments with outcome rules, in the order of pipelines/reference/instruments.csv
INSTRUMENTS: tuple[str, ...] = outcome_instruments()


@dataclass(frozen=True)
class Filters:
    """The sidebar's choices, resolved to dates; hashable, so it can key caches."""

    period: str = DEFAULT_PERIOD
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    site_id: str | None = None
    clinician_id: str | None = None
    diagnosis_group: str | None = None
    age_band: str | None = None
    sex: str | None = None
    drug_class: str | None = None
    instrument: str = DEFAULT_INSTRUMENT
    #: one ingredient; not a sidebar filter (the Compare view sets it per compared group)
    drug: str | None = None
    #: include episodes whose follow-up window is still open (figures marked provisional)
    provisional: bool = False

    def query_filters(self) -> dict[str, Any]:
        """The filter dict of ``queries.metric`` (architecture.md); None means "all"."""
        return {
            "start_date": self.start_date,
            "end_date": self.end_date,
            "site_id": self.site_id,
            "clinician_id": self.clinician_id,
            "diagnosis_group": self.diagnosis_group,
            "age_band": self.age_band,
            "sex": self.sex,
            "drug_class": self.drug_class,
            "instrument": self.instrument,
            "drug": self.drug,
        }

    def without(self, *fields: str) -> Filters:
        """The same filters with some fields reset to "all" (e.g. drop the class for by-class)."""
        return replace(self, **dict.fromkeys(fields))

    def previous(self) -> Filters | None:
        """The period of the same length immediately before, or None (``all``, no dates)."""
        if self.start_date is None or self.end_date is None or self.period == ALL:
            return None
        if self.period.isdigit():
            year = int(self.period) - 1
            return replace(self, period=str(year), start_date=dt.date(year, 1, 1), end_date=dt.date(year, 12, 31))
        months = ROLLING_PERIODS[self.period][1]
        end = self.start_date - dt.timedelta(days=1)
        return replace(self, start_date=_months_before(end, months), end_date=end)

    def label(self) -> str:
        """A one-line description for captions and download metadata."""
        parts = [f"{self.start_date or '…'} to {self.end_date or '…'}"]
        for name, (_, title, _) in FIELDS.items():
            value = getattr(self, name)
            if value is not None:
                parts.append(f"{title.lower()} {value}")
        parts.append(f"instrument {self.instrument}")
        if self.provisional:
            parts.append("PROVISIONAL (includes episodes whose follow-up window is still open)")
        return "; ".join(parts)


def _months_before(end: dt.date, months: int) -> dt.date:
    """First day of a window of ``months`` calendar months ending on ``end`` (inclusive).

    It is the day after ``end`` moved back ``months`` months (clamped to the month's length), so
    a window ending on a month end starts on the 1st: 12 months to 31 Dec 2024 start 1 Jan 2024.
    """
    after = end + dt.timedelta(days=1)
    year, month = after.year, after.month - months
    while month < 1:
        month += 12
        year -= 1
    return dt.date(year, month, min(after.day, _month_length(year, month)))


def _month_length(year: int, month: int) -> int:
    nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
    return (nxt - dt.timedelta(days=1)).day


def data_span() -> tuple[dt.date | None, dt.date | None]:
    """First and last day of data from ``meta.deployment`` (None when unknown)."""
    deployment = data.deployment() if data.status().ok else {}
    return _parse_date(deployment.get("data_start")), _parse_date(deployment.get("data_end"))


def _parse_date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def period_options() -> list[str]:
    return period_keys(data_span())


def period_keys(span: tuple[dt.date | None, dt.date | None]) -> list[str]:
    """The sidebar's period choices for a data span (no session: the load precomputes each)."""
    start, end = span
    years = [str(y) for y in range(end.year, start.year - 1, -1)] if start and end else []
    return [*ROLLING_PERIODS, *years, ALL]


def period_label(key: str) -> str:
    if key in ROLLING_PERIODS:
        return ROLLING_PERIODS[key][0]
    return "All data" if key == ALL else f"Year {key}"


def resolve_period(key: str, provisional: bool = False) -> tuple[dt.date | None, dt.date | None]:
    """First and last episode start of a period: cut at the complete end unless provisional."""
    return period_dates(key, data_span(), data.completeness(), provisional)


def period_dates(key: str, span: tuple[dt.date | None, dt.date | None], info: Any,
                 provisional: bool = False) -> tuple[dt.date | None, dt.date | None]:
    """``resolve_period`` given the data span and ``queries.periods.Completeness`` (no session:
    the load's precomputation resolves the default period with it too)."""
    start, end = span
    last = end if provisional or info.complete_end is None else info.complete_end
    if key == ALL or end is None:
        return start, last
    if key.isdigit():
        year_end = dt.date(int(key), 12, 31)
        return dt.date(int(key), 1, 1), min(year_end, last) if last else year_end
    return _months_before(last, ROLLING_PERIODS[key][1]), last


def options(field: str) -> list[str]:
    """Widget options for a dimension: "all", then the values in the warehouse (or fallbacks)."""
    if field == "instrument":
        return list(INSTRUMENTS)
    values = data.dimension_values(field) or FIELDS[field][2]
    return [ALL, *values]


def _format(field: str):  # type: ignore[no-untyped-def]
    from queries.labels import all_label, has_labels, label

    def fmt(value: str) -> str:
        if value == ALL:
            return all_label(field)
        # sites and clinicians are the clinic's own ids: shown as they are
        return label(field, value) if has_labels(field) else value

    return fmt


def _url_specs() -> list[tuple[str, list[str], Any, str]]:
    """(URL key, option values, label function, words) for every filter the URL can carry."""
    specs: list[tuple[str, list[str], Any, str]] = [("period", period_options(), period_label, "period")]
    specs += [(key, options(field), _format(field), label.lower()) for field, (key, label, _) in FIELDS.items()]
    specs.append(("instrument", list(INSTRUMENTS), str, "instrument"))
    return specs


def url_notices() -> list[str]:
    """Check the URL's filter values before the widgets read them; drop unknown ones.

    A shared link with a typo (``?site=S0l``) used to fall back to "all" silently, so the page
    showed the whole clinic under a link that named one site. Each unknown value now yields a
    notice naming the closest known option, and the filter falls back to its default.
    """
    from queries.vocabulary import suggest

    notices = []
    for key, values, label_of, words in _url_specs():
        given = st.query_params.get(key)
        if given is None:
            continue
        labels = [str(label_of(v)) for v in values]
        if given in labels or given in values:
            continue
        shown = "".join(ch for ch in given[:40] if ch.isalnum() or ch in " -_.+")  # no markup from a URL
        closest = suggest(given, tuple(labels))
        hint = f" Did you mean “{closest}”?" if closest else ""
        notices.append(f"The link asks for {words} “{shown}”, which this warehouse does not have.{hint} "
                       f"Showing the default {words} instead.")
        del st.query_params[key]
        st.session_state.pop(key, None)
    return notices


def sidebar() -> None:
    """Draw the filter widgets (inside ``with st.sidebar``). Values live in the URL."""
    st.header("Filters")
    st.selectbox("Period", period_options(), key="period", bind="query-params",
                 format_func=period_label, help="Episodes starting in this period. Rolling periods end on the last day of data.")
    for field, (key, label, _) in FIELDS.items():
        st.selectbox(label, options(field), key=key, bind="query-params", format_func=_format(field))
    st.selectbox("Instrument", INSTRUMENTS, key="instrument", bind="query-params",
                 help="Rating scale for response, remission and trajectories (PHQ-A counts as PHQ-9).")
    st.toggle("Provisional figures", key="provisional", bind="query-params",
              help="Include episodes whose follow-up window is still open. Their outcomes are not final, "
                   "so recent rates read low; every page then says the figures are provisional.")
    f = current()
    if f.start_date and f.end_date:
        st.caption(f"Episodes starting {f.start_date:%d %b %Y} – {f.end_date:%d %b %Y}")


def period_words(f: Filters) -> str:
    """The period for stamps and captions: its name and its dates."""
    return f"{period_label(f.period)}: {f.start_date or 'start of data'} to {f.end_date or 'end of data'}"


def maturing_words(f: Filters) -> str | None:
    """What is left out because its follow-up window is still open, or that the figures are
    provisional; None when the period ends before any window is open."""
    info = data.completeness()
    span = info.maturing_span()
    if span is None:
        return None
    first, last = span
    if f.provisional:
        if f.end_date is not None and f.end_date < first:
            return None
        return (f"PROVISIONAL: episodes started {first:%d %b %Y} – {last:%d %b %Y} are included although "
                f"their {info.follow_up_days}-day follow-up window is still open; their outcomes are not final.")
    if f.period != ALL and f.period not in ROLLING_PERIODS and f.end_date is not None and f.end_date < info.complete_end:
        return None  # a past year: nothing of it is maturing
    count = maturing_count(f)
    return (f"{count} started {first:%d %b %Y} – {last:%d %b %Y} are maturing: their {info.follow_up_days}-day "
            "follow-up window is still open, so they are not counted here. Turn on “Provisional figures” to include them.")


def maturing_count(f: Filters) -> str:
    """"1,234 episodes" (suppressed like every count) starting in the maturing span."""
    from stats.suppression import hidden_label

    span = data.completeness().maturing_span()
    if span is None or not data.available("episodes"):
        return "Episodes"
    try:
        frame = data.metric("episodes", replace(f, start_date=span[0], end_date=span[1])).frame
    except data.NotInWarehouse:
        return "Episodes"
    if frame.is_empty():
        return "Episodes"
    hidden = hidden_label(frame, "episodes", 0, data.MIN_CELL)
    value = frame["episodes"][0]
    return f"{hidden or format(int(value or 0), ',')} episodes"


def _valid(key: str, allowed: list[str], default: str) -> str:
    value = st.session_state.get(key, default)
    return value if value in allowed else default


def current() -> Filters:
    """The filters in force, validated against the same options the widgets offer."""
    period = _valid("period", period_options(), DEFAULT_PERIOD)
    values: dict[str, Any] = {}
    for field, (key, _, _) in FIELDS.items():
        choice = _valid(key, options(field), ALL)
        values[field] = None if choice == ALL else choice
    instrument = _valid("instrument", list(INSTRUMENTS), DEFAULT_INSTRUMENT)
    provisional = st.session_state.get("provisional") in (True, "true", "True")
    start, end = resolve_period(period, provisional)
    return Filters(period=period, start_date=start, end_date=end, instrument=instrument,
                   provisional=provisional, **values)
