"""Load an extract folder (contract v1) into the DuckDB warehouse: the public entry point.

``ingest(path, db_path)`` runs, in order:

1. discovery and file checks for *every* table before any heavy work (one pass per file: SHA-256,
   strict UTF-8, header), so a refused file costs seconds, not minutes;
2. per table, in contract load order: read as text (``extract``), scan every string value for
   identifier shapes (``domains`` with the detectors of ``identifiers``), strict casts, row rules
   and string domains into rejects (``validate``, ``domains``), drug and side-effect
   normalisation (``pipelines.reference``, on distinct values only), rejected values masked and
   quarantined (``domains``), top-coding of birth years, then an upsert into ``raw.<table>``
   (``publish``);
3. the ``ref`` tables, ``meta.deployment``, then the model step (``pipelines.model_step``): the
   SQL models (``pipelines.transform``) with the definitions (``pipelines.definitions``),
   ``meta.definitions``, the audits (``pipelines.audits``: an error-level one refuses the load)
   and the caller's ``after_models``; then the load log;
4. the atomic swap of ``<db>.tmp`` over the live file (``publish.build_then_swap``).

``check_only=True`` runs 1-2 in an in-memory database and writes no file. File-level problems
raise ``IngestError`` (``.file``, ``.column``, ``.reason``); the live database is then untouched.
"""

from __future__ import annotations

import json
import os
import secrets
import tempfile
import time
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import duckdb

from pipelines import meta, preflight
from pipelines.contract import CONTRACT_VERSION, TABLE_ORDER, TABLES, Table
from pipelines.extract import IngestError, SourceFile, read_as_text
from pipelines.thresholds import check_thresholds

__all__ = ["IngestError", "LoadSummary", "ingest"]

LoadSummary = meta.LoadSummary
#: ``progress(table, stage, fraction_done)``; table is ``"models"`` for the model build.
Progress = Callable[[str, str, float], None]
SOURCE_KINDS = ("contract", "omop", "fhir", "synthea", "auto")


def software_version() -> str:
    try:
        return version("psych-outcomes")
    except PackageNotFoundError:
        return "0+unknown"


