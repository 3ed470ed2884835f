"""Helpers shared by the subcommands: the default database path and stderr messages."""

from __future__ import annotations

import os
import sys
from pathlib import Path

DEFAULT_DB_NAME = "outcomes.duckdb"


def default_db_path() -> Path:
    """``$OUTCOMES_DB`` when set, else ``outcomes.duckdb`` in the working directory."""
    return Path(os.environ.get("OUTCOMES_DB") or DEFAULT_DB_NAME)


def add_db_argument(parser) -> None:  # type: ignore[no-untyped-def]
    parser.add_argument(
        "--db",
        type=Path,
        default=None,
        help=f"DuckDB warehouse file (default: $OUTCOMES_DB or ./{DEFAULT_DB_NAME})",
    )


def resolve_db(path: Path | None) -> Path:
    return path if path is not None else default_db_path()


def error(message: str) -> None:
    """Print a one-line error for a person (stderr, never a traceback)."""
    print(f"outcomes: error: {message}", file=sys.stderr)


def note(message: str) -> None:
    print(message, file=sys.stderr)
