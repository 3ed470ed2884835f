"""Data-quality thresholds: when rejected rows are too many for the load to count as a success.

A load that rejects every row of a table and still says "loaded" hides an extract that did not
arrive (a float-typed Parquet column, dates sent as timestamps). So, after validation and before
anything is published, the load fails (``ThresholdError``, exit status 3; the live warehouse is
untouched) when

- a table's rejected share (rows with at least one reject / rows read) is **over**
  ``max_reject_share`` (default 0.05, ``pipelines.load_config``), or
- a required table has no accepted row (an empty required file included).

The message names every failing table, its share and its most frequent reasons, with the first
lines, so the analyst knows what to fix; ``meta.rejects`` of the failed load is not kept (the
build is discarded), but ``outcomes ingest --check --set max_reject_share=1`` lists them all.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from pipelines.contract import TABLES
from pipelines.extract import IngestError
from pipelines.meta import LoadSummary

_TOP_REASONS = 3


@dataclass(frozen=True)
class TableBreach:
    """One table over a threshold: ``reason`` is ``reject_share_over_limit`` or
    ``no_accepted_rows``; ``top_reasons`` are ``"column reason_code (rows, e.g. file:line)"``."""

    table: str
    reason: str
    rows_read: int
    rows_rejected: int
    share: float
    top_reasons: list[str]

    def describe(self, limit: float) -> str:
        reasons = "; ".join(self.top_reasons) or "no reasons recorded"
        if self.reason == "no_accepted_rows" and self.rows_read == 0:
            return f"{self.table}: a required table with no rows"
        if self.reason == "no_accepted_rows":
            return (f"{self.table}: a required table with no row accepted, "
                    f"{_percent(self.share)} of rows rejected ({self.rows_rejected:,} of "
                    f"{self.rows_read:,}); top reasons: {reasons}")
        return (f"{self.table}: {_percent(self.share)} of rows rejected ({self.rows_rejected:,} "
                f"of {self.rows_read:,}), over the limit of {_percent(limit)}; top reasons: "
                f"{reasons}")


class ThresholdError(IngestError):
    """The load is refused by a data-quality threshold; ``breaches`` lists the tables."""

    def __init__(self, breaches: list[TableBreach], limit: float) -> None:
        first = breaches[0]
        lines = "\n  ".join(b.describe(limit) for b in breaches)
        super().__init__(
            f"data-quality threshold: {len(breaches)} table(s) failed:\n  {lines}\n"
            "Fix the extract, or accept more rejected rows with --set max_reject_share=<share> "
            "(or [ingest] max_reject_share in outcomes.toml); `outcomes ingest --check --set "
            "max_reject_share=1` lists every rejected row",
            file=first.table, reason=first.reason)
        self.breaches = breaches
        self.limit = limit

    def to_dict(self) -> dict:
        document = super().to_dict()
        document["max_reject_share"] = self.limit
        document["tables"] = [asdict(b) for b in self.breaches]
        return document


def _percent(share: float) -> str:
    text = f"{share * 100:.1f}".rstrip("0").rstrip(".")
    return f"{text}%"


def check_thresholds(summary: LoadSummary, max_reject_share: float) -> None:
    """Raise ``ThresholdError`` if any table of ``summary`` breaks a threshold."""
    breaches = []
    for table in summary.tables:
        share = table.rows_rejected / table.rows_read if table.rows_read else 0.0
        # A required table sent empty is accepted only when the checks are turned off (1): a
        # source without rating scales (an OMOP database with no PHQ-9) still loads then.
        sent_empty_and_allowed = table.rows_read == 0 and max_reject_share >= 1
        if TABLES[table.table].required and table.rows_loaded == 0 and not sent_empty_and_allowed:
            reason = "no_accepted_rows"
        elif share > max_reject_share:
            reason = "reject_share_over_limit"
        else:
            continue
        groups = [g for g in summary.rejects if g.table == table.table]
        top = [f"{g.column or '(row)'} {g.reason_code} ({g.rows:,} rows, e.g. "
               f"{', '.join(g.example_lines[:2])}): {g.message}"
               for g in sorted(groups, key=lambda g: -g.rows)[:_TOP_REASONS]]
        breaches.append(TableBreach(table.table, reason, table.rows_read, table.rows_rejected,
                                    round(share, 4), top))
    if breaches:
        raise ThresholdError(breaches, max_reject_share)
