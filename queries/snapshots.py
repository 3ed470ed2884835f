"""Metric results computed at load time and stored in the warehouse (``meta.metric_snapshots``).

The dashboard's first pages ask for a few dozen metrics under the default filters; at 100,000
patients computing them takes seconds, which is when leadership opens the dashboard. The load
(``outcomes ingest``) therefore runs those requests once, through ``queries.engine.metric`` itself,
and stores each result under its *request key*; ``metric()`` answers a request whose key is stored
from the table instead of the marts.

- **Same result, by construction.** A stored result is what ``metric()`` returned for the same
  request on the same warehouse: the suppressed, cell-key perturbed frame and its metadata
  (``computed_at`` is the load's time). Nothing is re-aggregated, so suppression and perturbation
  are exactly those of the unit-level path (``tests/test_metric_snapshots.py`` compares both).
- **The request key** is a SHA-256 of the metric name, its SQL text, the ``by`` dimensions, every
  bound parameter (filters and definition parameters, after ``queries.access`` has checked the
  user), the suppression threshold and where it came from, ``perturb``, the cell-key salt
  and the software version. Any difference (another
  threshold in ``outcomes.toml``, an upgraded metric file) misses, and ``metric()`` computes as
  before. The table lives in the warehouse, so a new load replaces it with the data.
- Only aggregated, suppressed results are stored, never unit rows; patient-level metrics are not
  recorded.

``recording()`` collects the results ``metric()`` computes inside it; ``store()`` writes them.
``published()`` does the same for a published frame that is not a metric's result (the worklist
counts of ``queries.published_counts``), keyed the same way.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import functools
import hashlib
import io
import json
from collections.abc import Callable, Iterator
from typing import Any

import duckdb
import polars as pl

TABLE = "meta.metric_snapshots"
_CURVE = "curve"
#: (request key, metric name, frame, meta) of each result computed while recording.
_RECORDED: contextvars.ContextVar[list[tuple[str, str, pl.DataFrame, dict[str, Any]]] | None] = (
    contextvars.ContextVar("metric_snapshots_recording", default=None))


@functools.cache
def _software_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("psych-outcomes")
    except PackageNotFoundError:
        return "0+unknown"


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def request_key(name: str, sql: str, by: tuple[str, ...], params: dict[str, Any], min_cell: int,
                perturb: bool, min_cell_source: str, salt: str | None) -> str:
    """The key a result is stored under: everything that decides it, hashed."""
    payload = {
        "metric": name, "sql": hashlib.sha256(sql.encode()).hexdigest(), "by": list(by),
        "params": {k: _plain(v) for k, v in sorted(params.items())}, "min_cell": min_cell,
        "min_cell_source": min_cell_source, "perturb": perturb, "version": _software_version(),
        # the cell-key salt in force (hashed with the rest; the key never reveals it)
        "salt": salt,
    }
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _to_bytes(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_ipc(buffer)
    return buffer.getvalue()


def _from_bytes(blob: bytes) -> pl.DataFrame:
    return pl.read_ipc(io.BytesIO(blob))


def lookup(con: duckdb.DuckDBPyConnection, key: str) -> tuple[pl.DataFrame, dict[str, Any]] | None:
    """The stored (frame, meta) for a request key, or None (not stored, or no table: a
    warehouse loaded before snapshots existed)."""
    try:
        rows = con.execute(f"select frame, meta, curve from {TABLE} where request_key = ?",  # noqa: S608
                           [key]).fetchall()
    except duckdb.Error:
        return None
    if not rows:
        return None
    frame_blob, meta_text, curve_blob = rows[0]
    meta = json.loads(meta_text)
    if curve_blob is not None:
        meta[_CURVE] = _from_bytes(curve_blob)
    return _from_bytes(frame_blob), meta


def offer(key: str, name: str, frame: pl.DataFrame, meta: dict[str, Any]) -> None:
    """Keep a result computed by ``metric()`` when ``recording()`` is on (else do nothing)."""
    recorded = _RECORDED.get()
    if recorded is not None:
        recorded.append((key, name, frame, meta))


@contextlib.contextmanager
def recording() -> Iterator[list[tuple[str, str, pl.DataFrame, dict[str, Any]]]]:
    """Collect every result ``metric()`` computes in this context (for ``store``)."""
    recorded: list[tuple[str, str, pl.DataFrame, dict[str, Any]]] = []
    token = _RECORDED.set(recorded)
    try:
        yield recorded
    finally:
        _RECORDED.reset(token)


def store(con: duckdb.DuckDBPyConnection,
          recorded: list[tuple[str, str, pl.DataFrame, dict[str, Any]]]) -> int:
    """Write the recorded results to ``meta.metric_snapshots`` (replacing the table's rows);
    returns how many distinct requests were stored."""
    con.execute("create schema if not exists meta")
    con.execute(f"create or replace table {TABLE} (request_key varchar primary key, "
                "metric varchar not null, frame blob not null, meta varchar not null, curve blob)")
    rows = {}
    for key, name, frame, meta in recorded:
        curve = meta.get(_CURVE)
        plain = {k: v for k, v in meta.items() if k != _CURVE}
        rows[key] = (key, name, _to_bytes(frame), json.dumps(plain, default=str),
                     _to_bytes(curve) if isinstance(curve, pl.DataFrame) else None)
    if rows:
        con.executemany(f"insert into {TABLE} values (?, ?, ?, ?, ?)", list(rows.values()))  # noqa: S608
    return len(rows)


def published(con: duckdb.DuckDBPyConnection, name: str, sql: str, params: dict[str, Any],
              min_cell: int, salt: str | None, compute: Callable[[], pl.DataFrame]) -> pl.DataFrame:
    """A published frame that is not a metric result (``name``, computed by ``compute`` from
    ``sql`` run with ``params``): read when the load stored it under the same key (``sql``, every
    parameter, the threshold, the salt and the software version), else computed; recorded either
    way while ``recording()`` is on."""
    key = request_key(name, sql, (), params, min_cell, salt is not None, "published", salt)
    stored = lookup(con, key)
    frame = stored[0] if stored is not None else compute()
    offer(key, name, frame, {})
    return frame
