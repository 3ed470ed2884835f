"""``outcomes worklist NAME`` and ``outcomes worklists --list``: who needs what on a day.

Worklists are patient-level (DOMAIN.md 13): the command acts as the CLI's role (``[roles] cli``
of ``outcomes.toml``, analyst by default) and ``queries.access`` refuses a leadership role,
naming the role needed (exit status 3). ``--clinician ID`` narrows the list to one clinician;
``--as-of DATE`` evaluates the rules on that day (default: the data end date).
``--format json`` prints the rows (``patient_id``, ``clinician_id``, ``drug``, ``reason``,
``days_overdue`` and the rest) alone on stdout; ``csv`` prints them as CSV; ``table`` prints an
aligned list with the rule, the caution and the parameters. Bad input exits with status 2.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from typing import Any

from cli.common import add_db_argument, error, resolve_db

#: Columns of the table format, in order (the JSON and CSV formats carry every column).
TABLE_COLUMNS = ("patient_id", "clinician_id", "drug", "reason", "due_on", "days_overdue",
                 "facts")


def register(subparsers) -> None:  # type: ignore[no-untyped-def]
    # no import of queries here: every ``outcomes`` command (serve's cold start too) builds this
    # parser, and queries.worklist pulls in polars and duckdb; a wrong name is refused with the list
    parser = subparsers.add_parser(
        "worklist",
        help="list the patients who need a review (patient-level; not for the leadership role)",
        description="Patients who need something on a day, by rule (DOMAIN.md section 13). "
        "Rows name patient surrogates: keep them inside the clinic.",
    )
    parser.add_argument("name", help="worklist name (`outcomes worklists` lists them with their rules)")
    add_db_argument(parser)
    parser.add_argument("--clinician", dest="clinician_id", help="only this clinician's patients")
    parser.add_argument("--as-of", dest="as_of", type=_date,
                        help="evaluate on this day, YYYY-MM-DD (default: the data end date)")
    parser.add_argument("--format", choices=("table", "json", "csv"), default="table")
    parser.set_defaults(func=_run_worklist)

    listing = subparsers.add_parser("worklists", help="list the worklists with their rules")
    listing.add_argument("--list", action="store_true", help="list the worklists (the default)")
    listing.add_argument("--format", choices=("table", "json"), default="table")
    listing.set_defaults(func=_run_list)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def _run_worklist(args: argparse.Namespace) -> int:
    import duckdb

    from pipelines.definitions import DefinitionError
    from queries.access import AccessDenied, user_for
    from queries.worklist import WorklistError, query_of, run_worklist

    path = resolve_db(args.db)
    try:
        query_of(args.name)
        user = user_for(None, "cli")
    except (WorklistError, ValueError) as exc:
        error(str(exc))
        return 2
    if not path.exists():
        error(f"--db {path}: no such warehouse (run `outcomes ingest` first)")
        return 2
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            result = run_worklist(con, args.name, user=user, clinician_id=args.clinician_id,
                                  as_of=args.as_of)
    except AccessDenied as exc:
        error(str(exc))
        return 3
    except (WorklistError, DefinitionError) as exc:
        error(str(exc))
        return 2
    except duckdb.Error as exc:
        error(f"--db {path}: cannot read the worklist ({type(exc).__name__}); rebuild the "
              "warehouse with `outcomes ingest` if it predates worklists")
        return 2
    frame = result.frame
    if args.format == "json":
        rows = [{k: _jsonable(v) for k, v in row.items()} for row in frame.to_dicts()]
        print(json.dumps(rows, indent=2))
    elif args.format == "csv":
        frame.write_csv(sys.stdout)
    else:
        _print_table(result)
    return 0


def _print_table(result) -> None:  # type: ignore[no-untyped-def]
    on = result.as_of.isoformat() if result.as_of else "an empty warehouse"
    print(f"{result.title}: {result.frame.height} on {on}")
    if result.caution:
        print(f"Note: {result.caution}")
    print()
    rows = [[("" if row[c] is None else str(_jsonable(row[c]))) for c in TABLE_COLUMNS]
            for row in result.frame.to_dicts()]
    if rows:
        widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(TABLE_COLUMNS)]
        widths[-1] = len(TABLE_COLUMNS[-1])  # facts run on to the end of the line
        print("  ".join(c.ljust(w) for c, w in zip(TABLE_COLUMNS, widths, strict=True)))
        for row in rows:
            print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
    else:
        print("(no patients on this list)")
    print()
    print(f"Rule: {result.definition}")
    params = ", ".join(f"{k}={_jsonable(v)}" for k, v in result.parameters.items() if k != "as_of")
    print(f"Parameters: {params}")


def _run_list(args: argparse.Namespace) -> int:
    from queries.worklist import CAUTIONS, WORKLISTS, query_of

    entries = []
    for name in WORKLISTS:
        query = query_of(name)
        entries.append({
            "name": name, "title": query.title, "rule": query.description,
            "parameters": {p: spec.get("default") for p, spec in query.params.items()},
            "caution": CAUTIONS.get(name),
        })
    if args.format == "json":
        print(json.dumps(entries, indent=2))
        return 0
    for entry in entries:
        print(f"{entry['name']}: {entry['title']}")
        print(f"    {entry['rule']}")
        settable = [f"{k}={v}" for k, v in entry["parameters"].items() if v is not None]
        if settable:
            print(f"    defaults: {', '.join(settable)}")
        print()
    return 0
