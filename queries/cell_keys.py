"""Record keys and cell keys in DuckDB, and the perturbation of an aggregated frame.

``stats.cell_key`` defines the method (record key, cell key, perturbation table); this module
does the SQL side: the per-warehouse secret salt (``meta.cell_key``), a record key per unit row
of a metric (``md5`` of the salt and the metric's declared unique key, computed in the aggregate
query so that unit rows never reach Python), and, per published count, the sum of the record
keys of its units modulo ``KEY_BASE``. ``perturb_counts`` then replaces the true counts of a
frame by their published values and returns the true ones for the suppression rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import duckdb
import polars as pl

from queries import loader
from stats import cell_key

SALT_PARAM = "cell_key_salt"
#: Prefix of the helper columns holding a count's cell key (dropped before publication).
KEY_PREFIX = "_cell_key__"
RECORD_KEY = "_record_key"


def read_salt(con: duckdb.DuckDBPyConnection) -> str | None:
    """The warehouse's cell-key salt, or None when the warehouse predates it (no table)."""
    try:
        rows = con.sql("select value from meta.cell_key where key = 'salt'").fetchall()
    except duckdb.Error:
        return None
    return str(rows[0][0]) if rows and rows[0][0] else None


def key_column(count: str) -> str:
    return f"{KEY_PREFIX}{count}"


def _unit_key_columns(query: loader.Query) -> list[str]:
    """The metric's declared unique key (``tests.unique``); identifiers from this package's
    headers only, which is why formatting them into SQL is safe."""
    unique = list((query.tests or {}).get("unique") or [])
    if not unique:
        raise ValueError(f"{query.name}: a metric needs tests.unique (its unit key) for cell keys")
    return unique


def _hash_sql(columns: Iterable[str]) -> str:
    parts = " || '|' || ".join(f"coalesce({c}::varchar, '')" for c in columns)
    return f"md5_number_lower(${SALT_PARAM} || '|' || {parts})"


def keyed_units_sql(query: loader.Query) -> str:
    """``select *, <record key> from units``: the CTE the key measures read."""
    # identifiers from this package's headers only; the salt stays a bound parameter
    return f"select *, {_hash_sql(_unit_key_columns(query))} as {RECORD_KEY} from units"  # noqa: S608


def key_measure(out: str, source: str) -> str:
    """The cell key of count ``out`` (``source`` as in ``pipelines.query_files.count_expression``)."""
    base = cell_key.KEY_BASE
    if source == "*":
        total = f"sum({RECORD_KEY})"
    elif source.startswith("distinct "):
        column = source.removeprefix("distinct ").strip()
        # each distinct value (e.g. a patient) counts once, keyed by its own value
        total = f"sum(distinct {_hash_sql([column])}) filter (where {column} is not null)"
    else:
        total = f"sum({RECORD_KEY}) filter (where {source})"
    return f"(coalesce({total}, 0)::hugeint % {base})::integer as {key_column(out)}"


def perturb_counts(
    frame: pl.DataFrame, counts: Sequence[str]
) -> tuple[pl.DataFrame, dict[str, list[int | None]]]:
    """Replace each count by its published value using its ``key_column``; drop the key columns.
    Returns the frame and the true counts."""
    true: dict[str, list[int | None]] = {}
    columns = []
    for col in counts:
        values = [None if v is None else int(v) for v in frame.get_column(col).to_list()]
        keys = frame.get_column(key_column(col)).to_list()
        true[col] = values
        columns.append(pl.Series(col, cell_key.perturb_all(values, keys), dtype=pl.Int64))
    frame = frame.with_columns(columns)
    return frame.drop([c for c in frame.columns if c.startswith(KEY_PREFIX)]), true


def cap_nested(frame: pl.DataFrame, pairs: Iterable[tuple[str, str]]) -> pl.DataFrame:
    """A published part never exceeds its published whole (responders <= eligible): noise could
    otherwise show 51 of 50. Pairs are applied in order (attrition chains first)."""
    for part, whole in pairs:
        if part in frame.columns and whole in frame.columns:
            frame = frame.with_columns(
                pl.when(pl.col(part) > pl.col(whole)).then(pl.col(whole)).otherwise(pl.col(part))
                .alias(part)
            )
    return frame


def content_keys(
    frame: pl.DataFrame, salt: str, metric: str, counts: Sequence[str], labels: Sequence[str]
) -> pl.DataFrame:
    """For a fixed-grain table: add a content key per count (``stats.cell_key.content_key``)."""
    label_rows = frame.select(labels).rows() if labels else [()] * frame.height
    return frame.with_columns(
        pl.Series(
            key_column(col),
            [cell_key.content_key(salt, metric, col, *label, value)
             for label, value in zip(label_rows, frame.get_column(col).to_list(), strict=True)],
            dtype=pl.Int64,
        )
        for col in counts
    )


def meta(salt: str | None, min_cell: int) -> dict[str, object] | None:
    """What to record with a result: the method and its parameters (never the salt)."""
    if salt is None or min_cell <= 1:
        return None
    return cell_key.describe()


def true_counts_of(true: Mapping[str, list[int | None]]) -> dict[str, tuple[int | None, ...]]:
    return {c: tuple(v) for c, v in true.items()}
