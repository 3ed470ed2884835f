"""The JSON side files kept beside the warehouse (``<warehouse>.<kind>.json``): intervention
dates (``report.interventions``) and saved views (``report.saved_views``).

Why beside the warehouse and not in it: the dashboard attaches the warehouse read-only, and each
load publishes a new file with ``os.replace``, so a row written into the live file would be lost
at the next load. A side file survives every swap, needs no DuckDB lock and is written atomically
(temporary file, then rename), so a reader sees the old or the new file, never half of one.
Format: ``{"version": 1, "<key>": [entry, ...]}``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def read_entries(path: Path, key: str, error: type[ValueError]) -> list[dict[str, Any]]:
    """The entries under ``key``; a missing file is no entries, an unreadable one raises
    ``error`` naming the file."""
    if not path.exists():
        return []
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
        entries = payload.get(key, [])
    except (OSError, json.JSONDecodeError, AttributeError) as exc:
        raise error(f"{path}: not readable JSON ({exc})") from exc
    return list(entries)


def write_entries(path: Path, key: str, entries: list[dict[str, Any]]) -> None:
    """Replace the file with ``entries`` under ``key``, atomically."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps({"version": 1, key: entries}, indent=2, ensure_ascii=False),
                         encoding="utf-8")
    temporary.replace(path)
