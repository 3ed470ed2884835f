"""Clinicians: each clinician's response and remission beside the clinic's, and how many of
their patients are on each worklist (DOMAIN.md 13.5). Aggregates only, suppressed as everywhere;
"insufficient data" below 30 eligible episodes. No ranks: individual comparisons need large
samples (the QI page has the funnel plot with its control limits)."""

import polars as pl
import streamlit as st

from charts.scorecards import scorecard_trend_figure
from dashboard import components, filters
from dashboard import worklist_data as worklists

MIN_EVALUABLE = 30  # DOMAIN 13.5: below this many evaluable episodes, "insufficient data"
WORKLIST_WORDS = {
    "not-on-track": "Not on track", "item9-follow-up": "Item 9 without follow-up",
    "overdue-monitoring": "Overdue monitoring", "adherence-drop": "Adherence drop",
    "prescribing-safety": "Prescribing safety",
}

f = filters.current()
st.title("Clinicians")
components.filters_caption(f)
st.caption("Each clinician's PHQ-9 response and remission among eligible episodes (baseline "
           f">= 10; a missing follow-up counts as not achieved) beside the clinic's. Fewer than "
           f"{MIN_EVALUABLE} eligible episodes read 'insufficient data'. Comparisons of individual "
           "clinicians need large samples: read these as prompts for review, never as a "
           "ranking; the Quality improvement page has the funnel plot with control limits.")
user = worklists.page_user()


def _rate(row: dict, column: str) -> str:
    eligible = row.get("eligible")
    if eligible is None or eligible < MIN_EVALUABLE:
        return "insufficient data"
    value = row.get(column)
    if value is None:
        return "suppressed"
    return f"{100 * value:.1f}% ({100 * row['ci_low']:.0f}-{100 * row['ci_high']:.0f})"


rows = []
for name, label in (("response", "Response"), ("remission", "Remission")):
    clinic = components.try_metric(name, f)
    per = components.try_metric(name, f, by="clinician_id")
    if clinic is None or per is None:
        continue
    for frame in (clinic.frame.with_columns(pl.lit("Clinic").alias("clinician_id")), per.frame):
        for index, row in enumerate(frame.to_dicts()):
            if user.role == "clinician" and row["clinician_id"] not in ("Clinic", user.clinician_id):
                continue
            hidden = components.hidden_text(frame, "eligible", index)
            rows.append({"Clinician": row["clinician_id"], "Measure": label,
                         "Eligible episodes": components.fmt(row.get("eligible"), "count",
                                                             hidden=hidden),
                         "Rate (95% CI)": _rate(row, "rate")})
if rows:
    table = pl.DataFrame(rows).pivot(on="Measure", index=["Clinician"], values="Rate (95% CI)",
                                     aggregate_function="first")
    eligible = pl.DataFrame(rows).filter(pl.col("Measure") == "Response").select(
        "Clinician", "Eligible episodes")
    table = eligible.join(table, on="Clinician", how="right").select(
        "Clinician", "Eligible episodes", *[c for c in table.columns if c != "Clinician"])
    st.subheader("Response and remission")
    st.dataframe(table, hide_index=True, key="scorecard_rates")
else:
    components.empty_note("eligible episodes")

POSITION_LABELS = {"clinician_id": "Clinician", "episodes": "Evaluable episodes",
                   "rate": "Rate (%)", "lower_95": "Clinic's 95% limits from (%)",
                   "upper_95": "to (%)", "position": "Funnel position",
                   "observed_expected": "Observed / expected (case mix)",
                   "adjusted_position": "Case-mix adjusted position"}


def show_scorecard(measure: str, label: str) -> None:
    """Each clinician's rate against the clinic's funnel limits, and one clinician's trend."""
    card = worklists.scorecard(measure, f.query_filters())
    if card.positions.is_empty():
        components.empty_note("clinicians with enough episodes for a funnel")
        return
    shown = card.positions.with_columns(
        *[(pl.col(c) * 100).round(1) for c in ("rate", "lower_95", "upper_95")],
        pl.col("observed_expected").round(2)).select(list(POSITION_LABELS))
    st.markdown(f"**{label}**: clinic rate "
                f"{'-' if card.clinic_rate is None else f'{100 * card.clinic_rate:.1f}%'}; "
                f"episodes started up to {card.end_date} (follow-up closed)")
    st.dataframe(shown.rename(POSITION_LABELS), hide_index=True, key=f"scorecard_{measure}")
    clinicians = [c for c in card.positions["clinician_id"].to_list() if c]
    if not clinicians:
        return
    chosen = clinicians[0] if len(clinicians) == 1 else st.selectbox(
        f"Trend of {label.lower()} by quarter for", clinicians, key=f"scorecard_trend_{measure}")
    st.plotly_chart(scorecard_trend_figure(card.trend, card.clinic_trend, chosen, label),
                    key=f"scorecard_trend_chart_{measure}")


st.subheader("Funnel position and trend")
st.caption(f"Each clinician's rate against the clinic's funnel limits at their number of episodes "
           "(exact binomial, 95% and 99.8%; Spiegelhalter 2005), and the case-mix adjusted "
           "observed/expected ratio (indirect standardisation over age band and diagnosis group). "
           f"Fewer than {MIN_EVALUABLE} evaluable episodes read 'insufficient data'; a clinician "
           "whose count is hidden has no position. Within limits is the expected result for most "
           "clinicians: a position outside them is a prompt to look, not a verdict.")
for measure_name, measure_label in (("response", "Response"), ("remission", "Remission")):
    show_scorecard(measure_name, measure_label)

st.subheader("Patients on each worklist")
counts = worklists.worklist_counts_by_clinician()
if user.role == "clinician":
    counts = counts.filter(pl.col("clinician_id") == user.clinician_id)
renamed = {**WORKLIST_WORDS, **{f"{k}{suffix}": f"{v}{suffix}" for k, v in WORKLIST_WORDS.items()
                                 for suffix in ("_suppressed", "_complementary")}}
components.table(counts.rename({k: v for k, v in renamed.items() if k in counts.columns}), title="Worklist counts by clinician",
                 key="worklist_counts_by_clinician",
                 formats=dict.fromkeys(WORKLIST_WORDS.values(), "count"),
                 labels={"clinician_id": "Clinician"})
components.suppression_note()
