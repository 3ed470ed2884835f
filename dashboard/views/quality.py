"""Quality improvement: a measure as a run or control chart with phases at saved interventions,
a funnel by clinician or site, the measures table, and the meeting pack download.

Three clicks from this page to a meeting pack: pick the quarter, "Prepare meeting pack",
"Download meeting pack" (the same HTML as ``outcomes report``).
"""

import datetime as dt

import streamlit as st

import charts
from dashboard import components, data, filters

f = filters.current()
st.title("Quality improvement")
st.caption("Run and control charts with the Anhøj rules (as qicharts2 and NHS 'Making Data Count'), funnels "
           "by clinician or site, and the standard measures (modelled on HEDIS/eCQM; 'enrolled' = observed in "
           "the data). Counts of 1-10 are never shown: such periods and units are left out and named.")

quarters = data.qi_period_options()
if not quarters:
    st.info("No data to report on yet.")
    st.stop()

with st.container(border=True):
    st.subheader("Meeting pack")
    left, middle, right = st.columns([2, 3, 3], vertical_alignment="bottom")
    period = left.selectbox("Quarter", quarters, key="qi_pack_period")
    if middle.button("Prepare meeting pack", key="qi_prepare", icon=":material/description:"):
        with st.spinner("Building the pack..."):
            st.session_state["qi_pack"] = (period, f.site_id, data.meeting_pack_html(period, f.site_id))
    prepared = st.session_state.get("qi_pack")
    if prepared and prepared[:2] == (period, f.site_id):
        right.download_button("Download meeting pack", data=prepared[2], file_name=f"qi-pack-{period}.html",
                              mime="text/html", key="qi_download", on_click="ignore", icon=":material/download:")
    else:
        right.caption("The pack is one HTML file that opens offline (charts included).")

st.subheader("Measures")
table = data.qi_measures_table(period, f.site_id)
components.table(
    table, title=f"Measures {period} vs the previous quarter", key="qi_measures",
    formats={"this_rate": "pct1", "previous_rate": "pct1", "target": "pct1", "this_numerator": "count",
             "this_denominator": "count", "previous_numerator": "count", "previous_denominator": "count",
             "change_pp": "num1"},
    columns=["title", "this_rate", "this_numerator", "this_denominator", "previous_rate", "change_pp",
             "target", "direction", "meets_target"],
    labels={"title": "Measure", "this_rate": "This quarter", "this_numerator": "Numerator",
            "this_denominator": "Denominator", "previous_rate": "Previous quarter", "change_pp": "Change (pp)",
            "target": "Target", "direction": "Better when", "meets_target": "Target met"},
    caption="Targets are local product defaults, not published benchmarks. 'Better when lower': APC.",
)

st.subheader("Chart a measure over time")
names = data.qi_measures()
pick, grain, kind = st.columns([3, 1, 1])
name = pick.selectbox("Measure or metric", names, key="qi_measure",
                      format_func=lambda n: data.describe(n).title)
by = grain.radio("By", ["month", "quarter"], horizontal=True, key="qi_by")
chart_kind = kind.radio("Chart", ["p", "pp", "run"], horizontal=True, key="qi_chart",
                        help="p: control chart of a proportion; pp: Laney p' for large denominators; run: median line and runs rules only")
saved = [a for a in data.qi_interventions() if a.measure in (name, "*")]
series = data.qi_series(name, by, f.site_id)
if len(series.x) < 2:
    st.info(f"Not enough {by}s to chart after suppression ({len(series.x)} shown). Try quarters or all sites.")
else:
    chart = data.qi_chart(series, chart_kind, saved)
    components.chart(charts.control_chart(chart, data.describe(name).title, [(a.on, a.label) for a in saved]),
                     key=f"qi_spc_{name}", alt=f"{chart_kind} chart of {name}")
    for sentence in chart.explanations():
        (st.warning if "signal worth" in sentence or "suggests" in sentence else st.success)(sentence)
if series.suppressed:
    st.caption(f"Left out (a count of 1-10, suppressed): {', '.join(series.suppressed)}")

with st.expander("Interventions (phases start here)", icon=":material/flag:"):
    a, b, c = st.columns([1, 2, 1], vertical_alignment="bottom")
    when = a.date_input("Date", value=dt.date.today(), key="qi_int_date")
    label = b.text_input("What changed", max_chars=80, key="qi_int_label")
    scope = c.selectbox("Applies to", [name, "*"], key="qi_int_scope",
                        format_func=lambda v: "every measure" if v == "*" else "this measure")
    if st.button("Save intervention", key="qi_int_save") and label.strip():
        data.qi_add_intervention(scope, when, label)
        st.rerun()
    for index, saved_one in enumerate(data.qi_interventions()):
        row, remove = st.columns([5, 1])
        row.write(f"{saved_one.on.isoformat()}: {saved_one.label} "
                  f"({'every measure' if saved_one.measure == '*' else saved_one.measure})")
        if remove.button("Remove", key=f"qi_int_remove_{index}"):
            data.qi_remove_intervention(saved_one)
            st.rerun()

st.subheader("Compare clinicians or sites")
unit_col, adjust_col = st.columns([2, 2])
unit = unit_col.radio("Unit", ["site_id", "clinician_id"], horizontal=True, key="qi_unit",
                      format_func=lambda v: "Sites" if v == "site_id" else "Clinicians")
adjust = adjust_col.toggle("Case-mix adjusted", key="qi_adjust",
                           help="Expected rates from baseline severity, age band and diagnosis group")
try:
    funnel = data.qi_funnel(name, unit, adjust, f.start_date, f.end_date, f.site_id)
except ValueError as exc:
    st.info(f"No funnel: {exc}")
else:
    components.chart(charts.funnel_chart(funnel, data.describe(name).title), key=f"qi_funnel_{name}",
                     alt=f"funnel of {name} by {unit}")
    if funnel.suppressed:
        st.caption(f"Suppressed (a count of 1-10), not plotted: {', '.join(funnel.suppressed)}")
components.suppression_note()
