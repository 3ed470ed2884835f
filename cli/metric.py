"""``outcomes metric NAME`` and ``outcomes metrics --list``: metrics for analysts and scripts.

Every figure goes through ``queries.metric`` and so through the one suppression function.
``--format json`` prints only the list of row objects on stdout (messages go to stderr);
``--format csv`` prints the suppressed frame (hidden cells empty, ``*_suppressed`` flags).
With suppression on, JSON rows and CSV also carry ``<count>_complementary`` for every count
column: true when the cell is hidden only so that another (1-10) cell cannot be worked out, so
its own value is not 1-10; with ``--min-cell 0`` these columns are absent (nothing is hidden).
``--format table`` prints an aligned table with intervals and a footer giving the definition,
the parameters and the suppression threshold; a count of 1-10 reads "<11", a count hidden by
complementary suppression and every derived figure read "suppressed". Bad input exits with
status 2.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from cli.common import add_db_argument, error, note, resolve_db

#: ``--where`` keys (the filters of ``queries.engine.FILTERS`` minus the period, which has
#: ``--from``/``--to``).
WHERE_KEYS = (
    "site_id", "clinician_id", "diagnosis_group", "age_band", "sex", "drug_class", "drug",
)


class UsageError(ValueError):
    """Bad command-line input: printed as one line, exit status 2."""


def register(subparsers) -> None:  # type: ignore[no-untyped-def]
    parser = subparsers.add_parser(
        "metric",
        help="compute one metric, grouped and filtered, with intervals and suppression",
        description="Compute a metric from the warehouse. Small counts (1 to MIN_CELL-1) are "
        "hidden, as is every figure derived from them.",
    )
    parser.add_argument("name", help="metric name (see `outcomes metrics --list`)")
    add_db_argument(parser)
    add_selection_arguments(parser)
    parser.add_argument("--by", default="", help="dimensions, comma-separated (e.g. drug_class,sex)")
    parser.add_argument("--format", choices=("table", "json", "csv"), default="table")
    parser.add_argument("--engine", choices=("duckdb", "spark"), default="duckdb",
                        help="spark: aggregate on Spark over --warehouse (built by `outcomes build`)")
    parser.add_argument("--warehouse", type=Path, help="Parquet warehouse of `outcomes build`")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--master", help="Spark master URL (default local[*])")
    where.add_argument("--remote", help="Spark Connect address, sc://HOST[:PORT]")
    parser.set_defaults(func=_run_metric)

    listing = subparsers.add_parser("metrics", help="list every metric with its definition")
    listing.add_argument("--list", action="store_true", help="list the metrics (the default)")
    listing.add_argument("--format", choices=("table", "json"), default="table")
    listing.set_defaults(func=_run_list)


def add_selection_arguments(parser: argparse.ArgumentParser) -> None:
    """Period, filters, definition parameters and the suppression threshold (shared with compare)."""
    parser.add_argument("--from", dest="start_date", type=_date, help="period start, YYYY-MM-DD")
    parser.add_argument("--to", dest="end_date", type=_date, help="period end, YYYY-MM-DD")
    parser.add_argument(
        "--where", action="append", default=[], metavar="KEY=VALUE",
        help=f"filter, repeatable; KEY is one of {', '.join(WHERE_KEYS)}",
    )
    parser.add_argument("--instrument", help="rating scale, e.g. PHQ-9 or GAD-7")
    parser.add_argument("--preset", help="follow-up window preset, e.g. hedis_drr_e")
    parser.add_argument(
        "--set", action="append", default=[], metavar="PARAM=VALUE", dest="overrides",
        help="definition parameter of the metric, e.g. eligibility_min=12, level=ingredient",
    )
    parser.add_argument(
        "--min-cell", type=int, default=None,
        help="suppression threshold: counts 1..N-1 hidden (default: min_cell of outcomes.toml, "
        "else 11; 0 turns it off)",
    )


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def parse_pairs(pairs: list[str], option: str, allowed: tuple[str, ...] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key or not value:
            raise UsageError(f"{option} {pair!r}: expected KEY=VALUE")
        if allowed is not None and key not in allowed:
            raise UsageError(f"{option}: unknown key {key!r}; keys are: {', '.join(allowed)}")
        out[key] = value
    return out


def _typed(value: str) -> Any:
    """Definition parameter values: integers, booleans and decimals as such, else text."""
    lowered = value.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            continue
    return value


_PARAM_TYPES = {"integer": "a whole number", "bigint": "a whole number", "double": "a number",
                "boolean": "true or false", "date": "a date (YYYY-MM-DD)"}


def check_override_types(query: Any, overrides: dict[str, Any]) -> None:
    """Each ``--set`` value has the type its parameter declares (text parameters stay text)."""
    for name, value in list(overrides.items()):
        declared = str(query.params.get(name, {}).get("type", "varchar"))
        if declared in ("integer", "bigint"):
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif declared == "double":
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        elif declared == "boolean":
            ok = isinstance(value, bool)
        elif declared == "date":
            try:
                overrides[name] = dt.date.fromisoformat(str(value))
                ok = True
            except ValueError:
                ok = False
        else:
            text = str(value).lower() if isinstance(value, bool) else str(value)
            overrides[name] = text
            ok = True
        if not ok:
            raise UsageError(f"--set {name}={value}: {query.name}'s parameter {name} takes "
                             f"{_PARAM_TYPES.get(declared, declared)}")


def selection(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any]]:
    """(filters, definition overrides) from the shared arguments."""
    filters: dict[str, Any] = dict(parse_pairs(args.where, "--where", WHERE_KEYS))
    if args.start_date:
        filters["start_date"] = args.start_date
    if args.end_date:
        filters["end_date"] = args.end_date
    if args.instrument:
        filters["instrument"] = args.instrument
    overrides = {k: _typed(v) for k, v in parse_pairs(args.overrides, "--set", None).items()}
    if args.preset:
        overrides["preset"] = args.preset
    return filters, overrides


def min_cell_of(args: argparse.Namespace) -> int:
    """``--min-cell``, else ``min_cell`` of outcomes.toml, else 11 (``resolve_min_cell``)."""
    from queries.engine import MetricError, resolve_min_cell
    from stats.suppression import DEFAULT_MIN_CELL

    try:
        value, source = resolve_min_cell(args.min_cell)
    except MetricError as exc:
        raise UsageError(str(exc)) from None
    if value < 0:
        raise UsageError(f"--min-cell must be 0 or more, got {value}")
    if value < DEFAULT_MIN_CELL:
        where = "--min-cell" if source == "argument" else f"min_cell in {source}"
        note(f"warning: suppression threshold lowered to {value} by {where} "
             f"(default {DEFAULT_MIN_CELL}); counts this small must not leave the clinic")
    return value


def open_readonly(path):  # type: ignore[no-untyped-def]
    import duckdb

    from pipelines.extract import IngestError
    from pipelines.file_checks import check_database_path

    if not path.exists():
        raise UsageError(f"--db {path}: no such warehouse (run `outcomes ingest` first)")
    try:
        check_database_path(path)
        return duckdb.connect(str(path), read_only=True)
    except (IngestError, duckdb.Error) as exc:
        raise UsageError(str(exc).strip().splitlines()[0]) from None


def _data_end(args: argparse.Namespace) -> str | None:
    try:
        con = open_readonly(resolve_db(args.db))
    except Exception:  # the stamp says "unknown" rather than failing the export
        return None
    try:
        from queries.periods import completeness

        end = completeness(con).data_end
        return end.isoformat() if end else None
    finally:
        con.close()


def _run_metric(args: argparse.Namespace) -> int:
    import queries
    from queries.access import AccessDenied, user_for
    from queries.engine import MetricError

    try:
        filters, overrides = selection(args)
        min_cell = min_cell_of(args)
        by = tuple(d for d in args.by.split(",") if d.strip())
        query = queries.describe(args.name) if args.name in queries.catalog() else None
        if query is None:
            raise UsageError(
                f"unknown metric {args.name!r}; `outcomes metrics --list` lists them"
            )
        check_override_types(query, overrides)
        try:
            cli_user = user_for(None, "cli")
        except ValueError as exc:  # a [roles] entry that names no known role
            raise UsageError(str(exc)) from None
        con = _spark_connection(args) if args.engine == "spark" else open_readonly(resolve_db(args.db))
        if con is None:
            return 2
        try:
            # the command line's role ([roles] cli of outcomes.toml; analyst by default)
            result = queries.metric(con, args.name, by=by, filters=filters, min_cell=min_cell,
                                    user=cli_user, **overrides)
        except Exception as exc:
            if args.engine != "spark" or isinstance(exc, (AccessDenied, MetricError)):
                raise
            raise UsageError(f"on Spark: {(str(exc).strip().splitlines() or [''])[0]}") from None
        finally:
            con.close()
            if args.engine == "spark":
                con.spark.stop()
    except AccessDenied as exc:
        error(str(exc))
        return 3
    except (UsageError, MetricError) as exc:
        error(str(exc))
        return 2
    from cli.render import footer, render_table, to_json_rows

    if args.format == "json":
        print(json.dumps(to_json_rows(result.frame), indent=2, default=str))
        for line in footer(result):
            note(line)
    elif args.format == "csv":
        # numbers under a "# key: value" stamp (docs/exports.md): read back with
        # pl.read_csv(..., comment_prefix="#")
        from report.export import stamp, stamped_csv

        meta = result.meta
        period = f"{filters.get('start_date') or 'start of data'} to {filters.get('end_date') or 'end of data'}"
        where = "; ".join(f"{k} {v}" for k, v in sorted(meta.get("filters", {}).items())) or "none"
        proportions = [c for c, f in result.formats().items() if f in ("pct", "pct1")]
        lines = stamp(title=result.query.title, filters=where, period=period, min_cell=min_cell,
                      data_as_of=_data_end(args), meta=meta, proportions=proportions)
        sys.stdout.write(stamped_csv(result.frame, lines))
        for line in footer(result):
            note(line)
    else:
        print(render_table(result))
        print()
        print("\n".join(footer(result)))
    return 0


def _spark_connection(args: argparse.Namespace) -> Any:
    """The metric engine's connection over a Spark-built warehouse (None after an error)."""
    if args.warehouse is None or not Path(args.warehouse, "marts").is_dir():
        raise UsageError("--engine spark needs --warehouse PATH, a folder `outcomes build "
                         "--engine spark` wrote (with PATH/marts/)")
    from cli.build import open_session

    spark = open_session(args)
    if spark is None:
        return None
    from pipelines.portability.spark_build import register
    from pipelines.portability.spark_connection import SparkConnection

    register(spark, args.warehouse)
    return SparkConnection(spark)


def _run_list(args: argparse.Namespace) -> int:
    import queries
    from queries.engine import dimensions_of

    catalogue = queries.catalog()
    if args.format == "json":
        print(json.dumps([
            {"name": q.name, "domain": q.domain, "title": q.title, "kind": q.kind,
             "definition": q.description, "grain": q.grain, "by": list(dimensions_of(q)),
             "params": list(q.params)}
            for q in catalogue.values()
        ], indent=2))
        return 0
    for query in catalogue.values():
        dims = ", ".join(dimensions_of(query)) or "fixed grain"
        print(f"{query.name}  ({query.domain}, {query.kind}) - {query.title}")
        print(f"    {query.description}")
        print(f"    --by: {dims}")
        print()
    return 0
