"""``outcomes build EXTRACT --engine spark --warehouse PATH``: the warehouse built on Apache Spark.

The extract is validated by the loader itself (the checks of ``outcomes ingest``) into a
temporary DuckDB file; its staged tables are exported to Parquet and every model is built on
Spark from the same SQL files, compiled (``pipelines.portability``; docs/scale-out.md). Tables
land as Parquet under ``PATH/<schema>/<table>/``: ``outcomes metric NAME --engine spark
--warehouse PATH`` answers metrics on Spark, ``outcomes serve --marts PATH`` serves them through
DuckDB. ``--master URL`` picks a cluster (default ``local[*]``); ``--remote sc://HOST`` uses Spark
Connect. ``--from-catalog DB`` reads the contract's raw tables from a Spark catalog database
instead of an extract folder, checked and validated as an extract is
(``pipelines.portability.spark_catalog``). The build's audits run on Spark too and are recorded
as ``meta.audit_results`` (``pipelines.portability.spark_audits``). Everything is built in a
staging folder and swapped in at the end (``pipelines.portability.spark_publish``): a refused or
failed build leaves the previous warehouse at PATH as it was. Exit status as ``outcomes ingest``:
0 built, 1-3 the load refused the data (a table or column of the catalog database included) or an
error-level audit returned rows (its message names each audit and its count), 2 usage (Spark
missing, no such database, both or neither of EXTRACT and --from-catalog), 4 internal error.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from cli.common import error, note


def register(subparsers) -> None:  # type: ignore[no-untyped-def]
    parser = subparsers.add_parser(
        "build", help="validate an extract and build the warehouse on Spark (Parquet tables)",
        description="Validate EXTRACT with the loader, then build every model on Apache Spark, "
        "writing Parquet tables under --warehouse (or, with --from-catalog DB, the raw tables "
        "of a Spark catalog database).")
    parser.add_argument("path", type=Path, nargs="?",
                        help="extract folder (the data contract); or give --from-catalog")
    parser.add_argument("--engine", choices=("spark",), required=True,
                        help="the engine that builds the models (DuckDB builds with `outcomes ingest`)")
    parser.add_argument("--warehouse", type=Path, required=True,
                        help="folder the Parquet tables are written under (<schema>/<table>/)")
    parser.add_argument("--from-catalog", metavar="DB", dest="from_catalog",
                        help="read the contract's raw tables (DB.patients, DB.visits, ...) from "
                        "this Spark catalog database instead of an extract folder")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--master", help="Spark master URL (default local[*])")
    where.add_argument("--remote", help="Spark Connect address, sc://HOST[:PORT]")
    parser.add_argument("--set", action="append", default=[], metavar="PARAM=VALUE",
                        dest="overrides", help="definition parameter, as for `outcomes ingest`")
    parser.set_defaults(func=_run)


def open_session(args) -> object | None:  # type: ignore[no-untyped-def]
    """A SparkSession for ``--master``/``--remote``, or None after saying why not."""
    try:
        from pipelines.portability.spark_build import session
    except ImportError as exc:
        error(f"the Spark engine needs the spark extra (pip install -e .[spark]): {exc}")
        return None
    try:
        return session(master=args.master, remote=args.remote)
    except ImportError as exc:
        error(f"the Spark engine needs pyspark (pip install -e .[spark]): {exc}")
    except Exception as exc:  # no Java, an unreachable master: one line, no trace
        first = (str(exc).strip().splitlines() or [""])[0]
        error(f"cannot start Spark ({type(exc).__name__}: {first}); local mode needs Java 17 "
              "(apt-get install openjdk-17-jre-headless)")
    return None


def _run(args) -> int:  # type: ignore[no-untyped-def]
    from pipelines.ingest import IngestError
    from pipelines.load_config import parse_pairs

    if (args.path is None) == (args.from_catalog is None):
        error("give an extract folder or --from-catalog DB, not both and not neither")
        return 2
    spark = open_session(args)
    if spark is None:
        return 2
    from pipelines.portability.spark_build import build

    def progress(target: str, position: int, count: int, rows: int | None, seconds: float) -> None:
        if rows is not None:
            note(f"{target:<36} done ({rows:,} rows, {seconds:.1f} s) [{position + 1}/{count}]")

    try:
        rows = build(args.path, args.warehouse, spark, overrides=parse_pairs(args.overrides),
                     on_model=progress, from_catalog=args.from_catalog)
    except IngestError as exc:
        error(f"load refused: {exc}")
        return exc.exit_status
    except Exception as exc:
        if os.environ.get("OUTCOMES_DEBUG"):
            raise
        first = (str(exc).strip().splitlines() or [""])[0]
        error(f"the Spark build failed ({type(exc).__name__}: {first}); OUTCOMES_DEBUG=1 shows "
              "the trace")
        return 4
    finally:
        spark.stop()  # type: ignore[attr-defined]
    models = sum(1 for t in rows if t.split(".")[0] in ("staging", "intermediate", "marts"))
    print(f"Built {models} models on Spark under {args.warehouse}", file=sys.stderr)
    return 0
