"""HTML of the meeting pack: inline CSS, system fonts, plotly.js inlined once, no network."""

from __future__ import annotations

import html
from typing import Any

import plotly.graph_objects as go

from charts import qi as figures
from report import comparisons as compared
from report.pack import Pack
from stats.suppression import mark

CSS = """
body { font-family: system-ui, -apple-system, 'Segoe UI', Arial, sans-serif; margin: 2rem auto;
       max-width: 1100px; color: #222; line-height: 1.45; padding: 0 1rem; }
h1 { font-size: 1.7rem; margin-bottom: .2rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #ccc; }
h3 { margin-bottom: .3rem; } .sub { color: #555; } table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #ccc; padding: .3rem .5rem; text-align: right; font-size: .9rem; }
th:first-child, td:first-child { text-align: left; } th { background: #f3f3f3; }
.better { color: #006e4f; font-weight: 600; } .worse { color: #b34700; font-weight: 600; }
.note { color: #555; font-size: .9rem; } .signal { margin: .2rem 0; }
section.chart { page-break-inside: avoid; } code { background: #f3f3f3; padding: 0 .2rem; } .nodata { background: #fff4e5; border-left: 4px solid #e69f00; padding: .6rem 1rem; }
"""


def _e(value: object) -> str:
    return html.escape(str(value))


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _count(value: object, hidden: bool, min_cell: int) -> str:
    if hidden:
        return mark(min_cell)
    return "-" if value is None else f"{int(value):,}"  # type: ignore[call-overload]


def _rate(row: dict[str, Any], prefix: str, min_cell: int) -> str:
    if row[f"{prefix}_rate_suppressed"] or row[f"{prefix}_numerator_suppressed"]:
        return "suppressed (1-10)"
    rate = row[f"{prefix}_rate"]
    if rate is None:
        return "no data"
    numerator = _count(row[f"{prefix}_numerator"], False, min_cell)
    denominator = _count(row[f"{prefix}_denominator"], row[f"{prefix}_denominator_suppressed"], min_cell)
    return f"{_pct(rate)} ({numerator}/{denominator})"


