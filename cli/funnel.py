"""``outcomes funnel``: funnel plot limits and flags for clinicians or sites, from a CSV.

CSV columns ``unit, events, n`` (one row per unit). Database mode (``--metric NAME --by
clinician_id|site_id [--adjust]``) gets the same columns from
``cli.qi_metric_series.metric_units`` (written separately; there small-cell
suppression applies). A CSV is the user's own data and is shown as given.
"""

from __future__ import annotations

import json
from pathlib import Path

from cli.common import add_db_argument, error, resolve_db
from cli.csv_input import EXIT_BAD_INPUT, InputError, number, read_csv_table


def read_units_csv(path: Path) -> tuple[list[str], list[float], list[float]]:
    """``unit``, ``events``, ``n`` validated row by row (0 <= events <= n, n > 0)."""
    rows = read_csv_table(path, ("unit", "events", "n"))
    if len(rows) < 2:
        raise InputError(f"{path}: a funnel needs at least 2 units, found {len(rows)}")
    units, events, sizes = [], [], []
    seen: dict[object, object] = {}
    for row in rows:
        if not row["unit"]:
            raise InputError(f"{path}: line {row['line']}, column unit: empty unit name")
        if row["unit"] in seen:
            raise InputError(
                f"{path}: line {row['line']}, column unit: {row['unit']!r} repeats line "
                f"{seen[row['unit']]}"
            )
        seen[row["unit"]] = row["line"]
        n = number(path, row, "n", positive=True)
        r = number(path, row, "events")
        if not 0 <= r <= n:
            raise InputError(
                f"{path}: line {row['line']}, column events: must be between 0 and n = {n:g}, "
                f"got {r:g}"
            )
        units.append(str(row["unit"]))
        events.append(r)
        sizes.append(n)
    return units, events, sizes


def register(subparsers) -> None:  # type: ignore[no-untyped-def]
    parser = subparsers.add_parser(
        "funnel",
        help="funnel plot limits (95%%, 99.8%%) and flags per clinician or site",
        description="Funnel plot (Spiegelhalter 2005) from a CSV with columns unit, events, n.",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--input", type=Path, help="CSV file with columns unit, events, n")
    source.add_argument("--metric", help="a metric from the database (with --by)")
    parser.add_argument("--by", choices=("clinician_id", "site_id"), default="clinician_id")
    parser.add_argument("--adjust", action="store_true", help="case-mix adjust (database mode)")
    parser.add_argument("--where", action="append", default=[], metavar="KEY=VALUE")
    add_db_argument(parser)
    parser.add_argument("--method", choices=("exact", "normal"), default="exact")
    parser.add_argument("--overdispersion", action="store_true", help="FunnelPlotR adjustment")
    parser.add_argument("--target", type=float, help="target proportion (default Σevents/Σn)")
    parser.add_argument(
        "--min-n", type=int, default=20, help="units with fewer patients: insufficient data"
    )
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.set_defaults(func=_run)


def _units_from_metric(args):  # type: ignore[no-untyped-def]
    """Database mode: one call into the module that turns a metric into per-unit counts."""
    try:
        from cli.qi_metric_series import metric_units
    except ImportError as exc:
        raise InputError("--metric mode is not available in this build yet; use --input FILE.csv") from exc
    return metric_units(
        resolve_db(args.db), args.metric, by=args.by, where=args.where, adjust=args.adjust
    )


def _run(args) -> int:  # type: ignore[no-untyped-def]
    from stats.funnel import proportion_funnel

    if args.metric:  # database mode: suppression and case-mix adjustment live there
        from cli.qi_metric_series import run_funnel

        return run_funnel(args)
    source = str(args.input) if args.input else f"metric {args.metric}"
    try:
        if args.metric:
            units, events, sizes = _units_from_metric(args)
        else:
            units, events, sizes = read_units_csv(args.input)
        result = proportion_funnel(
            units,
            events,
            sizes,
            method=args.method,
            overdispersion=args.overdispersion,
            target=args.target,
            min_n=args.min_n,
        )
    except InputError as exc:
        error(str(exc))
        return EXIT_BAD_INPUT
    except ValueError as exc:
        error(f"{source}: {exc}")
        return EXIT_BAD_INPUT
    if args.format == "json":
        print(json.dumps({"source": source, **result.to_dict()}, indent=2, default=str))
    else:
        print(render_table(result))
    return 0


def render_table(result) -> str:  # type: ignore[no-untyped-def]
    headers = ["unit", "events", "n", "rate", "95% limits", "99.8% limits", "flag"]
    lines = [
        [
            str(u["unit"]),
            f"{u['events']:g}",
            f"{u['n']:g}",
            f"{u['rate']:.3f}",
            f"{u['lower_95']:.3f}-{u['upper_95']:.3f}",
            f"{u['lower_998']:.3f}-{u['upper_998']:.3f}",
            str(u["flag"]),
        ]
        for u in result.units
    ]
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(headers)]
    out = [f"Funnel: target {result.target:.4f}, method {result.method}, min n {result.min_n}"]
    if result.overdispersion is not None:
        od = result.overdispersion
        out.append(f"Overdispersion: phi = {od.phi:.3f}, tau2 = {od.tau2:.5f} (k = {od.k})")
    out.append("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    out.extend("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in lines)
    return "\n".join(out)
