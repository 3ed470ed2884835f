"""Time the mart build and PDC against the bare running-maximum query (issue 4 item 7).

    python benchmarks/bench_marts.py --extract benchmarks/out/clinic_1m   # real generator output
    python benchmarks/bench_marts.py --patients 100000                     # SQL-synthesised clinic

With ``--extract DIR`` (a generator or contract extract, CSV or Parquet) the raw tables are
loaded by the real ``pipelines.ingest.ingest`` without models (validation, drug normalisation,
reference tables; timed separately), so the marts see exactly what a deployment sees. With
``--parquet DIR`` raw tables are read from Parquet files that already carry the ingest's added
columns (``ingredient``, ``effect_code``; the generator's own output does not, use ``--extract``).
Otherwise a seeded clinic is synthesised directly in DuckDB SQL (1-3 treatment courses per patient,
monthly fills with irregular gaps, PHQ-9 at start and follow-up, visits, side effects, weights).
``--profile`` prints every model's time, slowest first. Prints wall-clock figures; asserts nothing
(timings are not tests).

Figures: (1) build_models over all layers; (2) the PDC mart (marts.fct_adherence_pdc, PQA PDC
per patient x ingredient and class x year) vs the bare DOMAIN.md 5.2 running-maximum query over the
same fills, both materialised as tables, best of --repeat runs, and their ratio (target <= 1.5).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import duckdb

from pipelines.contract import TABLES
from pipelines.definitions import Definitions
from pipelines.meta import create_meta, load_reference_tables
from pipelines.transform import _PARAM, MODELS_DIR, _strip_comments, build_models

_SQL_TYPES = {"id": "VARCHAR", "text": "VARCHAR", "enum": "VARCHAR", "date": "DATE",
              "int": "BIGINT", "float": "DOUBLE"}
_ADDED = {"patients": {"is_birth_year_top_coded": "BOOLEAN"},
          "prescriptions": {"ingredient": "VARCHAR"}, "dispenses": {"ingredient": "VARCHAR"},
          "side_effects": {"ingredient": "VARCHAR", "effect_code": "VARCHAR"}}

BARE_RUNNING_MAX = """
with f as (
    select *, filled_on - date '1970-01-01' as s, sum(days_supply) over w as c
    from staging.stg_dispenses
    window w as (partition by patient_id, drug order by filled_on, dispense_id
                 rows between unbounded preceding and current row)
)
select *, c + max(s - 1 - (c - days_supply)) over w as cov_end,
       c + max(s - 1 - (c - days_supply)) over w - days_supply + 1 as cov_start
from f
window w as (partition by patient_id, drug order by filled_on, dispense_id
             rows between unbounded preceding and current row)
