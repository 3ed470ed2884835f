"""``outcomes quarantine``: the values a load refused to store readably, masked; raw on request.

The warehouse holds a quarantined value only as a mask and a salted hash (``meta.quarantine``,
``pipelines.domains``). ``--reveal --extract FOLDER`` reads the values back from the extract's
own files (file and line as recorded), for an analyst who needs to fix the source or map a
drug: it prints a warning first, checks each file's SHA-256 against the load, and checks that
each value still has the recorded mask. Nothing is written anywhere.

Exit codes: 0 listed; 1 no warehouse, no quarantine table, or a revealed file that changed; 2 usage.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from cli.common import add_db_argument, error, resolve_db

WARNING = ("WARNING: --reveal prints values the load refused to store because they failed "
           "their column's domain or an identifier detector. They may be direct identifiers "
           "(PHI). Do not paste them into tickets, chats or e-mail; fix the extract at its "
           "source.")


def register(subparsers) -> None:  # type: ignore[no-untyped-def]
    parser = subparsers.add_parser(
        "quarantine", help="list values a load quarantined (masked; raw only with --reveal)",
        description="List the rejected values stored only masked (meta.quarantine): file, line, "
                    "column, reason, detector, mask and salted hash. With --reveal and "
                    "--extract, read the raw values back from the extract's files.")
    add_db_argument(parser)
    parser.add_argument("--load", default=None, help="one load id (default: the latest load)")
    parser.add_argument("--json", action="store_true", help="print the list as JSON")
    parser.add_argument("--reveal", action="store_true",
                        help="show the raw values, read from --extract (prints a warning)")
    parser.add_argument("--extract", type=Path, default=None,
                        help="the extract folder the load read (needed by --reveal)")
    parser.set_defaults(func=_run)


def _run(args) -> int:  # type: ignore[no-untyped-def]
    import duckdb

    if args.reveal and args.extract is None:
        error("--reveal needs --extract FOLDER: the raw values are stored nowhere but there")
        return 2
    db = resolve_db(args.db)
    if not db.is_file():
        error(f"{db}: no such warehouse (run 'outcomes ingest' first)")
        return 1
    con = duckdb.connect(str(db), read_only=True)
    try:
        exists = con.sql("select count(*) from information_schema.tables where "
                         "table_schema = 'meta' and table_name = 'quarantine'").fetchall()[0][0]
        if not exists:
            error(f"{db}: has no meta.quarantine table (loaded by an older version)")
            return 1
        load_id = args.load or con.sql("select max(load_id) from meta.quarantine"
                                       ).fetchall()[0][0]
        rows = con.sql("select load_id, table_name, source_file, line, column_name, reason_code, "
                       "detector, masked_value, value_hash from meta.quarantine "
                       "where load_id = $id order by table_name, source_file, line, column_name",
                       params={"id": load_id}).fetchall()
        hashes = dict(con.sql("select source_file, sha256 from meta.load_files "
                              "where load_id = $id", params={"id": load_id}).fetchall())
    finally:
        con.close()
    keys = ("load_id", "table", "file", "line", "column", "reason", "detector", "masked",
            "hash")
    records = [dict(zip(keys, row, strict=True)) for row in rows]
    if args.reveal:
        print(WARNING, file=sys.stderr)
        problem = _reveal(records, args.extract, hashes)
        if problem:
            error(problem)
            return 1
    if args.json:
        print(json.dumps({"load_id": load_id, "quarantined": records}, indent=2, default=str))
        return 0
    if not records:
        print(f"No quarantined values{' in load ' + load_id if load_id else ''}.")
        return 0
    print(f"{len(records)} quarantined value(s) in load {load_id}:")
    for r in records:
        shown = f"  value: {r['value']!r}" if args.reveal else ""
        print(f"  {r['file']}:{r['line']}  {r['column']}  {r['reason']}  "
              f"detector={r['detector'] or '-'}  {r['masked']}  #{r['hash']}{shown}")
    return 0


def _reveal(records: list[dict], folder: Path, hashes: dict[str, str]) -> str | None:
    """Add ``value`` to each record from the extract's files; a problem message, or None."""
    import duckdb

    from pipelines.extract import IngestError, _reader_sql, inspect_file
    from pipelines.identifiers import mask

    con = duckdb.connect(":memory:")
    try:
        sources = {}
        for source_file in sorted({r["file"] for r in records}):
            path = folder / source_file
            if not path.is_file():
                return f"{path}: not found (was the load read from another folder?)"
            fmt = "parquet" if path.suffix.lower() == ".parquet" else "csv"
            try:
                sources[source_file] = inspect_file(path, source_file, fmt, con)
            except IngestError as exc:
                return str(exc)
            if hashes.get(source_file) and sources[source_file].sha256 != hashes[source_file]:
                return f"{path}: changed since the load (SHA-256 differs); nothing revealed"
        for r in records:
            source = sources[r["file"]]
            # the column is a contract column the load recorded; the path is a bound parameter
            value = con.sql(f'select nullif(trim("{r["column"]}"), \'\') '  # noqa: S608
                            f"from {_reader_sql(source, r['table'])} limit 1 offset $row",
                            params={"path": str(source.path),
                                    "row": r["line"] - source.first_line}).fetchall()
            r["value"] = value[0][0] if value else None
            if r["value"] is None or mask(r["value"]) != r["masked"]:
                return (f"{r['file']}:{r['line']}: the value there no longer has the recorded "
                        "shape; nothing revealed")
    finally:
        con.close()
    return None
