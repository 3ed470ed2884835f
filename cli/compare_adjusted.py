"""Text and JSON of a propensity-score adjusted comparison (``outcomes compare --adjust
weighting|matching``): balance first (love-plot table, effective sample size, overlap, the
verdict), then the effect in plain words, the E-value, and what the comparison cannot prove.
The crude comparison follows for reference. Counts come from the suppressed frames of
``queries.adjusted``; a hidden count reads "<11" or "suppressed" as everywhere.
"""

from __future__ import annotations

import math
from typing import Any

from queries.adjusted_words import CANNOT_PROVE, METHOD_WORDS, e_value_words, effect_words
from stats import suppression


def _count(frame, column: str, min_cell: int) -> str:  # type: ignore[no-untyped-def]
    value = frame[column][0]
    if value is None:
        return suppression.hidden_label(frame, column, 0, min_cell)
    return f"{int(value):,}"


def _smd(x: float | None) -> str:
    if x is None:
        return suppression.SUPPRESSED_WORD
    return "inf" if math.isinf(x) else f"{x:+.2f}"


def balance_lines(result) -> list[str]:  # type: ignore[no-untyped-def]
    """The love-plot table: covariate, level, SMD before, SMD after, a flag over 0.1."""
    from stats.propensity import SMD_THRESHOLD

    header = ("covariate", "level", "SMD before", "SMD after", "")
    body = []
    for row in result.balance.iter_rows(named=True):
        after = row["smd_after"]
        flag = "" if after is None or abs(after) <= SMD_THRESHOLD else "imbalanced"
        body.append((row["covariate"], row["level"] or "", _smd(row["smd_before"]), _smd(after), flag))
    widths = [max(len(str(x[i])) for x in [header, *body]) for i in range(5)]
    return ["  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip()
            for row in [header, *body]]


def diagnostic_lines(result, title: str, label_a: str, label_b: str) -> list[str]:  # type: ignore[no-untyped-def]
    """Step 1: the method, the balance table, sizes, overlap and the verdict."""
    a = result.analysis
    counts, min_cell = result.counts, result.min_cell
    lines = [f"{title}: {label_a} (A) vs {label_b} (B), adjusted by "
             f"{METHOD_WORDS.get((a.method, a.estimand), a.method)}.", "",
             "Step 1. Are the groups comparable after adjustment? (balance first)",
             *balance_lines(result),
             "SMD: standardised mean difference A - B; |SMD| <= 0.1 after adjustment is the usual "
             "standard for balance (Austin 2009).", ""]
    n_a, n_b = _count(counts, "n_a", min_cell), _count(counts, "n_b", min_cell)
    used_a, used_b = _count(counts, "used_a", min_cell), _count(counts, "used_b", min_cell)
    if a.trim_percentile is not None:
        lines.append(f"Trimmed to common support (below percentile {a.trim_percentile:g} of A's "
                     f"scores or above percentile {100 - a.trim_percentile:g} of B's; Stürmer "
                     f"2010). Episodes excluded: A {_count(counts, 'trimmed_a', min_cell)} (of "
                     f"{n_a}), B {_count(counts, 'trimmed_b', min_cell)} (of {n_b}); the estimate "
                     "describes the patients who remain.")
    if a.method == "matching":
        lines.append(f"Matched pairs: {used_a} (caliper 0.2 SD of the logit). Unmatched episodes: "
                     f"A {_count(counts, 'unmatched_a', min_cell)}, "
                     f"B {_count(counts, 'unmatched_b', min_cell)}.")
    else:
        lines.append(f"Effective sample size (Kish): A {a.ess_a:,.0f} of {used_a} episodes, "
                     f"B {a.ess_b:,.0f} of {used_b}.")
    o = a.overlap
    lines.append(
        f"Overlap of propensity scores (5th / 50th / 95th percentile): A {o.quantiles_a[0]:.2f} / "
        f"{o.quantiles_a[1]:.2f} / {o.quantiles_a[2]:.2f}, B {o.quantiles_b[0]:.2f} / "
        f"{o.quantiles_b[1]:.2f} / {o.quantiles_b[2]:.2f}; outside the other group's range: "
        f"{100 * o.outside_a:.0f}% of A, {100 * o.outside_b:.0f}% of B.")
    lines.append("")
    if a.trustworthy:
        lines.append("Balance reached: every covariate within |SMD| 0.1 after adjustment, and the "
                     "groups overlap. The effect below is the adjusted answer to this question.")
    else:
        lines.append("WARNING: the adjustment did not make the groups comparable, so the effect "
                     "below is NOT the answer:")
        lines += [f"  - {w}" for w in a.warnings]
        if a.trim_percentile is None and o.poor:
            lines.append("  Try --trim 1 to compare only patients who could have received either drug.")
    return lines


