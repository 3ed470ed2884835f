"""``outcomes demo``: the sample clinic, ingested and served: the README's first command.

Steps: find the committed ``sample_data/`` (or generate the same clinic into a cache folder when
running from an installed wheel), ingest it with ``deid_mode="synthetic"`` into the database, then
serve the dashboard on 127.0.0.1. Without a dashboard (or with ``--no-serve``) it prints a summary
of the loaded clinic instead.
"""

from __future__ import annotations

from pathlib import Path

from cli.common import add_db_argument, error, note, resolve_db

#: The sample clinic's generator settings (sample_data/README.md gives the same command, with
#: the planted worklist patients).
SAMPLE_PATIENTS = 2000
SAMPLE_SEED = 20250101


def register(subparsers) -> None:  # type: ignore[no-untyped-def]
    parser = subparsers.add_parser(
        "demo", help="load the sample clinic and serve the dashboard",
        description="Ingest the synthetic sample clinic (generated if missing) into the database "
                    "and serve the dashboard on 127.0.0.1.")
    add_db_argument(parser)
    parser.add_argument("--port", type=int, default=8501)
    parser.add_argument("--no-serve", action="store_true",
                        help="print a summary of the loaded clinic and exit")
    parser.add_argument("--data", type=Path, default=None,
                        help="extract folder to load (default: the sample clinic)")
    parser.set_defaults(func=_run)


def sample_folder() -> Path:
    """The committed sample clinic next to the source tree, else a generated copy in the cache."""
    repo_sample = Path(__file__).resolve().parents[1] / "sample_data"
    if (repo_sample / "patients.csv").exists():
        return repo_sample
    import os

    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "psych-outcomes" / f"sample_clinic_seed{SAMPLE_SEED}"


def ensure_sample(folder: Path) -> Path:
    if (folder / "patients.csv").exists():
        return folder
    from synthetic.generator import generate

    note(f"generating the sample clinic ({SAMPLE_PATIENTS} patients, seed {SAMPLE_SEED}) "
         f"into {folder} ...")
    generate(SAMPLE_PATIENTS, SAMPLE_SEED, folder, worklist_cases=True,
             command=f"outcomes generate --patients {SAMPLE_PATIENTS} --seed {SAMPLE_SEED} "
                     f"--out {folder} --worklist-cases")
    return folder


def clinic_summary(db_path: Path) -> str:
    """A few lines about the loaded clinic, from the warehouse (counts of at least 11 only)."""
    import duckdb

    con = duckdb.connect(":memory:")
    try:
        con.execute("ATTACH ? AS w (READ_ONLY)", [str(db_path)])
        counts = {t: con.sql(f"select count(*) from w.raw.{t}").fetchall()[0][0]  # noqa: S608
                  # table names from the fixed tuple below, never from input
                  for t in ("patients", "visits", "prescriptions", "dispenses", "assessments",
                            "side_effects", "measurements")}
        by_class = con.sql("""
            select d.drug_class, count(distinct p.patient_id) as patients
            from w.raw.prescriptions p join w.ref.drugs d on d.ingredient = p.ingredient
            group by all having count(distinct p.patient_id) >= 11 order by patients desc
        """).fetchall()
        span = con.sql("select min(visit_date), max(visit_date) from w.raw.visits").fetchall()[0]
        modes = con.sql("select value from w.meta.deployment where key = 'deid_mode'").fetchall()
    finally:
        con.close()
    lines = [f"Loaded clinic in {db_path} (deid_mode {modes[0][0] if modes else 'unknown'}), "
             f"visits {span[0]} to {span[1]}:"]
    lines += [f"  {table:<14}{n:>10,}" for table, n in counts.items()]
    lines.append("  patients by drug class (classes with fewer than 11 patients hidden):")
    lines += [f"    {cls:<22}{n:>8,}" for cls, n in by_class]
    return "\n".join(lines)


def _run(args) -> int:  # type: ignore[no-untyped-def]
    from cli.ingest import precompute_step
    from pipelines.extract import IngestError
    from pipelines.ingest import ingest

    db_path = resolve_db(args.db)
    folder = ensure_sample(args.data or sample_folder())
    note(f"loading {folder} into {db_path} ...")
    try:
        summary = ingest(folder, db_path, deid_mode="synthetic", after_models=precompute_step())
    except IngestError as exc:
        error(f"{exc.file or folder}: {exc}")
        return 1
    if summary.rows_rejected:
        note(f"warning: {summary.rows_rejected} rows were rejected (see meta.rejects)")
    note(f"loaded {summary.rows_loaded:,} rows in {summary.seconds:.1f} s")
    if args.no_serve:
        print(clinic_summary(db_path))
        return 0
    try:
        from cli.launch import serve
    except ImportError as exc:
        print(clinic_summary(db_path))
        note(f"the dashboard is not available ({exc}); the summary above is what was loaded")
        return 0
    note(f"serving the dashboard on http://127.0.0.1:{args.port} (Ctrl+C stops it)")
    return serve(db_path, port=args.port, address="127.0.0.1")
