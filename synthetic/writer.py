"""Write contract tables chunk by chunk: one CSV per table (header once) or Parquet parts.

CSV output is byte-identical for a seed: rows come sorted from the generator, dates print as ISO
``YYYY-MM-DD`` and floats with exactly one decimal (every generated value is a multiple of 0.1 or
0.5, so nothing is lost). Parquet goes to ``<table>/part-00000.parquet``, one part per chunk, so
a million patients stream through a few hundred MB of memory.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, Literal

import polars as pl

from pipelines.contract import TABLE_ORDER

OutputFormat = Literal["csv", "parquet"]
FLOAT_DECIMALS = 1


class TableWriter:
    """Appends each chunk's tables to the extract folder ``out``."""

    def __init__(self, out: Path, fmt: OutputFormat) -> None:
        self.out = out
        self.fmt = fmt
        self.rows = dict.fromkeys(TABLE_ORDER, 0)
        self._chunks = 0
        self._handles: dict[str, IO[bytes]] = {}
        out.mkdir(parents=True, exist_ok=True)

    def write(self, tables: dict[str, pl.DataFrame]) -> None:
        for name in TABLE_ORDER:
            frame = tables[name]
            self.rows[name] += frame.height
            if self.fmt == "csv":
                handle = self._handles.get(name)
                if handle is None:
                    handle = self._handles[name] = (self.out / f"{name}.csv").open("wb")
                frame.write_csv(handle, include_header=self._chunks == 0,
                                float_precision=FLOAT_DECIMALS, date_format="%Y-%m-%d")
            else:
                folder = self.out / name
                folder.mkdir(exist_ok=True)
                frame.write_parquet(folder / f"part-{self._chunks:05d}.parquet",
                                    compression="zstd", statistics=True)
        self._chunks += 1

    def write_frame(self, name: str, frame: pl.DataFrame) -> None:
        """Append one frame that is not a contract table (the per-episode truth)."""
        if self.fmt == "csv":
            handle = self._handles.get(name)
            first = handle is None
            if handle is None:
                handle = self._handles[name] = (self.out / f"{name}.csv").open("wb")
            frame.write_csv(handle, include_header=first, float_precision=6,
                            date_format="%Y-%m-%d")
        else:
            part = self.rows.setdefault(name, 0)
            frame.write_parquet(self.out / f"{name}-{part:05d}.parquet", compression="zstd")
            self.rows[name] = part + 1

    def close(self) -> None:
        for handle in self._handles.values():
            handle.close()
        self._handles.clear()