def ingest(path: str | Path, db_path: str | Path | None, *, check_only: bool = False,
           source_kind: str = "contract", deid_mode: str | None = None,
           progress: Progress | None = None, extra_notes: Iterable[str] = (),
           config_path: str | Path | None = None, run_models: bool = True,
           memory_limit: str | None = None,
           overrides: dict[str, Any] | None = None,
           after_models: Callable[[duckdb.DuckDBPyConnection], Any] | None = None) -> LoadSummary:
    """Validate and load the extract at ``path`` into ``db_path``; return what happened.

    ``source_kind`` other than ``contract`` converts the source first with
    ``pipelines.adapters.to_contract`` (``auto`` asks ``pipelines.adapters.detect``).
    ``deid_mode`` overrides the deployment mode (else ``outcomes.toml`` ``[deployment]
    deid_mode``, else ``synthetic`` when the folder has a ``truth.json``, else
    ``limited_data_set``). ``run_models=False`` loads ``raw``/``ref``/``meta`` only.
    ``memory_limit`` caps DuckDB's memory for the build (default ``$OUTCOMES_MEMORY_LIMIT`` or
    3 GB, so a 10-million-row load stays under 4 GB of RAM; DuckDB spills to disk beyond it).
    ``overrides`` are ``--set`` values (``pipelines.load_config``): the load's thresholds and
    definition parameters. The configuration, the overrides and ``db_path`` are checked before
    any file is read. ``after_models(con)`` runs on the built warehouse after the models and
    audits, before it is published (the CLI stores the dashboard's default results with it,
    ``dashboard.precompute``); not on a ``check_only`` or ``run_models=False`` load.
    """
    from pipelines import load_config
    from pipelines.file_checks import check_database_path, check_extract_path

    path = Path(path)
    if source_kind not in SOURCE_KINDS:
        raise ValueError(f"source_kind must be one of {SOURCE_KINDS}, got {source_kind!r}")
    if deid_mode is not None and deid_mode not in meta.DEID_MODES:
        raise ValueError(f"deid_mode must be one of {meta.DEID_MODES}, got {deid_mode!r}")
    overrides = dict(overrides or {})
    check_extract_path(path)
    settings = load_config.load_settings(config_path, overrides)
    definitions = load_config.definitions(config_path, overrides)
    if db_path is not None:
        check_database_path(Path(db_path))
    options: dict[str, Any] = {
        "check_only": check_only, "progress": progress, "config_path": config_path,
        "run_models": run_models, "deid_mode": deid_mode, "settings": settings,
        "after_models": after_models,
        "definitions": definitions,
        "memory_limit": memory_limit or os.environ.get("OUTCOMES_MEMORY_LIMIT") or "3GB"}
    if source_kind == "contract":
        return _ingest_folder(path, db_path, input_label=str(path), source_kind="contract",
                              notes=list(extra_notes), **options)
    # Adapters are another part of the product; imported only on this path so a contract
    # load works without them.
    from pipelines import adapters

    adapter_error = getattr(adapters, "AdapterError", ValueError)
    try:
        kind = adapters.detect(path) if source_kind == "auto" else source_kind
    except adapter_error as exc:
        raise IngestError(str(exc), file=str(path), reason="unrecognised_source") from exc
    if kind == "contract":
        return _ingest_folder(path, db_path, input_label=str(path), source_kind="contract",
                              notes=list(extra_notes), **options)
    with tempfile.TemporaryDirectory(prefix="outcomes-adapter-") as out_dir:
        try:
            report = adapters.to_contract(path, kind, Path(out_dir))
        except adapter_error as exc:
            raise IngestError(str(exc), file=str(path), reason="unreadable_source") from exc
        notes = [*extra_notes, *report.notes]
        if getattr(report, "date_shifted", False):
            notes.append("the source's dates were shifted into the future; the adapter re-based them")
        return _ingest_folder(Path(out_dir), db_path, input_label=str(path), source_kind=kind,
                              notes=notes, implied_mode=getattr(report, "deid_mode", None),
                              source_rejects=list(getattr(report, "rejects", [])), **options)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _new_load_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def _ingest_folder(folder: Path, db_path: str | Path | None, *, input_label: str,
                   source_kind: str, deid_mode: str | None, notes: list[str], check_only: bool,
                   progress: Progress | None, config_path: str | Path | None, run_models: bool,
                   memory_limit: str | None, settings: Any, definitions: Any,
                   after_models: Callable[[duckdb.DuckDBPyConnection], Any] | None = None,
                   implied_mode: str | None = None,
                   source_rejects: list | None = None) -> LoadSummary:
    """Load a contract folder. The mode is the caller's, else the deployment's configuration,
    else what the source implies (an adapter's report, a ``truth.json``), else a limited data set.
    """
    clock = time.perf_counter()
    deployment_config = meta.deployment_config(config_path)
    requested_mode = deid_mode or deployment_config.get("deid_mode") or implied_mode
    if requested_mode is None and (folder / "truth.json").is_file():
        requested_mode = "synthetic"
    summary = LoadSummary(
        load_id=_new_load_id(), input_path=input_label,
        db_path=None if check_only or db_path is None else str(db_path), check_only=check_only,
        source_kind=source_kind, deid_mode=requested_mode or "limited_data_set",
        software_version=software_version(), contract_version=CONTRACT_VERSION,
        started_at=_now(), notes=list(notes))
    sources = preflight.inspect_sources(folder, summary.notes)
    from pipelines.domains import id_pattern_from_config

    id_pattern = id_pattern_from_config(config_path)
    if check_only:
        # In memory (no file is written next to the database); spills, if any, go to $TMPDIR.
        con = duckdb.connect(":memory:", config={"temp_directory": tempfile.gettempdir(),
                                                 "memory_limit": memory_limit or "3GB"})
        try:
            meta.create_meta(con)
            if db_path is not None and Path(db_path).is_file():
                preflight.copy_live_patients(con, Path(db_path))
            _load_tables(con, sources, summary, progress, source_rejects or [], id_pattern)
            check_thresholds(summary, settings.max_reject_share)
        finally:
            con.close()
        summary.status = "checked"
    else:
        if db_path is None:
            raise ValueError("db_path is required unless check_only=True")
        from pipelines.publish import build_then_swap

        with build_then_swap(Path(db_path), memory_limit=memory_limit) as con:
            meta.create_meta(con)
            meta.settle_deid_mode(con, summary, explicit=deid_mode is not None)
            _load_tables(con, sources, summary, progress, source_rejects or [], id_pattern)
            check_thresholds(summary, settings.max_reject_share)
            meta.load_reference_tables(con)
            meta.write_deployment_record(con, summary, deployment_config)
            if run_models:
                from pipelines import model_step

                model_step.run(con, summary, definitions, progress, after_models)
            summary.finished_at = _now()
            meta.write_load_log(con, summary, _file_rows(con, summary))
    summary.finished_at = summary.finished_at or _now()
    summary.seconds = round(time.perf_counter() - clock, 3)
    return summary


