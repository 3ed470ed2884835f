"""Strict casts, row rules and rejects: set-based SQL generated from the contract.

Header rules (file level, the load is refused): a column named like a direct identifier
(``deid``), a required column missing, a column the contract does not list.

Row rules (the row is rejected into ``meta.rejects`` with a reason code; the good rows load):

======================== =================================================================
reason_code              meaning
======================== =================================================================
``missing_value``        a required value is empty
``invalid_date``         not an ISO date ``YYYY-MM-DD`` (or not a real day, e.g. 2023-02-30)
``date_out_of_range``    before 1900-01-01 or after tomorrow (the load date + 1)
``invalid_integer``      not a whole number (``12.0`` and ``1e3`` are refused, not rounded)
``invalid_number``       not a finite number
``out_of_range``         outside the column's range (days_supply 1-365, refills 0-24, ...)
``invalid_value``        not one of the allowed values (matched case-insensitively)
``score_out_of_range``   total_score outside the instrument's range (``INSTRUMENT_RANGES``)
``value_out_of_range``   measurement outside the plausible range of its measure
``end_before_start``     an end date before its start date
``unknown_effect_term``  side-effect term not in the vocabulary or its synonyms
``unknown_patient``      patient_id not in patients (or that patients row was rejected)
``duplicate_key``        the primary key was already used by an earlier row of the batch
``duplicate_row``        (diagnoses, no key) identical to an earlier row of the batch
======================== =================================================================

A row can carry several column reasons (each recorded); the set rules (effect term, patient,
duplicates) apply, in that order, only to rows that passed the column rules, so the first *valid*
row with a key wins and later ones are recorded as duplicates of it.
"""

from __future__ import annotations

import re

import duckdb

from pipelines import deid, domains, identifiers
from pipelines.contract import (
    INSTRUMENT_RANGES,
    MEASURE_RANGES,
    MIN_PLAUSIBLE_YEAR,
    TABLES,
    Column,
    Table,
)
from pipelines.extract import IngestError, SourceFile

_SAFE_LITERAL = re.compile(r"^[A-Za-z0-9_.\- ]+$")


#: A header cell shown as it is: a plain column name. Anything else may be a data row read as
#: the header (a file without its header line), so it is shown only masked.
_PLAIN_COLUMN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


def shown_column(name: str) -> str:
    """A header cell as messages may show it: as is when it is a plain column name (letters,
    digits, ``_``), else masked (``identifiers.mask``), so a data row mistaken for the header
    (``P001,1980,F,Maria Gonzalez``) is never echoed. A single lower-case word cannot be told
    from a column name and is shown (docs/privacy.md, limits)."""
    if _PLAIN_COLUMN_NAME.fullmatch(name):
        return name
    return identifiers.mask(name)


def check_header(table: Table, source: SourceFile) -> None:
    """Refuse a file whose header carries an identifier, lacks a required column or has extras."""
    for column in source.columns:
        kind = deid.identifier_kind(column)
        if kind is not None:
            raise IngestError(
                f"{source.relative_name}: column '{shown_column(column)}' looks like a direct "
                f"identifier ({kind}); the extract must be de-identified, so the load is refused",
                file=source.relative_name, column=shown_column(column), reason="direct_identifier_column")
    for column in table.required_columns:
        if column not in source.columns:
            raise IngestError(
                f"{source.relative_name}: required column '{column}' is missing "
                f"(the header has: {', '.join(shown_column(c) for c in source.columns)})",
                file=source.relative_name, column=column, reason="missing_column")
    for column in source.columns:
        if column not in table.column_names:
            raise IngestError(
                f"{source.relative_name}: column '{shown_column(column)}' is not in the contract "
                f"for '{table.name}' (allowed: {', '.join(table.column_names)})",
                file=source.relative_name, column=shown_column(column), reason="unexpected_column")


def _literal(value: str) -> str:
    """A contract constant as a SQL string literal (allow-listed characters only)."""
    if not _SAFE_LITERAL.match(value):
        raise ValueError(f"contract constant {value!r} has characters we do not place in SQL")
    return f"'{value}'"


def _number(value: float) -> str:
    return repr(int(value)) if float(value).is_integer() else repr(float(value))


