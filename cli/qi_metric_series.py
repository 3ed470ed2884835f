"""Database mode of ``outcomes spc`` and ``outcomes funnel``: a measure from the warehouse.

* ``outcomes spc --metric NAME --by month|quarter [--where KEY=VALUE ...] --chart p|pp|run``
  calls :func:`metric_series`, which returns the ``x, y, n`` the CSV mode reads, from
  ``queries.qi.measure_series``. Periods whose counts are hidden by small-cell suppression are
  left out of the chart; a note on stderr names them (never their counts).
* ``outcomes funnel --metric NAME --by clinician_id|site_id [--adjust]`` calls
  :func:`run_funnel`, which prints the funnel of ``queries.qi_funnel.measure_funnel``: crude
  (exact binomial limits) or case-mix adjusted (indirect standardisation, O/E against E).
  Suppressed units are printed as "suppressed (1-10)" with no figures.

``--where`` takes the filters of ``queries.metric`` (``site_id=S01``, ``start_date=2024-01-01``,
...). The warehouse is opened read-only: these commands never write.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from cli.common import error, note, resolve_db
from cli.csv_input import EXIT_BAD_INPUT, InputError

_DATE_FILTERS = ("start_date", "end_date")


def parse_where(items: list[str]) -> dict[str, Any]:
    """``["site_id=S01", "start_date=2024-01-01"]`` -> filters; unknown keys are refused by name."""
    from queries.engine import FILTERS

    filters: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            raise InputError(f"--where {item!r}: write KEY=VALUE, e.g. --where site_id=S01")
        if key not in FILTERS:
            raise InputError(f"--where {key}: unknown filter; filters are: {', '.join(FILTERS)}")
        if key in _DATE_FILTERS:
            try:
                filters[key] = dt.date.fromisoformat(value)
            except ValueError as exc:
                raise InputError(f"--where {key}: {value!r} is not a date (YYYY-MM-DD)") from exc
        else:
            filters[key] = value
    return filters


def _connect(db: Path):  # type: ignore[no-untyped-def]
    import duckdb

    if not db.exists():
        raise InputError(f"{db}: no warehouse file there; create one with `outcomes demo` or `outcomes ingest`")
    try:
        return duckdb.connect(str(db), read_only=True)
    except duckdb.Error as exc:
        raise InputError(f"{db}: DuckDB cannot open it ({str(exc).splitlines()[0]})") from exc


def _qi_call(function, *args, **kwargs):  # type: ignore[no-untyped-def]
    """Turn the query layer's refusals into one-line input errors."""
    import duckdb

    from queries.engine import MetricError
    from queries.qi import QIError

    try:
        return function(*args, **kwargs)
    except (QIError, MetricError, KeyError) as exc:
        raise InputError(str(exc.args[0]) if exc.args else str(exc)) from exc
    except duckdb.CatalogException as exc:
        raise InputError(
            f"the warehouse lacks a table this metric reads ({str(exc).splitlines()[0]}); "
            "rebuild it with `outcomes ingest`"
        ) from exc


def metric_series(
    db: Path, metric: str, by: str = "month", where: list[str] | None = None, chart: str = "p"
) -> tuple[list[object], list[float], list[float] | None]:
    """``x``, ``y`` (numerator) and ``n`` (denominator) per period, suppressed periods left out.

    For a ``run`` chart (no denominators in qicharts2's run chart of counts) ``y`` is the rate
    in percent and ``n`` is None; for p/pp/u/up charts ``y`` is the numerator and ``n`` the
    denominator."""
    from queries.qi import measure_series

    filters = parse_where(where or [])
    con = _connect(db)
    try:
        series = _qi_call(measure_series, con, metric, by=by, filters=filters)
    finally:
        con.close()
    if series.suppressed:
        note(
            f"note: {len(series.suppressed)} period(s) left out because a count is 1-10 "
            f"(suppressed): {', '.join(series.suppressed)}"
        )
    if len(series.x) < 2:
        raise InputError(
            f"metric {metric}: only {len(series.x)} period(s) can be shown after suppression; "
            "a chart needs at least 2 (widen the period or remove --where filters)"
        )
    if chart in ("p", "pp", "u", "up"):
        return list(series.x), [float(v) for v in series.events], [float(v) for v in series.n]
    rates = [100.0 * e / n for e, n in zip(series.events, series.n, strict=True)]
    return list(series.x), rates, None


def run_funnel(args) -> int:  # type: ignore[no-untyped-def]
    """``outcomes funnel --metric NAME``: compute, print (table or JSON), exit code."""
    from queries.qi_funnel import measure_funnel

    try:
        filters = parse_where(args.where)
        con = _connect(resolve_db(args.db))
        try:
            computed = _qi_call(
                measure_funnel, con, args.metric, by=args.by, filters=filters, adjust=args.adjust,
                method=args.method, overdispersion=args.overdispersion, min_n=args.min_n,
            )
        finally:
            con.close()
    except InputError as exc:
        error(str(exc))
        return EXIT_BAD_INPUT
    if args.format == "json":
        payload = {
            "source": f"metric {args.metric}",
            "by": args.by,
            "adjusted": computed.adjusted,
            "strata": list(computed.strata),
            **computed.result.to_dict(),
            "suppressed_units": computed.suppressed,
            "suppression": f"units with a count of 1-{computed.meta.get('min_cell', 11) - 1} are not shown",
        }
        print(json.dumps(payload, indent=2, default=str))
    else:
        print(render_funnel(computed))
    return 0


def render_funnel(computed) -> str:  # type: ignore[no-untyped-def]
    """A fixed-width table; suppressed units get a row with no figures."""
    result = computed.result
    ratio = result.scale == "ratio"
    headers = ["unit", "O" if ratio else "events", "E" if ratio else "n", "O/E" if ratio else "rate",
               "95% limits", "99.8% limits", "flag"]
    lines = []
    for unit in result.units:
        lines.append([
            str(unit["unit"]),
            f"{unit['observed']:g}" if ratio else f"{unit['events']:g}",
            f"{unit['expected']:.1f}" if ratio else f"{unit['n']:g}",
            f"{unit['ratio']:.3f}" if ratio else f"{unit['rate']:.3f}",
            f"{unit['lower_95']:.3f}-{unit['upper_95']:.3f}",
            f"{unit['lower_998']:.3f}-{unit['upper_998']:.3f}",
            str(unit["flag"]),
        ])
    lines += [[str(u), "-", "-", "-", "-", "-", "suppressed (1-10)"] for u in computed.suppressed]
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(headers)]
    if ratio:
        title = (f"Funnel (case-mix adjusted: indirect standardisation over "
                 f"{', '.join(computed.strata) or 'no strata'}): O/E against E, method {result.method}")
    else:
        title = f"Funnel: target {result.target:.4f}, method {result.method}, min n {result.min_n}"
    out = [f"{computed.meta.get('title', computed.name)} by {computed.by}", title]
    out.append("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    out.extend("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in lines)
    if computed.suppressed:
        out.append(f"{len(computed.suppressed)} unit(s) suppressed: a count of 1-10 would be revealed.")
    return "\n".join(out)
