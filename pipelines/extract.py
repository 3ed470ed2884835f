"""Find and read the files of an extract folder (contract v1), as text, with lineage.

A folder holds one source per contract table: ``<table>.csv``, ``<table>.parquet`` or a folder
``<table>/`` of parts (all ``.csv`` or all ``.parquet``). Files that are not tables (``README.md``,
``truth.json``, ``outcomes.toml``) and folders not named after a table are ignored; a ``.csv`` or
``.parquet`` file named after no contract table is refused, because a clinic that sends it expects
it to be loaded (and it may carry identifiers nobody checked).

Every value is read as text (``all_varchar``) so that the strict casts in ``validate`` see exactly
what the clinic sent; a value that silently became NULL would be a wrong number on a chart.

Line numbers: for CSV, ``line`` is the data row's line in the file with the header as line 1
(a quoted field holding a line break counts as one row); for Parquet it is the 1-based row number.
They are computed from the insertion order of the text table (``rowid``), which DuckDB keeps in
file order (``preserve_insertion_order``, the default).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
from pathlib import Path
from typing import BinaryIO

import duckdb

from pipelines.contract import TABLES
from pipelines.sources import (  # noqa: F401 - re-exported: the loader's error and file types
    THRESHOLD_REASONS,
    USAGE_REASONS,
    FileFormat,
    IngestError,
    SourceFile,
    SourceTable,
)

_FORMATS: dict[str, FileFormat] = {".csv": "csv", ".parquet": "parquet"}
_CHUNK_BYTES = 8 * 1024 * 1024
#: The longest header line read (a file without line breaks is refused, not read whole).
MAX_HEADER_CHARS = 64 * 1024


def discover(folder: Path) -> dict[str, list[tuple[Path, str, FileFormat]]]:
    """Map each contract table present in ``folder`` to its files ``(path, relative name, fmt)``.

    Raises ``IngestError`` for a missing folder, an ambiguous table (both a ``.csv`` and a
    ``.parquet``, or a file and a folder), an empty or mixed-format part folder, or a data file
    named after no contract table.
    """
    if not folder.is_dir():
        raise IngestError(f"{folder}: not a folder (an extract is a folder of table files)",
                          file=str(folder), reason="not_a_folder")
    found: dict[str, list[tuple[Path, str, FileFormat]]] = {}
    for entry in _entries(folder, folder.name + "/"):
        if entry.name.startswith("."):
            continue
        fmt = _FORMATS.get(entry.suffix.lower())
        if fmt is None:
            if entry.name in TABLES and entry.is_dir():
                _add(found, entry.name, _parts(entry, folder), entry)
            continue
        # Whatever the entry is (a directory named patients.csv, a FIFO, a broken symlink), it
        # is a table: ``inspect_file`` checks its kind and refuses it with a message.
        if entry.stem not in TABLES:
            raise IngestError(
                f"{entry.name}: '{entry.stem}' is not a table of the extract contract "
                f"(expected one of: {', '.join(TABLES)})",
                file=entry.name, reason="unknown_table")
        _add(found, entry.stem, [(entry, entry.name, fmt)], entry)
    return found


def _add(found: dict[str, list[tuple[Path, str, FileFormat]]], table: str,
         files: list[tuple[Path, str, FileFormat]], entry: Path) -> None:
    if table in found:
        others = ", ".join(name for _, name, _ in found[table])
        raise IngestError(
            f"{entry.name}: table '{table}' is given more than once (also {others}); "
            "send one .csv, one .parquet or one folder of parts",
            file=entry.name, reason="ambiguous_table")
    found[table] = files


def _parts(directory: Path, folder: Path) -> list[tuple[Path, str, FileFormat]]:
    name = directory.relative_to(folder).as_posix() + "/"
    parts = [(p, p.relative_to(folder).as_posix(), _FORMATS[p.suffix.lower()])
             for p in _entries(directory, name)
             if not p.name.startswith(".") and p.suffix.lower() in _FORMATS]
    if not parts:
        raise IngestError(f"{name}: the folder holds no .csv or .parquet parts",
                          file=name, reason="empty_table_folder")
    if len({fmt for _, _, fmt in parts}) > 1:
        raise IngestError(f"{name}: parts mix .csv and .parquet; use one format per table",
                          file=name, reason="mixed_formats")
    return parts


def _entries(directory: Path, name: str) -> list[Path]:
    try:
        return sorted(directory.iterdir())
    except OSError as exc:
        raise IngestError(f"{name}: the folder cannot be listed ({exc.strerror})",
                          file=name, reason="unreadable_file") from exc


def inspect_file(path: Path, relative_name: str, fmt: FileFormat,
                 con: duckdb.DuckDBPyConnection) -> SourceFile:
    """Check the file's kind, hash it, check its encoding (CSV: strict UTF-8), read its header.

    The returned ``path`` is the real path that was checked (symlinks resolved); later reads
    use it.
    """
    from pipelines.file_checks import check_regular_file

    path = check_regular_file(path, relative_name)
    types: tuple[str, ...] = ()
    if fmt == "csv":
        sha256, columns = _inspect_csv(path, relative_name)
    else:
        sha256 = _sha256(path, relative_name)
        columns, types = _parquet_columns(path, relative_name, con)
    seen: set[str] = set()
    for column in columns:
        if column in seen:
            raise IngestError(f"{relative_name}: column '{column}' appears twice in the header",
                              file=relative_name, column=column, reason="duplicate_column")
        seen.add(column)
    return SourceFile(path, relative_name, fmt, sha256, columns, types)


def _sha256(path: Path, relative_name: str) -> str:
    from pipelines.file_checks import open_regular, read_bounded

    digest = hashlib.sha256()
    handle, size = open_regular(path, relative_name)
    with handle:
        for chunk in read_bounded(handle, size, _CHUNK_BYTES, relative_name):
            digest.update(chunk)
    return digest.hexdigest()


def _inspect_csv(path: Path, relative_name: str) -> tuple[str, tuple[str, ...]]:
    """One pass over the bytes: SHA-256, strict UTF-8 decoding, and the header line.

    At most the size the file had when opened is read, and at most ``MAX_HEADER_CHARS`` of it
    are kept for the header. Lines may end in LF, CRLF or CR alone (old Mac exports).

    A chunk of ASCII bytes is valid UTF-8 on its own when no multi-byte character is pending
    from the chunk before, so only the other chunks are decoded; the line of an invalid byte is
    counted only when there is one (``_line_of``). On the 1M-patient clinic's 2 GB of CSV this
    pass, one core before any table is read, went from 4.6 to 1.9 s.
    """
    from pipelines.file_checks import open_regular, read_bounded

    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
    header_text = ""
    offset = 0  # bytes before the current chunk
    handle, size = open_regular(path, relative_name)
    with handle:
        for chunk in read_bounded(handle, size, _CHUNK_BYTES, relative_name):
            digest.update(chunk)
            needs_header = len(header_text) <= MAX_HEADER_CHARS and not _has_line_end(header_text)
            pending = decoder.getstate()[0]  # the start of a character cut by the chunk end
            if needs_header or pending or not chunk.isascii():
                try:
                    text = decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    # the decoder reports positions in the pending bytes followed by the chunk
                    line = _line_of(handle, offset - len(pending) + exc.start)
                    raise IngestError(
                        f"{relative_name}: line {line} is not valid UTF-8 (byte "
                        f"0x{exc.object[exc.start]:02x}); re-export the file as UTF-8",
                        file=relative_name, reason="not_utf8") from exc
                if needs_header:
                    header_text += text[: MAX_HEADER_CHARS + 1]
            offset += len(chunk)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            raise IngestError(f"{relative_name}: the file ends inside a UTF-8 character",
                              file=relative_name, reason="not_utf8") from exc
    header_text = header_text.lstrip("\ufeff")
    header_line = header_text.replace("\r\n", "\n").replace("\r", "\n").split("\n", 1)[0]
    if len(header_line) > MAX_HEADER_CHARS:
        raise IngestError(
            f"{relative_name}: the first line is longer than {MAX_HEADER_CHARS:,} characters "
            "(is it a CSV file with line breaks?)", file=relative_name, reason="missing_header")
    if not header_line.strip():
        raise IngestError(f"{relative_name}: the file is empty or has no header row",
                          file=relative_name, reason="missing_header")
    try:
        columns = next(csv.reader(io.StringIO(header_line)), [])
    except csv.Error as exc:
        raise IngestError(f"{relative_name}: the header row is not valid CSV ({exc})",
                          file=relative_name, reason="missing_header") from exc
    return digest.hexdigest(), tuple(c.strip() for c in columns)


def _line_of(handle: BinaryIO, position: int) -> int:
    """The 1-based line (counted by LF, as an editor shows a CSV from Unix or Windows) holding
    byte ``position``, counted only when an invalid byte was found. It rereads the handle that
    was already opened and checked as a regular file, not the path, which may have been replaced
    since."""
    handle.seek(0)
    newlines = 0
    while position > 0:
        chunk = handle.read(min(_CHUNK_BYTES, position))
        if not chunk:
            break
        newlines += chunk.count(b"\n")
        position -= len(chunk)
    return newlines + 1


def _has_line_end(text: str) -> bool:
    return "\n" in text or "\r" in text


def _parquet_columns(path: Path, relative_name: str, con: duckdb.DuckDBPyConnection
                     ) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The column names and their DuckDB types."""
    try:
        rows = con.sql("select column_name, column_type from "
                       "(describe select * from read_parquet($path))",
                       params={"path": str(path)}).fetchall()
        con.sql("select count(*) from read_parquet($path)", params={"path": str(path)}).fetchall()
    except duckdb.Error as exc:
        raise IngestError(f"{relative_name}: not a readable Parquet file ({_first_line(exc)})",
                          file=relative_name, reason="unreadable_file") from exc
    return tuple(r[0] for r in rows), tuple(r[1] for r in rows)


