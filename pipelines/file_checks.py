"""What a path is, checked before anything reads it: input files, and the ``--db`` warehouse.

An extract is read only from *regular files*. A symlink is followed and its target checked the
same way; a broken symlink, a directory, a FIFO (reading one waits forever), a character or block
device (``/dev/zero`` never ends) or a socket is refused with a message naming the file and what
it is. Files are opened with ``O_NONBLOCK`` and checked with ``fstat`` on the open descriptor, so
a FIFO swapped in after a check cannot make the open hang, and every read is bounded by the size
``fstat`` reported: a file that grows while it is read (or a ``/proc``-style file whose size
lies) is refused instead of being read without end.

The warehouse given with ``--db`` must be absent (a new warehouse), or a regular file that DuckDB
wrote: its bytes 8-11 are the magic ``DUCK``. A directory, a device, an empty file or any other
file is refused before the load starts, so a typo never costs a load and never overwrites a file
that was not a warehouse.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO

from pipelines.sources import IngestError

#: Bytes 8-11 of every DuckDB database file (after an 8-byte checksum).
DUCKDB_MAGIC = b"DUCK"
_MAGIC_OFFSET = 8


def _kind(mode: int) -> str:
    """A file type in words, for messages."""
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _what_it_points_to(path: Path, relative_name: str) -> os.stat_result:
    """``stat`` of the path, symlinks followed; a broken or looping symlink is refused."""
    try:
        return path.stat()
    except FileNotFoundError as exc:
        if path.is_symlink():
            target = path.readlink()
            raise IngestError(
                f"{relative_name}: is a symbolic link to {target}, which does not exist",
                file=relative_name, reason="broken_symlink") from exc
        raise IngestError(f"{relative_name}: does not exist", file=relative_name,
                          reason="missing_file") from exc
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise IngestError(f"{relative_name}: is a symbolic link that loops back on itself",
                              file=relative_name, reason="broken_symlink") from exc
        raise IngestError(f"{relative_name}: cannot be examined ({exc.strerror})",
                          file=relative_name, reason="unreadable_file") from exc


def _via(path: Path) -> str:
    return f" (a symbolic link to {os.path.realpath(path)})" if path.is_symlink() else ""


def check_regular_file(path: Path, relative_name: str) -> Path:
    """The real path of ``path`` if it is (or links to) a regular file; else ``IngestError``."""
    info = _what_it_points_to(path, relative_name)
    if not stat.S_ISREG(info.st_mode):
        raise IngestError(
            f"{relative_name}: is {_kind(info.st_mode)}{_via(path)}, not a regular file; an "
            "extract table must be a .csv or .parquet file", file=relative_name,
            reason="not_a_regular_file")
    return Path(os.path.realpath(path))


def open_regular(path: Path, relative_name: str) -> tuple[BinaryIO, int]:
    """Open a regular file for reading without ever blocking; return it and its size.

    The kind is checked on the open descriptor (``fstat``), so what is read is what was checked.
    """
    real = check_regular_file(path, relative_name)
    try:
        fd = os.open(real, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise IngestError(f"{relative_name}: cannot be opened ({exc.strerror})",
                          file=relative_name, reason="unreadable_file") from exc
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise IngestError(f"{relative_name}: is {_kind(info.st_mode)}, not a regular file",
                          file=relative_name, reason="not_a_regular_file")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb"), info.st_size


def read_bounded(handle: BinaryIO, size: int, chunk_bytes: int, relative_name: str):
    """Yield the file's chunks, never more than ``size`` bytes in all.

    A file with more bytes than ``fstat`` reported when it was opened is refused: it is being
    written to (or is not a file whose size can be trusted), and what it holds is unknown.
    """
    remaining = size
    while remaining > 0:
        chunk = handle.read(min(chunk_bytes, remaining))
        if not chunk:
            break
        remaining -= len(chunk)
        yield chunk
    if handle.read(1):
        raise IngestError(
            f"{relative_name}: the file grew while it was read (it was {size:,} bytes when "
            "opened); load a finished export, not one that is still being written",
            file=relative_name, reason="file_changed")


def check_extract_path(path: Path) -> None:
    """The extract (or an adapter's source) must be a folder or a regular file (exit status 2)."""
    try:
        info = _what_it_points_to(path, str(path))
    except IngestError as exc:
        raise IngestError(f"{exc} (the extract to load)", file=str(path),
                          reason="not_a_folder") from exc
    if not (stat.S_ISDIR(info.st_mode) or stat.S_ISREG(info.st_mode)):
        raise IngestError(f"{path}: is {_kind(info.st_mode)}{_via(path)}; an extract is a folder "
                          "of table files", file=str(path), reason="not_a_folder")


def check_database_path(db: Path) -> None:
    """Refuse a ``--db`` that is not absent and not a DuckDB database file (exit status 2)."""
    name = str(db)
    if not os.path.lexists(db):
        parent = db.parent
        if parent.exists() and not parent.is_dir():
            raise IngestError(f"--db {name}: {parent} is not a folder", file=name,
                              reason="bad_database")
        return
    try:
        info = _what_it_points_to(db, f"--db {name}")
    except IngestError as exc:
        raise IngestError(str(exc), file=name, reason="bad_database") from exc
    if not stat.S_ISREG(info.st_mode):
        raise IngestError(
            f"--db {name}: is {_kind(info.st_mode)}{_via(db)}; give the path of a DuckDB "
            "warehouse file", file=name, reason="bad_database")
    try:
        with open_regular(db, f"--db {name}")[0] as handle:
            head = handle.read(_MAGIC_OFFSET + len(DUCKDB_MAGIC))
    except IngestError as exc:
        raise IngestError(str(exc), file=name, reason="bad_database") from exc
    if head[_MAGIC_OFFSET:] != DUCKDB_MAGIC:
        what = "an empty file" if not head else "not a DuckDB database"
        raise IngestError(
            f"--db {name}: is {what}; give a new path or an existing warehouse (a load never "
            "overwrites a file that is not one)", file=name, reason="bad_database")
