"""Publish a Spark-built warehouse whole, or not at all (issue #20).

A Spark build writes every table into a staging folder beside the warehouse,
``<PATH>.building-<random>/`` (``staging_folder``), and only when the models and the audits have
all succeeded is it swapped with ``PATH`` (``swap``). A build that fails part-way (a refused
extract, a Spark error, an error-level audit) removes its staging folder and leaves the warehouse
at ``PATH`` as it was: complete, and readable by ``outcomes serve --marts`` and
``outcomes metric --engine spark``.

The swap, as readers see it:

- on Linux (local disks, NFS and most shared file systems): one ``renameat2(RENAME_EXCHANGE)``
  exchanges the two folders atomically. A reader that resolves ``PATH/marts/x`` gets the old
  table or the new one, never a missing one. The previous warehouse, now under the staging name,
  is then deleted. A reader that opened a file of it before the swap still reads that file (POSIX
  keeps an open file's data), but one that reads several tables across the swap (``serve
  --marts`` copies them one by one) can mix old and new tables: serve again after a build.
- where the exchange is unsupported: ``PATH`` is renamed to ``<PATH>.previous-<random>``, the
  staging folder to ``PATH``, and the previous one deleted. Between the two renames (a few
  microseconds) ``PATH`` does not exist, and a reader opening it then fails and must retry. If the
  second rename fails, the first is undone.

``PATH/served.duckdb`` (written by ``serve --marts``) belongs to the previous build and goes with
it. Anything else in ``PATH`` goes too, so ``staging_folder`` refuses a ``PATH`` that holds files
but no warehouse schema folder.
"""

from __future__ import annotations

import ctypes
import errno
import os
import shutil
import tempfile
from pathlib import Path

from pipelines.sources import IngestError

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def staging_folder(warehouse: Path, schemas: tuple[str, ...]) -> Path:
    """A new empty folder beside ``warehouse`` for a build to write into. IngestError (usage)
    when ``warehouse`` is a file, or a folder with contents but none of ``schemas``."""
    if warehouse.exists() and not warehouse.is_dir():
        raise IngestError(f"--warehouse {warehouse} is a file, not a folder",
                          file=str(warehouse), reason="bad_option")
    if warehouse.is_dir() and any(warehouse.iterdir()) and not any(
            (warehouse / schema).is_dir() for schema in schemas):
        raise IngestError(
            f"--warehouse {warehouse} holds files but no warehouse this command built "
            f"({'/, '.join(schemas)}/); a build replaces the whole folder, so give an empty or "
            "new folder", file=str(warehouse), reason="bad_option")
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f"{warehouse.name}.building-", dir=warehouse.parent))


def _exchange(first: Path, second: Path) -> bool:
    """Exchange two folders atomically (Linux ``renameat2``); False where that is unsupported."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    if renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second),
                 _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(second))


def swap(staging: Path, warehouse: Path) -> None:
    """Make ``staging`` the warehouse at ``warehouse`` and delete the previous one."""
    if not warehouse.exists():
        staging.rename(warehouse)
        return
    if _exchange(staging, warehouse):
        shutil.rmtree(staging)  # now the previous warehouse
        return
    previous = Path(tempfile.mkdtemp(prefix=f"{warehouse.name}.previous-", dir=warehouse.parent))
    previous.rmdir()
    warehouse.rename(previous)
    try:
        staging.rename(warehouse)
    except OSError:
        previous.rename(warehouse)
        raise
    shutil.rmtree(previous)
