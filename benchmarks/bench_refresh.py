"""Issue 17's two speed targets, measured side by side on the generated (clinic-shaped) extract.

    python benchmarks/bench_refresh.py                                 # 100k patients
    python benchmarks/bench_refresh.py --patients 100000 1000000 3000000 --allow-large

*Load*: ``pipelines.ingest.ingest(run_models=False)`` (read, validate, de-identification scan,
normalise, publish) against the *floor*, DuckDB alone loading the same files into a database
file (``create table t as select * from read_csv/read_parquet(...)`` per table, types sniffed,
no checks, ``CHECKPOINT``). Target: ratio <= 2 on an extract of at least 10M rows.

*Full refresh*: ``ingest()`` with every SQL model, split into phases by its progress events: the
load (up to the first model), the model build (up to the last model's end), the audits (up to
``models done``), the dashboard precompute (``cli.ingest.precompute_step``, the step a user's
``outcomes ingest`` runs after the audits: ``dashboard.precompute``; ``--no-precompute`` leaves it
out, as ``outcomes ingest --no-precompute`` does) and the publish (load log, ``CHECKPOINT``,
swap). Target: under 2 minutes and 6 GB peak for the 1M-patient clinic, reported as a curve over
``--patients``; the heaviest models are listed per size. The target's figure is the refresh
without the precompute ("refresh s" in the table); "user s" adds it: what a user's ``outcomes
ingest`` waits for.

*Write floor* (a lower bound, not a target): DuckDB alone writing the model tables the full
refresh built (``create table as select *`` from that warehouse, attached read-only, per
``staging``/``intermediate``/``marts`` table, then ``CHECKPOINT``): what storing those rows costs
with no model computed. The floor plus the write floor is what DuckDB needs to write the extract
and the models' rows on this machine, before any model's joins, any audit or the publish.

The extract is the synthetic generator's output (``synthetic.generator.generate``), whose fills
follow treatment episodes as a clinic's do. Each measurement runs in its own child process, which
reports its wall time and peak RSS (``ru_maxrss``). Sizes above 100k patients need
``--allow-large`` (the development machine is shared). ``--data FOLDER`` measures an existing
extract instead of generating one (one size; ``--patients`` then only labels it; the folder is
only read). Prints figures; asserts nothing.
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


def _child_write_floor(built: Path, db: Path) -> dict:
    """Write every model table of the warehouse ``built`` into a new file, computing nothing."""
    import duckdb

    start = time.perf_counter()
    con = duckdb.connect(str(db))
    con.execute("attach $path as built (read_only)", {"path": str(built)})
    tables = con.sql("select schema_name, table_name from duckdb_tables() where database_name = "
                     "'built' and schema_name in ('staging', 'intermediate', 'marts')").fetchall()
    rows = 0
    for schema, table in tables:
        # schema and table names are read from the warehouse just built, not from user input
        con.execute(f"create schema if not exists {schema}")
        con.execute(f'create table {schema}."{table}" as '  # noqa: S608
                    f'select * from built.{schema}."{table}"')
        rows += con.sql(f'select count(*) from {schema}."{table}"').fetchall()[0][0]  # noqa: S608
    con.execute("CHECKPOINT")
    con.close()
    return {"seconds": time.perf_counter() - start, "tables": len(tables), "rows": rows}


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _child_ingest(folder: Path, db: Path, run_models: bool, precompute: bool = False) -> dict:
    """The load (and, with ``run_models``, the model build and the audits, and with
    ``precompute`` the dashboard's default results), split by the progress events: the first
    model's start, each model's end, the build's ``models done`` (which follows the audits)
    and the precompute's end."""
    from pipelines.ingest import ingest

    marks: dict[str, tuple[float, float]] = {}  # event -> (wall, cpu)
    models: dict[str, list[float]] = {}  # model -> [wall, cpu] at its start, then its cost

    def progress(name: str, stage: str, fraction: float) -> None:
        now = (time.perf_counter(), _cpu())
        if name == "models" and stage == "done":
            marks["audits_done"] = now
        elif "." in name:  # model targets are layer.name
            marks.setdefault("models", now)
            if stage.startswith("building"):
                models[name] = list(now)
            elif stage.startswith("done") and name in models:
                models[name] = [now[0] - models[name][0], now[1] - models[name][1]]
                marks["models_done"] = now

    after_models = None
    if precompute:
        from cli.ingest import precompute_step

        step = precompute_step()

        def after_models(con: object) -> None:
            step(con)
            marks["precompute_done"] = (time.perf_counter(), _cpu())

    start = (time.perf_counter(), _cpu())
    summary = ingest(folder, db, run_models=run_models, deid_mode="synthetic", progress=progress,
                     after_models=after_models)
    end = (time.perf_counter(), _cpu())
    first = marks.get("models", end)
    built = marks.get("models_done", end)
    audited = marks.get("audits_done", built)
    precomputed = marks.get("precompute_done", audited)

    def span(a: tuple[float, float], b: tuple[float, float]) -> list[float]:
        return [b[0] - a[0], b[1] - a[1]]

    return {"seconds": end[0] - start[0], "rows_read": summary.rows_read,
            "rows_rejected": summary.rows_rejected, "model_rows": sum(summary.models.values()),
            "phases": {"load": span(start, first), "models": span(first, built),
                       "audits": span(built, audited),
                       "dashboard precompute": span(audited, precomputed),
                       "publish": span(precomputed, end)},
            "heaviest": sorted(([n, *c] for n, c in models.items()), key=lambda m: -m[2])[:8]}


def _run_child(mode: str, folder: Path, db: Path, *extra: str) -> dict:
    """Run one measurement in a child. The parent imports nothing heavy and generates nothing
    itself: a child's ``ru_maxrss`` counts the pages it inherited at fork."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    completed = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--data", str(folder), "--db", str(db),
         *extra], check=True, capture_output=True, text=True, env=env, cwd=REPO)
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    result["load_average"] = os.getloadavg()[0]  # the machine's load as the child ended
    return result


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
    parser.add_argument("--child", choices=("generate", "floor", "load", "refresh", "write_floor"),
                        default=None)
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--no-precompute", action="store_true",
                        help="leave the dashboard precompute out of the full refresh")
    parser.add_argument("--db", type=Path, default=None)
    args = parser.parse_args()
    if args.child:
        if args.child == "generate":
            result = _child_generate(args.patients[0], args.data, args.format)
        elif args.child == "floor":
            result = _child_floor(args.data, args.db)
        elif args.child == "write_floor":
            result = _child_write_floor(args.data, args.db)
        else:
            result = _child_ingest(args.data, args.db, args.child == "refresh",
                                   precompute=args.child == "refresh" and not args.no_precompute)
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
    if args.data is not None and len(args.patients) != 1:
        parser.error("--data measures one extract: give one --patients (its size, a label)")
    for patients in args.patients:
        with tempfile.TemporaryDirectory(prefix="bench-refresh-") as scratch:
            folder = args.data or Path(scratch) / "clinic"
            generated = 0.0 if args.data else _run_child(
                "generate", folder, Path(scratch) / "unused", "--patients", str(patients),
                "--format", args.format, "--allow-large")["seconds"]
            floor = _run_child("floor", folder, Path(scratch) / "floor.duckdb")
            load = _run_child("load", folder, Path(scratch) / "load.duckdb")
            full = _run_child("refresh", folder, Path(scratch) / "full.duckdb",
                              *(["--no-precompute"] if args.no_precompute else []))
            written = _run_child("write_floor", Path(scratch) / "full.duckdb",
                                 Path(scratch) / "write_floor.duckdb")
            rows = load["rows_read"]
            phases = full["phases"]
            made = f"from {args.data}" if args.data else f"generated in {generated:.1f} s"
            print(f"\n{patients:,} patients ({args.format}, {made}): "
                  f"{rows:,} extract rows, {load['rows_rejected']:,} rejected, "
                  f"{full['model_rows']:,} model rows")
            print(f"  floor: DuckDB loads the files          {floor['seconds']:8.2f} s  "
                  f"cpu {floor['cpu_seconds']:7.2f} s  peak {floor['peak_rss_mb']:7,.0f} MB  "
                  f"(load average {floor['load_average']:.1f})")
            print(f"  load:  ingest, no models               {load['seconds']:8.2f} s  "
                  f"cpu {load['cpu_seconds']:7.2f} s  peak {load['peak_rss_mb']:7,.0f} MB  "
                  f"(load average {load['load_average']:.1f})")
            print(f"         ratio to floor {load['seconds'] / floor['seconds']:.2f} wall, "
                  f"{load['cpu_seconds'] / floor['cpu_seconds']:.2f} cpu (target <= 2)")
            pre_wall, pre_cpu = phases["dashboard precompute"]
            print(f"  full refresh: load + every model       {full['seconds'] - pre_wall:8.2f} s  "
                  f"cpu {full['cpu_seconds'] - pre_cpu:7.2f} s  peak {full['peak_rss_mb']:7,.0f} MB  "
                  f"(load average {full['load_average']:.1f}; target < 120 s, < 6 GB)")
            if not args.no_precompute:
                print(f"  with the dashboard precompute          {full['seconds']:8.2f} s  "
                      f"cpu {full['cpu_seconds']:7.2f} s  (what 'outcomes ingest' waits for; "
                      "the peak is of the whole run)")
            for phase, (wall, cpu) in phases.items():
                print(f"    {phase:20s} {wall:8.2f} s  cpu {cpu:7.2f} s")
            print(f"  write floor: DuckDB writes the {written['tables']} model tables' "
                  f"{written['rows']:,} rows, computing nothing  {written['seconds']:8.2f} s  "
                  f"cpu {written['cpu_seconds']:7.2f} s  (load average {written['load_average']:.1f})")
            print(f"  lower bound: floor + write floor        {floor['seconds'] + written['seconds']:8.2f} s  "
                  f"cpu {floor['cpu_seconds'] + written['cpu_seconds']:7.2f} s  (before any "
                  "model's joins, the audits and the publish)")
            print("    heaviest models (wall s, cpu s): " + ", ".join(
                f"{name} {wall:.1f}/{cpu:.1f}" for name, wall, cpu in full["heaviest"]))
            curve.append((patients, rows, floor, load, full, written))
    print("\npatients       rows  floor s  load s  ratio wall/cpu  models s  audits s  refresh s"
          "  refresh cpu s  precompute s  user s  peak MB  load avg  write floor s")
    for patients, rows, floor, load, full, written in curve:
        pre_wall, pre_cpu = full["phases"]["dashboard precompute"]
        print(f"{patients:>8,} {rows:>10,} {floor['seconds']:8.2f} {load['seconds']:7.2f} "
              f"{load['seconds'] / floor['seconds']:9.2f}/{load['cpu_seconds'] / floor['cpu_seconds']:.2f}"
              f" {full['phases']['models'][0]:9.2f} {full['phases']['audits'][0]:9.2f} "
              f"{full['seconds'] - pre_wall:10.2f} {full['cpu_seconds'] - pre_cpu:14.2f} "
              f"{pre_wall:13.2f} {full['seconds']:7.2f} {full['peak_rss_mb']:8,.0f} "
              f"{full['load_average']:9.1f} {written['seconds']:14.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
