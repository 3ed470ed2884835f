"""Turn one chunk's internal frames into the eight contract tables (exact column names, ids, dates).

Ids are opaque surrogates numbered across chunks (``PT0000001``, ``V000000001``, ...), so the same
seed gives the same ids whatever the machine. Days become ``pl.Date``; the writer prints ISO dates.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from pipelines.contract import STOP_REASONS, TABLES, VISIT_TYPES
from synthetic.parameters import COMORBID_CODES, DIAGNOSES
from synthetic.pharmacy import FILL_NAMES, FILL_VARIANTS, MAX_LEVELS, RX_NAMES, UNITS_PER_DAY
from synthetic.population import SEX_CODES, Population
from synthetic.treatment import Steps

ID_WIDTH = {"patient": 7, "visit": 9, "prescription": 9, "dispense": 9, "assessment": 9,
            "side_effect": 9, "measurement": 9}
ID_PREFIX = {"patient": "PT", "visit": "V", "prescription": "RX", "dispense": "F",
             "assessment": "A", "side_effect": "SE", "measurement": "M"}


@dataclass
class IdCounters:
    """Next free number per id kind; carried from chunk to chunk."""

    next: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ID_PREFIX, 1))

    def ids(self, kind: str, n: int) -> pl.Series:
        first = self.next[kind]
        self.next[kind] += n
        numbers = pl.Series(np.arange(first, first + n, dtype=np.int64))
        return (ID_PREFIX[kind] + numbers.cast(pl.String).str.zfill(ID_WIDTH[kind])).alias(kind)


def _date(col: str) -> pl.Expr:
    return pl.when(pl.col(col) >= 0).then(pl.col(col)).otherwise(None).cast(pl.Int32).cast(pl.Date)


def _patient_ids(pop: Population, pat: np.ndarray) -> pl.Series:
    numbers = pl.Series(pop.first_index + pat + 1, dtype=pl.Int64)
    return "PT" + numbers.cast(pl.String).str.zfill(ID_WIDTH["patient"])


def _code(prefix: str, values: np.ndarray, width: int) -> pl.Series:
    return prefix + pl.Series(values + 1, dtype=pl.Int64).cast(pl.String).str.zfill(width)


def _select(table: str, frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(TABLES[table].column_names)


def contract_tables(rng: np.random.Generator, pop: Population, steps: Steps,
                    visits: pl.DataFrame, assessments: pl.DataFrame,
                    prescriptions: pl.DataFrame, fills: pl.DataFrame, fill_level: np.ndarray,
                    side_effects: pl.DataFrame, measurements: pl.DataFrame,
                    counters: IdCounters) -> dict[str, pl.DataFrame]:
    """The contract tables of one chunk (plus ``visit_id`` bookkeeping for edge cases)."""
    pat_all = np.arange(pop.n)
    tables: dict[str, pl.DataFrame] = {}
    tables["patients"] = pl.DataFrame({
        "patient_id": _patient_ids(pop, pat_all), "birth_year": pop.birth_year,
        "sex": np.array(SEX_CODES)[pop.sex], "site_id": _code("S", pop.site, 2)})

    vpat = visits["pat"].to_numpy()
    visit_ids = counters.ids("visit", visits.height)
    tables["visits"] = _select("visits", visits.with_columns(
        visit_ids.alias("visit_id"), _patient_ids(pop, vpat).alias("patient_id"),
        _date("day").alias("visit_date"), _code("C", visits["clinician"].to_numpy(), 4)
        .alias("clinician_id"), _code("S", pop.site[vpat], 2).alias("site_id"),
        pl.Series(np.array(VISIT_TYPES)[visits["visit_type"].to_numpy()]).alias("visit_type"),
        _date("end_day").alias("end_date")))

    # Diagnoses at intake: the primary one, then comorbid ones; some codes written without a dot.
    intake = visits.with_row_index("vi").filter(pl.col("visit_type") == VISIT_TYPES.index(
        "intake"))
    ipat = intake["pat"].to_numpy()
    code_rows = [(ipat, np.array([DIAGNOSES[d].icd10[rng.integers(len(DIAGNOSES[d].icd10))]
                                  for d in pop.dx[ipat]]), intake["vi"].to_numpy())]
    for name, codes in COMORBID_CODES.items():
        has = pop.comorbid[name][ipat]
        code_rows.append((ipat[has], np.array(codes)[rng.integers(0, len(codes), int(has.sum()))],
                          intake["vi"].to_numpy()[has]))
    dpat = np.concatenate([c[0] for c in code_rows])
    dcode = np.concatenate([c[1] for c in code_rows])
    dvisit = np.concatenate([c[2] for c in code_rows])
    no_dot = rng.random(dpat.size) < 0.15
    dcode = np.where(no_dot, np.char.replace(dcode.astype(str), ".", ""), dcode)
    with_visit = rng.random(dpat.size) < 0.9
    tables["diagnoses"] = pl.DataFrame({
        "patient_id": _patient_ids(pop, dpat), "diagnosis_day": visits["day"].to_numpy()[dvisit],
        "icd10_code": dcode, "visit_id": visit_ids.gather(dvisit),
    }).with_columns(_date("diagnosis_day").alias("diagnosis_date"),
                    pl.when(pl.Series(with_visit)).then(pl.col("visit_id")).otherwise(None)
                    ).sort(["patient_id", "diagnosis_date"], maintain_order=True).pipe(
        lambda f: _select("diagnoses", f))

    rpat = prescriptions["pat"].to_numpy()
    reason = prescriptions["reason"].to_numpy()
    tables["prescriptions"] = _select("prescriptions", prescriptions.with_columns(
        counters.ids("prescription", prescriptions.height).alias("prescription_id"),
        _patient_ids(pop, rpat).alias("patient_id"),
        RX_NAMES.gather(prescriptions["name_code"]).alias("drug"),
        _date("start_day").alias("start_date"), _date("end_day").alias("end_date"),
        _code("C", pop.clinician[rpat], 4).alias("clinician_id"),
        pl.Series("stop_reason", np.array(STOP_REASONS)[np.maximum(reason, 0)], dtype=pl.String)
        .set(pl.Series(reason < 0), None),
        pl.col("daily_dose_mg").cast(pl.Float64), pl.col("quantity").cast(pl.Float64)))

    frow = fills["step_row"].to_numpy()
    fill_code = (steps.drug[frow] * FILL_VARIANTS + (steps.name_variant[frow] >> 3)
                 % FILL_VARIANTS) * MAX_LEVELS + fill_level
    tables["dispenses"] = _select("dispenses", fills.with_columns(
        counters.ids("dispense", fills.height).alias("dispense_id"),
        _patient_ids(pop, steps.pat[frow]).alias("patient_id"),
        FILL_NAMES.gather(fill_code).alias("drug"), _date("day").alias("dispense_date"),
        pl.Series(UNITS_PER_DAY[steps.drug[frow], fill_level] * fills["days_supply"].to_numpy())
        .alias("quantity")))

    tables["assessments"] = _select("assessments", assessments.with_columns(
        counters.ids("assessment", assessments.height).alias("assessment_id"),
        _patient_ids(pop, assessments["pat"].to_numpy()).alias("patient_id"),
        _date("day").alias("assessment_date")))

    tables["side_effects"] = _select("side_effects", side_effects.with_columns(
        counters.ids("side_effect", side_effects.height).alias("side_effect_id"),
        _patient_ids(pop, side_effects["pat"].to_numpy()).alias("patient_id"),
        _date("day").alias("report_date"), RX_NAMES.gather(side_effects["drug_code"])
        .alias("drug")))

    tables["measurements"] = _select("measurements", measurements.with_columns(
        counters.ids("measurement", measurements.height).alias("measurement_id"),
        _patient_ids(pop, measurements["pat"].to_numpy()).alias("patient_id"),
        _date("day").alias("measured_date")))
    return tables
