"""The ``meta`` schema (load log, files, rejects, unmapped drugs, deployment) and the load summary.

``meta.load_log`` has one row per published load; ``meta.load_files`` one row per input file with
its SHA-256 and the rows read, loaded and rejected; ``meta.rejects`` one row per failed rule
(a row failing two rules appears twice); ``meta.unmapped_drugs`` the drug names no reference entry
matched; ``meta.deployment`` what kind of data the warehouse holds (DOMAIN.md section 10);
``meta.load_notes`` the notes a load printed (top-coding, adapter notes).
"""

from __future__ import annotations

import os
import secrets
import tomllib
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb

from pipelines.contract import CONTRACT_VERSION
from pipelines.extract import IngestError

META_DDL: tuple[str, ...] = (
    "create schema if not exists meta",
    "create schema if not exists raw",
    "create schema if not exists ref",
    """create table if not exists meta.load_log (
        load_id VARCHAR, started_at TIMESTAMPTZ, finished_at TIMESTAMPTZ,
        software_version VARCHAR, contract_version VARCHAR, source_kind VARCHAR,
        input_path VARCHAR, status VARCHAR)""",
    """create table if not exists meta.load_files (
        load_id VARCHAR, table_name VARCHAR, source_file VARCHAR, sha256 VARCHAR,
        rows_read BIGINT, rows_loaded BIGINT, rows_rejected BIGINT)""",
    """create table if not exists meta.rejects (
        load_id VARCHAR, table_name VARCHAR, source_file VARCHAR, line BIGINT,
        column_name VARCHAR, reason_code VARCHAR, message VARCHAR, value VARCHAR)""",
    """create table if not exists meta.unmapped_drugs (
        load_id VARCHAR, table_name VARCHAR, drug_as_written VARCHAR, rows BIGINT)""",
    "create table if not exists meta.deployment (key VARCHAR, value VARCHAR)",
    "create table if not exists meta.load_notes (load_id VARCHAR, note VARCHAR)",
    "create table if not exists meta.definitions (key VARCHAR, value VARCHAR, is_default BOOLEAN)",
    # the secret salt of the record keys for cell-key perturbation (docs/privacy.md)
    "create table if not exists meta.cell_key (key VARCHAR, value VARCHAR)",
)

#: Deployment modes (DOMAIN.md section 10). Day-level dates need one of the first two.
DEID_MODES: tuple[str, ...] = ("limited_data_set", "expert_determination", "synthetic")


def create_meta(con: duckdb.DuckDBPyConnection) -> None:
    for statement in META_DDL:
        con.execute(statement)
    # Drawn once per warehouse and kept across loads (each load starts from a copy of the live
    # file): a new salt would give every cell new noise, and averaging loads would remove it.
    if not con.sql("select count(*) from meta.cell_key where key = 'salt'").fetchall()[0][0]:
        con.execute("insert into meta.cell_key values ('salt', $salt)",
                    {"salt": secrets.token_hex(32)})
    # Results the previous load stored for the dashboard (queries.snapshots) describe the previous
    # data, and their keys do not change with it (same salt, same requests): a load starts
    # without them; ``outcomes ingest`` stores new ones once the models are built.
    con.execute("drop table if exists meta.metric_snapshots")


@dataclass
class TableSummary:
    """Rows of one table in one load.

    ``rows_loaded`` are the rows that passed validation (the batch); of those, ``rows_new`` were
    added to the warehouse, ``rows_updated`` replaced a row with the same key and different
    content, and the rest were already there unchanged.
    """

    table: str
    files: list[str]
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    rows_new: int = 0
    rows_updated: int = 0
    rows_in_warehouse: int = 0


@dataclass
class RejectGroup:
    """Rejects of one (table, column, reason), with the first lines as examples."""

    table: str
    column: str | None
    reason_code: str
    message: str
    rows: int
    example_lines: list[str]


@dataclass
class LoadSummary:
    """What a load (or a ``--check``) did: the closing summary and the ``--json`` document."""

    load_id: str
    input_path: str
    db_path: str | None
    check_only: bool
    source_kind: str
    deid_mode: str
    software_version: str
    contract_version: str
    started_at: str = ""
    finished_at: str = ""
    status: str = "ok"
    tables: list[TableSummary] = field(default_factory=list)
    rejects: list[RejectGroup] = field(default_factory=list)
    unmapped_drugs: list[dict[str, Any]] = field(default_factory=list)
    birth_years_top_coded: int = 0
    #: rejected values stored only masked (``meta.quarantine``; ``pipelines.domains``)
    quarantined_values: int = 0
    models: dict[str, int] = field(default_factory=dict)
    #: one ``{audit, severity, model, status, offending_rows}`` per audit (pipelines.audits)
    audits: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rows_read(self) -> int:
        return sum(t.rows_read for t in self.tables)

    @property
    def rows_loaded(self) -> int:
        return sum(t.rows_loaded for t in self.tables)

    @property
    def rows_rejected(self) -> int:
        return sum(t.rows_rejected for t in self.tables)

    def to_dict(self) -> dict[str, Any]:
        document = asdict(self)
        document.update(rows_read=self.rows_read, rows_loaded=self.rows_loaded,
                        rows_rejected=self.rows_rejected)
        return document


