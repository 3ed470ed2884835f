"""``outcomes compare METRIC --a KEY=VALUE --b KEY=VALUE``: two groups, side by side.

Prints a plain-words sentence first ("Response: sertraline 48% (95% CI 41-55%, 96/200) vs
escitalopram 52% (...). Difference -4 points (95% CI ...); not statistically significant
(p=0.41)."), then the effect measures (risk difference with Newcombe's interval, relative risk,
NNT/NNH in Altman's wording, Fisher and chi-square p-values), the Mantel-Haenszel
severity-adjusted difference with ``--adjust stratified`` (old name ``baseline_severity``), and
the baseline table with standardised mean differences. ``--adjust weighting|matching`` adjusts
by propensity score and prints balance first, then the effect (``compare_adjusted``).
``--format json`` prints one object on stdout.
"""

from __future__ import annotations

import argparse
import json
import math
from typing import Any

from cli.common import add_db_argument, error, resolve_db
from cli.metric import (
    UsageError,
    add_selection_arguments,
    min_cell_of,
    open_readonly,
    parse_pairs,
    selection,
)


def register(subparsers) -> None:  # type: ignore[no-untyped-def]
    parser = subparsers.add_parser(
        "compare", help="compare a rate between two groups (RD, RR, NNT, p-values, baseline SMDs)"
    )
    parser.add_argument("metric", help="a rate metric, e.g. response, remission, side_effects")
    parser.add_argument("--a", required=True, action="append", metavar="KEY=VALUE",
                        help="group A, e.g. drug=sertraline (repeat for more keys)")
    parser.add_argument("--b", required=True, action="append", metavar="KEY=VALUE",
                        help="group B, e.g. drug=escitalopram")
    parser.add_argument(
        "--adjust", choices=("none", "stratified", "weighting", "matching", "baseline_severity"),
        default="none",
        help="none (default): crude; stratified (alias baseline_severity): Mantel-Haenszel over "
             "baseline severity bands; weighting / matching: propensity score over age, sex, "
             "baseline score, diagnosis, line of therapy, earlier episodes, site and start year "
             "(docs/adjusted-comparisons.md)")
    parser.add_argument("--estimand", choices=("ATE", "ATT"), default="ATE",
                        help="weighting: ATE (everyone on A vs everyone on B, default) or ATT "
                             "(the patients who got A)")
    parser.add_argument("--trim", type=float, metavar="PCT",
                        help="weighting/matching: exclude episodes outside common support "
                             "(below the PCT-th percentile of A's scores or above the "
                             "(100-PCT)-th of B's; Stürmer 2010), e.g. --trim 1")
    add_db_argument(parser)
    add_selection_arguments(parser)
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from queries.compare import compare
    from queries.engine import FILTERS, MetricError

    try:
        filters, overrides = selection(args)
        group_a = parse_pairs(args.a, "--a", FILTERS)
        group_b = parse_pairs(args.b, "--b", FILTERS)
        min_cell = min_cell_of(args)
        con = open_readonly(resolve_db(args.db))
        try:
            if args.trim is not None and not 0 <= args.trim < 50:
                raise UsageError("--trim: a percentile from 0 to below 50, e.g. 1")
            if _is_survival(args.metric) and args.adjust in ("weighting", "matching"):
                return _run_survival(args, con, filters, group_a, group_b, overrides, min_cell)
            comparison = compare(con, args.metric, group_a, group_b, filters=filters,
                                 adjust=args.adjust, min_cell=min_cell, estimand=args.estimand,
                                 trim_percentile=args.trim, **overrides)
        finally:
            con.close()
    except (UsageError, MetricError) as exc:
        error(str(exc))
        return 2
    if args.format == "json":
        print(json.dumps(as_dict(comparison), indent=2, default=_jsonable))
        return 0
    if comparison.propensity is not None:
        from cli.compare_adjusted import render_adjusted

        print(render_adjusted(comparison, render(comparison, baseline=False)))
        return 0
    print(render(comparison))
    return 0


def _is_survival(name: str) -> bool:
    import queries

    return name in queries.catalog() and queries.describe(name).kind == "survival"


def _run_survival(args, con, filters, group_a, group_b, overrides, min_cell) -> int:  # type: ignore[no-untyped-def]
    """Time-to-event metrics with --adjust weighting|matching: weighted KM and Cox HR."""
    import queries
    from cli.compare_adjusted import render_survival, survival_dict
    from queries.adjusted_survival import adjusted_survival
    from queries.compare import label

    result = adjusted_survival(con, args.metric, filters, group_a, group_b, overrides, args.adjust,
                               args.estimand, args.trim, min_cell)
    if args.format == "json":
        print(json.dumps({"metric": args.metric, "group_a": label(group_a), "group_b": label(group_b),
                          "adjustment_method": args.adjust, "propensity": survival_dict(result),
                          "min_cell": min_cell}, indent=2, default=_jsonable))
    else:
        print(render_survival(result, queries.describe(args.metric).title, label(group_a), label(group_b)))
    return 0


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return str(value)


def _pct(x: float | None) -> str:
    return "-" if x is None or not math.isfinite(x) else f"{100 * x:.0f}%"


def _points(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:+.1f}"


def _p(p: float) -> str:
    if p is None or not math.isfinite(p):
        return "not computable"
    return "p<0.001" if p < 0.001 else f"p={p:.3f}" if p < 0.01 else f"p={p:.2f}"