def _load_tables(con: duckdb.DuckDBPyConnection, sources: dict[str, tuple],
                 summary: LoadSummary, progress: Progress | None, source_rejects: list,
                 id_pattern: str) -> None:
    """Every table in load order, then the reject summary; adapter rejects are recorded too
    (their values masked: ``pipelines.domains``)."""
    from pipelines.domains import QUARANTINE_DDL, mask_adapter_value, new_salt

    con.execute(QUARANTINE_DDL)
    if source_rejects:
        con.executemany("insert into meta.rejects values (?, ?, ?, ?, ?, ?, ?, ?)", [
            (summary.load_id, r.table_name, r.source_file, r.line, r.column_name, r.reason_code,
             r.message, mask_adapter_value(r.value)) for r in source_rejects])
    today = date.today()
    params = {"tomorrow": today + timedelta(days=1), "load_year": today.year,
              "load_id": summary.load_id, "id_pattern": id_pattern, "salt": new_salt()}
    con.execute("create or replace temp table _load_files (table_name VARCHAR, "
                "source_file VARCHAR, sha256 VARCHAR, rows_read BIGINT, rows_rejected BIGINT)")
    absent = [name for name in TABLE_ORDER if name not in sources]
    for name in TABLE_ORDER:
        # An absent optional table loads as an empty batch: raw.<table> then exists with its
        # usual columns (new warehouse) or keeps its rows (incremental load), so every model
        # and metric reading it answers "no data" instead of failing.
        _load_table(con, TABLES[name], sources.get(name, ()), summary, params, progress)
    if absent:
        summary.notes.append(
            f"optional table(s) not in the extract, loaded as empty: {', '.join(absent)} "
            "(rows an earlier load stored are kept; metrics that need them show no data)")
    _refuse_identifier_rejects(con, summary.load_id)
    summary.quarantined_values = con.sql("select count(*) from meta.quarantine where load_id = $id",
                                         params={"id": summary.load_id}).fetchall()[0][0]
    if summary.quarantined_values:
        summary.notes.append(
            f"{summary.quarantined_values} rejected value(s) failed their column's domain or a "
            "detector and are stored only masked (meta.quarantine); 'outcomes quarantine' "
            "lists them")
    for table, column, reason, message, rows, examples in con.sql("""
            select table_name, column_name, reason_code, any_value(message), count(*),
                   list(source_file || ':' || coalesce(line::varchar, '?')
                        order by source_file, line)[1:5]
            from meta.rejects where load_id = $id
            group by all order by table_name, count(*) desc, column_name, reason_code
            """, params={"id": summary.load_id}).fetchall():
        summary.rejects.append(meta.RejectGroup(table, column, reason, message, int(rows),
                                                list(examples)))
    order = {name: position for position, name in enumerate(TABLE_ORDER)}
    summary.rejects.sort(key=lambda g: (order.get(g.table, len(order)), g.table, -g.rows))