"""


def create_schemas(con: duckdb.DuckDBPyConnection) -> None:
    """The schemas and the product's own reference tables (``pipelines/reference``), as a load
    writes them, so every model finds what it reads (a hand-made subset went stale)."""
    for schema in ("raw", "ref", "meta"):
        con.execute(f"create schema if not exists {schema}")  # constant names
    create_meta(con)
    load_reference_tables(con)


def load_parquet(con: duckdb.DuckDBPyConnection, folder: Path) -> None:
    for name, table in TABLES.items():
        path = folder / f"{name}.parquet"
        source = path if path.exists() else folder / name / "*.parquet"
        columns = {c.name: _SQL_TYPES[c.kind] for c in table.columns} | _ADDED.get(name, {})
        # Names come from the contract and the folder argument is bound as a parameter.
        available = set(con.sql("select * from read_parquet($p) limit 0",
                                params={"p": str(source)}).columns)
        select = ", ".join(f'cast("{c}" as {t}) as "{c}"' if c in available else f'cast(null as {t}) as "{c}"'
                           for c, t in columns.items())
        con.execute(f"create or replace table raw.{name} as select {select}, "  # noqa: S608
                    "null::varchar as _load_id, null::varchar as _source_file, "
                    "null::bigint as _source_line from read_parquet($p)", {"p": str(source)})


def synthesise(con: duckdb.DuckDBPyConnection, patients: int) -> None:
    """A seeded clinic in SQL: enough volume and shape (overlaps, gaps, switches) to time the build."""
    con.execute("select setseed(0.42)")
    con.execute("""
        create or replace table raw.patients as
        select 'P' || i as patient_id, 1940 + (i * 37) % 65 as birth_year,
               ['F', 'M', 'F', 'M', 'X'][1 + i % 5] as sex, 'S' || (i % 20) as site_id,
               false as is_birth_year_top_coded,
               null::varchar as _load_id, null::varchar as _source_file, null::bigint as _source_line
        from range($n) as p(i)""", {"n": patients})
    con.execute("""
        create or replace table bench_courses as
        select i, course,
               (['sertraline','escitalopram','fluoxetine','venlafaxine','bupropion','mirtazapine',
                 'aripiprazole','quetiapine','lithium','lamotrigine'])[1 + floor(random() * 10)::int] as drug,
               date '2022-01-01' + (floor(random() * 900) + course * 200)::int as start_on,
               1 + floor(random() * 10)::int as fills
        from range($n) as p(i), range(1 + i % 3) as c(course)""", {"n": patients})
    con.execute("""
        create or replace table raw.dispenses as
        select 'D' || i || '_' || course || '_' || k as dispense_id, 'P' || i as patient_id,
               drug, start_on + (k * (22 + floor(random() * 25)))::int as dispense_date,
               [30, 30, 30, 90, 14][1 + floor(random() * 5)::int] as days_supply,
               null::double as quantity, drug as ingredient,
               null::varchar as _load_id, null::varchar as _source_file, null::bigint as _source_line
        from bench_courses, range(fills) as f(k)""")
    con.execute("""
        create or replace table raw.prescriptions as
        select 'R' || i || '_' || course as prescription_id, 'P' || i as patient_id, drug,
               start_on - 2 as start_date, null::date as end_date, 50.0 + course * 50 as daily_dose_mg,
               30 as days_supply, null::double as quantity, 3 as refills, 'C' || (i % 400) as clinician_id,
               case when random() < 0.2 then 'adverse_effect' end as stop_reason, drug as ingredient,
               null::varchar as _load_id, null::varchar as _source_file, null::bigint as _source_line
        from bench_courses""")
    con.execute("""
        create or replace table raw.assessments as
        select 'A' || i || '_' || course || '_' || k as assessment_id, 'P' || i as patient_id,
               start_on + ([0, 35, 60, 100][k + 1] + floor(random() * 7))::int as assessment_date,
               'PHQ-9' as instrument,
               greatest(0, least(27, 8 + floor(random() * 16)::int - k * floor(random() * 5)::int)) as total_score,
               floor(random() * 1.3)::int as item_9,
               null::varchar as _load_id, null::varchar as _source_file, null::bigint as _source_line
        from bench_courses, range(4) as a(k)
        where random() < 0.8""")
    con.execute("""
        create or replace table raw.visits as
        select 'V' || i || '_' || course || '_' || k as visit_id, 'P' || i as patient_id,
               start_on + ([0, 30, 90][k + 1])::int as visit_date, 'C' || (i % 400) as clinician_id,
               'S' || (i % 20) as site_id,
               case when random() < 0.01 then 'inpatient' else 'follow_up' end as visit_type,
               null::date as end_date,
               null::varchar as _load_id, null::varchar as _source_file, null::bigint as _source_line
        from bench_courses, range(3) as v(k)""")
    con.execute("update raw.visits set end_date = visit_date + 7 where visit_type = 'inpatient'")
    con.execute("""
        create or replace table raw.diagnoses as
        select 'P' || i as patient_id, date '2022-01-01' as diagnosis_date,
               ['F32.1', 'F33.0', 'F41.1', 'F31.2'][1 + i % 4] as icd10_code, null::varchar as visit_id,
               null::varchar as _load_id, null::varchar as _source_file, null::bigint as _source_line
        from range($n) as p(i)""", {"n": patients})
    con.execute("""
        create or replace table raw.side_effects as
        select 'E' || i || '_' || course as side_effect_id, 'P' || i as patient_id,
               start_on + floor(random() * 80)::int as report_date, 'sedation' as effect,
               ['mild', 'moderate', 'severe'][1 + floor(random() * 3)::int] as severity,
               case when random() < 0.5 then drug end as drug, 'none' as action,
               case when random() < 0.5 then drug end as ingredient, 'sedation' as effect_code,
               null::varchar as _load_id, null::varchar as _source_file, null::bigint as _source_line
        from bench_courses where random() < 0.25""")
    con.execute("""
        create or replace table raw.measurements as
        select 'M' || i || '_' || course || '_' || k as measurement_id, 'P' || i as patient_id,
               start_on + (k * 84)::int as measured_date, 'weight_kg' as measure, 60 + random() * 40 as value,
               null::varchar as _load_id, null::varchar as _source_file, null::bigint as _source_line
        from bench_courses, range(2) as m(k)""")
    con.execute("drop table bench_courses")


def timed(con: duckdb.DuckDBPyConnection, sql: str, params: dict | None = None) -> float:
    started = time.perf_counter()
    con.execute(sql, params or {})
    return time.perf_counter() - started


def ingest_raw(extract: Path, db_path: Path) -> float:
    """Load ``extract`` with the real ingest, models off; return the seconds it took."""
    from pipelines.ingest import ingest

    started = time.perf_counter()
    summary = ingest(extract, db_path, run_models=False)
    if summary.status != "ok":
        raise SystemExit(f"ingest of {extract} failed: {summary.status}")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--extract", type=Path, help="load this extract with the real ingest (no models)")
    parser.add_argument("--parquet", type=Path, help="load raw tables from Parquet with the ingest's columns")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--memory-limit", default="8GB")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--profile", action="store_true", help="print each model's time")
    parser.add_argument("--workdir", type=Path, help="keep the warehouse here (default: a temp dir)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-marts-") as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        db_path = workdir / "bench_marts.duckdb"
        db_path.unlink(missing_ok=True)
        load_seconds = 0.0
        if args.extract:
            load_seconds = ingest_raw(args.extract, db_path)
        con = duckdb.connect(str(db_path),
                             config={"threads": args.threads, "memory_limit": args.memory_limit})
        if not args.extract:
            started = time.perf_counter()
            create_schemas(con)
            if args.parquet:
                load_parquet(con, args.parquet)
            else:
                synthesise(con, args.patients)
            load_seconds = time.perf_counter() - started
        counts = {t: con.sql(f"select count(*) from raw.{t}").fetchall()[0][0]  # noqa: S608
                  for t in ("patients", "dispenses", "assessments", "visits")}
        print(f"raw rows: {counts}  (load {load_seconds:.1f} s; threads {args.threads}, "
              f"memory limit {args.memory_limit})")

        params = Definitions().as_params()
        started = time.perf_counter()
        seconds: dict[str, float] = {}
        rows = build_models(con, params, seconds=seconds)
        build_seconds = time.perf_counter() - started
        print(f"build_models (all layers, {len(rows)} models): {build_seconds:.1f} s")
        print(f"  episodes {rows['marts.fct_treatment_episodes']:,}, outcome rows "
              f"{rows['marts.fct_episode_outcomes']:,}, PDC rows {rows['marts.fct_adherence_pdc']:,}")
        if args.profile:
            for target, took in sorted(seconds.items(), key=lambda item: -item[1]):
                print(f"  {target:48s} {took:7.2f} s {rows[target]:>12,} rows")

        pdc_sql = (MODELS_DIR / "marts" / "fct_adherence_pdc.sql").read_text(encoding="utf-8")
        pdc_params = {name: params[name] for name in sorted(set(_PARAM.findall(_strip_comments(pdc_sql))))}
        bare_times, pdc_times = [], []
        for _ in range(args.repeat):
            bare_times.append(timed(con, f"create or replace table bench_bare as {BARE_RUNNING_MAX}"))
            pdc_times.append(timed(con, f"create or replace table bench_pdc as {pdc_sql}", pdc_params))
        bare, pdc = min(bare_times), min(pdc_times)
        print(f"bare running-maximum query (DOMAIN 5.2) on {counts['dispenses']:,} fills: {bare:.2f} s")
        print(f"PDC mart (ingredient + class x year, PQA rules): {pdc:.2f} s  ratio {pdc / bare:.2f}x")
        con.close()
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
