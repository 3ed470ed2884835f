"""The CSV of a propensity-score adjusted comparison (``queries.adjusted``), built like every other
export (``report.export``, docs/exports.md): a numeric table under ``# key: value`` stamp lines.

The table is the balance ("love plot") table, one row per covariate (level): ``SMD before`` and
``SMD after`` as numbers (A - B, pooled SD of the whole comparison), empty where a level held
1-10 episodes of a group, with ``<column> (hidden)`` saying why. Everything else recorded with
the result goes in the stamp, after the usual keys: the method and estimand, the covariates,
trimming, the propensity model, the episode counts (suppressed: a hidden count reads ``<11`` or
``suppressed``), the effective sample sizes, the overlap, the balance verdict and its warnings,
the effect with its 95% intervals and NNT, the E-value, and what the comparison cannot prove.
Values that hold several figures are compact JSON, like ``parameters``.
"""

from __future__ import annotations

import json
from typing import Any

from queries.adjusted_words import CANNOT_PROVE, METHOD_WORDS
from report.export import numeric_frame, stamp, stamped_csv
from stats import suppression

BALANCE_LABELS = {"covariate": "Covariate", "level": "Level", "smd_before": "SMD before",
                  "smd_after": "SMD after"}


def counts(result: Any) -> dict[str, int | str]:
    """The episode counts of ``result.counts`` (already suppressed): a hidden one as its mark."""
    frame, min_cell = result.counts, result.min_cell
    out: dict[str, int | str] = {}
    for column in ("n_a", "trimmed_a", "used_a", "unmatched_a",
                   "n_b", "trimmed_b", "used_b", "unmatched_b"):
        value = frame[column][0]
        out[column] = (suppression.hidden_label(frame, column, 0, min_cell)
                       or suppression.SUPPRESSED_WORD) if value is None else int(value)
    return out


def effective_sizes(result: Any) -> dict[str, float | str]:
    """Kish's effective sample size per group, hidden ("suppressed") where the group's used
    count is hidden or the size itself falls below the threshold: it bounds that count."""
    a, shown = result.analysis, counts(result)
    out: dict[str, float | str] = {}
    for group, ess in (("a", a.ess_a), ("b", a.ess_b)):
        hidden = isinstance(shown[f"used_{group}"], str) or (
            not suppression.is_off(result.min_cell) and ess < result.min_cell)
        out[group] = suppression.SUPPRESSED_WORD if hidden else round(float(ess), 1)
    return out


def hidden_matched_events(result: Any) -> bool:
    """Matching: the matched risk times the (published) number of pairs is a count of events;
    True when that count, or its complement, is 1 to min_cell - 1, so the risks must not show."""
    from queries.adjusted import reveals_small_event_count

    return reveals_small_event_count(result.analysis, result.min_cell)


def _effect(e: Any) -> dict[str, Any] | None:
    return None if e is None else {"value": e.value, "low": e.low, "high": e.high,
                                   "method": e.method}


def record(result: Any) -> dict[str, str]:
    """The stamp lines of what was adjusted and how (module docstring), in reading order:
    method, covariates and diagnostics first, the effect after the verdict."""
    from stats.propensity import CALIPER_SD, SMD_THRESHOLD

    a = result.analysis
    risks = a.risks
    trimming = ("none" if a.trim_percentile is None else
                f"common support: below percentile {a.trim_percentile:g} of A's scores or above "
                f"percentile {100 - a.trim_percentile:g} of B's excluded (Stürmer 2010)")
    weights = ("stabilised inverse-probability weights" if a.method == "weighting"
               else f"1:1 nearest neighbour on the logit, caliper {CALIPER_SD} SD")
    o = a.overlap
    lines = {
        "adjustment_method": METHOD_WORDS.get((a.method, a.estimand), a.method),
        "estimand": a.estimand,
        "covariates": ", ".join(a.covariates),
        "propensity_model": "logistic regression (statsmodels GLM binomial, logit link); " + weights,
        "trimming": trimming,
        "episodes": _json(counts(result)),
        "effective_sample_size": _json(effective_sizes(result)),
        "overlap": _json({"outside_a": round(o.outside_a, 4), "outside_b": round(o.outside_b, 4),
                          "quantiles_a": [round(q, 4) for q in o.quantiles_a],
                          "quantiles_b": [round(q, 4) for q in o.quantiles_b], "poor": o.poor}),
        "balance_verdict": (f"balanced (every |SMD| <= {SMD_THRESHOLD} after adjustment) and "
                            "overlapping: the effect is the adjusted answer" if a.trustworthy else
                            "NOT balanced or poor overlap: the effect is not the answer"),
        "warnings": " | ".join(a.warnings),
        "effect": "suppressed (the matched groups hold 1-10 events or non-events, which the "
                  "adjusted rates would reveal)" if hidden_matched_events(result) else
                  _json(None if risks is None else {
            "risk_a": risks.risk_a, "risk_b": risks.risk_b,
            "risk_difference": _effect(risks.difference), "relative_risk": _effect(risks.ratio),
            "nnt": None if a.nnt is None else a.nnt.text}) or "no effect estimate",
        "e_value": "suppressed (with the effect)" if hidden_matched_events(result) else _json(
            None if a.e_value is None else {
            "estimate": a.e_value.estimate, "confidence_limit": a.e_value.limit,
            "scale": a.e_value.scale}) or "not computable",
        "cannot_prove": CANNOT_PROVE,
    }
    return {k: v for k, v in lines.items() if v}


def _json(value: Any) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, default=str)


def adjusted_csv(
    c: Any, *, filters: str, period: str, data_as_of: str | None, maturing: str | None = None,
) -> str:
    """The CSV of ``c`` (a ``queries.compare.Comparison`` with ``propensity``): the balance
    table under the usual stamp plus :func:`record`."""
    result = c.propensity
    table = numeric_frame(result.balance, labels=BALANCE_LABELS,
                          columns=list(BALANCE_LABELS), min_cell=result.min_cell)
    title = f"{c.title}: {c.label_a} (A) vs {c.label_b} (B), adjusted"
    # the metric's definition; its bound parameters differ per group, so "groups" says those
    meta = {k: c.group_a.meta.get(k) for k in ("metric", "definition", "definitions")}
    lines = stamp(title=title, filters=filters, period=period, min_cell=result.min_cell,
                  data_as_of=data_as_of, meta=meta, maturing=maturing)
    lines = {**lines, "groups": f"A = {c.label_a}; B = {c.label_b}", **record(result)}
    return stamped_csv(table, lines)


__all__ = ["BALANCE_LABELS", "adjusted_csv", "counts", "effective_sizes", "hidden_matched_events",
           "record"]

