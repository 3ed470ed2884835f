"""Response & remission: rates with Wilson intervals and attrition, trajectories, time to response."""

import streamlit as st

import charts
from dashboard import components, data, filters

LEVELS = {"drug_class": "Drug class", "drug_subclass": "Subclass", "drug": "Drug", "regimen": "Regimen"}
ATTRITION = {
    "episodes": "Episodes", "without_baseline": "No baseline", "ineligible_baseline": "Baseline below threshold",
    "eligible": "Eligible", "without_follow_up": "No follow-up", "assessed": "Evaluable (assessed)",
}

f = filters.current()
st.title("Response & remission")
components.filters_caption(f)
level = st.segmented_control("Group by", list(LEVELS), format_func=LEVELS.get, default="drug_class",
                             key="response_level", bind="query-params") or "drug_class"

st.caption("Eligible: episodes with a baseline score at or above the threshold. Missing follow-up counts as "
           "not achieved. Classes overlap: an episode taken with a drug of another class counts under both.")
for name, outcome, numerator in (("response", "Response", "responders"), ("remission", "Remission", "remitters")):
    result = components.load(name, f, by=level)
    if result is None:
        continue
    st.subheader(f"{outcome} by {LEVELS[level].lower()} ({f.instrument})")
    reasons = data.not_defined_reasons(result.frame)
    if reasons:
        st.info(f"{outcome} is not defined for {f.instrument}: {'; '.join(reasons)}. "
                "No rate is shown (it would not be 0, it has no rule).")
        continue
    frame = result.frame.head(25) if level in ("drug", "regimen") else result.frame
    components.chart(
        charts.rate_bars(frame, level, f"{result.title}: share of eligible episodes, 95% Wilson CI",
                         colour_by="drug_class" if "drug_class" in frame.columns else None,
                         axis_title=f"{outcome} among eligible episodes (%)"),
        key=f"{name}_by_{level}", alt=f"{outcome} rate by {LEVELS[level]}",
    )
    columns = [level, "rate", "ci_low", "ci_high", numerator, "denominator", *ATTRITION, "rate_assessed"]
    components.table(
        result.frame, title=f"{outcome}: rates, denominators and attrition", key=f"{name}_table_{level}",
        formats={**result.formats, "rate_assessed": "pct1"}, columns=columns,
        labels={level: LEVELS[level], "rate": f"{outcome} (% of eligible)", "ci_low": "95% CI low",
                "ci_high": "95% CI high", numerator: "Achieved", "denominator": "Eligible (denominator)",
                "rate_assessed": f"{outcome} among assessed (completers, %)", **ATTRITION},
        caption="Attrition: episodes → with a baseline in days −30…+7 → baseline at or above the threshold "
                "(eligible) → with a follow-up score in the window (assessed). Missing follow-up counts as not achieved.",
    )
    components.definition(result)
components.suppression_note()

st.subheader("Mean score by week since start")
trajectory = components.load("score_trajectory", f)
if trajectory is not None:
    components.chart(
        charts.trajectories(trajectory.frame, "drug_class", f"Mean {f.instrument} score by week, 95% CI",
                            week="week_since_start", mean="mean_score", sd="sd_score", n="n",
                            y_title=f"Mean {f.instrument} total"),
        key="score_trajectory", alt="Mean score trajectories by drug class",
        caption="Weeks with fewer than 11 scores in a class are not drawn.",
    )

left, right = st.columns(2)
with left:
    st.subheader("Time to response")
    ttr = components.load("time_to_response", f, by="drug_class")
    if ttr is not None:
        components.survival_section(ttr, "drug_class", key="time_to_response",
                                    title="Kaplan–Meier: still without response", y_title="Not yet responded (%)",
                                    event_words="responded")
with right:
    st.subheader("Response by adherence (PDC, first 84 days)")
    by_band = components.load("response", f, by="adherence_band")
    if by_band is not None:
        components.chart(
            charts.rate_bars(charts.label_bands(by_band.frame), "adherence_band", "Response by adherence band, 95% CI",
                             axis_title="Response among eligible episodes (%)"),
            key="response_by_adherence", alt="Response rate by adherence band",
        )