def _typed_expr(column: Column) -> str:
    """The typed value: NULL whenever the text is not a valid value of the column's kind."""
    v = f'"{column.name}"'
    if column.kind == "date":
        return (f"case when regexp_full_match({v}, '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}') "
                f"then try_cast({v} as DATE) end")
    if column.kind == "int":
        return (f"case when regexp_full_match({v}, '[-+]?[0-9]{{1,18}}') "
                f"then cast({v} as BIGINT) end")
    if column.kind == "float":
        return f"try_cast({v} as DOUBLE)"
    if column.kind == "enum":
        cases = " ".join(f"when {_literal(a.lower())} then {_literal(a)}" for a in column.allowed)
        return f"case lower({v}) {cases} end"
    return v


#: Columns whose lower bound is exclusive: a quantity of 0 is no supply at all (issue 2).
_EXCLUSIVE_MIN = frozenset({("prescriptions", "quantity"), ("dispenses", "quantity")})


def _range_bounds(table: Table, column: Column) -> tuple[str | None, str | None]:
    low = _number(column.min_value) if column.min_value is not None else None
    high = _number(column.max_value) if column.max_value is not None else None
    if (table.name, column.name) == ("patients", "birth_year"):
        high = "$load_year"  # a birth year in the future is a typo, whatever the contract says
    return low, high


def _reason_expr(table: Table, column: Column) -> str:
    v, t = f'"{column.name}"', f'"{column.name}__t"'
    missing = "'missing_value'" if column.required else "NULL"
    checks = [f"when {v} is null then {missing}"]
    if column.kind == "date":
        checks.append(f"when {t} is null then 'invalid_date'")
        checks.append(f"when {t} < DATE '{MIN_PLAUSIBLE_YEAR}-01-01' or {t} > $tomorrow "
                      "then 'date_out_of_range'")
    elif column.kind == "int":
        checks.append(f"when {t} is null then 'invalid_integer'")
    elif column.kind == "float":
        checks.append(f"when {t} is null or not isfinite({t}) then 'invalid_number'")
    elif column.kind == "enum":
        checks.append(f"when {t} is null then 'invalid_value'")
    if column.kind in ("int", "float"):
        low, high = _range_bounds(table, column)
        if low is not None:
            below = "<=" if (table.name, column.name) in _EXCLUSIVE_MIN else "<"
            checks.append(f"when {t} {below} {low} then 'out_of_range'")
        if high is not None:
            checks.append(f"when {t} > {high} then 'out_of_range'")
    return f"case {' '.join(checks)} end"


def _cross_rules(table: Table) -> list[tuple[str, str, str]]:
    """Rules over several columns: ``(reason column, reported column, SQL giving the code)``."""
    rules = []
    for index, (start, end) in enumerate(table.ordered_dates):
        rules.append((f"_x_order_{index}", end,
                      f"case when \"{end}__t\" < \"{start}__t\" then 'end_before_start' end"))
    if table.name == "assessments":
        cases = " ".join(
            f"when {_literal(name)} then \"total_score__t\" between {low} and {high}"
            for name, (low, high) in INSTRUMENT_RANGES.items())
        rules.append(("_x_score", "total_score",
                      f"case when not (case \"instrument__t\" {cases} else true end) "
                      "then 'score_out_of_range' end"))
    if table.name == "measurements":
        cases = " ".join(
            f"when {_literal(name)} then \"value__t\" between {_number(low)} and {_number(high)}"
            for name, (low, high) in MEASURE_RANGES.items())
        rules.append(("_x_value", "value",
                      f"case when isfinite(\"value__t\") and "
                      f"not (case lower(\"measure__t\") {cases} else true end) "
                      "then 'value_out_of_range' end"))
    return rules


def reason_columns(table: Table) -> list[tuple[str, str]]:
    """``(reason column in the typed table, contract column it reports on)`` pairs."""
    return ([(f"_r_{c.name}", c.name) for c in table.columns]
            + [(name, column) for name, column, _ in _cross_rules(table)])


#: Kinds whose typed value differs from the trimmed text (the others are the text itself).
_CAST_KINDS = {"date": "DATE", "int": "BIGINT", "float": "DOUBLE", "enum": "VARCHAR"}


def typed_columns(table: Table) -> tuple[tuple[str, str, str], ...]:
    """``(name, type, SQL)`` of the typed values the text table carries beside the text
    (``extract.read_as_text``'s ``derived``): ``<column>__t`` for each date, number and enum
    column, NULL whenever the text is not a valid value of the column's kind. Identifier and
    text columns are typed as they are, so they are not stored twice."""
    return tuple((f"{c.name}__t", _CAST_KINDS[c.kind], _typed_expr(c))
                 for c in table.columns if c.kind in _CAST_KINDS)