def read_as_text(con: duckdb.DuckDBPyConnection, table: str, files: tuple[SourceFile, ...],
                 columns: tuple[str, ...], target: str,
                 derived: tuple[tuple[str, str, str], ...] = ()) -> int:
    """Read every file of ``table`` into the temp table ``target`` as trimmed text.

    ``target`` gets the contract ``columns`` (NULL where an optional column is absent from a
    file), empty or blank values as NULL, and ``_file_idx`` (the position of the file in
    ``files``), then one column per ``derived`` entry ``(name, type, SQL expression over the
    trimmed text columns)``, computed in the same pass (``validate.typed_columns``: the typed
    values, so they need no second table). A sibling temp table ``<target>_files`` maps
    ``_file_idx`` to the relative file name, the ``rowid`` of its first row and its first line
    number, so that ``line = rowid - row_offset + first_line``. Returns the number of rows read.
    """
    # Identifiers below come from the contract (column names; each file's header has already
    # been checked to hold contract columns only) or are built by our own code (target names,
    # derived expressions); file paths and values are bound parameters, never formatted into SQL.
    column_defs = ", ".join([f'"{c}" VARCHAR' for c in columns] + ["_file_idx INTEGER"]
                            + [f'"{name}" {kind}' for name, kind, _ in derived])
    derived_list = "".join(f", {sql}" for _, _, sql in derived)
    con.execute(f"create or replace temp table {target} ({column_defs})")
    con.execute(f"create or replace temp table {target}_files (_file_idx INTEGER, "
                "source_file VARCHAR, row_offset BIGINT, first_line BIGINT, sha256 VARCHAR)")
    rows_so_far = 0
    for index, source in enumerate(files):
        present = set(source.columns)
        select_list = ", ".join(
            f"nullif(trim(\"{c}\"), '') as \"{c}\"" if c in present else f'NULL as "{c}"'
            for c in columns)
        reader = _reader_sql(source, table)
        try:
            con.execute(f"insert into {target} select *{derived_list} from "  # noqa: S608
                        f"(select {select_list}, $idx as _file_idx from {reader})",
                        {"path": str(source.path), "idx": index})
        except duckdb.Error as exc:
            raise IngestError(f"{source.relative_name}: cannot be read: {_csv_problem(exc)}",
                              file=source.relative_name, reason="unreadable_file") from exc
        total = con.sql(f"select count(*) from {target}").fetchall()[0][0]  # noqa: S608
        con.execute(f"insert into {target}_files values ($idx, $name, $offset, $first, $sha)",  # noqa: S608
                    {"idx": index, "name": source.relative_name, "offset": rows_so_far,
                     "first": source.first_line, "sha": source.sha256})
        rows_so_far = total
    return rows_so_far


