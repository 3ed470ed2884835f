"""The extract contract v1: the one machine-readable definition of what a clinic may send.

A clinic's extract is a folder with one file per table, ``<table>.csv`` or ``<table>.parquet``
(or a folder ``<table>/`` of parts): UTF-8, a header row, ISO dates (YYYY-MM-DD). Column names
are fixed; a column not listed here is refused. ``docs/data-contract.md`` documents the same
definition for people, and a test keeps the two in step.

Every adapter (OMOP, FHIR, Synthea) produces exactly these tables, so everything from the
``raw`` layer on is shared.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pipelines.instruments import score_ranges

ColumnType = Literal["id", "text", "date", "int", "float", "enum"]

#: Major.minor: a minor version only adds (instruments, measures); every v1 extract stays valid.
#: 1.1 adds the C-SSRS screen and the monitoring labs of DOMAIN 13.2.
CONTRACT_VERSION = "1.1"

#: Instruments accepted in ``assessments.instrument`` and the inclusive total-score range of each
#: (DOMAIN.md section 2), from ``pipelines/reference/instruments.csv``.
INSTRUMENT_RANGES: dict[str, tuple[int, int]] = score_ranges()

#: Plausible ranges for ``measurements.value`` by measure (inclusive). A measure not listed is
#: accepted with any finite value; the list is deliberately wide (it catches unit mix-ups such as
#: weight in pounds, not clinical abnormality).
MEASURE_RANGES: dict[str, tuple[float, float]] = {
    "weight_kg": (2.0, 400.0),
    "bmi": (8.0, 100.0),
    "hba1c_pct": (2.0, 20.0),
    "glucose_mg_dl": (10.0, 1500.0),
    "ldl_mg_dl": (5.0, 600.0),
    "total_cholesterol_mg_dl": (30.0, 1000.0),
    "triglycerides_mg_dl": (10.0, 5000.0),
    "qtc_ms": (250.0, 800.0),
    "lithium_mmol_l": (0.0, 10.0),
    "valproate_mg_l": (0.0, 300.0),
    "anc_per_ul": (0.0, 50000.0),
    "systolic_bp_mmhg": (50.0, 300.0),
    "diastolic_bp_mmhg": (20.0, 200.0),
    "heart_rate_bpm": (20.0, 250.0),
    "sodium_mmol_l": (90.0, 200.0),
    "tsh_miu_l": (0.0, 200.0),
    "creatinine_mg_dl": (0.0, 30.0),
    # contract 1.1: the monitoring labs of DOMAIN 13.2 (lithium, valproate, carbamazepine)
    "calcium_mg_dl": (1.0, 25.0),
    "egfr_ml_min": (0.0, 250.0),
    "alt_u_l": (0.0, 10000.0),
    "ast_u_l": (0.0, 10000.0),
    "platelets_10e9_l": (0.0, 3000.0),
    "wbc_10e9_l": (0.0, 500.0),
    "hemoglobin_g_dl": (1.0, 30.0),
}


@dataclass(frozen=True)
class Column:
    """One contract column.

    ``kind`` drives the strict cast: ``id`` and ``text`` stay strings (ids are opaque surrogates),
    ``date`` is an ISO date, ``int`` and ``float`` are numbers with an optional inclusive
    ``min_value``/``max_value``, and ``enum`` must be one of ``allowed`` (case-insensitive on
    input, stored in the canonical spelling given here).
    """

    name: str
    kind: ColumnType
    required: bool = True
    allowed: tuple[str, ...] = ()
    min_value: float | None = None
    max_value: float | None = None
    description: str = ""


@dataclass(frozen=True)
class Table:
    """One contract table: its columns, primary key and the references it makes."""

    name: str
    required: bool
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = ()
    #: column -> referenced table (by that table's primary key); rows with unknown keys are rejected
    references: dict[str, str] = field(default_factory=dict)
    #: pairs (start_column, end_column) where end must not be before start
    ordered_dates: tuple[tuple[str, str], ...] = ()
    description: str = ""

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name!r}")


SEX = ("F", "M", "X", "U")
VISIT_TYPES = ("intake", "follow_up", "telehealth", "inpatient", "emergency", "other")
STOP_REASONS = ("adverse_effect", "ineffective", "patient_choice", "remission", "cost", "other")
SEVERITIES = ("mild", "moderate", "severe")
SIDE_EFFECT_ACTIONS = ("none", "dose_reduced", "discontinued", "switched")

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "patients",
            required=True,
            primary_key=("patient_id",),
            description="One row per patient, keyed by an opaque surrogate id.",
            columns=(
                Column("patient_id", "id", description="opaque surrogate, unique"),
                Column("birth_year", "int", required=False, min_value=1900,
                       description="year only; ages of 90 or more are top-coded on load"),
                Column("sex", "enum", required=False, allowed=SEX),
                Column("site_id", "id", required=False, description="opaque site code"),
            ),
        ),
        Table(
            "visits",
            required=True,
            primary_key=("visit_id",),
            references={"patient_id": "patients"},
            ordered_dates=(("visit_date", "end_date"),),
            columns=(
                Column("visit_id", "id"),
                Column("patient_id", "id"),
                Column("visit_date", "date"),
                Column("clinician_id", "id", required=False),
                Column("site_id", "id", required=False),
                Column("visit_type", "enum", required=False, allowed=VISIT_TYPES),
                Column("end_date", "date", required=False, description="inpatient discharge"),
            ),
        ),
        Table(
            "diagnoses",
            required=False,
            primary_key=(),
            references={"patient_id": "patients"},
            columns=(
                Column("patient_id", "id"),
                Column("diagnosis_date", "date"),
                Column("icd10_code", "text", description="ICD-10-CM, with or without the dot"),
                Column("visit_id", "id", required=False),
            ),
        ),
        Table(
            "prescriptions",
            required=True,
            primary_key=("prescription_id",),
            references={"patient_id": "patients"},
            ordered_dates=(("start_date", "end_date"),),
            columns=(
                Column("prescription_id", "id"),
                Column("patient_id", "id"),
                Column("drug", "text", description="as written: generic or brand, strength allowed"),
                Column("start_date", "date"),
                Column("end_date", "date", required=False),
                Column("daily_dose_mg", "float", required=False, min_value=0.0, max_value=10000.0),
                Column("days_supply", "int", required=False, min_value=1, max_value=365),
                Column("quantity", "float", required=False, min_value=0.0),
                Column("refills", "int", required=False, min_value=0, max_value=24),
                Column("clinician_id", "id", required=False),
                Column("stop_reason", "enum", required=False, allowed=STOP_REASONS),
            ),
        ),
        Table(
            "dispenses",
            required=False,
            primary_key=("dispense_id",),
            references={"patient_id": "patients"},
            description="Pharmacy fills: the basis of adherence.",
            columns=(
                Column("dispense_id", "id"),
                Column("patient_id", "id"),
                Column("drug", "text"),
                Column("dispense_date", "date"),
                Column("days_supply", "int", min_value=1, max_value=365),
                Column("quantity", "float", required=False, min_value=0.0),
            ),
        ),
        Table(
            "assessments",
            required=True,
            primary_key=("assessment_id",),
            references={"patient_id": "patients"},
            columns=(
                Column("assessment_id", "id"),
                Column("patient_id", "id"),
                Column("assessment_date", "date"),
                Column("instrument", "enum", allowed=tuple(INSTRUMENT_RANGES)),
                Column("total_score", "int", description="within the instrument's range"),
                Column("item_9", "int", required=False, min_value=0, max_value=3,
                       description="PHQ-9 item 9 (thoughts of self-harm), 0-3"),
            ),
        ),
        Table(
            "side_effects",
            required=False,
            primary_key=("side_effect_id",),
            references={"patient_id": "patients"},
            columns=(
                Column("side_effect_id", "id"),
                Column("patient_id", "id"),
                Column("report_date", "date"),
                Column("effect", "text", description="vocabulary term or known synonym"),
                Column("severity", "enum", allowed=SEVERITIES),
                Column("drug", "text", required=False, description="suspected drug"),
                Column("action", "enum", required=False, allowed=SIDE_EFFECT_ACTIONS),
            ),
        ),
        Table(
            "measurements",
            required=False,
            primary_key=("measurement_id",),
            references={"patient_id": "patients"},
            columns=(
                Column("measurement_id", "id"),
                Column("patient_id", "id"),
                Column("measured_date", "date"),
                Column("measure", "text", description="e.g. weight_kg, bmi, hba1c_pct, qtc_ms"),
                Column("value", "float"),
            ),
        ),
    )
}

#: Load order: referenced tables first.
TABLE_ORDER: tuple[str, ...] = (
    "patients", "visits", "diagnoses", "prescriptions", "dispenses", "assessments",
    "side_effects", "measurements",
)

#: Date plausibility: nothing before this year; nothing after tomorrow (checked at load time).
MIN_PLAUSIBLE_YEAR = 1900
#: Ages at or above this are top-coded (HIPAA Safe Harbor groups ages over 89).
TOP_CODE_AGE = 90
