"""The load's model step: the SQL models, the definitions record, the audits and the caller's
``after_models`` hook, on the warehouse being built (``pipelines.ingest`` calls ``run`` before
the load log and the swap).

1. ``pipelines.transform.build_models`` with the load's definition parameters, one progress line
   per model (its rows and build time);
2. ``meta.definitions`` replaced by the definitions in force;
3. ``pipelines.audits.audit_build``: an error-level audit raises ``AuditError`` here, before the
   swap, so the live file stays as it was; the results go into the load summary;
4. ``after_models(con)`` (the CLI stores the dashboard's default results with it,
   ``dashboard.precompute``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import duckdb

from pipelines.meta import LoadSummary

#: ``progress(table, stage, fraction_done)``; table is ``"models"`` for the model build.
Progress = Callable[[str, str, float], None]


def run(con: duckdb.DuckDBPyConnection, summary: LoadSummary, definitions: Any,
        progress: Progress | None,
        after_models: Callable[[duckdb.DuckDBPyConnection], Any] | None = None) -> None:
    """Build the models, record the definitions, run the audits, then ``after_models``."""
    build_and_audit(con, summary, definitions, progress)
    if after_models is not None:
        after_models(con)


def build_and_audit(con: duckdb.DuckDBPyConnection, summary: LoadSummary,
                    definitions: Any, progress: Progress | None) -> None:
    """Steps 1-3: models, ``meta.definitions`` and the audits (``summary.models``,
    ``summary.audits``); ``progress("models", "done", 1.0)`` once the audits pass."""
    from pipelines.transform import build_models

    def report(model: str, position: int, count: int, rows: int | None, seconds: float) -> None:
        if progress is None:
            return
        if rows is None:
            progress(model, f"building model {position + 1}/{count}", position / count)
        else:
            progress(model, f"done ({rows:,} rows, {seconds:.1f} s)", (position + 1) / count)

    summary.models = build_models(con, definitions.as_params(), on_model=report)
    con.execute("delete from meta.definitions")
    con.executemany("insert into meta.definitions values (?, ?, ?)", definitions.as_records())
    # Before the swap: an error-level audit raises AuditError and the live file stays as it was.
    from pipelines.audits import audit_build
    from pipelines.transform import plan

    summary.audits = [
        {"audit": r.audit.name, "severity": r.audit.severity, "model": r.audit.model,
         "status": r.status, "offending_rows": r.offending_rows}
        for r in audit_build(con, summary.load_id, definitions.as_params(), plan())]
    if progress:
        progress("models", "done", 1.0)
