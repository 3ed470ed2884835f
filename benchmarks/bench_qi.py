"""Time the QI layer on an existing warehouse: each standard measure through queries.metric by
month, the measures table, the meeting pack build and its HTML rendering. Prints figures only.

    python benchmarks/bench_qi.py --db outcomes.duckdb [--period 2025-Q3] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import duckdb

import queries
from queries import qi
from report import render_html
from report.pack import build_pack


def _median_seconds(action, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--period", default="2025-Q3")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    con = duckdb.connect(str(args.db), read_only=True)
    period = qi.parse_period(args.period)
    print(f"warehouse {args.db} ({args.db.stat().st_size / 1e6:.1f} MB), median of {args.repeat}")
    for name in qi.MEASURES:
        seconds = _median_seconds(lambda n=name: queries.metric(con, n, by="month"), args.repeat)
        print(f"  metric {name:32s} by month  {1000 * seconds:8.1f} ms")
    seconds = _median_seconds(lambda: qi.measures_table(con, period), args.repeat)
    print(f"  measures_table {args.period}                      {1000 * seconds:8.1f} ms")
    holder: dict[str, object] = {}
    seconds = _median_seconds(lambda: holder.update(pack=build_pack(con, period)), args.repeat)
    print(f"  build_pack {args.period}                          {1000 * seconds:8.1f} ms")
    seconds = _median_seconds(lambda: holder.update(html=render_html(holder["pack"])), args.repeat)  # type: ignore[arg-type]
    print(f"  render_html (plotly.js inline)                 {1000 * seconds:8.1f} ms, "
          f"{len(str(holder['html'])) / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
