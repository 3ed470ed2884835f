"""Identifiers at the door: the declared domain of every string column, checked at ingest.

Every string column of the extract contract (``Column.kind`` ``id``, ``text`` or ``enum``) has one
domain (``STRING_DOMAINS``):

* **enumeration** (``sex``, ``visit_type``, ``severity``, ...): one of the contract's values,
  checked by ``pipelines.validate`` (reason ``invalid_value``);
* **vocabulary code**: a side-effect term or synonym (``unknown_effect_term``), an ICD-10-CM code
  (``ICD10_PATTERN``) or a measure code (``MEASURE_PATTERN``), else ``invalid_code``;
* **opaque identifier** (patient, visit, clinician, site ids, ...): matches the configured
  pattern, by default letters, digits, ``-`` and ``_``, 1-64 characters, no spaces
  (``[identifiers] id_pattern`` in ``outcomes.toml``), else ``invalid_identifier``;
* **drug string**: must map to the drug vocabulary. An unmapped string is listed for mapping
  (``meta.unmapped_drugs``) only when it passes every detector and does not look like a person's
  name; otherwise its row is rejected as ``quarantined_drug_string``.

Over every string value, before any other rule, the detectors of ``pipelines.identifiers`` run in
one vectorised DuckDB pass per table; a hit refuses the load (``direct_identifier_value``),
naming file, line, column and detector and showing the value only masked. Values of number and
date columns are checked the same way when they fail their cast.

**Never echoed.** A rejected value is stored in ``meta.rejects.value`` as sent only when it passed
its domain and every detector (a duplicate key, an unknown patient id, a number out of range);
otherwise it is stored masked (``Aaaaa Aaaaaaaa (14 chars)``) and recorded in ``meta.quarantine``
with its file, line, column, reason, detector and a salted hash (the salt is random per load and
kept nowhere). The raw value is stored nowhere; ``outcomes quarantine --reveal`` re-reads it from
the extract's own file, on request.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import duckdb

from pipelines import identifiers
from pipelines.contract import TABLES, Column, Table
from pipelines.extract import IngestError
from pipelines.meta import config_section

DomainKind = Literal["enumeration", "vocabulary", "identifier", "drug"]


@dataclass(frozen=True)
class Domain:
    """What a string column may hold. ``pattern`` (RE2, matched in full) for pattern domains."""

    kind: DomainKind
    description: str
    pattern: str | None = None
    reason: str | None = None


_TEXT_DOMAINS: dict[str, Domain] = {
    "drug": Domain("drug", "a drug string that maps to the drug vocabulary"),
    "effect": Domain("vocabulary", "a side-effect vocabulary term or known synonym"),
    "icd10_code": Domain("vocabulary", "an ICD-10-CM code, with or without the dot",
                         identifiers.ICD10_PATTERN, "invalid_code"),
    "measure": Domain("vocabulary", "a measure code (letters, digits, '_')",
                      identifiers.MEASURE_PATTERN, "invalid_code"),
}


def domain_of(table: Table, column: str, id_pattern: str = identifiers.DEFAULT_ID_PATTERN
              ) -> Domain:
    """The declared domain of a string column (KeyError for a non-string or undeclared one)."""
    c = table.column(column)
    if c.kind == "enum":
        return Domain("enumeration", "one of: " + ", ".join(c.allowed))
    if c.kind == "id":
        return Domain("identifier", "an opaque identifier", id_pattern, "invalid_identifier")
    if c.kind == "text":
        return _TEXT_DOMAINS[column]
    raise KeyError(f"{table.name}.{column} is a {c.kind} column, not a string column")


STRING_DOMAINS: dict[tuple[str, str], Domain] = {
    (t.name, c.name): domain_of(t, c.name)
    for t in TABLES.values() for c in t.columns if c.kind in identifiers.STRING_KINDS
}

#: Reasons after which a string value has passed its domain and every detector (kept as sent).
_VALUE_PASSED_REASONS = ("unknown_patient", "duplicate_key", "duplicate_row", "missing_value")
QUARANTINED_DRUG = "quarantined_drug_string"

QUARANTINE_DDL = """create table if not exists meta.quarantine (
    load_id VARCHAR, table_name VARCHAR, source_file VARCHAR, line BIGINT, column_name VARCHAR,
    reason_code VARCHAR, detector VARCHAR, masked_value VARCHAR, value_hash VARCHAR)"""


def id_pattern_from_config(config_path: str | Path | None) -> str:
    """``[identifiers] id_pattern`` of ``outcomes.toml`` (same file as ``[deployment]``)."""
    candidate, section = config_section(config_path, "identifiers")
    pattern = section.get("id_pattern", identifiers.DEFAULT_ID_PATTERN)
    try:
        identifiers.valid_id_pattern(str(pattern))
        with duckdb.connect() as probe:  # DuckDB's RE2 must accept it too: it runs the check
            probe.sql("select regexp_full_match('x', $p)", params={"p": pattern}).fetchall()
    except (ValueError, duckdb.Error) as exc:
        raise IngestError(f"{candidate}: [identifiers] {exc}", file=str(candidate),
                          reason="bad_config") from exc
    return str(pattern)


def new_salt() -> str:
    return secrets.token_hex(16)


# --- SQL building blocks ------------------------------------------------------------------

def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def must_mask(kind: str, reason: str | None, value: str) -> bool:
    """True when a rejected ``value`` of a ``kind`` column must not be stored as sent.

    A string value is kept only when the row failed for a reason that says the value itself
    passed its domain (a duplicate key, an unknown patient). A number or date that failed its
    cast is masked when it is long or a string-column detector (a bare run of digits, a date in
    a number column) matches it; detectors that refuse the load have run before this.
    """
    if kind in identifiers.STRING_KINDS:
        return reason not in _VALUE_PASSED_REASONS
    if len(value) > identifiers.MASK_WIDTH:
        return True
    return any(kind != "date" or name != "date" for name in identifiers.detect(value, "id"))


#: Temp table of the current batch: (column_name, v, masked_value) for values stored masked.
REJECT_MASKS = "_reject_masks"


def stored_value_sql(column: str, value: str) -> str:
    """What ``meta.rejects.value`` stores: the mask from ``REJECT_MASKS``, else the value.

    ``guard_rejected_values`` fills ``REJECT_MASKS`` for the batch before ``write_rejects``.
    """
    return (f"coalesce((select m.masked_value from {REJECT_MASKS} m "  # noqa: S608
            f"where m.column_name = {column} and m.v = {value}), {value})")


# --- the checks ---------------------------------------------------------------------------

def refuse_identifier_values(con: duckdb.DuckDBPyConnection, table: Table, text_t: str,
                             files_t: str, id_pattern: str = identifiers.DEFAULT_ID_PATTERN
                             ) -> frozenset[str]:
    """Refuse the load if any string value of ``table`` matches a detector; return the columns
    where some value fails its domain's pattern (``domain_of``), which
    ``reject_domain_violations`` then checks row by row (the others have no violation).

    ``text_t`` holds the values as sent (``read_as_text``); ``files_t`` maps rows to lines.
    A key column (one value per row) is matched row by row, in one pass for all of them; any
    other column (a patient, a site, a drug name: many rows per value) is matched once per
    distinct value, with the rows holding it counted, which is the same count and first row
    for a fraction of the pattern matching (visits.patient_id: 9M rows, 1M values).
    """
    columns = [c for c in table.columns if c.kind in identifiers.STRING_KINDS]
    if not columns:
        return frozenset()
    keys = [c for c in columns if c.name in table.primary_key]
    found: dict[str, tuple[int, int | None]] = {}
    patterns = {c.name: domain_of(table, c.name, id_pattern).pattern for c in columns}
    violated: set[str] = set()

    def matches(value: str, column: Column) -> str:
        # patterns are constants of ours, quoted
        return (f"(regexp_matches({value}, {_quote(identifiers.combined_pattern(column.kind))})"
                f" and not regexp_full_match({value}, {_quote(identifiers.DRUG_PRODUCT_CODE)}))")

    def violates(value: str, column: Column) -> str:
        # the domain's pattern is bound ($p_<column>: contract names are identifiers)
        if patterns[column.name] is None:
            return "false"
        return f"({value} is not null and not regexp_full_match({value}, $p_{column.name}))"

    def bound(sql: str) -> dict[str, object]:
        named = set(re.findall(r"\$(p_\w+)", sql))
        return {f"p_{n}": p for n, p in patterns.items() if f"p_{n}" in named}

    if keys:
        # Each value is matched once (inner projection).
        matched = ", ".join(matches(f'"{c.name}"', c) + f' as "m{i}", '
                            + violates(f'"{c.name}"', c) + f' as "d{i}"'
                            for i, c in enumerate(keys))
        aggregates = ", ".join(f'count(*) filter (where "m{i}"), min(_rowid) filter (where "m{i}"), '
                               f'count(*) filter (where "d{i}")'
                               for i in range(len(keys)))
        sql = (f"select {aggregates} from (select rowid as _rowid, {matched} "  # noqa: S608
               f"from {text_t})")
        counts = con.sql(sql, params=bound(sql)).fetchall()[0]
        for position, column in enumerate(keys):
            found[column.name] = (counts[3 * position], counts[3 * position + 1])
            if counts[3 * position + 2]:
                violated.add(column.name)
    for column in columns:
        if column in keys:
            continue
        sql = (f"select coalesce(sum(rows) filter (where m), 0), min(first_row) filter (where m), "  # noqa: S608
               f"count(*) filter (where d) "
               f"from (select rows, first_row, {matches('v', column)} as m, "
               f"{violates('v', column)} as d from ("
               f'select "{column.name}" as v, count(*) as rows, min(rowid) as first_row '
               f"from {text_t} group by 1))")
        count, first, bad = con.sql(sql, params=bound(sql)).fetchall()[0]
        found[column.name] = (count, first)
        if bad:
            violated.add(column.name)
    for column in columns:
        count, rowid = found[column.name]
        if count:
            value, source_file, line = con.sql(
                f'select x."{column.name}", f.source_file, '  # noqa: S608
                f"x.rowid - f.row_offset + f.first_line from {text_t} x "
                f"join {files_t} f on f._file_idx = x._file_idx where x.rowid = $r",
                params={"r": rowid}).fetchall()[0]
            _refuse(source_file, column.name, line, value, column.kind, int(count))
    return frozenset(violated)


def _refuse(source_file: str, column: str, line: int, value: str, kind: str,
            matches: int) -> None:
    found = identifiers.first_detector(value, kind)
    label, name = (found.label, found.name) if found else ("a direct identifier", "unknown")
    raise IngestError(
        f"{source_file}: column '{column}' holds {matches} value(s) shaped like {label} "
        f"(detector {name}; first at line {line}: {identifiers.mask(value)}); the extract "
        "must be de-identified, so the load is refused",
        file=source_file, column=column, reason="direct_identifier_value")


def reject_domain_violations(con: duckdb.DuckDBPyConnection, table: Table, typed_t: str,
                             rejects_t: str, id_pattern: str,
                             violated: frozenset[str] | None = None) -> None:
    """Record every identifier or code that does not match its domain's pattern.

    ``violated`` (from ``refuse_identifier_values``, which matched every value) limits the row
    scans to the columns where some value fails; None scans every column with a pattern.
    """
    for column in table.columns:
        if column.kind not in ("id", "text"):
            continue
        if violated is not None and column.name not in violated:
            continue
        domain = domain_of(table, column.name, id_pattern)
        if domain.pattern is None:
            continue
        what = ("does not match the configured id_pattern"
                if id_pattern != identifiers.DEFAULT_ID_PATTERN and domain.kind == "identifier"
                else f"is not {domain.description}")
        if domain.kind == "identifier" and id_pattern == identifiers.DEFAULT_ID_PATTERN:
            what += " (letters, digits, '-' and '_', at most 64 characters, no spaces)"
        con.execute(f'insert into {rejects_t} select _row, $column, $reason, $message '  # noqa: S608
                    f'from {typed_t} where "{column.name}" is not null '
                    f'and not regexp_full_match("{column.name}", $pattern)',
                    {"column": column.name, "reason": domain.reason, "pattern": domain.pattern,
                     "message": f"{column.name} {what}; the value is masked"})


def reject_unlistable_drugs(con: duckdb.DuckDBPyConnection, table: Table, typed_t: str,
                            rejects_t: str, drug_map: str) -> int:
    """Unmapped drug strings that look like a person's name: rejected, to be quarantined.

    Called after the drug map (``drug_map(drug, ingredient)``); returns the rows rejected.
    """
    if "drug" not in table.column_names:
        return 0
    before = con.sql(f"select count(*) from {rejects_t}").fetchall()[0][0]  # noqa: S608
    con.execute(f"""
        insert into {rejects_t}
        select t._row, 'drug', $reason, $message
        from {typed_t} t join {drug_map} m on m.drug = t.drug
        where m.ingredient is null and regexp_matches(t.drug, $person)
          and not exists (select 1 from {rejects_t} r where r._row = t._row)
    """, {"reason": QUARANTINED_DRUG, "person": identifiers.PERSON_NAME_PATTERN,  # noqa: S608
          "message": "drug maps to no vocabulary entry and looks like a person's name; "
                     "quarantined (outcomes quarantine lists it masked)"})
    return con.sql(f"select count(*) from {rejects_t}").fetchall()[0][0] - before  # noqa: S608


def guard_rejected_values(con: duckdb.DuckDBPyConnection, table: Table, text_t: str,
                          rejects_t: str, files_t: str, load_id: str, salt: str) -> None:
    """Before ``write_rejects`` copies the batch's rejects: refuse the load if a rejected number
    or date is shaped like an identifier (a phone number in a date column); fill
    ``REJECT_MASKS`` with the masked form of every rejected value not to be stored as sent, and
    record each in ``meta.quarantine`` with its detector and salted hash.

    The decisions are made in Python over the distinct rejected values (rejects are few next to
    the rows; the values stay in memory), so no large pattern is compiled per SQL branch.
    """
    con.execute(QUARANTINE_DDL)
    con.execute(f"create or replace temp table {REJECT_MASKS} (column_name VARCHAR, "
                "v VARCHAR, masked_value VARCHAR, detector VARCHAR)")
    if not con.sql(f"select count(*) from {rejects_t}").fetchall()[0][0]:  # noqa: S608
        return
    value = "case r.column_name " + " ".join(
        f"when {_quote(c.name)} then x.\"{c.name}\"" for c in table.columns) + " end"
    con.execute(f"""
        create or replace temp table _reject_values as
        select r.column_name, r.reason_code, {value} as v, f.source_file,
               r._row - f.row_offset + f.first_line as line, r._row
        from {rejects_t} r join {text_t} x on x.rowid = r._row
        join {files_t} f on f._file_idx = x._file_idx
    """)  # noqa: S608
    try:
        distinct = con.sql("select column_name, reason_code, v, min(_row), count(*) "
                           "from _reject_values where v is not null group by all").fetchall()
        refusals, masks = [], {}
        for column, reason, v, first_row, rows in distinct:
            kind = table.column(column).kind
            if kind not in identifiers.STRING_KINDS and identifiers.first_detector(v, kind):
                refusals.append((first_row, column, v, kind, rows))
            elif must_mask(kind, reason, v):
                masks[(column, v)] = (identifiers.mask(v), _detector_name(v, kind))
        if refusals:
            first_row, column, v, kind, _ = min(refusals)
            source_file, line = con.sql("select source_file, line from _reject_values "
                                        "where _row = $r", params={"r": first_row}
                                        ).fetchall()[0]
            _refuse(source_file, column, line, v, kind, sum(r[-1] for r in refusals))
        if masks:
            con.executemany(f"insert into {REJECT_MASKS} values (?, ?, ?, ?)",  # noqa: S608
                            [(c, v, m, d) for (c, v), (m, d) in masks.items()])
            con.execute(f"""
                insert into meta.quarantine
                select $load_id, $table, q.source_file, q.line, q.column_name, q.reason_code,
                       m.detector, m.masked_value, left(sha256($salt || q.v), 12)
                from _reject_values q join {REJECT_MASKS} m using (column_name, v)
                order by q._row, q.column_name
            """, {"load_id": load_id, "table": table.name, "salt": salt})  # noqa: S608
    finally:
        con.execute("drop table if exists _reject_values")


def _detector_name(value: str, kind: str) -> str | None:
    found = identifiers.first_detector(value, kind)
    if found is not None:
        return found.name
    return "person_name" if identifiers.looks_like_person_name(value) else None


def mask_adapter_value(value: str | None) -> str | None:
    """An adapter's rejected source value, masked (it was refused, so it is not echoed)."""
    return None if value is None else identifiers.mask(str(value))

