"""Reading the CSV inputs of ``outcomes spc`` and ``outcomes funnel``, with messages a person can act on.

Shared by the chart commands and the warehouse-series helpers (``cli.qi_metric_series``), so
neither imports the other.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

EXIT_BAD_INPUT = 2


class InputError(Exception):
    """Bad input for a person to fix: the message names file, line, column and reason."""


def read_csv_table(path: Path, required: tuple[str, ...]) -> list[dict[str, object]]:
    """Rows of a UTF-8 CSV as dicts, each with its file ``line`` number (header is line 1).

    Raises :class:`InputError` for an unreadable file or a missing column.
    """
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            columns = [c.strip() for c in (reader.fieldnames or [])]
            missing = [c for c in required if c not in columns]
            if missing:
                found = ", ".join(columns) if columns else "none (empty file)"
                raise InputError(
                    f"{path}: missing column(s) {', '.join(missing)}; found columns: {found}"
                )
            rows = []
            for raw in reader:
                row: dict[str, object] = {
                    (k or "").strip(): (v or "").strip() for k, v in raw.items() if k is not None
                }
                if not any(row.values()):
                    continue  # a blank line in a spreadsheet export is not a data row
                row["line"] = reader.line_num
                rows.append(row)
    except OSError as exc:
        raise InputError(f"{path}: cannot read the file ({exc.strerror or exc})") from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not a UTF-8 text file ({exc.reason})") from exc
    except csv.Error as exc:
        raise InputError(f"{path}: not a readable CSV file ({exc})") from exc
    return rows


def number(path: Path, row: dict[str, object], column: str, positive: bool = False) -> float:
    """The cell as a finite float, or :class:`InputError` naming file, line and column."""
    text = str(row.get(column, ""))
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        shown = repr(text) if text else "an empty cell"
        raise InputError(f"{path}: line {row['line']}, column {column}: {shown} is not a number")
    if positive and value <= 0:
        raise InputError(f"{path}: line {row['line']}, column {column}: must be > 0, got {text}")
    return value
