"""``outcomes serve``: open the dashboard on a warehouse (localhost only by default)."""

from __future__ import annotations

from pathlib import Path

from cli.common import add_db_argument, resolve_db


def register(subparsers) -> None:  # type: ignore[no-untyped-def]
    parser = subparsers.add_parser(
        "serve",
        help="serve the Streamlit dashboard on a warehouse",
        description="Serve the dashboard. Binds to 127.0.0.1 unless --address says otherwise.",
    )
    add_db_argument(parser)
    parser.add_argument("--port", type=int, default=8501, help="TCP port (default 8501)")
    parser.add_argument(
        "--address", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)"
    )
    parser.add_argument(
        "--marts", type=Path, default=None, metavar="PATH",
        help="serve the Parquet warehouse `outcomes build --engine spark` wrote under PATH "
        "(copied into --db, default PATH/served.duckdb; docs/scale-out.md)")
    parser.set_defaults(func=_run)


def _run(args) -> int:  # type: ignore[no-untyped-def]
    from cli.launch import serve

    db = resolve_db(args.db)
    if args.marts is not None:
        from cli.common import error, note
        from pipelines.portability.serve_marts import marts_database

        db = args.db if args.db is not None else args.marts / "served.duckdb"
        try:
            rows = marts_database(args.marts, db)
        except ValueError as exc:
            error(str(exc))
            return 2
        note(f"outcomes serve: {len(rows)} tables read from the Parquet warehouse {args.marts} into {db}")
    return serve(db, port=args.port, address=args.address)