def _load_table(con: duckdb.DuckDBPyConnection, table: Table, files: tuple[SourceFile, ...],
                summary: LoadSummary, params: dict[str, object],
                progress: Progress | None) -> None:
    """Read, scan, validate, normalise and upsert one table; record its rejects and counts."""
    from pipelines import domains, validate
    from pipelines.publish import create_batch_view, merge_into_raw

    name = table.name
    text_t, typed_t, rejects_t = f"_text_{name}", f"_typed_{name}", f"_rejects_{name}"
    files_t = f"{text_t}_files"

    def step(stage: str, fraction: float) -> None:
        if progress:
            progress(name, stage, fraction)

    started = time.perf_counter()
    step("reading", 0.0)
    # The typed values are computed as the text is read (one table, one pass); ``typed_t`` is
    # a view giving them their contract names.
    read_as_text(con, name, files, table.column_names, text_t, validate.typed_columns(table))
    step("scanning for identifiers", 0.35)
    id_pattern = str(params["id_pattern"])
    violated = domains.refuse_identifier_values(con, table, text_t, files_t, id_pattern)
    step("validating", 0.5)
    validate.build_typed(con, table, text_t, typed_t)
    validate.create_rejects(con, rejects_t)
    validate.reject_column_rules(con, table, text_t, rejects_t, params)
    domains.reject_domain_violations(con, table, typed_t, rejects_t, id_pattern, violated)
    if name == "side_effects":
        from pipelines.reference import normalise_effects

        _map_distinct(con, typed_t, "effect", "_effect_map", ("term", "code"), normalise_effects)
        validate.reject_unknown_effects(con, typed_t, rejects_t, "_effect_map")
    validate.reject_unknown_references(con, table, typed_t, rejects_t)
    validate.reject_duplicates(con, table, typed_t, rejects_t, files_t)
    step("normalising drug names", 0.6)
    if "drug" in table.column_names:
        from pipelines.reference import normalise_drug_names

        _map_distinct(con, typed_t, "drug", "_drug_map", ("drug", "ingredient"),
                      normalise_drug_names)
        domains.reject_unlistable_drugs(con, table, typed_t, rejects_t, "_drug_map")
    domains.guard_rejected_values(con, table, text_t, rejects_t, files_t, summary.load_id,
                                  str(params["salt"]))
    validate.write_rejects(con, table, text_t, rejects_t, files_t, summary.load_id)
    content_columns = create_batch_view(con, table, typed_t, rejects_t, files_t, params)
    step("loading", 0.8)
    counts = merge_into_raw(con, table, "_batch", content_columns)
    _record_table(con, table, typed_t, rejects_t, files_t, summary, counts)
    con.execute("drop view if exists _batch")
    con.execute(f"drop view if exists {typed_t}")
    for temp in (text_t, files_t, rejects_t, "_drug_map", "_effect_map"):
        con.execute(f"drop table if exists {temp}")
    done = summary.tables[-1]
    step(f"done ({done.rows_read:,} rows read, {done.rows_rejected:,} rejected, "
         f"{time.perf_counter() - started:.1f} s)", 1.0)


def _map_distinct(con: duckdb.DuckDBPyConnection, typed_t: str, column: str, target: str,
                  names: tuple[str, str], normalise: Callable) -> None:
    """``target(<from>, <to>)``: each distinct value of ``column`` and its normalised form.

    Only the distinct values go through Python (a few thousand names for millions of rows);
    the result is joined back in SQL.
    """
    import polars as pl

    values = con.sql(f'select distinct "{column}" as v from {typed_t} '  # noqa: S608
                     f'where "{column}" is not null').pl()["v"]
    mapping = pl.DataFrame({names[0]: values, names[1]: normalise(values)},
                           schema={names[0]: pl.String, names[1]: pl.String})
    con.register("_mapping_frame", mapping)
    try:
        con.execute(f"create or replace temp table {target} as select * from _mapping_frame")  # noqa: S608
    finally:
        con.unregister("_mapping_frame")


