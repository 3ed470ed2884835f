"""Overview for clinic leadership: headline tiles, outcomes by drug class, freshness, de-id mode."""

import streamlit as st

import charts
from dashboard import components, data, filters

f = filters.current()
st.title("Overview")
components.filters_caption(f)

TILES = [
    # (metric, short tile label, full name for the (?) help, column, kind, denominator column,
    #  denominator label, higher is better). Short labels fit a quarter-width tile at 1280 px.
    ("active_patients", "Active patients", "Patients with an active episode", "patients", "count", None, "", None),
    ("episodes", "New episodes", "New-user treatment episodes", "new_user_episodes", "count", None, "", None),
    ("response", "Response", "Response rate (≥50% score drop)", "rate", "pct1", "denominator", "eligible episodes", True),
    ("remission", "Remission", "Remission rate", "rate", "pct1", "denominator", "eligible episodes", True),
    ("adherence", "Adherent", "Adherent: PDC ≥ 80%", "rate", "pct1", "denominator", "patient-years", True),
    ("side_effects", "Side effects", "Episodes with any side effect", "rate", "pct1", "denominator", "episodes with a visit", False),
    ("mbc_coverage", "Measured", "Scores at start and at follow-up (measurement-based care)", "rate", "pct1",
     "denominator", "episodes", True),
]
with st.spinner("Computing headline figures…"):
    for row_start in (0, 4):
        columns = st.columns(4)
        for column, tile in zip(columns, TILES[row_start : row_start + 4], strict=False):
            name, label, full_name, value_column, kind, den_column, den_label, better = tile
            with column:
                components.headline_tile(
                    name, label, f, column=value_column, kind=kind, denominator_column=den_column,
                    denominator_label=den_label, higher_is_better=better, full_name=full_name,
                )
st.caption("Change is against the previous period of the same length. The line is the quarterly trend up to "
           "the end of the period (quarters with a suppressed figure are left out). The (?) beside each title gives its definition.")
components.suppression_note()

st.subheader("Outcomes by drug class")
by_class = f.without("drug_class")
left, right = st.columns(2)
response = components.load("response", by_class, by="drug_class")
if response is not None:
    with left:
        components.chart(
            charts.rate_bars(response.frame, "drug_class", f"{response.title} by drug class ({f.instrument})",
                             axis_title="Response among eligible episodes (%)"),
            key="overview_response_by_class", alt="Response rate by drug class with 95% intervals",
        )
side_effects = components.load("side_effects", by_class, by="drug_class")
if side_effects is not None:
    with right:
        components.chart(
            charts.rate_bars(side_effects.frame, "drug_class", "Episodes with any side effect by drug class",
                             axis_title="Episodes with ≥1 report in days 0–90 (%)"),
            key="overview_side_effects_by_class", alt="Side-effect rate by drug class",
        )

for result in (response, side_effects):  # each rate leads to its definition, SQL and breakdown
    if result is not None:
        components.definition(result)

glance = []
for name, label in (("response", "Response"), ("remission", "Remission"), ("adherence", "Adherent (PDC ≥ 80%)"),
                    ("side_effects", "Any side effect"), ("persistence", "On treatment at 6 months")):
    result = components.try_metric(name, by_class, by="drug_class")
    if result is not None and not result.frame.is_empty():
        glance.append(components.rate_and_n(result, label))
if glance:
    merged, formats = components.side_by_side(glance, on="drug_class")
    components.table(merged, title="At a glance, by drug class", key="overview_glance", formats=formats,
                     caption="Each rate has its denominator (n) beside it: eligible episodes (response, remission), "
                             "patient-years (adherence), episodes with a visit (side effects), episodes (on treatment). "
                             "“suppressed” / “<11”: a count from 1 to 10 is involved. An episode counts under "
                             "every class taken at the same time, so classes do not sum to the total.")

st.subheader("Data")
span = filters.data_span()
last = data.last_load()
deployment = data.deployment()
mode = deployment.get("deid_mode", "not recorded")
covered = f"{span[0]:%d %b %Y} – {span[1]:%d %b %Y}" if span[0] and span[1] else "unknown"
loaded = f"{last['finished_at']:%d %b %Y %H:%M}" if last.get("finished_at") else "unknown"
st.markdown(f"**Data covers** {covered} · **Last load** {loaded} ({last.get('status', 'no load log')}) · "
            f"**De-identification mode** {mode.replace('_', ' ')}")
st.caption("Day-level dates need a limited data set (with a data use agreement) or an expert determination.")
if deployment.get("dua_reference"):
    st.caption(f"Data use agreement / determination: {deployment['dua_reference']}")