def _typed_name(column: Column) -> str:
    return f'"{column.name}__t"' if column.kind in _CAST_KINDS else f'"{column.name}"'


def build_typed(con: duckdb.DuckDBPyConnection, table: Table, text_table: str,
                typed_table: str) -> None:
    """The temp view ``typed_table`` over the text table (read with ``typed_columns``):
    ``_row`` (the text row's rowid), ``_file_idx`` and the typed contract columns under their
    contract names. A view, not a copy: the values were typed as they were read."""
    columns = ", ".join(f'{_typed_name(c)} as "{c.name}"' for c in table.columns)
    # Identifiers are contract names and our temp-table names.
    con.execute(f"create or replace temp view {typed_table} as "  # noqa: S608
                f"select rowid as _row, _file_idx, {columns} from {text_table}")


def create_rejects(con: duckdb.DuckDBPyConnection, rejects_table: str) -> None:
    con.execute(f"create or replace temp table {rejects_table} (_row BIGINT, column_name VARCHAR, "
                "reason_code VARCHAR, message VARCHAR)")


def reject_column_rules(con: duckdb.DuckDBPyConnection, table: Table, text_table: str,
                        rejects_table: str, params: dict[str, object]) -> None:
    """Record every failed single-column and cross-column rule.

    Every rule is evaluated in one scan of the text table (text and typed values side by
    side); only the rows failing one are kept, then each reason column is recorded from those
    few rows. ``params`` binds ``$tomorrow`` (DATE) and ``$load_year`` (int).
    """
    reasons = ([f'{_reason_expr(table, c)} as "_r_{c.name}"' for c in table.columns]
               + [f'{sql} as "{name}"' for name, _, sql in _cross_rules(table)])
    names = [name for name, _ in reason_columns(table)]
    # the rules name "<column>__t"; an identifier or text column is its own typed value
    same = "".join(f', "{c.name}" as "{c.name}__t"' for c in table.columns
                   if c.kind not in _CAST_KINDS)
    failing = " or ".join(f'"{n}" is not null' for n in names)
    # Identifiers are contract names and our temp-table names; constants are allow-listed.
    sql = (f"create or replace temp table _row_reasons as select * from ("  # noqa: S608
           f"select _row, {', '.join(reasons)} from "
           f"(select rowid as _row, *{same} from {text_table})) where {failing}")
    con.execute(sql, {k: v for k, v in params.items() if f"${k}" in sql})
    try:
        for reason_column, column in reason_columns(table):
            con.execute(f"insert into {rejects_table} select _row, $column, \"{reason_column}\", "  # noqa: S608
                        f"NULL from _row_reasons where \"{reason_column}\" is not null",
                        {"column": column})
    finally:
        con.execute("drop table if exists _row_reasons")


def _still_valid(alias: str, rejects_table: str) -> str:
    return f"not exists (select 1 from {rejects_table} rj where rj._row = {alias}._row)"  # noqa: S608


def reject_unknown_effects(con: duckdb.DuckDBPyConnection, typed_table: str,
                           rejects_table: str, effect_map: str) -> None:
    """Side effects whose term maps to no vocabulary code (``effect_map``: term -> code)."""
    con.execute(f"insert into {rejects_table} select t._row, 'effect', 'unknown_effect_term', NULL "  # noqa: S608
                f"from {typed_table} t left join {effect_map} m on m.term = t.effect "
                f"where m.code is null and {_still_valid('t', rejects_table)}")


def reject_unknown_references(con: duckdb.DuckDBPyConnection, table: Table, typed_table: str,
                              rejects_table: str) -> None:
    """Rows whose ``patient_id`` (or other reference) is not in the referenced raw table."""
    for column, target in table.references.items():
        key = TABLES[target].primary_key[0]
        con.execute(f"insert into {rejects_table} select t._row, $column, 'unknown_patient', "  # noqa: S608
                    f"NULL from {typed_table} t where {_still_valid('t', rejects_table)} "
                    f"and not exists (select 1 from raw.{target} p where p.\"{key}\" = t.\"{column}\")",
                    {"column": column})


