"""Issue 17's two speed targets, measured side by side on the generated (clinic-shaped) extract.

    python benchmarks/bench_refresh.py                                 # 100k patients
    python benchmarks/bench_refresh.py --patients 100000 1000000 3000000 --allow-large

*Load*: ``pipelines.ingest.ingest(run_models=False)`` (read, validate, de-identification scan,
normalise, publish) against the *floor*, DuckDB alone loading the same files into a database
file (``create table t as select * from read_csv/read_parquet(...)`` per table, types sniffed,
no checks, ``CHECKPOINT``). Target: ratio <= 2 on an extract of at least 10M rows.

*Full refresh*: ``ingest()`` with every SQL model, split into the load and the model build (the
build starts at the first model's progress event). Target: under 2 minutes and 6 GB peak for the
1M-patient clinic, reported as a curve over ``--patients``.

The extract is the synthetic generator's output (``synthetic.generator.generate``), whose fills
follow treatment episodes as a clinic's do. Each measurement runs in its own child process, which
reports its wall time and peak RSS (``ru_maxrss``). Sizes above 100k patients need
``--allow-large`` (the development machine is shared). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _files(folder: Path) -> dict[str, list[Path]]:
    """Contract table -> its files (a single file or a folder of parts)."""
    from pipelines.contract import TABLES

    found: dict[str, list[Path]] = {}
    for name in TABLES:
        parts = sorted((folder / name).glob("*.*")) if (folder / name).is_dir() else [
            p for p in (folder / f"{name}.csv", folder / f"{name}.parquet") if p.is_file()]
        if parts:
            found[name] = parts
    return found


def _child_floor(folder: Path, db: Path) -> dict:
    import duckdb

    start = time.perf_counter()
    con = duckdb.connect(str(db))
    for name, parts in _files(folder).items():
        reader = "read_parquet" if parts[0].suffix == ".parquet" else "read_csv"
        # table names are the contract's; the file list is bound
        con.execute(f"create table {name} as select * from {reader}($p)",  # noqa: S608
                    {"p": [str(p) for p in parts]})
    con.execute("CHECKPOINT")
    con.close()
    return {"seconds": time.perf_counter() - start}


def _child_ingest(folder: Path, db: Path, run_models: bool) -> dict:
    from pipelines.ingest import ingest

    marks: dict[str, float] = {}

    def progress(name: str, stage: str, fraction: float) -> None:
        if "." in name and "models" not in marks:  # model targets are layer.name
            marks["models"] = time.perf_counter()

    start = time.perf_counter()
    summary = ingest(folder, db, run_models=run_models, deid_mode="synthetic", progress=progress)
    seconds = time.perf_counter() - start
    models = seconds - (marks["models"] - start) if "models" in marks else 0.0
    return {"seconds": seconds, "models_seconds": models, "rows_read": summary.rows_read,
            "rows_rejected": summary.rows_rejected, "model_rows": sum(summary.models.values())}


def _run_child(mode: str, folder: Path, db: Path, *extra: str) -> dict:
    """Run one measurement in a child. The parent imports nothing heavy and generates nothing
    itself: a child's ``ru_maxrss`` counts the pages it inherited at fork."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    completed = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--data", str(folder), "--db", str(db),
         *extra], check=True, capture_output=True, text=True, env=env, cwd=REPO)
    return json.loads(completed.stdout.strip().splitlines()[-1])


def _child_generate(patients: int, folder: Path, fmt: str) -> dict:
    from synthetic.generator import generate

    start = time.perf_counter()
    generate(patients, 1, folder, fmt=fmt, command=f"bench_refresh --patients {patients}")
    return {"seconds": time.perf_counter() - start}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patients", type=int, nargs="+", default=[100_000])
    parser.add_argument("--format", choices=("csv", "parquet"), default="csv")
    parser.add_argument("--allow-large", action="store_true",
                        help="allow more than 100k patients (not on a shared machine)")
    parser.add_argument("--child", choices=("generate", "floor", "load", "refresh"),
                        default=None)
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--db", type=Path, default=None)
    args = parser.parse_args()
    if args.child:
        if args.child == "generate":
            result = _child_generate(args.patients[0], args.data, args.format)
        elif args.child == "floor":
            result = _child_floor(args.data, args.db)
        else:
            result = _child_ingest(args.data, args.db, args.child == "refresh")
        usage = resource.getrusage(resource.RUSAGE_SELF)
        result["peak_rss_mb"] = usage.ru_maxrss / 1024
        # CPU seconds (user + system, all threads): steadier than wall time on a busy machine
        result["cpu_seconds"] = usage.ru_utime + usage.ru_stime
        print(json.dumps(result))
        return 0
    too_big = [n for n in args.patients if n > 100_000]
    if too_big and not args.allow_large:
        parser.error(f"{too_big}: above 100k patients needs --allow-large")
    print(f"machine: {platform.machine()}, python {platform.python_version()}, "
          f"{len(os.sched_getaffinity(0))} cores, load average {os.getloadavg()[0]:.1f}")
    curve = []
    for patients in args.patients:
        with tempfile.TemporaryDirectory(prefix="bench-refresh-") as scratch:
            folder = Path(scratch) / "clinic"
            generated = _run_child("generate", folder, Path(scratch) / "unused",
                                   "--patients", str(patients), "--format", args.format,
                                   "--allow-large")["seconds"]
            floor = _run_child("floor", folder, Path(scratch) / "floor.duckdb")
            load = _run_child("load", folder, Path(scratch) / "load.duckdb")
            full = _run_child("refresh", folder, Path(scratch) / "full.duckdb")
            rows = load["rows_read"]
            print(f"\n{patients:,} patients ({args.format}, generated in {generated:.1f} s): "
                  f"{rows:,} extract rows, {load['rows_rejected']:,} rejected, "
                  f"{full['model_rows']:,} model rows")
            print(f"  floor: DuckDB loads the files          {floor['seconds']:8.2f} s  "
                  f"cpu {floor['cpu_seconds']:7.2f} s  peak {floor['peak_rss_mb']:7,.0f} MB")
            print(f"  load:  ingest, no models               {load['seconds']:8.2f} s  "
                  f"cpu {load['cpu_seconds']:7.2f} s  peak {load['peak_rss_mb']:7,.0f} MB  "
                  f"ratio to floor {load['seconds'] / floor['seconds']:.2f} wall, "
                  f"{load['cpu_seconds'] / floor['cpu_seconds']:.2f} cpu (target <= 2)")
            print(f"  full refresh: load + every model       {full['seconds']:8.2f} s  "
                  f"cpu {full['cpu_seconds']:7.2f} s  peak {full['peak_rss_mb']:7,.0f} MB  "
                  f"(models {full['models_seconds']:.2f} s wall)")
            curve.append((patients, rows, floor["seconds"], load["seconds"], full["seconds"],
                          full["peak_rss_mb"]))
    print("\npatients      rows  floor s  load s  ratio  refresh s  peak MB")
    for patients, rows, floor_s, load_s, full_s, peak in curve:
        print(f"{patients:>8,} {rows:>10,} {floor_s:8.2f} {load_s:7.2f} {load_s / floor_s:6.2f} "
              f"{full_s:10.2f} {peak:8,.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
