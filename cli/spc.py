"""``outcomes spc``: run and control charts (qicharts2's ``qic()``) on a CSV or a metric.

CSV mode reads columns ``x`` and ``y`` (and ``n`` for p, pp, u and up charts), one row per
subgroup in time order. Database mode (``--metric NAME --by month|quarter``) gets the same three
columns from ``cli.qi_metric_series.metric_series`` (written separately); this
module only calls it. Malformed input gives one line naming the file, line and column, and exit
code 2. The CSV helpers here are shared with ``outcomes funnel``.
"""

from __future__ import annotations

import json
from pathlib import Path

from cli.common import add_db_argument, error, resolve_db
from cli.csv_input import EXIT_BAD_INPUT, InputError, number, read_csv_table

CHARTS = ("run", "p", "pp", "u", "up", "c", "i", "mr", "g")

def read_series_csv(path: Path, chart: str) -> tuple[list[object], list[float], list[float] | None]:
    """``x``, ``y`` and (for p, pp, u, up) ``n`` from a CSV, validated row by row."""
    needs_n = chart in ("p", "pp", "u", "up")
    rows = read_csv_table(path, ("x", "y", "n") if needs_n else ("x", "y"))
    if len(rows) < 2:
        raise InputError(f"{path}: a chart needs at least 2 data rows, found {len(rows)}")
    seen: dict[object, object] = {}
    x, y, n = [], [], []
    for row in rows:
        if row["x"] in seen:
            raise InputError(
                f"{path}: line {row['line']}, column x: {row['x']!r} repeats line "
                f"{seen[row['x']]}; give one row per subgroup"
            )
        seen[row["x"]] = row["line"]
        x.append(row["x"])
        y.append(number(path, row, "y"))
        if needs_n:
            n.append(number(path, row, "n", positive=True))
            if chart in ("p", "pp") and y[-1] > n[-1]:
                raise InputError(
                    f"{path}: line {row['line']}, column y: {y[-1]:g} events is more than n = {n[-1]:g}"
                )
    return x, y, (n if needs_n else None)


def parse_positions(text: str | None, option: str) -> list[int]:
    """``"12,24"`` -> ``[12, 24]`` (1-based point positions)."""
    if not text:
        return []
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise InputError(f"{option}: expected whole numbers separated by commas, got {text!r}") from exc


def register(subparsers) -> None:  # type: ignore[no-untyped-def]
    parser = subparsers.add_parser(
        "spc",
        help="run or control chart with Anhøj rules (like qicharts2 qic()) from a CSV or a metric",
        description="Run and control charts with the Anhøj rules. CSV columns: x, y and, for "
        "p/pp/u/up charts, n. Positions for --freeze/--part/--exclude are 1-based.",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--input", type=Path, help="CSV file with columns x, y [, n]")
    source.add_argument("--metric", help="chart a metric from the database (with --by)")
    parser.add_argument("--by", choices=("month", "quarter"), default="month")
    parser.add_argument("--where", action="append", default=[], metavar="KEY=VALUE")
    add_db_argument(parser)
    parser.add_argument("--chart", choices=CHARTS, default="run")
    parser.add_argument("--freeze", type=int, help="limits from points 1..K only")
    parser.add_argument("--part", help="new phases start after these points, e.g. 12,24")
    parser.add_argument("--exclude", help="points left out of the limits, e.g. 3,7")
    parser.add_argument("--target", type=float, help="target line")
    parser.add_argument("--screened-mr", action="store_true", help="Nelson MR screening (i chart)")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.set_defaults(func=_run)


def _series_from_metric(args) -> tuple[list[object], list[float], list[float] | None]:  # type: ignore[no-untyped-def]
    """Database mode: one call into the module that turns a metric into a monthly series."""
    try:
        from cli.qi_metric_series import metric_series
    except ImportError as exc:
        raise InputError("--metric mode is not available in this build yet; use --input FILE.csv") from exc
    return metric_series(resolve_db(args.db), args.metric, by=args.by, where=args.where, chart=args.chart)  # type: ignore[no-any-return]


def _run(args) -> int:  # type: ignore[no-untyped-def]
    from stats.spc import qic

    source = str(args.input) if args.input else f"metric {args.metric}"
    try:
        if args.metric:
            x, y, n = _series_from_metric(args)
        else:
            x, y, n = read_series_csv(args.input, args.chart)
        chart = qic(
            y,
            n,
            x=x,
            chart=args.chart,
            freeze=args.freeze,
            part=parse_positions(args.part, "--part"),
            exclude=parse_positions(args.exclude, "--exclude"),
            target=args.target,
            screened_mr=args.screened_mr,
        )
    except InputError as exc:
        error(str(exc))
        return EXIT_BAD_INPUT
    except ValueError as exc:  # raised by stats.spc with the point's position
        error(f"{source}: {exc}")
        return EXIT_BAD_INPUT
    if args.format == "json":
        print(json.dumps({"source": source, **chart.to_dict()}, indent=2, default=str))
    else:
        print(render_table(chart))
    return 0


def _cell(value: object, digits: int = 4) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else ""
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def _summary_cell(value: object) -> str:
    """Summary values as qicharts2 prints them: TRUE/FALSE, NA for missing."""
    if isinstance(value, bool):
        return str(value).upper()
    return "NA" if value is None else _cell(value)


def render_table(chart) -> str:  # type: ignore[no-untyped-def]
    """A readable fixed-width table: points, then the summary per part, then the signals."""
    headers = ["x", "y", "n", "CL", "LCL", "UCL", "part", "outside", "runs", "note"]
    lines = []
    for point in chart.points():
        frozen = point["baseline"] and chart.options.get("freeze")
        note = "excluded" if point["excluded"] else ("baseline" if frozen else "")
        lines.append(
            [
                _cell(point["x"]),
                _cell(point["y"]),
                _cell(point["n"]),
                _cell(point["cl"]),
                _cell(point["lcl"]),
                _cell(point["ucl"]),
                str(point["part"]),
                "*" if point["sigma_signal"] else "",
                "*" if point["runs_signal"] else "",
                note,
            ]
        )
    if chart.n is None:
        headers.pop(2)
        lines = [line[:2] + line[3:] for line in lines]
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(headers)]
    out = [f"{chart.chart} chart" + (f", target {chart.target:g}" if chart.target is not None else "")]
    out.append("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    out.extend("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in lines)
    out.append("")
    out.append("Summary (qicharts2 columns):")
    for row in chart.summary():
        out.append("  " + ", ".join(f"{key}={_summary_cell(value)}" for key, value in row.items()))
    out.append("")
    out.extend(chart.explanations())
    return "\n".join(out)
