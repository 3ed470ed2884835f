"""The rating scales and their outcome rules: one home, ``pipelines/reference/instruments.csv``.

Every rule about an instrument lives in that table and nowhere else: the contract takes its score
ranges, ``pipelines.definitions`` its default eligibility and remission cut-offs, the build writes
the rules in force into ``ref.instrument_rules`` (``write_rules``) and the episode-outcomes mart
applies them from there; the metrics read the mart's verdicts and never restate a rule.

Columns (DOMAIN.md sections 2-3):

* ``instrument`` as sent; ``family`` the instrument it is scored as (PHQ-A is PHQ-9).
* ``score_min``/``score_max``: the inclusive total-score range (validation refuses others).
* ``is_outcome``: the mart derives baseline/follow-up outcomes for it.
* ``eligibility_min``: baseline at or above which an episode is eligible.
* ``response_rule``: ``half_of_baseline`` (``2 * followup <= baseline``, exactly half counts),
  ``drop_of_points`` (``baseline - followup >= response_min_drop``; PCL-5, clinically meaningful
  change of 10 points) or ``much_improved`` (CGI-I 1-2); empty when none is defined.
* ``remission``: comparator and cut-off as published (``<5``, ``<=7``); empty when none is defined,
  and then ``remission_not_defined_reason`` says why (shown instead of a rate).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import duckdb

RESPONSE_RULES = ("half_of_baseline", "drop_of_points", "much_improved")


@dataclass(frozen=True)
class Instrument:
    name: str
    family: str
    score_min: int
    score_max: int
    is_outcome: bool
    eligibility_min: int | None
    response_rule: str | None
    response_min_drop: int | None
    remission: str | None
    remission_not_defined_reason: str | None
    source: str


def _int(text: str) -> int | None:
    return int(text) if text.strip() else None


@cache
def instruments() -> dict[str, Instrument]:
    """Every instrument of ``instruments.csv`` by name, in file order."""
    with resources.as_file(resources.files("pipelines") / "reference" / "instruments.csv") as path, \
            path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    out: dict[str, Instrument] = {}
    for row in rows:
        instrument = Instrument(
            name=row["instrument"], family=row["family"],
            score_min=int(row["score_min"]), score_max=int(row["score_max"]),
            is_outcome=row["is_outcome"] == "true",
            eligibility_min=_int(row["eligibility_min"]),
            response_rule=row["response_rule"] or None,
            response_min_drop=_int(row["response_min_drop"]),
            remission=row["remission"] or None,
            remission_not_defined_reason=row["remission_not_defined_reason"] or None,
            source=row["source"],
        )
        out[instrument.name] = instrument
    return out


def outcome_instruments() -> tuple[str, ...]:
    """The instruments with baseline/follow-up outcomes (response, remission), in file order."""
    return tuple(name for name, i in instruments().items() if i.is_outcome)


def score_ranges() -> dict[str, tuple[int, int]]:
    """Instrument as sent -> inclusive total-score range."""
    return {name: (i.score_min, i.score_max) for name, i in instruments().items()}


#: The columns of ``ref.instrument_rules`` (one row per outcome instrument).
RULE_COLUMNS = (
    "instrument VARCHAR", "family VARCHAR", "score_min INTEGER", "score_max INTEGER",
    "eligibility_min INTEGER", "response_rule VARCHAR", "response_min_drop INTEGER",
    "remission VARCHAR", "remission_max INTEGER", "cutoff_id VARCHAR",
    "remission_not_defined_reason VARCHAR",
)


#: Parameter-name stems of the instruments with outcome rules (``phq9_eligible_min`` ...). The
#: instruments and their rules are ``pipelines/reference/instruments.csv`` (``pipelines.instruments``);
#: a test keeps these keys equal to its outcome instruments.
OUTCOME_INSTRUMENTS: dict[str, str] = {
    "PHQ-9": "phq9",
    "GAD-7": "gad7",
    "QIDS-SR16": "qids_sr16",
    "MADRS": "madrs",
    "HAM-D17": "hamd17",
    "YMRS": "ymrs",
    "PCL-5": "pcl5",
}


def parameter_stem(instrument: str) -> str:
    """The stem of an outcome instrument's parameter names (``PHQ-9`` -> ``phq9``)."""
    return OUTCOME_INSTRUMENTS[instrument]


def write_rules(con: duckdb.DuckDBPyConnection, params: dict[str, Any]) -> None:
    """``ref.instrument_rules``: the outcome instruments' rules in force for this build.

    The table's values, with the configured overrides the build was given (``params`` of
    ``pipelines.definitions.Definitions.as_params``: ``<stem>_eligible_min``,
    ``<stem>_remission_max``, ``<stem>_cutoff_id``, ``pcl5_response_min_drop``), which
    ``meta.definitions`` records. A remission the configuration defines needs no reason; one it
    leaves undefined keeps the table's reason (or a generic one)."""
    rows = []
    for name in outcome_instruments():
        instrument = instruments()[name]
        stem = parameter_stem(name)
        remission_max = params.get(f"{stem}_remission_max")
        cutoff_id = params.get(f"{stem}_cutoff_id")
        min_drop = instrument.response_min_drop
        if instrument.response_rule == "drop_of_points":
            min_drop = params.get(f"{stem}_response_min_drop", min_drop)
        reason = None
        if remission_max is None:
            reason = instrument.remission_not_defined_reason or f"no remission cut-off for {name}"
        rows.append((
            name, instrument.family, instrument.score_min, instrument.score_max,
            params.get(f"{stem}_eligible_min", instrument.eligibility_min),
            instrument.response_rule, min_drop,
            cutoff_id.removeprefix(name) if cutoff_id else None, remission_max, cutoff_id, reason,
        ))
    con.execute("create schema if not exists ref")
    con.execute(f"create or replace table ref.instrument_rules ({', '.join(RULE_COLUMNS)})")
    if rows:
        placeholders = ", ".join("?" for _ in RULE_COLUMNS)
        con.executemany(f"insert into ref.instrument_rules values ({placeholders})", rows)  # noqa: S608


def family_macro() -> str:
    """``create or replace macro instrument_family(instrument)``: the instrument a score is
    scored as (PHQ-A -> PHQ-9), from the ``family`` column; any other name is its own family."""
    pairs = [(name, i.family) for name, i in instruments().items() if i.family != name]
    # names from the reviewed CSV; quotes doubled all the same
    branches = " ".join(f"when '{a.replace(chr(39), chr(39) * 2)}' then '{b.replace(chr(39), chr(39) * 2)}'"
                        for a, b in pairs)
    body = f"case instrument {branches} else instrument end" if pairs else "instrument"
    return f"create or replace macro instrument_family(instrument) as {body}"