def _record_table(con: duckdb.DuckDBPyConnection, table: Table, typed_t: str, rejects_t: str,
                  files_t: str, summary: LoadSummary, counts) -> None:
    """Per-file counts, unmapped drug names, top-coding and reject groups into the summary."""
    name, load_id = table.name, summary.load_id
    con.execute(f"""
        insert into _load_files
        select $table, f.source_file, f.sha256, coalesce(n.rows, 0), coalesce(rj.rows, 0)
        from {files_t} f
        left join (select _file_idx, count(*) as rows from {typed_t} group by 1) n
               on n._file_idx = f._file_idx
        left join (select t._file_idx, count(distinct r._row) as rows from {rejects_t} r
                   join {typed_t} t on t._row = r._row group by 1) rj
               on rj._file_idx = f._file_idx
    """, {"table": name})  # noqa: S608
    files, read, rejected = con.sql(
        "select coalesce(list(source_file order by source_file), []), "
        "coalesce(sum(rows_read), 0), coalesce(sum(rows_rejected), 0) "
        "from _load_files where table_name = $t", params={"t": name}).fetchall()[0]
    summary.tables.append(meta.TableSummary(
        table=name, files=files, rows_read=int(read), rows_loaded=int(read - rejected),
        rows_rejected=int(rejected), rows_new=counts.new, rows_updated=counts.updated,
        rows_in_warehouse=counts.in_warehouse))
    if "drug" in table.column_names:
        con.execute("insert into meta.unmapped_drugs select $id, $t, drug, count(*) from _batch "
                    "where ingredient is null and drug is not null group by drug",
                    {"id": load_id, "t": name})
        summary.unmapped_drugs += [
            {"table": name, "drug_as_written": drug, "rows": rows}
            for drug, rows in con.sql(
                "select drug_as_written, rows from meta.unmapped_drugs where load_id = $id "
                "and table_name = $t order by rows desc, drug_as_written",
                params={"id": load_id, "t": name}).fetchall()]
    if name == "patients":
        top_coded, stored_year = con.sql(
            "select count(*), min(birth_year) from _batch where is_birth_year_top_coded"
        ).fetchall()[0]
        summary.birth_years_top_coded = int(top_coded)
        if top_coded:
            summary.notes.append(
                f"{top_coded} birth year(s) implied an age of 90 or more and were top-coded "
                f"(stored as {stored_year}, is_birth_year_top_coded = true)")


def _refuse_identifier_rejects(con: duckdb.DuckDBPyConnection, load_id: str) -> None:
    """A rejected date or number can still hold a phone number: never store it in rejects."""
    from pipelines.deid import ANY_IDENTIFIER_PATTERN, value_kind

    hit = con.sql("select source_file, column_name, line, value from meta.rejects "
                  "where load_id = $id and regexp_matches(value, $pattern) "
                  "order by source_file, line limit 1",
                  params={"id": load_id, "pattern": ANY_IDENTIFIER_PATTERN}).fetchall()
    if hit:
        source_file, column, line, value = hit[0]
        raise IngestError(
            f"{source_file}: column '{column}' holds a value shaped like {value_kind(value)} "
            f"(line {line}); the extract must be de-identified, so the load is refused",
            file=source_file, column=column, reason="direct_identifier_value")


def _file_rows(con: duckdb.DuckDBPyConnection,
               summary: LoadSummary) -> list[tuple[str, str, str, int, int, int]]:
    return [tuple(r) for r in con.sql(
        "select table_name, source_file, sha256, rows_read, rows_read - rows_rejected, "
        "rows_rejected from _load_files order by table_name, source_file").fetchall()]


def summary_json(summary: LoadSummary) -> str:
    return json.dumps(summary.to_dict(), indent=2, default=str)
