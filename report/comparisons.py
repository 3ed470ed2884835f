"""The meeting pack's optional "Regimen comparisons" section: propensity-score adjusted
comparisons asked for with ``outcomes report --compare METRIC:KEY=A:KEY=B``.

Each comparison covers the episodes that started up to the end of the pack's period (and at the
pack's site, when one is chosen): a regimen comparison needs every episode it can get, and one
quarter rarely holds enough. It is ``queries.compare.compare`` with ``adjust`` weighting or
matching, so the counts are suppressed as on the Compare page.

Balance first: the section states the verdict (``AdjustedComparison.trustworthy``) before
anything else. When balance or overlap was not reached it says so and shows **no** effect: a
printed pack is quoted without its caveats, so an effect that is not the answer stays out of it
(``outcomes compare ... --adjust`` still prints it, marked "for information only"). Otherwise
the love plot, the sizes and the effect in plain words (``queries.adjusted_words``) follow.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import duckdb

from queries import loader
from queries.adjusted_words import CANNOT_PROVE, METHOD_WORDS, e_value_words, effect_words
from queries.engine import FILTERS, MetricError
from report.adjusted_export import counts, effective_sizes, hidden_matched_events

ADJUSTMENTS = ("weighting", "matching")


@dataclass(frozen=True)
class ComparisonSpec:
    """One ``--compare`` value: a rate metric and the filters of groups A and B."""

    metric: str
    group_a: dict[str, str]
    group_b: dict[str, str]


@dataclass(frozen=True)
class ComparisonSection:
    spec: ComparisonSpec
    adjust: str
    comparison: Any  # queries.compare.Comparison, None when it could not be made
    note: str = ""


def _group(text: str, which: str, spec: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in text.split(","):
        key, sep, value = (part.strip() for part in pair.partition("="))
        if not sep or not key or not value:
            raise MetricError(f"--compare {spec!r}: group {which} needs KEY=VALUE, e.g. drug=sertraline")
        if key not in FILTERS:
            raise MetricError(f"--compare: unknown key {key!r}; keys are: {', '.join(FILTERS)}")
        out[key] = value
    return out


def parse_spec(text: str) -> ComparisonSpec:
    """``response:drug=sertraline:drug=escitalopram`` (a group may hold several KEY=VALUE
    joined by commas). Raises MetricError naming what is wrong."""
    parts = text.split(":")
    if len(parts) != 3 or not parts[0].strip():
        raise MetricError(f"--compare {text!r}: expected METRIC:KEY=A:KEY=B, "
                          "e.g. response:drug=sertraline:drug=escitalopram")
    metric = parts[0].strip()
    catalog = loader.catalog()
    if metric not in catalog:
        raise MetricError(f"--compare: unknown metric {metric!r}; `outcomes metrics --list` lists them")
    if catalog[metric].kind != "proportion":
        raise MetricError(f"--compare: {metric!r} is a {catalog[metric].kind} metric; the pack "
                          "compares rate metrics (e.g. response, remission, side_effects)")
    group_a, group_b = _group(parts[1], "A", text), _group(parts[2], "B", text)
    if group_a == group_b:
        raise MetricError(f"--compare {text!r}: groups A and B are the same")
    return ComparisonSpec(metric, group_a, group_b)


def comparison_section(
    con: duckdb.DuckDBPyConnection, spec: ComparisonSpec, adjust: str,
    filters: dict[str, Any], min_cell: int, trim_percentile: float | None = None,
) -> ComparisonSection:
    """Run one comparison (module docstring); a comparison that cannot be made becomes a note."""
    from queries.compare import compare

    if adjust not in ADJUSTMENTS:
        raise MetricError(f"--adjust: {adjust!r}; the pack adjusts by {' or '.join(ADJUSTMENTS)}")
    try:
        c = compare(con, spec.metric, spec.group_a, spec.group_b, filters=filters, adjust=adjust,
                    min_cell=min_cell, trim_percentile=trim_percentile)
    except MetricError as exc:
        return ComparisonSection(spec, adjust, None, note=str(exc))
    if c.propensity is None:
        return ComparisonSection(spec, adjust, c, note=c.adjusted_note or " ".join(c.notes)
                                 or "No adjusted estimate.")
    return ComparisonSection(spec, adjust, c)


# --- HTML --------------------------------------------------------------------------------------


def _e(value: object) -> str:
    return html.escape(str(value))


def _c(value: object) -> str:
    """A count (or its suppression mark) in a span the tests can find."""
    text = f"{value:,}" if isinstance(value, int) else str(value)
    return f"<span class='count'>{_e(text)}</span>"


def _sizes(c: Any) -> str:
    result = c.propensity
    a, n = result.analysis, counts(result)
    if a.method == "matching":
        text = (f"Matched pairs: {_c(n['used_a'])} (caliper 0.2 SD of the logit); unmatched: "
                f"{_c(n['unmatched_a'])} {_e(c.label_a)}, {_c(n['unmatched_b'])} {_e(c.label_b)}.")
    else:
        ess = effective_sizes(result)
        text = (f"Effective sample size (Kish): {_e(c.label_a)} {_e(ess['a'])} of "
                f"{_c(n['used_a'])} episodes, {_e(c.label_b)} {_e(ess['b'])} of {_c(n['used_b'])}.")
    if a.trim_percentile is not None:
        text += (f" Trimmed to common support (percentile {a.trim_percentile:g}): "
                 f"{_c(n['trimmed_a'])} of {_c(n['n_a'])} {_e(c.label_a)} and {_c(n['trimmed_b'])} "
                 f"of {_c(n['n_b'])} {_e(c.label_b)} episodes left out; the estimate describes "
                 "the patients who remain.")
    o = a.overlap
    return (text + f" Outside the other group's range of propensity scores: "
            f"{100 * o.outside_a:.0f}% of {_e(c.label_a)}, {100 * o.outside_b:.0f}% of {_e(c.label_b)}.")


def render_section(section: ComparisonSection, embed: Any, index: int) -> str:
    """One comparison: title, verdict, (love plot, sizes, effect) or the reason there is none."""
    from charts.adjusted import love_plot

    spec = section.spec
    c = section.comparison
    title = c.title if c is not None else spec.metric
    label_a = ", ".join(spec.group_a.values())
    label_b = ", ".join(spec.group_b.values())
    parts = [f"<section class='comparison'><h3>{_e(title)}: {_e(label_a)} (A) vs {_e(label_b)} (B)</h3>"]
    if c is None or c.propensity is None:
        parts.append(f"<p class='nodata'><b>No adjusted comparison.</b> {_e(section.note)}</p></section>")
        return "".join(parts)
    result = c.propensity
    a = result.analysis
    parts.append(f"<p class='note'>Adjusted by {_e(METHOD_WORDS.get((a.method, a.estimand), a.method))} "
                 f"over {_e(', '.join(a.covariates))}.</p>")
    if a.trustworthy:
        parts.append("<p class='verdict better'>Balance reached: every covariate is within |SMD| 0.1 "
                     "after adjustment and the groups overlap, so the effect below is the adjusted "
                     "answer (on the measured covariates).</p>")
    else:
        parts.append("<div class='verdict nodata'><b>Balance not reached: the adjustment did not make "
                     "the groups comparable, so no effect is presented as the answer.</b><ul>"
                     + "".join(f"<li>{_e(w)}</li>" for w in a.warnings) + "</ul></div>")
    parts.append(embed.html(love_plot(result.balance), f"love-{index}"))
    parts.append(f"<p class='note'>{_sizes(c)} Hollow dots: before adjustment; filled: after; "
                 "a level of 1-10 episodes is listed without a dot (suppressed).</p>")
    if not a.trustworthy:
        parts.append("<p class='effect'>Effect: not shown, because balance was not reached. "
                     "<code>outcomes compare</code> prints it marked 'for information only'.</p>")
    elif a.risks is None:
        parts.append("<p class='effect'>Effect: no estimate.</p>")
    elif hidden_matched_events(result):
        parts.append("<p class='effect'>Effect: suppressed (the matched groups hold 1-10 events "
                     "or non-events, which the adjusted rates would reveal).</p>")
    else:
        parts.append(f"<p class='effect'><b>Effect.</b> {_e(effect_words(c, result))}</p>")
        parts.append(f"<p class='note'>{_e(e_value_words(result))}</p>")
    parts.append(f"<p class='note'>{_e(CANNOT_PROVE)}</p></section>")
    return "".join(parts)


def render(sections: list[ComparisonSection], embed: Any, scope: str) -> str:
    """The whole section ("" when no comparison was asked for)."""
    if not sections:
        return ""
    return ("<h2 id='comparisons'>Regimen comparisons</h2><p class='note'>Observational comparisons "
            f"of episodes that started up to the end of the period ({_e(scope)}), adjusted by "
            "propensity score for who got which drug (docs/adjusted-comparisons.md). Balance is "
            "checked first; an effect is shown only when it was reached.</p>"
            + "".join(render_section(s, embed, i) for i, s in enumerate(sections)))
