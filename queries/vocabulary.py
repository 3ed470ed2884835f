"""The values each filter can take, and the refusal of an unknown one with a suggestion.

A typo in a filter value (``drug=sertralin``, ``instrument=PHQ9``, ``preset=hedis_drr``) used to
match no row and return zeros with exit 0: a wrong number that looks like a right one. Every
value is now checked against what the warehouse holds (``known_values``) before a metric runs,
and an unknown one is refused with the closest known value ("did you mean sertraline?").

Instruments are checked against the instruments the product knows (``pipelines.contract``) as
well as those in the data, so a known instrument without scores in this clinic gives an honest
empty result rather than a refusal.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Any

import duckdb

from pipelines.contract import INSTRUMENT_RANGES
from queries.labels import FIELDS

#: Filter or definition parameter -> (mart, column) whose distinct values are the known ones.
#: Table and column names come from this allow-list only, never from user text.
VALUE_SOURCES: dict[str, tuple[str, str]] = {
    "site_id": ("marts.fct_treatment_episodes", "site_id"),
    "clinician_id": ("marts.fct_treatment_episodes", "clinician_id"),
    "diagnosis_group": ("marts.fct_treatment_episodes", "diagnosis_group"),
    "age_band": ("marts.fct_treatment_episodes", "age_band"),
    "sex": ("marts.fct_treatment_episodes", "sex"),
    "drug_class": ("marts.fct_treatment_episodes", "drug_class"),
    "drug": ("marts.fct_treatment_episodes", "drug"),
    "instrument": ("marts.fct_scores", "instrument"),
    "preset": ("marts.fct_episode_outcomes", "preset"),
}

#: How a refusal names each field to a person: the field's label (``queries.labels``) in lower case.
FIELD_WORDS: dict[str, str] = {
    **{field: words.lower() for field, (words, _all) in FIELDS.items()}, "preset": "follow-up preset"}


class UnknownValue(ValueError):
    """A filter value that no row of the warehouse has; the message suggests the closest one."""

    def __init__(self, field: str, value: str, suggestion: str | None, known: tuple[str, ...]) -> None:
        self.field, self.value, self.suggestion, self.known = field, value, suggestion, known
        words = FIELD_WORDS.get(field, field)
        if suggestion is not None:
            hint = f"did you mean {suggestion}?"
        else:
            listed = ", ".join(known[:12]) + (", ..." if len(known) > 12 else "")
            hint = f"known values: {listed}" if known else "the warehouse has none"
        super().__init__(f"no {words} {value!r}; {hint}")


def known_values(con: duckdb.DuckDBPyConnection, field: str) -> tuple[str, ...]:
    """The values ``field`` takes in the warehouse (plus the product's instruments), sorted."""
    table, column = VALUE_SOURCES[field]
    try:
        rows = con.sql(f"select distinct {column} from {table} where {column} is not null").fetchall()  # noqa: S608 - allow-listed names
    except duckdb.Error:
        rows = []  # a warehouse without this mart: nothing to check against
    values = {str(value) for (value,) in rows}
    if field == "instrument":
        values |= set(INSTRUMENT_RANGES)
    return tuple(sorted(values))


#: Characters people type for one another in codes: letter l or i for digit 1, letter o for 0.
_LOOK_ALIKES = str.maketrans({"l": "1", "i": "1", "o": "0"})


def _squashed(text: str) -> str:
    """Case, spaces, punctuation and look-alikes removed: 'PHQ9', 'phq 9' and 'PHQ-9' compare
    equal, and so do 'S0l' and 'S01'. Used only to compare a typed value with known ones."""
    return re.sub(r"[^a-z0-9]", "", text.lower()).translate(_LOOK_ALIKES)


def suggest(value: str, known: tuple[str, ...]) -> str | None:
    """The known value a person most likely meant, or None when nothing is close."""
    squashed = {_squashed(k): k for k in known}
    if _squashed(value) in squashed:
        return squashed[_squashed(value)]
    close = difflib.get_close_matches(value.lower(), [k.lower() for k in known], n=1, cutoff=0.6)
    if not close:
        return None
    return next(k for k in known if k.lower() == close[0])


def check(con: duckdb.DuckDBPyConnection, values: Mapping[str, Any]) -> None:
    """Raise :class:`UnknownValue` for the first given value its field does not know."""
    for field, value in values.items():
        if value is None or field not in VALUE_SOURCES:
            continue
        known = known_values(con, field)
        if known and str(value) not in known:
            raise UnknownValue(field, str(value), suggest(str(value), known), known)
