"""Side-by-side comparison of 2–4 groups for the Compare view (re-exported by ``dashboard.data``).

Every figure starts from the *suppressed* aggregates of ``queries.metric`` and the statistics of
``stats.inference`` / ``stats.effects``; a group whose numerator or denominator is hidden gets
no effect estimate, so no comparison can reveal a small cell. Hidden cells read as everywhere
(``stats.suppression.hidden_labels``): "<11" for a count that is itself 1–10, "suppressed" for a
count hidden to protect another and for every rate, difference or mean.

Definitions (DOMAIN.md section 7): the first group picked is the reference. Risk difference =
p(group) − p(reference) with Newcombe's hybrid-score 95% interval; relative risk with Katz's
interval; NNT/NNH from the Newcombe limits (Altman's "NNTB a to ∞ to NNTH b" when the interval
spans 0); p-value from Fisher's exact test when any expected count is below 5, otherwise
Pearson's χ² without continuity correction. Baseline balance: standardised mean differences
(Austin 2009), |SMD| > 0.1 flags an imbalance.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from stats import effects, inference
from stats.suppression import SUPPRESSED_WORD, hidden_labels

SMD_IMBALANCE = 0.1


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"


#: How many groups the Compare view picks before the user picks: the two largest.
DEFAULT_GROUPS = 2


def candidate_groups(response: pl.DataFrame, level: str) -> list[str]:
    """The groups the Compare view offers, largest first (``episodes`` of the response metric by
    ``level``; a group whose count is hidden is not offered); the first ``DEFAULT_GROUPS`` are
    the default."""
    if response.is_empty():
        return []
    return (response.filter(pl.col("episodes").is_not_null()).sort("episodes", descending=True)[level]
            .cast(pl.String).to_list())


def compare_groups(
    frame: pl.DataFrame,
    level: str,
    groups: list[str],
    *,
    numerator: str = "numerator",
    denominator: str = "denominator",
    outcome_is_harm: bool = False,
    min_cell: int = 11,
) -> pl.DataFrame:
    """One row per picked group: rate with CI and, against the reference, RD, RR, NNT, p."""
    rows: list[dict[str, Any]] = []
    by_group = {str(r[level]): (i, r) for i, r in enumerate(frame.iter_rows(named=True))} if level in frame.columns else {}
    count_labels = {column: hidden_labels(frame, column, min_cell) if column in frame.columns else [None] * frame.height
                    for column in (numerator, denominator)}
    reference = by_group.get(groups[0], (0, None))[1] if groups else None
    for i, group in enumerate(groups):
        index, row = by_group.get(group, (0, None))
        out: dict[str, Any] = {"group": group, "role": "reference" if i == 0 else "compared"}
        if row is None:
            rows.append({**out, "rate": "no episodes", "n": "0"})
            continue
        a, n1 = row.get(numerator), row.get(denominator)
        out["n"] = (count_labels[denominator][index] or SUPPRESSED_WORD) if n1 is None else f"{int(n1):,}"
        out["events"] = (count_labels[numerator][index] or SUPPRESSED_WORD) if a is None else f"{int(a):,}"
        out["rate"] = SUPPRESSED_WORD if row.get("rate") is None else (
            f"{_pct(row['rate'])} ({_pct(row.get('ci_low'))} to {_pct(row.get('ci_high'))})")
        if i > 0 and reference is not None:
            c, n2 = reference.get(numerator), reference.get(denominator)
            if None in (a, n1, c, n2) or not n1 or not n2:
                out["difference"] = SUPPRESSED_WORD
            else:
                result = inference.compare_proportions(int(a), int(n1), int(c), int(n2), outcome_is_harm=outcome_is_harm)
                rd = result.risk_difference
                out["difference"] = f"{100 * rd.value:+.1f} pp ({100 * rd.low:+.1f} to {100 * rd.high:+.1f})"
                rr = result.relative_risk
                out["relative_risk"] = "–" if rr.low is None else f"{rr.value:.2f} ({rr.low:.2f} to {rr.high:.2f})"
                out["nnt"] = result.nnt.text
                out["p_value"] = f"{result.recommended_p:.3g} ({'Fisher' if result.recommended_test == 'fisher' else 'χ²'})"
        rows.append(out)
    columns = ["group", "role", "rate", "events", "n", "difference", "relative_risk", "nnt", "p_value"]
    return pl.DataFrame(
        [{c: r.get(c, "") for c in columns} for r in rows], schema=dict.fromkeys(columns, pl.String)
    )


def baseline_balance(tables: dict[str, pl.DataFrame]) -> tuple[pl.DataFrame, bool]:
    """Baseline table of picked groups (columns = groups) with the SMD of each vs the first.

    ``tables`` maps group -> ``baseline_characteristics`` frame (characteristic, level, n, mean,
    sd, proportion). Returns the table and whether any |SMD| exceeds 0.1.
    """
    groups = list(tables)
    if len(groups) < 2:
        return pl.DataFrame(), False
    keyed: dict[str, dict[tuple[str, str], dict[str, Any]]] = {
        g: {(str(r["characteristic"]), str(r.get("level") or "")): r for r in t.iter_rows(named=True)}
        for g, t in tables.items()
    }
    keys = list(dict.fromkeys(k for g in groups for k in keyed[g]))
    rows, imbalanced = [], False
    for key in keys:
        row: dict[str, str] = {"characteristic": key[0].replace("_", " "), "level": key[1]}
        ref = keyed[groups[0]].get(key)
        for g in groups:
            cell = keyed[g].get(key)
            row[g] = _describe(cell)
        for g in groups[1:]:
            smd = _smd(ref, keyed[g].get(key))
            row[f"SMD {g}"] = "–" if smd is None else f"{smd:+.2f}"
            imbalanced = imbalanced or (smd is not None and abs(smd) > SMD_IMBALANCE)
        rows.append(row)
    return pl.DataFrame(rows, schema=dict.fromkeys(rows[0], pl.String)) if rows else pl.DataFrame(), imbalanced


def _describe(cell: dict[str, Any] | None) -> str:
    if cell is None:
        return "–"
    if cell.get("proportion") is not None:
        return f"{100 * cell['proportion']:.1f}%"
    if cell.get("mean") is not None:
        sd = cell.get("sd")
        return f"{cell['mean']:.1f} (SD {sd:.1f})" if sd is not None else f"{cell['mean']:.1f}"
    return SUPPRESSED_WORD  # a hidden proportion or mean is a derived figure


def _smd(ref: dict[str, Any] | None, other: dict[str, Any] | None) -> float | None:
    if ref is None or other is None:
        return None
    if ref.get("proportion") is not None and other.get("proportion") is not None:
        return effects._binary_smd(other["proportion"], ref["proportion"])
    if None not in (ref.get("mean"), ref.get("sd"), other.get("mean"), other.get("sd")):
        return effects.standardised_mean_difference_from_summary(other["mean"], other["sd"], ref["mean"], ref["sd"])
    return None


def adjusted_summary(c: Any) -> dict[str, Any]:
    """What the Compare page shows of an adjusted ``queries.compare.Comparison``: the balance
    verdict (``trustworthy``, ``warnings``), the effective sample size / matched-pairs line,
    the effect and E-value sentences and the caveat (``queries.adjusted_words``)."""
    from queries.adjusted_words import CANNOT_PROVE, METHOD_WORDS, e_value_words, effect_words

    result = c.propensity
    a = result.analysis
    counts, min_cell = result.counts, result.min_cell

    def count(column: str) -> str:
        value = counts[column][0]
        return hidden_labels(counts, column, min_cell)[0] or SUPPRESSED_WORD if value is None else f"{int(value):,}"

    if a.method == "matching":
        size = (f"Matched pairs: {count('used_a')}; unmatched: {count('unmatched_a')} of "
                f"{c.label_a}, {count('unmatched_b')} of {c.label_b}.")
    else:
        size = (f"Effective sample size (Kish): {c.label_a} {a.ess_a:,.0f} of {count('used_a')} "
                f"episodes, {c.label_b} {a.ess_b:,.0f} of {count('used_b')}.")
    if a.trim_percentile is not None:
        size += (f" Trimmed to common support: {count('trimmed_a')} {c.label_a} and "
                 f"{count('trimmed_b')} {c.label_b} episodes left out.")
    return {
        "method": METHOD_WORDS.get((a.method, a.estimand), a.method),
        "trustworthy": a.trustworthy, "warnings": list(a.warnings), "size": size,
        "effect": effect_words(c, result) if a.risks is not None else "No effect estimate.",
        "e_value": e_value_words(result) if a.risks is not None else "",
        "cannot_prove": CANNOT_PROVE, "balance": result.balance, "histogram": result.histogram,
    }
