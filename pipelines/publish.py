"""Build into ``<db>.tmp``, then swap it in with ``os.replace``; merge batches into ``raw``.

DuckDB allows one read-write process or many read-only ones, so a dashboard reading the live
file would block a writer, and a writer would expose half-built tables. We never write to the
live file: a load copies it to ``<db>.tmp`` (incremental loads need the old rows), builds there,
runs ``CHECKPOINT``, closes, and ``os.replace``-s the result over the live path (atomic on
POSIX). Any failure deletes the temporary file and leaves the live file byte-for-byte as it was.
A lock file (``load_lock_path``: in the temporary folder, not beside the warehouse; ``flock``, released when the process ends) keeps two loads from
building into the same temporary file.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.contract import Table
from pipelines.extract import IngestError


@dataclass(frozen=True)
class MergeCounts:
    new: int
    updated: int
    in_warehouse: int


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)
    Path(str(path) + ".wal").unlink(missing_ok=True)
    shutil.rmtree(str(path) + ".tmp", ignore_errors=True)  # DuckDB's spill directory


def load_lock_path(live: Path) -> Path:
    """The lock file that keeps two loads of ``live`` apart.

    It lives in the system's temporary folder, named by a hash of the warehouse's resolved path,
    not beside the warehouse: a lock file there was left behind after every load and showed up as
    an untracked file in the user's working folder. Deleting it after the load is not safe (a
    second loader may already hold the old inode), so it is kept where nobody sees it.
    """
    digest = hashlib.sha256(str(live.resolve()).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"psych-outcomes-load-{os.getuid()}-{digest}.lock"


@contextlib.contextmanager
def build_then_swap(live: Path, *, memory_limit: str | None = None
                    ) -> Iterator[duckdb.DuckDBPyConnection]:
    """Yield a connection to ``<live>.tmp`` (a copy of ``live`` if it exists); publish on exit.

    If the body raises, the temporary file is removed and ``live`` is untouched.
    """
    live = live.resolve()
    live.parent.mkdir(parents=True, exist_ok=True)
    tmp = live.with_name(live.name + ".tmp")
    lock_path = load_lock_path(live)
    for sibling in (tmp, lock_path, Path(str(live) + ".wal")):
        if sibling.is_dir() or (sibling.exists() and not sibling.is_file()):
            raise IngestError(f"{sibling}: is in the way of the load (not a regular file); "
                              "move it and load again", file=str(sibling), reason="bad_database")
    with lock_path.open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise IngestError(f"{live}: another load is running (lock {lock_path.name})",
                              file=str(live), reason="load_in_progress") from exc
        _remove(tmp)
        try:
            if live.exists():
                if Path(str(live) + ".wal").exists():
                    raise IngestError(
                        f"{live}: has an uncommitted write-ahead log ({live.name}.wal); open it "
                        "once with DuckDB to recover it, then load again",
                        file=str(live), reason="live_database_not_clean")
                shutil.copyfile(live, tmp)
            config: dict[str, str | bool | int | float | list[str]] = (
                {"memory_limit": memory_limit} if memory_limit else {})
            try:
                con = duckdb.connect(str(tmp), config=config)
            except duckdb.Error as exc:
                raise IngestError(
                    f"{live}: cannot be opened as a DuckDB warehouse "
                    f"({str(exc).strip().splitlines()[0]})", file=str(live),
                    reason="bad_database") from exc
            try:
                yield con
                con.execute("CHECKPOINT")
            finally:
                con.close()
            os.replace(tmp, live)  # noqa: PTH105 -- the atomic rename DESIGN.md names
        except BaseException:
            _remove(tmp)
            raise


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    return bool(con.sql("select count(*) from information_schema.tables "
                        "where table_schema = $s and table_name = $n",
                        params={"s": schema, "n": name}).fetchall()[0][0])


def merge_into_raw(con: duckdb.DuckDBPyConnection, table: Table, batch: str,
                   content_columns: tuple[str, ...]) -> MergeCounts:
    """Upsert the validated, deduplicated ``batch`` into ``raw.<table>``.

    With a primary key: a batch row whose key is new is inserted; one whose key exists with
    different content (``content_columns``, lineage excluded) replaces the old row; one whose
    key exists with the same content is left alone, so loading the same extract twice changes
    nothing, not even the lineage. Without a key (``diagnoses``): a batch row is inserted unless
    an identical row (all content columns, NULLs equal) is already there.
    """
    target = f"raw.{table.name}"  # contract table name: an allow-listed identifier
    if not table_exists(con, "raw", table.name):
        con.execute(f"create table {target} as select * from {batch}")  # noqa: S608
        rows = con.sql(f"select count(*) from {target}").fetchall()[0][0]  # noqa: S608
        return MergeCounts(new=rows, updated=0, in_warehouse=rows)
    same = " and ".join(f'r."{c}" is not distinct from b."{c}"' for c in content_columns)
    if not table.primary_key:
        new = con.sql(f"select count(*) from {batch} b where not exists "  # noqa: S608
                      f"(select 1 from {target} r where {same})").fetchall()[0][0]
        con.execute(f"insert into {target} select * from {batch} b where not exists "  # noqa: S608
                    f"(select 1 from {target} r where {same})")
        rows = con.sql(f"select count(*) from {target}").fetchall()[0][0]  # noqa: S608
        return MergeCounts(new=new, updated=0, in_warehouse=rows)
    key_match = " and ".join(f'r."{k}" = b."{k}"' for k in table.primary_key)
    key_columns = ", ".join(f'"{k}"' for k in table.primary_key)
    con.execute(f"""
        create or replace temp table _upserts as
        select b.*, not exists (select 1 from {target} r where {key_match}) as _is_new
        from {batch} b
        where not exists (select 1 from {target} r where {key_match} and {same})
    """)  # noqa: S608
    new, updated = con.sql("select count(*) filter (where _is_new), "
                           "count(*) filter (where not _is_new) from _upserts").fetchall()[0]
    if updated:
        con.execute(f"delete from {target} where ({key_columns}) in "  # noqa: S608
                    f"(select ({key_columns}) from _upserts where not _is_new)")
    if new or updated:
        con.execute(f"insert into {target} select * exclude (_is_new) from _upserts")  # noqa: S608
    con.execute("drop table _upserts")
    rows = con.sql(f"select count(*) from {target}").fetchall()[0][0]  # noqa: S608
    return MergeCounts(new=new, updated=updated, in_warehouse=rows)


_LOAD_ID_SHAPE = re.compile(r"^[0-9]{8}T[0-9]{6}Z-[0-9a-f]+$")


def create_batch_view(con: duckdb.DuckDBPyConnection, table: Table, typed_t: str,
                       rejects_t: str, files_t: str, params: dict[str, object]) -> tuple[str, ...]:
    """The temp view ``_batch``: valid rows in the ``raw.<table>`` shape, lineage included.

    Returns the content columns (contract plus added columns, lineage excluded).
    """
    from pipelines.deid import top_coded_birth_year_sql

    # Views cannot hold bound parameters; the two values placed in the SQL are generated by us
    # and checked for shape here (a load id from _new_load_id, an integer year).
    load_id, load_year = str(params["load_id"]), int(params["load_year"])  # type: ignore[call-overload]  # params values are typed object; these two are str and int
    if not _LOAD_ID_SHAPE.match(load_id):
        raise ValueError(f"unexpected load id {load_id!r}")
    select = [f't."{c}"' for c in table.column_names]
    added: list[str] = []
    joins = ""
    if table.name == "patients":
        stored, flag = top_coded_birth_year_sql('t."birth_year"', load_year)
        select[table.column_names.index("birth_year")] = f'{stored} as "birth_year"'
        added.append(f"{flag} as is_birth_year_top_coded")
    if "drug" in table.column_names:
        added.append("dm.ingredient as ingredient")
        joins += ' left join _drug_map dm on dm.drug = t."drug"'
    if table.name == "side_effects":
        added.append("em.code as effect_code")
        joins += ' left join _effect_map em on em.term = t."effect"'
    con.execute(f"""
        create or replace temp view _batch as
        select {", ".join(select + added)}, '{load_id}' as _load_id,
               f.source_file as _source_file,
               t._row - f.row_offset + f.first_line as _source_line
        from {typed_t} t join {files_t} f on f._file_idx = t._file_idx {joins}
        where not exists (select 1 from {rejects_t} r where r._row = t._row)
    """)  # noqa: S608
    names = [*table.column_names]
    names += [a.rsplit(" as ", 1)[1] for a in added]
    return tuple(names)
