"""Side effects: drug × effect heat map, severity mix, actions, discontinuations, weight, monitoring."""

import streamlit as st

import charts
from dashboard import components, filters

#: The heat map's ``min_severity`` parameter (the lowest severity counted) and its label.
SEVERITIES = {"mild": "Any severity", "moderate": "Moderate or severe", "severe": "Severe only"}

f = filters.current()
st.title("Side effects")
components.filters_caption(f)
st.caption("Unit: treatment episode, reports in days 0–90 after its start. An episode counts under every "
           "drug active on the report date unless the report names the suspected drug.")

overall = components.load("side_effects", f, by="drug_class")
if overall is not None:
    components.chart(
        charts.rate_bars(overall.frame, "drug_class", "Episodes with any side effect, by drug class (95% CI)",
                         axis_title="Episodes with ≥1 report (% of episodes with a visit in days 0–90)"),
        key="side_effects_by_class", alt="Share of episodes with a side effect by class",
    )
    components.definition(overall)

st.subheader("Which drug, which effect")
min_severity = st.segmented_control("Severity", list(SEVERITIES), format_func=SEVERITIES.get, default="mild",
                                    key="severity", bind="query-params") or "mild"
heat = components.load("side_effect_heatmap", f, min_severity=min_severity)
if heat is not None:
    components.chart(
        charts.heat_map(heat.frame, "drug", "effect_code", "rate",
                        f"Share of episodes with each effect ({SEVERITIES[min_severity].lower()}), of episodes on the drug",
                        value_title="Episodes (%)"),
        key="side_effect_heatmap", alt="Heat map of side-effect frequency by drug and effect",
        caption="Cells read “<11” where the count is 1–10 and “suppressed” where it is hidden so that "
                "one could not be worked out.",
    )
    components.table(heat.frame, title="Side-effect frequencies", key="side_effect_heatmap_table",
                     formats=heat.formats, source=heat, labels={"effect_code": "Effect", "numerator": "Episodes with effect",
                                                   "denominator": "Episodes (denominator)", "rate": "Share (%)"})

left, right = st.columns(2)
with left:
    severity = components.load("side_effect_severity", f)
    if severity is not None:
        components.chart(charts.stacked_shares(severity.frame, "drug_class", "severity", "share", "Severity mix of reports",
                                               categories=("mild", "moderate", "severe")),
                         key="side_effect_severity", alt="Severity mix by class")
with right:
    actions = components.load("side_effect_actions", f)
    if actions is not None:
        components.chart(charts.stacked_shares(actions.frame, "drug_class", "action", "share", "Action taken after the report",
                                               categories=("none", "dose_reduced", "switched", "discontinued")),
                         key="side_effect_actions", alt="Actions taken by class")
if actions is not None:  # tables take the full width, so every column is reachable
    components.table(actions.frame.filter(actions.frame["action"].is_in(["discontinued", "switched"])),
                     title="Discontinued or switched for side effects", key="side_effect_discontinuations",
                     formats=actions.formats, source=actions, labels={"reports": "Reports", "class_reports": "All reports in class", "share": "Share (%)"})

st.subheader("Weight and metabolic monitoring")
weight = components.load("weight_change_12w", f, by="drug")
if weight is not None:
    components.table(weight.frame, title="Weight change at 12 weeks (kg)", key="weight_change_12w", source=weight,
                     formats={**weight.formats, "mean": "num1", "sd": "num1", "ci_low": "num1", "ci_high": "num1"},
                     labels={"n": "Episodes with weights", "mean": "Mean change (kg)", "ci_low": "95% CI low",
                             "ci_high": "95% CI high", "gained_7pct": "Gained ≥7%"})
    components.definition(weight)
monitoring = components.load("metabolic_monitoring", f, by="drug_class")
if monitoring is not None:
    components.chart(charts.rate_bars(monitoring.frame, "drug_class", "Baseline glucose/HbA1c and lipids done",
                                      axis_title="Antipsychotic episodes monitored (%)"),
                     key="metabolic_monitoring", alt="Metabolic monitoring by class")
    components.definition(monitoring)
components.suppression_note()