def sentence(c) -> str:  # type: ignore[no-untyped-def]
    """The plain-words summary a psychiatrist reads first."""
    r = c.result
    if r is None:
        return f"{c.title}: {c.label_a} vs {c.label_b}: " + " ".join(c.notes)
    g1, g2, rd = r.group1, r.group2, r.risk_difference
    significant = rd.low is not None and (rd.low > 0 or rd.high < 0)
    verdict = "statistically significant" if significant else "not statistically significant"
    return (
        f"{c.title}: {c.label_a} {_pct(g1.rate)} (95% CI {_pct(g1.low)}-{_pct(g1.high)}, "
        f"{g1.events}/{g1.n}) vs {c.label_b} {_pct(g2.rate)} (95% CI {_pct(g2.low)}-{_pct(g2.high)}, "
        f"{g2.events}/{g2.n}). Difference {_points(rd.value)} points (95% CI {_points(rd.low)} to "
        f"{_points(rd.high)}); {verdict} ({_p(r.recommended_p)})."
    )


def render(c, baseline: bool = True) -> str:  # type: ignore[no-untyped-def]
    from queries.compare import baseline_frame

    lines = [sentence(c), ""]
    r = c.result
    if r is not None:
        rr = r.relative_risk
        rr_ci = (f"{rr.low:.2f} to {rr.high:.2f}" if rr.low is not None
                 else "undefined (a group has no events)")
        rows = [
            ("Group A", f"{c.label_a}: {r.group1.events}/{r.group1.n} = {_pct(r.group1.rate)} "
                        f"(95% CI {_pct(r.group1.low)} to {_pct(r.group1.high)}, Wilson)"),
            ("Group B", f"{c.label_b}: {r.group2.events}/{r.group2.n} = {_pct(r.group2.rate)} "
                        f"(95% CI {_pct(r.group2.low)} to {_pct(r.group2.high)}, Wilson)"),
            ("Risk difference A-B", f"{_points(r.risk_difference.value)} points (95% CI "
                                    f"{_points(r.risk_difference.low)} to {_points(r.risk_difference.high)}; Newcombe)"),
            ("Relative risk A/B", f"{rr.value:.2f} (95% CI {rr_ci}; Katz)"),
            ("NNT / NNH", r.nnt.text + (" (outcome is a harm)" if r.outcome_is_harm else "")),
            ("Fisher's exact test", _p(r.fisher_p)),
            ("Chi-square (no Yates)", _p(r.chi_square.pvalue)
             + ("; an expected count is < 5, so Fisher is the test to read" if r.chi_square.fisher_recommended else "")),
        ]
        if c.adjusted is not None:
            a = c.adjusted
            rows.append(("Adjusted difference", f"{_points(a.value)} points (95% CI {_points(a.low)} to "
                                                f"{_points(a.high)}); {c.adjusted_note}"))
        elif c.adjusted_note:
            rows.append(("Adjusted difference", c.adjusted_note))
        width = max(len(k) for k, _ in rows)
        lines += [f"{k.ljust(width)}  {v}" for k, v in rows]
    if c.baseline and baseline:
        lines += ["", f"Were the groups alike at baseline? (A = {c.label_a}, B = {c.label_b})"]
        frame = baseline_frame(c.baseline)
        body = [
            (row["characteristic"] + (f": {row['level']}" if row["level"] else ""), row["group_a"],
             row["group_b"], "-" if row["smd"] is None else f"{row['smd']:+.2f}",
             "imbalanced" if row["imbalanced"] else "")
            for row in frame.iter_rows(named=True)
        ]
        header = ("characteristic", "A", "B", "SMD", "")
        widths = [max(len(str(x[i])) for x in [header, *body]) for i in range(5)]
        for row in [header, *body]:
            lines.append("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
        if any(b.imbalanced for b in c.baseline):
            lines.append("Warning: |SMD| > 0.1 on at least one characteristic: the groups differ at "
                         "baseline, so the crude difference may be confounded"
                         + (" (see the adjusted difference)." if c.adjusted is not None
                            else "; try --adjust weighting or --adjust stratified."))
    lines += ["", f"Observational data: groups were not randomised. Definition: {c.group_a.query.description}"]
    if c.min_cell <= 1:
        lines.append("SUPPRESSION OFF (--min-cell 0): small counts are shown; do not share this output.")
    else:
        lines.append(f"Suppression: counts of 1-{c.min_cell - 1} are shown as <{c.min_cell}; "
                     "figures that would reveal them are not computed.")
        if c.group_a.meta.get("perturbation"):
            lines.append("Counts are perturbed by at most 2 (cell-key perturbation, docs/privacy.md); "
                         "rates and effect measures are computed from the counts shown.")
    return "\n".join(lines)


def as_dict(c) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    from cli.render import to_json_rows
    from queries.compare import baseline_frame

    return {
        "metric": c.metric, "summary": sentence(c), "group_a": c.label_a, "group_b": c.label_b,
        "rows_a": to_json_rows(c.group_a.frame), "rows_b": to_json_rows(c.group_b.frame),
        "comparison": c.result.to_dict() if c.result is not None else None,
        "adjusted": None if c.adjusted is None else {
            "value": c.adjusted.value, "low": c.adjusted.low, "high": c.adjusted.high,
            "method": c.adjusted.method, "note": c.adjusted_note},
        "baseline": baseline_frame(c.baseline).to_dicts(),
        "notes": c.notes, "min_cell": c.min_cell, "suppression": c.group_a.meta["suppression"],
        "adjustment_method": c.adjustment,
        "propensity": _propensity_dict(c),
    }


def _propensity_dict(c) -> dict[str, Any] | None:  # type: ignore[no-untyped-def]
    if c.propensity is None:
        return None
    from cli.compare_adjusted import as_dict as adjusted_dict

    return adjusted_dict(c.propensity)
