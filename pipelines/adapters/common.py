"""What every adapter shares: the report, surrogate ids, date re-basing and the contract writer.

An adapter turns a source (OMOP CDM, FHIR R4, Synthea CSV) into an extract-contract folder; the
normal contract load (validation, de-identification guard, normalisation, publishing) then runs
on that folder. Nothing here validates contract rules: that is the loader's job, and doing it
twice would let the two drift apart. The adapter only drops rows it cannot express in the
contract at all (no patient, no date, no score), and it records every such drop with a reason.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import ClassVar, cast

import polars as pl

from pipelines.contract import TABLE_ORDER, TABLES

#: Where a date-shifted source is re-based to: the latest date of each re-based unit (the whole
#: source, or each patient) lands in the 7 days ending here. A fixed past date rather than
#: "today" so that loading the same source twice gives identical tables (idempotent loads).
REBASE_ANCHOR = date(2020, 12, 31)
EARLIEST_PLAUSIBLE = date(1900, 1, 1)
DAYS_PER_YEAR = 365.2425


@dataclass(frozen=True)
class SourceReject:
    """One source row the adapter could not map, shaped like a ``meta.rejects`` row."""

    table_name: str
    source_file: str
    line: int | None
    column_name: str
    reason_code: str
    message: str
    value: str | None = None


@dataclass
class AdapterReport:
    """What an adapter did, for the load summary.

    ``notes`` are sentences for a person (what was mapped, what was skipped and why); ``counts``
    are the same facts as numbers (``rows_written.<table>``, ``skipped.<reason>``, ...);
    ``deid_mode`` is what the source implies (``synthetic`` for self-declared synthetic data,
    else ``limited_data_set`` because the source carries day-level dates); ``date_shifted`` is
    true when the source's dates were found shifted into the future and were re-based.
    ``deployment`` holds suggested ``meta.deployment`` entries; ``rejects`` holds per-row
    problems with source file and line, shaped for ``meta.rejects``.
    """

    kind: str
    notes: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    deid_mode: str = "limited_data_set"
    date_shifted: bool = False
    deployment: dict[str, str] = field(default_factory=dict)
    rejects: list[SourceReject] = field(default_factory=list)

    def count(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + int(n)

    def skip(self, reason_key: str, n: int, sentence: str) -> None:
        """Record ``n`` source rows skipped knowingly, with the reason in words."""
        if n:
            self.count(f"skipped.{reason_key}", n)
            self.notes.append(f"skipped {n:,} {sentence}")


class Surrogates:
    """Opaque sequential ids, assigned in sorted source-id order within each namespace.

    ``P000001`` is the patient whose source id sorts first (as text). The number says nothing
    about the person and cannot be turned back into the source id without the source; it is not
    a hash (a hash of a source id is derived from it, DOMAIN.md section 10). Sorting makes the
    ids deterministic, so re-loading the same source gives the same ids.
    """

    PREFIXES: ClassVar[dict[str, str]] = {
        "patient": "P", "visit": "V", "prescription": "RX", "dispense": "DS", "assessment": "A",
        "side_effect": "SE", "measurement": "M", "site": "S", "clinician": "C",
    }

    def __init__(self) -> None:
        self._maps: dict[str, dict[str, str]] = {}

    def assign(self, namespace: str, source_ids: pl.Series) -> None:
        """Number every distinct non-null source id of a namespace, once.

        A namespace is assigned in one call, from every source of its ids (e.g. care sites
        from care_site, person and visit_occurrence together), so that no id is renumbered
        after another table has looked it up.
        """
        if namespace in self._maps:
            raise ValueError(f"surrogate namespace {namespace!r} is already assigned")
        everything = sorted(set(source_ids.drop_nulls().cast(pl.String).str.strip_chars()
                                .to_list()) - {""})
        width = max(6, len(str(len(everything))))
        prefix = self.PREFIXES[namespace]
        self._maps[namespace] = {sid: f"{prefix}{i:0{width}d}" for i, sid in
                                 enumerate(everything, start=1)}

    def lookup(self, namespace: str, source_ids: pl.Series) -> pl.Series:
        mapping = self._maps.get(namespace, {})
        return source_ids.cast(pl.String).str.strip_chars().replace_strict(mapping, default=None,
                                                         return_dtype=pl.String)

    def has(self, namespace: str) -> bool:
        return namespace in self._maps

    def size(self, namespace: str) -> int:
        return len(self._maps.get(namespace, {}))


def parse_date(column: str) -> pl.Expr:
    """The calendar date as written: the first 10 characters of an ISO date or date-time.

    For a FHIR ``2015-12-26T12:17:51-08:00`` that is the local date, 2015-12-26, as the brief
    asks; converting to UTC would move evening events to the next day.
    """
    return (pl.col(column).cast(pl.String).str.strip_chars().str.slice(0, 10)
            .str.strptime(pl.Date, "%Y-%m-%d", strict=False))


def bad_dates(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    """Rows whose ``column`` has text that is not an ISO date (for reject records)."""
    return frame.filter(pl.col(column).is_not_null() & parse_date(column).is_null())


def rebase_dates(frames: dict[str, pl.DataFrame], report: AdapterReport,
                 today: date | None = None) -> dict[str, pl.DataFrame]:
    """Detect a date-shifted source and move its dates back, keeping every interval.

    A source is date-shifted when any contract date lies after tomorrow (MIMIC moves each
    patient by a random offset into 2110-2202). Its dates are then moved by a whole number of
    weeks (so weekdays and every day difference within a unit are kept exactly):

    1. **whole source**, when one offset brings the latest date into the week ending on
       ``REBASE_ANCHOR`` and keeps every date and birth year at or after 1900 (cross-patient
       calendar comparisons stay valid);
    2. **per patient** otherwise (each patient's latest date lands in that week), because the
       source's own shift differed per patient and calendar comparisons across patients meant
       nothing already.

    Birth years move by the offset in whole years (``round(days / 365.2425)``), so ages at an
    event stay right within a year, the precision a birth year has anyway.
    """
    today = today or date.today()
    tomorrow = today + timedelta(days=1)
    patient_dates = _patient_dates(frames)
    if patient_dates.is_empty():
        return frames
    # polars types Series.max() as any scalar; an event_date column holds dates
    latest = cast(date, patient_dates["event_date"].max())
    report.deployment["date_precision"] = "day"
    if latest <= tomorrow:
        report.deployment["date_shifted"] = "false"
        return frames

    report.date_shifted = True
    per_patient = patient_dates.group_by("patient_id").agg(
        pl.col("event_date").min().alias("first"), pl.col("event_date").max().alias("last"))
    source_shift = _weeks_back(latest, REBASE_ANCHOR)
    births = frames.get("patients", pl.DataFrame({"patient_id": [], "birth_year": []}))
    earliest = cast(date, patient_dates["event_date"].min()) + timedelta(days=source_shift)
    min_birth = cast(int | None, births["birth_year"].cast(pl.Int64, strict=False).min())
    fits = earliest >= EARLIEST_PLAUSIBLE and (
        min_birth is None or min_birth + round(source_shift / DAYS_PER_YEAR) >= 1900)
    if fits:
        shifts = per_patient.select("patient_id", pl.lit(source_shift).alias("shift_days"))
        strategy = "whole_source"
    else:
        shifts = per_patient.select(
            "patient_id",
            pl.col("last").map_elements(lambda d: _weeks_back(d, REBASE_ANCHOR),
                                        return_dtype=pl.Int64).alias("shift_days"))
        strategy = "per_patient"
    lo, hi = cast(int, shifts["shift_days"].min()), cast(int, shifts["shift_days"].max())
    report.deployment.update({
        "date_shifted": "true", "date_rebase_strategy": strategy,
        "date_rebase_anchor": REBASE_ANCHOR.isoformat(),
        "date_rebase_days_min": str(lo), "date_rebase_days_max": str(hi)})
    report.counts["date_rebase.patients"] = shifts.height
    report.notes.append(
        f"dates are shifted into the future (latest {latest.isoformat()}, after tomorrow "
        f"{tomorrow.isoformat()}): re-based {strategy.replace('_', ' ')} by whole weeks "
        f"({lo:,} to {hi:,} days) so the latest date falls in the week ending "
        f"{REBASE_ANCHOR.isoformat()}; intervals within each patient are kept exactly, "
        "calendar dates are not real")
    return {name: _apply_shift(name, frame, shifts) for name, frame in frames.items()}


def _weeks_back(latest: date, anchor: date) -> int:
    """Days (a multiple of 7, negative when moving back) taking ``latest`` into anchor's week."""
    return -7 * math.ceil((latest - anchor).days / 7)


def _date_columns(name: str) -> list[str]:
    table = TABLES.get(name)
    return [c.name for c in table.columns if c.kind == "date"] if table else []


def _patient_dates(frames: dict[str, pl.DataFrame]) -> pl.DataFrame:
    parts = [frame.select(pl.col("patient_id"), pl.col(col).alias("event_date"))
             for name, frame in frames.items() if "patient_id" in frame.columns
             for col in _date_columns(name) if col in frame.columns]
    if not parts:
        return pl.DataFrame(schema={"patient_id": pl.String, "event_date": pl.Date})
    return pl.concat(parts).drop_nulls()


def _apply_shift(name: str, frame: pl.DataFrame, shifts: pl.DataFrame) -> pl.DataFrame:
    if "patient_id" not in frame.columns:
        return frame
    columns = frame.columns
    joined = frame.join(shifts, on="patient_id", how="left", maintain_order="left")
    # Patients with no dated event (only a birth year) take the median shift.
    median_shift = int(cast(float | None, shifts["shift_days"].median()) or 0)
    joined = joined.with_columns(pl.col("shift_days").fill_null(median_shift))
    updates = [(pl.col(c) + pl.duration(days=pl.col("shift_days"))).alias(c)
               for c in _date_columns(name) if c in columns]
    if name == "patients" and "birth_year" in columns:
        updates.append((pl.col("birth_year").cast(pl.Int64, strict=False)
                        + (pl.col("shift_days") / DAYS_PER_YEAR).round(0).cast(pl.Int64))
                       .alias("birth_year"))
    return joined.with_columns(updates).select(columns)


def write_contract(frames: dict[str, pl.DataFrame], out_dir: Path,
                   report: AdapterReport) -> None:
    """Write one ``<table>.csv`` per contract table, columns exactly as the contract orders them.

    A table without rows is written header-only, so the loader sees "present, empty" rather
    than "missing"; optional columns the source cannot fill are empty.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in TABLE_ORDER:
        table = TABLES[name]
        frame = frames.get(name)
        if frame is None:
            frame = pl.DataFrame(schema=dict.fromkeys(table.column_names, pl.String))
        missing = [c for c in table.column_names if c not in frame.columns]
        frame = frame.with_columns([pl.lit(None, dtype=pl.String).alias(c) for c in missing])
        frame = frame.select([_as_text(frame, c) for c in table.column_names])
        frame.write_csv(out_dir / f"{name}.csv", null_value="")
        report.counts[f"rows_written.{name}"] = frame.height


def _as_text(frame: pl.DataFrame, column: str) -> pl.Expr:
    dtype = frame.schema[column]
    if dtype == pl.Date:
        return pl.col(column).dt.to_string("%Y-%m-%d").alias(column)
    if dtype.is_float():
        # Whole numbers without a trailing ".0": a score of 7 must read as an integer.
        return (pl.when((pl.col(column) == pl.col(column).round(0)) & (pl.col(column).abs() < 1e15))
                .then(pl.col(column).cast(pl.Int64, strict=False).cast(pl.String))
                .otherwise(pl.col(column).cast(pl.String)).alias(column))
    return pl.col(column).cast(pl.String).alias(column)


def summarise_reasons(reasons: pl.Series) -> str:
    """``"a 3, b 1"`` from a series of reason labels, commonest first."""
    counted = Counter(reasons.drop_nulls().to_list())
    return ", ".join(f"{k} {v:,}" for k, v in counted.most_common())
