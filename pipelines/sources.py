"""What an extract is made of, as data: its files, its tables and the error that refuses a load.

Shared by the readers (``pipelines.extract``), the file-kind checks (``pipelines.file_checks``)
and the Parquet type checks (``pipelines.parquet_types``), which all raise ``IngestError``; kept
apart so that none of them imports another to get these types.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

FileFormat = Literal["csv", "parquet"]


class IngestError(Exception):
    """A file-level problem: the load is refused and the live database is left as it was.

    ``file`` and ``column`` name what is wrong (``column`` may be None); ``reason`` is a short
    code such as ``missing_column`` or ``direct_identifier_column``.
    """

    def __init__(self, message: str, *, file: str | None, column: str | None = None,
                 reason: str) -> None:
        super().__init__(message)
        self.file = file
        self.column = column
        self.reason = reason

    @property
    def exit_status(self) -> int:
        """2 for a usage or configuration problem, 3 for a data-quality threshold, else 1."""
        if self.reason in USAGE_REASONS:
            return 2
        return 3 if self.reason in THRESHOLD_REASONS else 1

    def to_dict(self) -> dict[str, Any]:
        return {"reason": self.reason, "file": self.file, "column": self.column,
                "message": str(self), "exit_status": self.exit_status}


#: ``IngestError.reason`` codes that are the caller's mistake, not the data's (exit status 2).
USAGE_REASONS = frozenset({"not_a_folder", "bad_database", "bad_config", "bad_option",
                           "live_database_not_clean"})
#: Codes of a load refused by a data-quality threshold (exit status 3).
THRESHOLD_REASONS = frozenset({"reject_share_over_limit", "no_accepted_rows"})


@dataclass(frozen=True)
class SourceFile:
    """One input file: where it is, how the folder names it, its SHA-256 and its header."""

    path: Path
    relative_name: str
    fmt: FileFormat
    sha256: str
    columns: tuple[str, ...]
    #: Parquet only: each column's DuckDB type (``DOUBLE``, ``TIMESTAMP``, ``VARCHAR`` ...)
    types: tuple[str, ...] = ()

    @property
    def first_line(self) -> int:
        """The line number of the first data row (CSV has a header line)."""
        return 2 if self.fmt == "csv" else 1


@dataclass(frozen=True)
class SourceTable:
    """The files that make up one contract table in the extract."""

    table: str
    files: tuple[SourceFile, ...]
