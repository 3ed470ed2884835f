"""Time the warehouse build on Spark (local mode) against DuckDB's, over clinic sizes (issue #20).

    python benchmarks/bench_spark.py --patients 100000                 # one size
    python benchmarks/bench_spark.py --patients 100000 1000000 3000000 --master local[*]

For each size the generator writes a Parquet extract (seeded), then: (1) ``outcomes ingest`` on
DuckDB (validate, load, every model); (2) ``outcomes build --engine spark`` (the same validation
into a temporary DuckDB, Parquet export, every model on Spark, the audits, the publish); the
Spark session's start is timed apart. Prints wall-clock seconds, the Spark build's phases
(validate: the loader and the Parquet export; models; audits; publish: the swap and the
catalog's tables pointed at PATH), the load average (``os.getloadavg``) before and after each
size, and the growth between sizes; asserts nothing (timings are not tests). Run it on an idle machine: with other jobs running, Spark's times mostly measure
the wait for a core.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, nargs="+", default=[100_000])
    parser.add_argument("--master", default="local[*]")
    parser.add_argument("--seed", type=int, default=20)
    parser.add_argument("--workdir", type=Path, help="keep extracts and warehouses here")
    args = parser.parse_args()

    from pipelines.ingest import ingest
    from pipelines.portability import spark_build
    from synthetic.generator import generate

    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench-spark-"))
    started = time.perf_counter()
    spark = spark_build.session(args.master)
    print(f"Spark session ({args.master}): {time.perf_counter() - started:.1f} s")
    previous: tuple[int, float, float] | None = None
    try:
        for patients in args.patients:
            extract = work / f"clinic_{patients}"
            if not extract.exists():
                generate(patients, args.seed, extract, fmt="parquet")
            load = os.getloadavg()
            started = time.perf_counter()
            ingest(extract, work / f"duckdb_{patients}.duckdb")
            duck = time.perf_counter() - started
            started = time.perf_counter()
            phases: dict[str, float] = {}
            spark_build.build(extract, work / f"spark_{patients}", spark, timings=phases)
            on_spark = time.perf_counter() - started
            line = (f"{patients:>9,} patients: DuckDB {duck:7.1f} s   Spark {on_spark:7.1f} s ("
                    + ", ".join(f"{phase} {seconds:.1f} s" for phase, seconds in phases.items())
                    + f")   load average {load[0]:.1f} before, {os.getloadavg()[0]:.1f} after")
            if previous is not None:
                size = patients / previous[0]
                line += (f"   growth x{size:g} patients: DuckDB x{duck / previous[1]:.1f}, "
                         f"Spark x{on_spark / previous[2]:.1f}")
            print(line, flush=True)
            previous = (patients, duck, on_spark)
    finally:
        spark.stop()


if __name__ == "__main__":
    main()