def reject_duplicates(con: duckdb.DuckDBPyConnection, table: Table, typed_table: str,
                      rejects_table: str, files_table: str) -> None:
    """Later rows repeating a key (or, without a key, a whole row) of an earlier valid row."""
    key = table.primary_key or table.column_names
    partition = ", ".join(f'"{c}"' for c in key)
    reason = "duplicate_key" if table.primary_key else "duplicate_row"
    reported = table.primary_key[0] if table.primary_key else None
    what = f"same {table.primary_key[0]} as" if table.primary_key else "identical to"
    con.execute(f"""
        insert into {rejects_table}
        select d._row, $column, $reason,
               $what || ' line ' || (d.first_row - f.row_offset + f.first_line) || ' of ' || f.source_file
        from (
            select _row, min(_row) over w as first_row, first(_file_idx) over w as first_file
            from {typed_table} t
            where {_still_valid('t', rejects_table)}
              and ({partition}) in (
                  select ({partition}) from {typed_table} t2 where {_still_valid('t2', rejects_table)}
                  group by all having count(*) > 1)
            window w as (partition by {partition} order by _row
                         rows between unbounded preceding and unbounded following)
        ) d join {files_table} f on f._file_idx = d.first_file
        where d._row <> d.first_row
    """, {"column": reported, "reason": reason, "what": what})  # noqa: S608


def reason_messages(table: Table) -> list[tuple[str, str, str]]:
    """``(column, reason_code, message)`` for every rule of ``table``, in plain words."""
    messages: list[tuple[str, str, str]] = []
    for c in table.columns:
        messages.append((c.name, "missing_value", f"{c.name} is required but empty"))
        if c.kind == "date":
            messages.append((c.name, "invalid_date", f"{c.name} is not an ISO date (YYYY-MM-DD)"))
            messages.append((c.name, "date_out_of_range",
                             f"{c.name} is before {MIN_PLAUSIBLE_YEAR} or after tomorrow"))
        if c.kind == "int":
            messages.append((c.name, "invalid_integer", f"{c.name} is not a whole number"))
        if c.kind == "float":
            messages.append((c.name, "invalid_number", f"{c.name} is not a finite number"))
        if c.kind == "enum":
            messages.append((c.name, "invalid_value",
                             f"{c.name} must be one of: {', '.join(c.allowed)}"))
        if c.kind in ("int", "float"):
            low, high = _range_bounds(table, c)
            high_text = "the load year" if high == "$load_year" else high
            if (table.name, c.name) in _EXCLUSIVE_MIN:
                text = f"{c.name} must be greater than {low}"
            elif high_text is None:
                text = f"{c.name} must be at least {low}"
            else:
                text = f"{c.name} must be within {low}..{high_text}"
            messages.append((c.name, "out_of_range", text))
    for start, end in table.ordered_dates:
        messages.append((end, "end_before_start", f"{end} is before {start}"))
    messages += [
        ("total_score", "score_out_of_range", "total_score is outside the instrument's range "
         "(" + ", ".join(f"{k} {lo}-{hi}" for k, (lo, hi) in INSTRUMENT_RANGES.items()) + ")"),
        ("value", "value_out_of_range", "value is outside the plausible range of its measure "
         "(a unit mix-up?)"),
        ("effect", "unknown_effect_term",
         "effect is not a side-effect vocabulary term or a known synonym"),
        ("patient_id", "unknown_patient",
         "patient_id is not in patients (or its patients row was rejected)"),
    ]
    return messages


def write_rejects(con: duckdb.DuckDBPyConnection, table: Table, text_table: str,
                  rejects_table: str, files_table: str, load_id: str) -> None:
    """Copy the batch's rejects into ``meta.rejects`` with file, line and the value as sent
    (masked unless it passed its domain and every detector: ``pipelines.domains``)."""
    if not con.sql(f"select count(*) from {rejects_table}").fetchall()[0][0]:  # noqa: S608
        return
    con.execute("create or replace temp table _reason_messages (column_name VARCHAR, "
                "reason_code VARCHAR, message VARCHAR)")
    con.executemany("insert into _reason_messages values (?, ?, ?)", reason_messages(table))
    value_cases = " ".join(f"when '{c}' then x.\"{c}\"" for c in table.column_names)
    con.execute(f"""
        insert into meta.rejects
        select $load_id, $table, f.source_file, r._row - f.row_offset + f.first_line,
               r.column_name, r.reason_code, coalesce(r.message, m.message, r.reason_code),
               {domains.stored_value_sql('r.column_name', f'case r.column_name {value_cases} end')}
        from {rejects_table} r
        join {text_table} x on x.rowid = r._row
        join {files_table} f on f._file_idx = x._file_idx
        left join _reason_messages m
               on m.column_name = r.column_name and m.reason_code = r.reason_code
        order by r._row, r.column_name
    """, {"load_id": load_id, "table": table.name})  # noqa: S608