def measures_table(pack: Pack) -> str:
    rows = []
    for row in pack.measures.iter_rows(named=True):
        change = row["change_pp"]
        better = None if change is None else (change < 0) == (row["direction"] == "lower")
        css = "" if change in (None, 0) else (' class="better"' if better else ' class="worse"')
        met = {True: "met", False: "not met", None: "-"}[row["meets_target"]]
        rows.append(
            f"<tr><td>{_e(row['title'])}<br><code>{_e(row['measure'])}</code></td>"
            f"<td>{_rate(row, 'this', pack.min_cell)}</td><td>{_rate(row, 'previous', pack.min_cell)}</td>"
            f"<td{css}>{'-' if change is None else f'{change:+.1f} pp'}</td>"
            f"<td>{_pct(row['target'])} ({'lower' if row['direction'] == 'lower' else 'higher'} is better)</td>"
            f"<td>{met}</td></tr>"
        )
    return (
        f"<table><thead><tr><th>Measure</th><th>{_e(pack.period.label)}</th>"
        f"<th>{_e(pack.previous.label)}</th><th>Change</th><th>Target</th><th>Status</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def top_changes(pack: Pack) -> str:
    if pack.top_changes.is_empty():
        return "<p class='note'>No change can be shown (rates missing or suppressed in one of the periods).</p>"
    items = [
        f"<li><b>{_e(r['title'])}</b>: {r['change_pp']:+.1f} percentage points "
        f"({_pct(r['previous_rate'])} to {_pct(r['this_rate'])}), "
        f"<span class='{'better' if r['better'] else 'worse'}'>{'better' if r['better'] else 'worse'}</span></li>"
        for r in pack.top_changes.iter_rows(named=True)
    ]
    return "<ol>" + "".join(items) + "</ol><p class='note'>A change between two periods may be noise; the control charts below say whether it is a signal.</p>"


class _Figures:
    """Embeds each figure; plotly.js goes inline with the first one only."""

    def __init__(self) -> None:
        self.first = True

    def html(self, fig: go.Figure, div_id: str) -> str:
        snippet = fig.to_html(full_html=False, include_plotlyjs=self.first, div_id=div_id,
                              config={"displayModeBar": False, "displaylogo": False, "responsive": True})
        self.first = False
        return snippet


def charts(pack: Pack, embed: _Figures) -> str:
    parts = []
    for section in pack.charts:
        parts.append(f"<section class='chart'><h3>{_e(section.title)}</h3>")
        if section.chart is None:
            parts.append(f"<p class='note'>{_e(section.note)}</p>")
        else:
            marks = [(a.on, a.label) for a in section.annotations]
            parts.append(embed.html(figures.control_chart(section.chart, section.title, marks), f"spc-{section.name}"))
            parts += [f"<p class='signal'>{_e(s)}</p>" for s in section.explanations]
        if section.annotations:
            parts.append("<p class='note'>Interventions: " + "; ".join(
                f"{a.on.isoformat()} {_e(a.label)}" for a in section.annotations) + "</p>")
        if section.suppressed:
            parts.append(f"<p class='note'>Left out (a count of 1-{pack.min_cell - 1}, suppressed): "
                         f"{_e(', '.join(section.suppressed))}</p>")
        parts.append("</section>")
    return "".join(parts)


def funnels(pack: Pack, embed: _Figures) -> str:
    parts = []
    for section in pack.funnels:
        parts.append(f"<section class='chart'><h3>{_e(section.title)}</h3>")
        if section.funnel is None:
            parts.append(f"<p class='note'>No funnel: {_e(section.note)}</p>")
        else:
            parts.append(embed.html(figures.funnel_chart(section.funnel, section.title), f"funnel-{section.name}"))
            flagged = [u for u in section.funnel.result.units if str(u["flag"]).startswith(("above", "below"))]
            parts += [f"<p class='signal'>{_e(u['unit'])} is {_e(u['flag'])} limits.</p>" for u in flagged]
            if not flagged:
                parts.append("<p class='signal'>Every unit shown lies within the 95% limits: no unit stands out.</p>")
            if section.funnel.suppressed:
                parts.append(f"<p class='note'>Suppressed (1-{pack.min_cell - 1}), not plotted: "
                             f"{_e(', '.join(section.funnel.suppressed))}</p>")
        parts.append("</section>")
    return "".join(parts)


def worklists(pack: Pack) -> str:
    """Patients on each worklist: counts only, hidden ones read ``<11``; never a patient id."""
    if not pack.worklists:
        return "<p class='note'>No worklist counts in this pack.</p>"
    rows = "".join(
        f"<tr><td>{_e(w.title)}<br><code>{_e(w.name)}</code></td>"
        f"<td>{_e(_count(w.patients, w.hidden, pack.min_cell))}</td></tr>"
        for w in pack.worklists
    )
    scope = f"site {pack.site}" if pack.site else "all sites"
    as_of = pack.worklists_as_of.isoformat() if pack.worklists_as_of else "the data end date"
    return (
        f"<table id='worklist-counts'><thead><tr><th>Worklist</th><th>Patients listed on "
        f"{_e(as_of)}</th></tr></thead><tbody>{rows}</tbody></table>"
        f"<p class='note'>Distinct patients on each list on {_e(as_of)} ({_e(scope)}); a patient "
        "can be on several lists. Counts only: the lists themselves (with surrogate ids) are on "
        "the dashboard's My patients page for clinicians and analysts. Counts from 1 to "
        f"{pack.min_cell - 1} are hidden ({_e(mark(pack.min_cell))}); these counts are exact, "
        "not perturbed, as on the My patients page.</p>"
    )


def definitions(pack: Pack) -> str:
    measure_rows = "".join(
        f"<tr><td><code>{_e(row['measure'])}</code></td><td style='text-align:left'>"
        f"{_e(_description(row['measure']))}</td></tr>"
        for row in pack.measures.iter_rows(named=True)
    )
    parameter_rows = "".join(
        f"<tr><td><code>{_e(d['key'])}</code></td><td>{_e(d['value'])}</td>"
        f"<td>{'default' if d['is_default'] else 'changed from default'}</td></tr>"
        for d in pack.definitions
    )
    return (
        f"<table><thead><tr><th>Measure</th><th>Definition</th></tr></thead><tbody>{measure_rows}</tbody></table>"
        "<h3>Definition parameters used to build the warehouse</h3>"
        + (f"<table><thead><tr><th>Parameter</th><th>Value</th><th></th></tr></thead><tbody>{parameter_rows}</tbody></table>"
           if parameter_rows else "<p class='note'>meta.definitions is empty in this warehouse.</p>")
    )


def _description(name: str) -> str:
    import queries

    return queries.describe(name).description


def has_data(pack: Pack) -> bool:
    """Whether any measure has a denominator in the period (a hidden one counts as data)."""
    frame = pack.measures
    if frame.is_empty():
        return False
    shown = frame.get_column("this_denominator").fill_null(0).cast(int).sum() > 0
    hidden = bool(frame.get_column("this_denominator_suppressed").fill_null(False).any())
    return shown or hidden


def no_data_notice(pack: Pack, scope: str) -> str:
    """An explicit page-top statement when the period (or site) has no data at all, so an empty
    pack reads as "no data", not as a clinic whose every measure fell to nothing."""
    if has_data(pack):
        return ""
    start, end = pack.data_span
    return (
        f"<p class='nodata'><b>No data for {_e(pack.period.label)} ({_e(scope)}).</b> No episode or "
        f"visit in the warehouse falls in this period for this scope; the data run from {_e(start)} "
        f"to {_e(end)}. Choose a period inside that span.</p>"
    )


def render_html(pack: Pack) -> str:
    embed = _Figures()
    start, end = pack.data_span
    scope = f"site {pack.site}" if pack.site else "all sites"
    mode = pack.deployment.get("deid_mode", "not recorded")
    body = (
        f"<h1>Quality improvement meeting pack: {_e(pack.period.label)}</h1>"
        f"<p class='sub'>{_e(scope)}; compared with {_e(pack.previous.label)}. Data from {_e(start)} to {_e(end)} "
        f"(de-identification mode: {_e(mode)}). Generated {_e(pack.generated_at)} by psych-outcomes.</p>"
        f"<p class='note'><b>Small-cell suppression:</b> counts from 1 to {pack.min_cell - 1} are hidden "
        f"(shown as {_e(mark(pack.min_cell))}), threshold {pack.min_cell}; {_e(pack.suppression_method)}.</p>"
        + no_data_notice(pack, scope)
        + "<h2 id='measures'>Measures</h2>" + measures_table(pack)
        + "<p class='note'>Measures are modelled on HEDIS/eCQM specifications; 'enrolled' means observed in "
          "the data. Targets are local product defaults, not published benchmarks.</p>"
        + "<h2 id='changes'>Top changes since the last period</h2>" + top_changes(pack)
        + "<h2 id='control-charts'>Control charts</h2><p class='note'>Monthly, up to the end of the period. "
          "Vermilion diamonds: outside the control limits (special cause). Orange squares: part of an "
          "unusually long run or too few crossings (Anhøj rules). Dashed vertical lines: interventions "
          "(a new phase with its own limits).</p>" + charts(pack, embed)
        + "<h2 id='funnels'>Funnel plots</h2><p class='note'>The 12 months ending with the period. Each unit against the overall rate in those months; "
          "outside 99.8% limits is a signal worth a look, not a verdict. Units under 20 are "
          "'insufficient data'.</p>" + funnels(pack, embed)
        + "<h2 id='worklists'>Worklists</h2>" + worklists(pack)
        + compared.render(pack.comparisons, embed, scope)
        + "<h2 id='definitions'>Definitions in force</h2>" + definitions(pack)
    )
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>QI meeting pack {_e(pack.period.label)}</title>"
        f"<meta name='viewport' content='width=device-width, initial-scale=1'><style>{CSS}</style></head>"
        f"<body>{body}</body></html>"
    )