def _reader_sql(source: SourceFile, table: str) -> str:
    if source.fmt == "parquet":
        from pipelines.parquet_types import text_expression

        contract = TABLES[table]
        casts = ", ".join(
            f'{text_expression(contract.column(c), t)} as "{c}"'
            for c, t in zip(source.columns, source.types, strict=True))
        return f"(select {casts} from read_parquet($path))"  # noqa: S608
    # The header was read and checked by us; fixing the dialect (no sniffing) makes a file
    # with an odd first row fail loudly instead of being parsed with a guessed delimiter.
    types = ", ".join(f"'{c}': 'VARCHAR'" for c in source.columns)
    return ("read_csv($path, header=true, auto_detect=false, delim=',', quote='\"', "
            f"escape='\"', columns={{{types}}})")


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _csv_problem(exc: Exception) -> str:
    """DuckDB's CSV error cut to what a clinic analyst needs: the line and the problem.

    The offending row itself is not repeated (it may hold what the guard would refuse).
    """
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    keep = []
    for line in lines:
        if "CSV Error on Line" in line:
            keep.append(line[line.index("CSV Error on Line"):])
        elif line.startswith("Expected Number of Columns"):
            keep.append(line)
    return "; ".join(keep) if keep else (lines[0] if lines else type(exc).__name__)
