"""A tiny warehouse for the model tests: the raw/ref/meta schemas of docs/architecture.md.

``Warehouse`` creates every ``raw.<table>`` with exactly the contract columns (typed as the
architecture says) plus lineage and the added columns, a small ``ref`` (a dozen drugs, a few
diagnosis prefixes) and ``meta.deployment``; tests add rows by name and call ``build()``, which
runs the real ``pipelines.transform.build_models`` with ``Definitions`` parameters.
The tests at the bottom pin the helper itself to the contract.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb

from pipelines.contract import TABLES
from pipelines.definitions import Definitions
from pipelines.transform import build_models

_SQL_TYPES = {"id": "VARCHAR", "text": "VARCHAR", "enum": "VARCHAR", "date": "DATE",
              "int": "BIGINT", "float": "DOUBLE"}
_ADDED_COLUMNS = {
    "patients": {"is_birth_year_top_coded": "BOOLEAN"},
    "prescriptions": {"ingredient": "VARCHAR"},
    "dispenses": {"ingredient": "VARCHAR"},
    "side_effects": {"ingredient": "VARCHAR", "effect_code": "VARCHAR"},
}
_LINEAGE = {"_load_id": "VARCHAR", "_source_file": "VARCHAR", "_source_line": "BIGINT"}

#: ingredient -> (class, subclass): enough for same-class, cross-class and antipsychotic-grace cases
DRUGS = {
    "sertraline": ("antidepressant", "SSRI"),
    "escitalopram": ("antidepressant", "SSRI"),
    "fluoxetine": ("antidepressant", "SSRI"),
    "bupropion": ("antidepressant", "atypical"),
    "aripiprazole": ("antipsychotic", "second-generation"),
    "quetiapine": ("antipsychotic", "second-generation"),
    "haloperidol": ("antipsychotic", "first-generation"),
    "lithium": ("mood_stabiliser", "mood stabiliser"),
    "lorazepam": ("anxiolytic_hypnotic", "benzodiazepine"),
}
DIAGNOSIS_PREFIXES = [("F32", "major_depression"), ("F33", "major_depression"),
                      ("F41", "anxiety"), ("F31", "bipolar"), ("F20", "schizophrenia"),
                      ("F43", "other"), ("F43.1", "ptsd"), ("F90", "adhd")]

DAY0 = dt.date(2024, 1, 1)
REFERENCE = Path(__file__).resolve().parent.parent / "pipelines" / "reference"


def day(n: int) -> dt.date:
    """The date n days after 1 January 2024 (day 0): cases are written in day numbers."""
    return DAY0 + dt.timedelta(days=n)


class Warehouse:
    """An in-memory warehouse with empty raw tables; add rows, then build the models."""

    def __init__(self, data_start: dt.date = dt.date(2023, 1, 1),
                 data_end: dt.date = dt.date(2025, 12, 31)) -> None:
        self.con = duckdb.connect(":memory:")
        self._counter = 0
        for schema in ("raw", "ref", "meta"):
            self.con.execute(f"create schema {schema}")  # constant names
        for name, table in TABLES.items():
            columns = {c.name: _SQL_TYPES[c.kind] for c in table.columns}
            columns |= _ADDED_COLUMNS.get(name, {}) | _LINEAGE
            body = ", ".join(f'"{c}" {t}' for c, t in columns.items())
            self.con.execute(f"create table raw.{name} ({body})")  # names from the contract
        self.con.execute("create table ref.drugs (ingredient VARCHAR, drug_class VARCHAR, "
                         "drug_subclass VARCHAR, atc_code VARCHAR, rxnorm_cui VARCHAR, brands VARCHAR)")
        self.con.executemany("insert into ref.drugs values (?, ?, ?, null, null, null)",
                             [(d, c, s) for d, (c, s) in DRUGS.items()])
        self.con.execute("create table ref.diagnosis_groups (icd10_prefix VARCHAR, "
                         "diagnosis_group VARCHAR, label VARCHAR)")
        self.con.executemany("insert into ref.diagnosis_groups values (?, ?, ?)",
                             [(p, g, g) for p, g in DIAGNOSIS_PREFIXES])
        # the worklists' reviewed schedules and maximums, as shipped (the rules under test)
        for name in ("monitoring_tests", "monitoring_schedules", "dose_maximums"):
            self.con.execute(f"create table ref.{name} as select * from read_csv($path, "  # noqa: S608
                             "header=true, all_varchar=true)", {"path": str(REFERENCE / f"{name}.csv")})
        self.con.execute("create table meta.deployment (key VARCHAR, value VARCHAR)")
        self.con.executemany("insert into meta.deployment values (?, ?)",
                             [("data_start", data_start.isoformat()),
                              ("data_end", data_end.isoformat())])

    def _next_id(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}{self._counter:05d}"

    def add(self, table: str, **values: Any) -> str:
        """Insert one raw row; ids and the normalised ingredient are filled in when omitted."""
        contract = TABLES[table]
        key = contract.primary_key[0] if contract.primary_key else None
        if key and key not in values:
            values[key] = self._next_id(key[0].upper())
        if table in ("prescriptions", "dispenses", "side_effects") and "ingredient" not in values:
            drug = values.get("drug")
            values["ingredient"] = drug if drug in DRUGS else None
        if table == "side_effects" and "effect_code" not in values:
            values["effect_code"] = values.get("effect")
        columns = list(values)
        placeholders = ", ".join("?" for _ in columns)
        names = ", ".join(f'"{c}"' for c in columns)
        self.con.execute(f"insert into raw.{table} ({names}) values ({placeholders})",  # noqa: S608
                         [values[c] for c in columns])
        return values[key] if key else ""

    # Shorthands in the vocabulary of the definitions
    def patient(self, patient_id: str = "P1", birth_year: int = 1980, sex: str = "F",
                site_id: str = "S1") -> str:
        return self.add("patients", patient_id=patient_id, birth_year=birth_year, sex=sex,
                        site_id=site_id)

    def fill(self, patient_id: str, drug: str, on: int, days_supply: int = 30, **kw: Any) -> str:
        return self.add("dispenses", patient_id=patient_id, drug=drug, dispense_date=day(on),
                        days_supply=days_supply, **kw)

    def prescription(self, patient_id: str, drug: str, on: int, end: int | None = None,
                     **kw: Any) -> str:
        return self.add("prescriptions", patient_id=patient_id, drug=drug, start_date=day(on),
                        end_date=None if end is None else day(end), **kw)

    def score(self, patient_id: str, on: int, total: int, instrument: str = "PHQ-9",
              **kw: Any) -> str:
        return self.add("assessments", patient_id=patient_id, assessment_date=day(on),
                        instrument=instrument, total_score=total, **kw)

    def visit(self, patient_id: str, on: int, **kw: Any) -> str:
        return self.add("visits", patient_id=patient_id, visit_date=day(on), **kw)

    def build(self, **definition_overrides: Any) -> dict[str, int]:
        params = Definitions.from_config(None, **definition_overrides).as_params() \
            if definition_overrides else Definitions().as_params()
        return build_models(self.con, params)

    def rows(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        """Rows of a query as dicts (for readable assertions)."""
        relation = self.con.sql(sql, params=params) if params else self.con.sql(sql)
        names = relation.columns
        return [dict(zip(names, row, strict=True)) for row in relation.fetchall()]

    def one(self, sql: str, **params: Any) -> dict[str, Any]:
        rows = self.rows(sql, **params)
        assert len(rows) == 1, rows
        return rows[0]


def test_raw_tables_have_the_contract_columns_plus_lineage():
    warehouse = Warehouse()
    columns = {r["column_name"] for r in warehouse.rows(
        "select column_name from information_schema.columns "
        "where table_schema = 'raw' and table_name = 'dispenses'")}
    assert columns == {"dispense_id", "patient_id", "drug", "dispense_date", "days_supply",
                       "quantity", "ingredient", "_load_id", "_source_file", "_source_line"}


def test_an_empty_warehouse_builds_every_model():
    rows = Warehouse().build()
    assert rows["marts.fct_treatment_episodes"] == 0
    assert rows["marts.data_coverage"] == 1
