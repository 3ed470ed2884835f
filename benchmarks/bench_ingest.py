"""Benchmark: full ``ingest()`` of a 10-million-row extract vs DuckDB alone loading the same CSVs.

    python benchmarks/bench_ingest.py                      # generate 10M rows in a temp folder
    python benchmarks/bench_ingest.py --rows 1000000       # smaller, while developing
    python benchmarks/bench_ingest.py --data DIR           # reuse an extract (generated if empty)

The *floor* is ``create table <t> as select * from read_csv('<t>.csv')`` for every file into a
fresh database file: no checks, types sniffed by DuckDB. The *full ingest* is
``pipelines.ingest.ingest`` with every validation, the de-identification scan, normalisation,
the SQL models and the atomic publish. Each runs in its own child process, which reports its
own wall time and peak RSS (``resource.getrusage``); the target is ratio <= 2 and peak < 4 GB.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: Share of the total rows per table (sums to 1): fills and scores dominate a real extract.
TABLE_SHARES = {
    "patients": 0.02, "visits": 0.20, "diagnoses": 0.04, "prescriptions": 0.10,
    "dispenses": 0.30, "assessments": 0.25, "side_effects": 0.03, "measurements": 0.06,
}
DRUG_NAMES = [
    "sertraline 50 mg tablet", "Zoloft 100mg", "FLUOXETINE HCL 20MG CAP", "escitalopram 10 mg",
    "venlafaxine ER 75 mg", "bupropion XL 150 mg", "mirtazapine 15 mg", "quetiapine 100 mg",
    "aripiprazole 5 mg", "olanzapine 10 mg", "risperidone 2 mg", "lithium carbonate 300 mg",
    "lamotrigine 100 mg", "valproate 500 mg", "methylphenidate 10 mg", "clonazepam 0.5 mg",
    "Abilify 10mg tab", "Seroquel XR 300 MG", "trazodone 50 mg", "Glorbazine 10 mg",
]
EFFECTS = ["sedation", "weight gain", "nausea", "headache", "insomnia", "tremor", "akathisia",
           "sexual dysfunction", "dizziness", "dry mouth"]


def generate(folder: Path, total_rows: int, seed: int = 20240601) -> dict[str, int]:
    """Write a seeded synthetic contract extract of about ``total_rows`` rows as CSV."""
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    sizes = {t: max(10, int(total_rows * share)) for t, share in TABLE_SHARES.items()}
    n_patients = sizes["patients"]
    base = np.datetime64("2018-01-01")

    def dates(n: int) -> np.ndarray:
        return (base + rng.integers(0, 2500, n).astype("timedelta64[D]")).astype(str)

    def patients_of(n: int) -> pl.Series:
        return pl.Series(rng.integers(0, n_patients, n)).cast(pl.String).str.zfill(8)

    def ids(prefix: str, n: int) -> pl.Expr:
        return pl.format(prefix + "{}", pl.int_range(n, dtype=pl.Int64)).alias(f"{prefix}_id")

    def choice(values: list[str], n: int) -> np.ndarray:
        return np.array(values, dtype=object)[rng.integers(0, len(values), n)]

    frames: dict[str, pl.DataFrame] = {}
    n = n_patients
    frames["patients"] = pl.DataFrame({
        "patient_id": pl.Series(np.arange(n)).cast(pl.String).str.zfill(8),
        "birth_year": rng.integers(1930, 2015, n), "sex": choice(["F", "M", "X", "U"], n),
        "site_id": choice([f"S{i}" for i in range(12)], n)})
    n = sizes["visits"]
    frames["visits"] = pl.DataFrame({
        "patient_id": patients_of(n), "visit_date": dates(n),
        "clinician_id": choice([f"C{i:03d}" for i in range(150)], n),
        "site_id": choice([f"S{i}" for i in range(12)], n),
        "visit_type": choice(["intake", "follow_up", "telehealth", "follow_up"], n),
    }).with_row_index("visit_id").with_columns(pl.format("V{}", "visit_id").alias("visit_id"))
    n = sizes["diagnoses"]
    frames["diagnoses"] = pl.DataFrame({
        "patient_id": patients_of(n), "diagnosis_date": dates(n),
        "icd10_code": choice(["F32.1", "F33.0", "F41.1", "F31.2", "F20.9", "F90.0", "F43.10"], n)})
    n = sizes["prescriptions"]
    frames["prescriptions"] = pl.DataFrame({
        "patient_id": patients_of(n), "drug": choice(DRUG_NAMES, n), "start_date": dates(n),
        "daily_dose_mg": rng.integers(5, 300, n).astype(float), "days_supply": rng.integers(7, 91, n),
        "quantity": rng.integers(7, 180, n), "refills": rng.integers(0, 6, n),
        "clinician_id": choice([f"C{i:03d}" for i in range(150)], n),
    }).with_row_index("prescription_id").with_columns(
        pl.format("RX{}", "prescription_id").alias("prescription_id"))
    n = sizes["dispenses"]
    frames["dispenses"] = pl.DataFrame({
        "patient_id": patients_of(n), "drug": choice(DRUG_NAMES, n), "dispense_date": dates(n),
        "days_supply": rng.choice([30, 60, 90], n), "quantity": rng.integers(7, 180, n),
    }).with_row_index("dispense_id").with_columns(pl.format("D{}", "dispense_id").alias("dispense_id"))
    n = sizes["assessments"]
    frames["assessments"] = pl.DataFrame({
        "patient_id": patients_of(n), "assessment_date": dates(n),
        "instrument": choice(["PHQ-9", "GAD-7", "PHQ-9", "CGI-S"], n),
    }).with_columns(
        pl.when(pl.col("instrument") == "CGI-S").then(pl.lit(4))
        .otherwise(pl.Series(rng.integers(0, 22, n))).alias("total_score"),
    ).with_row_index("assessment_id").with_columns(
        pl.format("A{}", "assessment_id").alias("assessment_id"))
    n = sizes["side_effects"]
    frames["side_effects"] = pl.DataFrame({
        "patient_id": patients_of(n), "report_date": dates(n), "effect": choice(EFFECTS, n),
        "severity": choice(["mild", "moderate", "severe"], n), "drug": choice(DRUG_NAMES, n),
        "action": choice(["none", "dose_reduced", "discontinued", "switched"], n),
    }).with_row_index("side_effect_id").with_columns(
        pl.format("SE{}", "side_effect_id").alias("side_effect_id"))
    n = sizes["measurements"]
    frames["measurements"] = pl.DataFrame({
        "patient_id": patients_of(n), "measured_date": dates(n),
        "measure": choice(["weight_kg", "bmi", "hba1c_pct", "ldl_mg_dl"], n),
    }).with_columns(  # values inside each measure's plausible range (contract MEASURE_RANGES)
        pl.when(pl.col("measure") == "hba1c_pct").then(pl.Series(rng.uniform(4, 12, n)))
        .when(pl.col("measure") == "ldl_mg_dl").then(pl.Series(rng.uniform(40, 220, n)))
        .otherwise(pl.Series(rng.uniform(18, 45, n))).round(1).alias("value")).with_row_index("measurement_id").with_columns(
        pl.format("M{}", "measurement_id").alias("measurement_id"))
    for table, frame in frames.items():
        frame.write_csv(folder / f"{table}.csv")
    return {t: f.height for t, f in frames.items()}


def _child_floor(folder: Path, db: Path) -> dict:
    import duckdb

    start = time.perf_counter()
    con = duckdb.connect(str(db))
    for csv in sorted(folder.glob("*.csv")):
        # File names come from our own generated folder (benchmark only); the path is bound.
        con.execute(f"create table {csv.stem} as select * from read_csv($p)",  # noqa: S608
                    {"p": str(csv)})
    con.execute("CHECKPOINT")
    con.close()
    return {"seconds": time.perf_counter() - start}


def _child_ingest(folder: Path, db: Path, run_models: bool) -> dict:
    from pipelines.ingest import ingest

    start = time.perf_counter()
    summary = ingest(folder, db, run_models=run_models)
    return {"seconds": time.perf_counter() - start, "rows_read": summary.rows_read,
            "rows_rejected": summary.rows_rejected, "models": len(summary.models)}


def _run_child(mode: str, folder: Path, db: Path) -> dict:
    completed = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--data", str(folder), "--db", str(db)],
        check=True, capture_output=True, text=True)
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--db", type=Path, default=None)
    parser.add_argument("--child", choices=("floor", "ingest", "ingest_models"), default=None)
    parser.add_argument("--skip-models", action="store_true",
                        help="time only the load (raw, ref, meta), not the load plus SQL models")
    args = parser.parse_args()
    if args.child:
        if args.child == "floor":
            result = _child_floor(args.data, args.db)
        else:
            result = _child_ingest(args.data, args.db, args.child == "ingest_models")
        result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as scratch:
        folder = args.data or Path(scratch) / "extract"
        if not any(folder.glob("*.csv")) if folder.exists() else True:
            start = time.perf_counter()
            sizes = generate(folder, args.rows)
            print(f"generated {sum(sizes.values()):,} rows in {time.perf_counter() - start:.1f} s: "
                  + ", ".join(f"{t} {n:,}" for t, n in sizes.items()))
        size_mb = sum(p.stat().st_size for p in folder.glob("*.csv")) / 1e6
        floor = _run_child("floor", folder, Path(scratch) / "floor.duckdb")
        runs = [("ingest, no models (validate, guard, normalise, raw/ref/meta, publish)",
                 _run_child("ingest", folder, Path(scratch) / "ingest.duckdb"))]
        if not args.skip_models:
            runs.append(("ingest + SQL models (every layer)",
                         _run_child("ingest_models", folder, Path(scratch) / "full.duckdb")))
        rows = runs[0][1]["rows_read"]
        print(f"extract: {rows:,} rows, {size_mb:,.0f} MB of CSV; rejected rows "
              f"{runs[0][1]['rows_rejected']:,}")
        print(f"{'floor (DuckDB read_csv -> table, no checks)':<72} {floor['seconds']:8.2f} s "
              f"{rows / floor['seconds']:>12,.0f} rows/s  peak RSS {floor['peak_rss_mb']:,.0f} MB")
        for label, run in runs:
            print(f"{label:<72} {run['seconds']:8.2f} s {rows / run['seconds']:>12,.0f} rows/s  "
                  f"peak RSS {run['peak_rss_mb']:,.0f} MB  ratio {run['seconds'] / floor['seconds']:.2f}"
                  + (f"  ({run['models']} models)" if run["models"] else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
