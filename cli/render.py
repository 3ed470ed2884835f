"""Text rendering of metric results for the terminal: aligned tables, intervals, footers.

Shared by ``outcomes metric`` and ``outcomes compare``. Everything rendered here comes from a
``MetricResult`` whose frame is already suppressed; this module only formats.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import polars as pl


def to_json_rows(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """Row objects for ``--format json``: dates as ISO text, NaN as null."""
    rows = frame.to_dicts()
    for row in rows:
        for key, value in row.items():
            if isinstance(value, dt.date):
                row[key] = value.isoformat()
            elif isinstance(value, float) and not math.isfinite(value):
                row[key] = None
    return rows


def _interval_columns(columns: list[str]) -> dict[str, tuple[str, str]]:
    """Point estimate column -> its (low, high) columns, e.g. rate -> (ci_low, ci_high)."""
    pairs: dict[str, tuple[str, str]] = {}
    for col in columns:
        if col.endswith("_ci_low") and col.replace("_ci_low", "_ci_high") in columns:
            stem = col.removesuffix("_ci_low")
            pairs[stem] = (col, col.replace("_ci_low", "_ci_high"))
    if "ci_low" in columns and "ci_high" in columns:
        point = "rate" if "rate" in columns else "mean" if "mean" in columns else None
        if point:
            pairs[point] = ("ci_low", "ci_high")
    return pairs


def table_frame(result) -> pl.DataFrame:  # type: ignore[no-untyped-def]
    """The display strings with each estimate and its interval merged: '33.4% (29.5-37.5%)'."""
    shown = result.display()
    columns = shown.columns
    intervals = _interval_columns(columns)
    drop: set[str] = set()
    if result.query.kind == "proportion":
        drop |= {"numerator", "denominator"}  # duplicates of the named counts, kept in json/csv
    if "not_defined_reason" in columns and result.frame["not_defined_reason"].null_count() == result.frame.height:
        drop.add("not_defined_reason")  # every rule defined: the reason column is empty noise
    merged = {}
    for point, (low, high) in intervals.items():
        if point not in columns:
            continue
        drop |= {low, high}
        merged[point] = [
            value if lo in ("-", "suppressed") else f"{value} ({lo} to {hi})"
            for value, lo, hi in zip(shown[point], shown[low], shown[high], strict=True)
        ]
    out = shown.with_columns([pl.Series(k, v, dtype=pl.String) for k, v in merged.items()])
    return out.select([c for c in columns if c not in drop])


def render_table(result) -> str:  # type: ignore[no-untyped-def]
    """An aligned text table with a title line."""
    frame = table_frame(result)
    headers = [_header(result, c) for c in frame.columns]
    body = [[str(v) for v in row] for row in frame.rows()]
    widths = [max([len(h)] + [len(r[i]) for r in body]) for i, h in enumerate(headers)]
    numeric = [
        bool(body) and all(_looks_numeric(r[i]) for r in body) for i in range(len(headers))
    ]

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if num else c.ljust(w)
            for c, w, num in zip(cells, widths, numeric, strict=True)
        ).rstrip()

    lines = [result.query.title, "", line(headers), line(["-" * w for w in widths])]
    lines += [line(r) for r in body]
    if not body:
        lines.append("(no rows)")
    return "\n".join(lines)


def _looks_numeric(text: str) -> bool:
    head = text.lstrip("<-").split(" ")[0].rstrip("%").replace(",", "").replace(".", "")
    return head.isdigit() or text in ("-", "suppressed")


def _header(result, column: str) -> str:  # type: ignore[no-untyped-def]
    labels = {
        "rate": "rate (95% CI)", "mean": "mean (95% CI)", "n": "n",
        "median_days": "median days",
    }
    for rate in result.query.metric.get("rates", [])[1:]:
        labels[rate["name"]] = f"{rate['name'].removeprefix('rate_').replace('_', ' ')} rate (95% CI)"
    if column.startswith("survival_") and column.endswith("d"):
        labels[column] = f"S({column.removeprefix('survival_')}) (95% CI)"
    return labels.get(column, column.replace("_", " "))


def footer(result) -> list[str]:  # type: ignore[no-untyped-def]
    """Definition, rate labels, parameters and suppression: how to read and trace the numbers."""
    meta = result.meta
    lines = [f"Definition: {result.query.description}"]
    from queries.aggregate import not_defined_reasons

    reasons = not_defined_reasons(result.frame)
    if reasons:
        lines.append("NOT DEFINED: " + "; ".join(reasons)
                     + ". The rate is left empty: no rule, so no answer (not 0).")
    rates = result.query.metric.get("rates", [])
    if rates:
        lines.append("Rates: " + "; ".join(
            f"{'rate' if i == 0 else r['name']} = {r['numerator']}/{r['denominator']}"
            + (f" ({r['label']})" if r.get("label") else "")
            for i, r in enumerate(rates)
        ))
    params = {k: v for k, v in meta.get("parameters", {}).items() if v is not None}
    if params:
        lines.append("Parameters: " + ", ".join(f"{k}={v}" for k, v in params.items()))
    non_default = {k: v["value"] for k, v in meta.get("definitions", {}).items() if not v["is_default"]}
    if non_default:
        lines.append("Non-default definitions in this warehouse: "
                     + ", ".join(f"{k}={v}" for k, v in non_default.items()))
    if meta.get("suppression_off"):
        lines.append("SUPPRESSION OFF (--min-cell 0): small counts are shown; do not share this output.")
    elif meta.get("perturbation"):
        min_cell = meta["min_cell"]
        lines.append(
            f"Suppression: <{min_cell} = a count of 1-{min_cell - 1}, hidden; 'suppressed' = a figure "
            f"derived from a hidden count. Counts are perturbed by at most "
            f"{meta['perturbation']['max_noise']} (cell-key perturbation: the same count always shows "
            "the same value; a total may differ slightly from the sum of its parts; docs/privacy.md)."
        )
    else:
        min_cell = meta["min_cell"]
        lines.append(
            f"Suppression: <{min_cell} = a count of 1-{min_cell - 1}, hidden; 'suppressed' = a count "
            f"hidden so that one of 1-{min_cell - 1} cannot be worked out (its own value may be large), "
            f"or a figure derived from a hidden count. {meta['suppression']}."
        )
    return lines