def read_deployment(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return dict(con.sql("select key, value from meta.deployment").fetchall())


def write_deployment(con: duckdb.DuckDBPyConnection, values: dict[str, str | None]) -> None:
    """Replace ``meta.deployment`` with ``values`` (NULL values are stored as NULL)."""
    con.execute("delete from meta.deployment")
    con.executemany("insert into meta.deployment values (?, ?)", sorted(values.items()))


#: The date each raw table's events happened on: the data's date range spans every one of them.
#: The one list of them: ``staging.stg_data_coverage`` reads the range the load records from it.
#: Visit discharge and planned prescription end dates are not events (an end date may lie in the
#: future), so they do not extend the range.
EVENT_DATE_COLUMNS: dict[str, str] = {
    "visits": "visit_date",
    "diagnoses": "diagnosis_date",
    "prescriptions": "start_date",
    "dispenses": "dispense_date",
    "assessments": "assessment_date",
    "side_effects": "report_date",
    "measurements": "measured_date",
}


def data_date_range(con: duckdb.DuckDBPyConnection) -> tuple[str | None, str | None]:
    """First and last event date in ``raw`` over every dated table (``EVENT_DATE_COLUMNS``):
    fills after a patient's last visit still fall inside the range, so PDC keeps them."""
    # table and column names come from the constant above, never from input
    union = " union all ".join(f"select {column} as d from raw.{table}"  # noqa: S608
                               for table, column in EVENT_DATE_COLUMNS.items())
    row = con.sql(f"select min(d), max(d) from ({union})").fetchall()[0]  # noqa: S608
    return (str(row[0]) if row[0] else None, str(row[1]) if row[1] else None)


def write_load_log(con: duckdb.DuckDBPyConnection, summary: LoadSummary,
                   files: list[tuple[str, str, str, int, int, int]]) -> None:
    """One ``load_log`` row, the ``load_files`` rows and the notes of ``summary``."""
    con.execute("insert into meta.load_log values ($id, $started, $finished, $version, "
                "$contract, $kind, $input, $status)",
                {"id": summary.load_id, "started": summary.started_at,
                 "finished": summary.finished_at, "version": summary.software_version,
                 "contract": summary.contract_version, "kind": summary.source_kind,
                 "input": summary.input_path, "status": summary.status})
    con.executemany("insert into meta.load_files values (?, ?, ?, ?, ?, ?, ?)",
                    [(summary.load_id, *row) for row in files])
    if summary.notes:
        con.executemany("insert into meta.load_notes values (?, ?)",
                        [(summary.load_id, note) for note in summary.notes])


def config_section(config_path: str | Path | None, section: str) -> tuple[Path, dict[str, Any]]:
    """The file the loader's settings come from (``config_path``, ``$OUTCOMES_CONFIG`` or
    ./outcomes.toml) and its ``[section]``, empty when there is no such file; a file that is not
    TOML is refused (``bad_config``)."""
    candidate = Path(config_path or os.environ.get("OUTCOMES_CONFIG") or "outcomes.toml")
    if not candidate.is_file():
        return candidate, {}
    with candidate.open("rb") as handle:
        try:
            document = tomllib.load(handle)
        except tomllib.TOMLDecodeError as exc:
            raise IngestError(f"{candidate}: not valid TOML ({exc})", file=str(candidate),
                              reason="bad_config") from exc
    return candidate, dict(document.get(section, {}))


def deployment_config(config_path: str | Path | None) -> dict[str, str]:
    """``[deployment]`` of the settings file (``config_section``)."""
    return {k: str(v) for k, v in config_section(config_path, "deployment")[1].items()}


def settle_deid_mode(con: duckdb.DuckDBPyConnection, summary: LoadSummary, *,
                      explicit: bool) -> None:
    """Never loosen the mode silently: synthetic data cannot relabel a real warehouse."""
    existing = read_deployment(con).get("deid_mode")
    if existing is None or existing == summary.deid_mode:
        return
    if summary.deid_mode == "synthetic" and not explicit:
        summary.notes.append(f"deid_mode kept as '{existing}': this warehouse already holds "
                             "non-synthetic data (pass deid_mode explicitly to change it)")
        summary.deid_mode = existing
    else:
        summary.notes.append(f"deid_mode changed from '{existing}' to '{summary.deid_mode}'")


def write_deployment_record(con: duckdb.DuckDBPyConnection, summary: LoadSummary,
                      config: dict[str, str]) -> None:
    data_start, data_end = data_date_range(con)
    write_deployment(con, {
        "deid_mode": summary.deid_mode,
        "date_precision": "day",
        "dua_reference": config.get("dua_reference"),
        "source_kind": summary.source_kind,
        "contract_version": CONTRACT_VERSION,
        "data_start": data_start,
        "data_end": data_end,
    })


REFERENCE_TABLES = ("drugs", "drug_synonyms", "side_effect_terms", "diagnosis_groups",
                    "monitoring_tests", "monitoring_schedules", "dose_maximums")


def load_reference_tables(con: duckdb.DuckDBPyConnection) -> None:
    """``pipelines/reference/<name>.csv`` -> ``ref.<name>`` (all text, as the CSVs are)."""
    for name in REFERENCE_TABLES:  # names from the constant above: safe identifiers
        with resources.as_file(resources.files("pipelines") / "reference" / f"{name}.csv") as csv:
            con.execute(f"create or replace table ref.{name} as select * from read_csv("  # noqa: S608
                        "$path, header=true, all_varchar=true, delim=',', quote='\"')",
                        {"path": str(csv)})
