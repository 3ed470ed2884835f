"""``outcomes serve``: open the dashboard on a warehouse (localhost only by default)."""

from __future__ import annotations

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
    parser.set_defaults(func=_run)


def _run(args) -> int:  # type: ignore[no-untyped-def]
    from cli.launch import serve

    return serve(resolve_db(args.db), port=args.port, address=args.address)
