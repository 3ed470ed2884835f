"""Compare one proportion metric between two groups (e.g. sertraline vs escitalopram).

For groups A and B (each a dict of filters, e.g. ``{"drug": "sertraline"}``) this reports each
group's rate with its Wilson interval, the risk difference A - B with Newcombe's hybrid score
interval, the relative risk (Katz), NNT/NNH with Altman's wording, Fisher's exact and Pearson
chi-square p-values (Fisher recommended when an expected count is < 5), optionally an adjusted
estimate beside the crude one (``adjust``: ``stratified``, the Mantel-Haenszel risk difference
over baseline severity bands; ``weighting`` or ``matching``, propensity-score adjustment over
the baseline covariates, ``queries.adjusted``), and a baseline table (age, sex, baseline severity, diagnosis group) with standardised mean
differences, flagging |SMD| > 0.1 (Austin 2009). All statistics are ``stats.inference``.

Privacy: the group counts pass through the same suppression as every metric; when a count a
comparison needs is hidden, no effect measure is computed (they would reveal it). Stratum counts
for the Mantel-Haenszel estimate are used internally and never published; only the weighted
estimate is shown.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import duckdb
import polars as pl

from queries import engine, loader
from queries.aggregate import not_defined_reasons
from queries.engine import FILTERS, MetricError, MetricResult, resolve_min_cell
from stats import inference, suppression
from stats.effects import standardised_mean_difference_from_summary

#: Metrics whose outcome is a harm (a positive difference means more harm, so NNH not NNT).
HARM_METRICS = frozenset({"side_effects", "safety_flags"})
ADJUSTMENTS = ("none", "stratified", "weighting", "matching")
#: Older names of an adjustment, still accepted.
ADJUSTMENT_ALIASES = {"baseline_severity": "stratified"}


@dataclass(frozen=True)
class BaselineRow:
    characteristic: str
    level: str | None
    value_a: str
    value_b: str
    smd: float | None
    imbalanced: bool


@dataclass
class Comparison:
    """Everything ``outcomes compare`` prints; ``result`` is None when a count is suppressed."""

    metric: str
    title: str
    label_a: str
    label_b: str
    group_a: MetricResult
    group_b: MetricResult
    result: inference.ComparisonResult | None
    adjusted: inference.Estimate | None = None
    adjusted_note: str | None = None
    baseline: list[BaselineRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    min_cell: int = suppression.DEFAULT_MIN_CELL
    adjustment: str = "none"
    #: ``queries.adjusted.AdjustedResult`` for weighting and matching
    propensity: Any = None


def _counts(result: MetricResult) -> tuple[int, int] | None:
    row = result.frame.row(0, named=True) if result.frame.height else None
    if row is None or row["numerator"] is None or row["denominator"] is None:
        return None
    return int(row["numerator"]), int(row["denominator"])


def _check_group(spec: dict[str, Any], which: str) -> None:
    unknown = [k for k in spec if k not in FILTERS]
    if unknown:
        raise MetricError(f"--{which}: unknown key {', '.join(unknown)}; keys are: {', '.join(FILTERS)}")
    if not spec:
        raise MetricError(f"--{which} needs at least one KEY=VALUE")


def label(spec: dict[str, Any]) -> str:
    return ", ".join(str(v) for v in spec.values())


def compare(
    con: duckdb.DuckDBPyConnection,
    name: str,
    group_a: dict[str, Any],
    group_b: dict[str, Any],
    filters: dict[str, Any] | None = None,
    adjust: str | None = None,
    min_cell: int | None = None,
    estimand: str = "ATE",
    trim_percentile: float | None = None,
    **overrides: Any,
) -> Comparison:
    """Compare metric ``name`` (a proportion) between the groups; see the module docstring.
    ``min_cell`` None: the configured threshold (``queries.engine.resolve_min_cell``)."""
    min_cell = resolve_min_cell(min_cell)[0]
    query = loader.describe(name) if name in loader.catalog() else None
    if query is None:
        raise MetricError(f"unknown metric {name!r}; `outcomes metrics --list` lists them")
    if query.kind != "proportion":
        hint = ("; time-to-event metrics are compared with --adjust weighting or --adjust matching"
                if query.kind == "survival" else "")
        raise MetricError(f"compare works on rate metrics; {name!r} is a {query.kind} metric{hint}")
    adjust = ADJUSTMENT_ALIASES.get(adjust or "none", adjust or "none")
    if adjust not in ADJUSTMENTS:
        raise MetricError(f"--adjust: unknown {adjust!r}; choose from {', '.join(ADJUSTMENTS)}")
    _check_group(group_a, "a")
    _check_group(group_b, "b")
    base = dict(filters or {})
    result_a = engine.metric(con, name, filters={**base, **group_a}, min_cell=min_cell, **overrides)
    result_b = engine.metric(con, name, filters={**base, **group_b}, min_cell=min_cell, **overrides)
    reasons = not_defined_reasons(result_a.frame) + not_defined_reasons(result_b.frame)
    if reasons:
        # no rule (PCL-5 remission): nothing to compare, and "suppressed" would be the wrong word
        raise MetricError(f"{query.title} is not defined here: {'; '.join(dict.fromkeys(reasons))}")
    comparison = Comparison(
        metric=name, title=query.title, label_a=label(group_a), label_b=label(group_b),
        group_a=result_a, group_b=result_b, result=None, min_cell=min_cell, adjustment=adjust,
    )
    counts_a, counts_b = _counts(result_a), _counts(result_b)
    if counts_a is None or counts_b is None:
        comparison.notes.append(
            f"A group count is below {min_cell} and is suppressed, so no difference, ratio or "
            "test is shown (each would reveal it)."
        )
    elif counts_a[1] == 0 or counts_b[1] == 0:
        comparison.notes.append("A group has no eligible units; nothing to compare.")
    else:
        comparison.result = inference.compare_proportions(
            counts_a[0], counts_a[1], counts_b[0], counts_b[1], outcome_is_harm=name in HARM_METRICS
        )
        if adjust == "stratified":
            _adjust(con, comparison, name, base, group_a, group_b, overrides)
        elif adjust in ("weighting", "matching"):
            from queries.adjusted import adjusted

            try:
                comparison.propensity = adjusted(
                    con, name, base, group_a, group_b, overrides, adjust, estimand=estimand,
                    trim_percentile=trim_percentile, outcome_is_harm=name in HARM_METRICS,
                    min_cell=min_cell)
            except MetricError as exc:
                comparison.adjusted_note = str(exc)
    if "baseline_characteristics" in loader.catalog():
        comparison.baseline = _baseline(con, base, group_a, group_b, min_cell, overrides)
    return comparison


def _adjust(con, comparison, name, base, group_a, group_b, overrides) -> None:
    query = loader.describe(name)
    if "baseline_severity_band" not in query.columns:
        comparison.adjusted_note = f"{name} has no baseline severity; no adjusted estimate."
        return
    by = ("baseline_severity_band",)
    # Internal only (min_cell=0): the stratum counts are never shown, only the MH average.
    strata_a = engine.metric(con, name, by=by, filters={**base, **group_a}, min_cell=0, **overrides).frame
    strata_b = engine.metric(con, name, by=by, filters={**base, **group_b}, min_cell=0, **overrides).frame
    columns = ["baseline_severity_band", "numerator", "denominator"]
    joined = strata_a.select(columns).join(
        strata_b.select(columns), on="baseline_severity_band", how="full", suffix="_b", coalesce=True
    ).with_columns(pl.exclude("baseline_severity_band").fill_null(0))
    strata = [
        (int(r["numerator"]), int(r["denominator"]), int(r["numerator_b"]), int(r["denominator_b"]))
        for r in joined.iter_rows(named=True)
    ]
    try:
        comparison.adjusted = inference.mantel_haenszel_risk_difference(strata)
    except ValueError as exc:
        comparison.adjusted_note = f"no adjusted estimate: {exc}"
        return
    comparison.adjusted_note = (
        f"Mantel-Haenszel risk difference over {len(strata)} baseline severity bands "
        "(groups compared within the same band, then averaged)"
    )


def _baseline(con, base, group_a, group_b, min_cell, overrides) -> list[BaselineRow]:
    query = loader.describe("baseline_characteristics")
    accepted = {k: v for k, v in overrides.items() if k in query.params}
    frame_a = engine.metric(con, "baseline_characteristics", filters={**base, **group_a},
                             min_cell=min_cell, **accepted).frame
    frame_b = engine.metric(con, "baseline_characteristics", filters={**base, **group_b},
                             min_cell=min_cell, **accepted).frame
    keys = ["characteristic", "level"]
    joined = frame_a.join(frame_b, on=keys, how="full", suffix="_b", coalesce=True, nulls_equal=True)
    rows: list[BaselineRow] = []
    order = pl.col("characteristic") != "episodes"
    for r in joined.sort([order, *keys], nulls_last=False).iter_rows(named=True):
        # A level present in one group only is a true zero in the other, not a hidden count.
        for suffix in ("", "_b"):
            if r[f"n_suppressed{suffix}"] is None:
                r[f"n{suffix}"], r[f"proportion{suffix}"] = 0, 0.0
        if r["characteristic"] == "episodes":
            rows.append(BaselineRow("episodes", None, _n(r["n"]), _n(r["n_b"]), None, False))
            continue
        if r["level"] is None:  # continuous: mean (sd)
            smd = None
            if None not in (r["mean"], r["sd"], r["mean_b"], r["sd_b"]):
                smd = standardised_mean_difference_from_summary(r["mean"], r["sd"], r["mean_b"], r["sd_b"])
            rows.append(BaselineRow(r["characteristic"], None, _mean_sd(r["mean"], r["sd"]),
                                    _mean_sd(r["mean_b"], r["sd_b"]), smd, _imbalanced(smd)))
            continue
        p_a, p_b = r.get("proportion"), r.get("proportion_b")
        smd = None
        if p_a is not None and p_b is not None:
            spread = math.sqrt((p_a * (1 - p_a) + p_b * (1 - p_b)) / 2)
            if spread == 0:  # both 0% or 100%, or one 0% and the other 100% (total separation)
                smd = 0.0 if p_a == p_b else math.copysign(math.inf, p_a - p_b)
            else:
                smd = (p_a - p_b) / spread
        rows.append(BaselineRow(r["characteristic"], r["level"], _pct(r["n"], p_a, min_cell),
                                _pct(r["n_b"], p_b, min_cell), smd, _imbalanced(smd)))
    return rows


def _imbalanced(smd: float | None) -> bool:
    return smd is not None and abs(smd) > inference.SMD_IMBALANCE_THRESHOLD


def _n(value: object) -> str:
    return "-" if value is None else f"{int(value):,}"  # type: ignore[call-overload]  # a shown count: an int (object-typed frame cell)


def _mean_sd(mean: float | None, sd: float | None) -> str:
    if mean is None:
        return "suppressed"
    return f"{mean:.1f} ({sd:.1f})" if sd is not None else f"{mean:.1f}"


def _pct(n: object, proportion: float | None, min_cell: int) -> str:
    if n is None:
        return suppression.mark(min_cell)
    if proportion is None:
        return f"{int(n):,}"  # type: ignore[call-overload]  # a shown count: an int (object-typed frame cell)
    return f"{int(n):,} ({100 * proportion:.1f}%)"  # type: ignore[call-overload]  # a shown count: an int (object-typed frame cell)


def baseline_frame(rows: list[BaselineRow]) -> pl.DataFrame:
    return pl.DataFrame(
        [{"characteristic": r.characteristic, "level": r.level, "group_a": r.value_a,
          "group_b": r.value_b, "smd": r.smd, "imbalanced": r.imbalanced} for r in rows],
        schema={"characteristic": pl.String, "level": pl.String, "group_a": pl.String,
                "group_b": pl.String, "smd": pl.Float64, "imbalanced": pl.Boolean},
    )