def render_adjusted(c, crude: str) -> str:  # type: ignore[no-untyped-def]
    result = c.propensity
    a = result.analysis
    lines = diagnostic_lines(result, c.title, c.label_a, c.label_b)
    lines += ["", "Step 2. The effect" + ("" if a.trustworthy else " (for information only; see the warning)")]
    if a.risks is None:
        lines.append("No effect estimate.")
    else:
        lines += [effect_words(c, result), "", e_value_words(result)]
    lines += ["", CANNOT_PROVE, "", "Unadjusted (crude) comparison, for reference:", crude]
    return "\n".join(lines)


def _effect(e) -> dict[str, Any] | None:  # type: ignore[no-untyped-def]
    return None if e is None else {"value": e.value, "low": e.low, "high": e.high, "method": e.method}


def as_dict(result) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Everything recorded with an adjusted result: method, covariates, diagnostics, effect."""
    from stats.propensity import CALIPER_SD, SMD_THRESHOLD

    a = result.analysis
    counts = dict(result.counts.row(0, named=True))
    risks = a.risks
    return {
        "method": a.method, "estimand": a.estimand, "covariates": a.covariates,
        "propensity_model": "logistic regression (statsmodels GLM binomial, logit link)",
        "weights": "stabilised inverse-probability weights" if a.method == "weighting" else None,
        "caliper_sd_of_logit": CALIPER_SD if a.method == "matching" else None,
        "trim_percentile": a.trim_percentile,
        "counts": counts,
        "effective_sample_size": {"a": a.ess_a, "b": a.ess_b},
        "overlap": {"outside_a": a.overlap.outside_a, "outside_b": a.overlap.outside_b,
                    "quantiles_a": list(a.overlap.quantiles_a),
                    "quantiles_b": list(a.overlap.quantiles_b), "poor": a.overlap.poor},
        "balance": result.balance.to_dicts(),
        "smd_threshold": SMD_THRESHOLD,
        "balanced_and_overlapping": a.trustworthy,
        "warnings": a.warnings,
        "risk_a": None if risks is None else risks.risk_a,
        "risk_b": None if risks is None else risks.risk_b,
        "risk_difference": None if risks is None else _effect(risks.difference),
        "relative_risk": None if risks is None else _effect(risks.ratio),
        "nnt": None if a.nnt is None else a.nnt.text,
        "e_value": None if a.e_value is None else {
            "estimate": a.e_value.estimate, "confidence_limit": a.e_value.limit, "scale": "RR"},
        "propensity_histogram": result.histogram.to_dicts(),
        "cannot_prove": CANNOT_PROVE,
    }


def render_survival(result, title: str, label_a: str, label_b: str) -> str:  # type: ignore[no-untyped-def]
    """An adjusted time-to-event comparison (``queries.adjusted_survival``)."""
    a = result.analysis
    hr = result.survival.hazard_ratio
    lines = diagnostic_lines(result, title, label_a, label_b)
    lines += ["", "Step 2. The effect" + ("" if a.trustworthy else " (for information only; see the warning)")]
    lines.append(f"Hazard ratio ({result.event_label}), A vs B: {hr.value:.2f} (95% CI {hr.low:.2f} "
                 f"to {hr.high:.2f}; {hr.method}). Above 1 means {result.event_label} sooner on "
                 f"{label_a}; an interval that includes 1 shows no difference.")
    for h, (share_a, share_b) in zip(result.horizons, result.shares, strict=True):
        def pct(x: float | None) -> str:
            return suppression.SUPPRESSED_WORD if x is None else f"{100 * x:.0f}%"
        lines.append(f"Not yet {result.event_label} at day {h} (weighted Kaplan-Meier): "
                     f"{label_a} {pct(share_a)}, {label_b} {pct(share_b)}.")
    e = result.e_value
    if e is not None:
        lines.append(f"E-value {e.estimate:.2f} for the estimate, {e.limit:.2f} for the confidence "
                     f"limit closer to no effect ({e.scale}; VanderWeele & Ding 2017).")
    lines += ["", CANNOT_PROVE]
    return "\n".join(lines)


def survival_dict(result) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """JSON record of an adjusted time-to-event comparison."""
    record = as_dict(result)
    record.update({
        "hazard_ratio": _effect(result.survival.hazard_ratio),
        "not_yet_event_share": [{"day": h, "a": sa, "b": sb}
                                for h, (sa, sb) in zip(result.horizons, result.shares, strict=True)],
        "e_value": None if result.e_value is None else {
            "estimate": result.e_value.estimate, "confidence_limit": result.e_value.limit,
            "scale": result.e_value.scale},
    })
    return record
