"""The warehouse file behind the dashboard: where it is, its version token, one cached connection.

``dashboard.data`` (metric bridges) and ``dashboard.qi_data`` (QI bridges) both read through
``cursor()``; keeping the connection here means neither of them imports the other.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import streamlit as st

from queries.engine import resolve_min_cell

ENV_DB = "OUTCOMES_DB"
DEFAULT_DB = "outcomes.duckdb"
#: The threshold the dashboard publishes with: ``min_cell`` of outcomes.toml when set, else 11,
#: read when the app starts; the app offers no control to lower it (DOMAIN.md §10).
MIN_CELL, MIN_CELL_SOURCE = resolve_min_cell(None)
CREATE_COMMAND = "outcomes demo    # or: outcomes ingest EXTRACT_FOLDER --db FILE"


class NotInWarehouse(LookupError):
    """The metric reads a mart this warehouse lacks (built by an older version): rebuild it."""


@dataclass(frozen=True)
class Result:
    """A metric result as views see it: the suppressed frame, its header and its metadata."""

    name: str
    title: str
    description: str
    frame: pl.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)
    formats: dict[str, str | None] = field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        return self.frame.is_empty()


@dataclass(frozen=True)
class Status:
    """Whether the warehouse can serve pages: ``ok``, ``missing``, ``unreadable`` or ``empty``."""

    state: str
    path: Path
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.state == "ok"


def db_path() -> Path:
    """The warehouse file: ``$OUTCOMES_DB`` (set by ``outcomes serve``) or ./outcomes.duckdb."""
    return Path(os.environ.get(ENV_DB) or DEFAULT_DB).expanduser().resolve()


def version() -> tuple[int, int]:
    """The file's identity and age; changes when ingestion swaps in a new warehouse."""
    info = db_path().stat()
    return (info.st_ino, info.st_mtime_ns)


def _close(con: duckdb.DuckDBPyConnection) -> None:
    con.close()


@st.cache_resource(max_entries=1, on_release=_close, show_spinner=False)
def _connection(path: str, file_version: tuple[int, int]) -> duckdb.DuckDBPyConnection:
    del file_version  # part of the cache key only: a new file version opens a new connection
    con = duckdb.connect(":memory:", config={"threads": 2, "memory_limit": "2GB"})
    con.execute("ATTACH ? AS warehouse (READ_ONLY)", [path])
    # The dashboard reads the attached file only; nothing it runs may touch other files or URLs.
    con.execute("SET enable_external_access = false")
    return con


def cursor() -> duckdb.DuckDBPyConnection:
    cur = _connection(str(db_path()), version()).cursor()
    cur.execute("USE warehouse")  # USE is per cursor: cursors do not inherit it
    return cur


@st.cache_data(ttl=600, max_entries=4, show_spinner=False)
def _status(path: str, file_version: tuple[int, int]) -> tuple[str, str]:
    del file_version
    try:
        cur = cursor()
    except duckdb.Error as exc:
        return "unreadable", f"DuckDB cannot open it: {exc}"
    try:
        tables = cur.sql(
            "select count(*) from information_schema.tables "
            "where table_catalog = 'warehouse' and table_schema = 'marts'"
        ).fetchall()[0]
        if not tables or tables[0] == 0:
            return "empty", "it has no marts tables (no extract has been loaded into it)"
        return "ok", ""
    finally:
        cur.close()


def status() -> Status:
    """Can the pages run? Checked before any view; a missing or empty file is not an error."""
    path = db_path()
    if not path.exists():
        return Status("missing", path, "the file does not exist")
    state, detail = _status(str(path), version())
    return Status(state, path, detail)
