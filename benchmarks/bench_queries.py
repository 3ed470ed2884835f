"""Time every metric grouped by drug class on a generated clinic (targets: < 100 ms at 100,000
patients, < 1 s at 1,000,000; issue 4 item 7). Prints a table; asserts nothing.

    python benchmarks/bench_queries.py --patients 100000          # generate, ingest, time
    python benchmarks/bench_queries.py --db build/outcomes.duckdb  # time an existing warehouse

Each metric runs once to warm up, then ``--repeat`` times; the median wall time is reported,
end to end through ``queries.metric`` (SQL aggregation in DuckDB + intervals + suppression).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import duckdb

import queries
from queries.engine import dimensions_of


def build(patients: int, seed: int, workdir: Path) -> Path:
    from pipelines.ingest import ingest
    from synthetic.generator import generate

    extract = workdir / f"clinic_{patients}"
    started = time.perf_counter()
    generate(patients, seed, extract)
    generated = time.perf_counter()
    db_path = workdir / f"clinic_{patients}.duckdb"
    ingest(extract, db_path)
    print(f"generated {patients:,} patients in {generated - started:.1f} s; "
          f"ingest + marts in {time.perf_counter() - generated:.1f} s")
    return db_path


def time_metrics(db_path: Path, repeat: int, names: list[str] | None) -> list[tuple[str, str, float, int]]:
    con = duckdb.connect(str(db_path), read_only=True)
    rows = []
    try:
        for name, query in queries.catalog().items():
            if names and name not in names:
                continue
            by = ("drug_class",) if "drug_class" in dimensions_of(query) else ()
            try:
                queries.metric(con, name, by=by)  # warm-up (file cache, catalogue parse)
            except Exception as exc:  # report and go on: one broken metric must not hide the rest
                print(f"{name}: failed: {type(exc).__name__}: {str(exc).splitlines()[0]}")
                continue
            times = []
            for _ in range(repeat):
                started = time.perf_counter()
                result = queries.metric(con, name, by=by)
                times.append(time.perf_counter() - started)
            rows.append((name, ",".join(by) or "-", statistics.median(times), result.frame.height))
    finally:
        con.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="an existing warehouse to time")
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--metric", action="append", help="time only these metrics")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-queries-") as tmp:
        db_path = args.db or build(args.patients, args.seed, Path(tmp))
        patients = duckdb.connect(str(db_path), read_only=True)
        count = patients.sql("select count(distinct patient_id) from marts.fct_treatment_episodes").fetchall()[0][0]
        patients.close()
        rows = time_metrics(db_path, args.repeat, args.metric)
    target = 0.1 if count <= 150_000 else 1.0
    print(f"\n{count:,} patients with an episode; median of {args.repeat} runs; target < {target * 1000:.0f} ms")
    print(f"{'metric':28s} {'by':11s} {'ms':>9s} {'rows':>6s}  target")
    for name, by, seconds, height in rows:
        ok = "ok" if seconds < target else "SLOW"
        print(f"{name:28s} {by:11s} {seconds * 1000:9.1f} {height:6d}  {ok}")
    print(f"slowest: {max(r[2] for r in rows) * 1000:.1f} ms; total: {sum(r[2] for r in rows):.2f} s")


if __name__ == "__main__":
    main()
