"""Clinicians: each clinician's response and remission beside the clinic's, and how many of
their patients are on each worklist (DOMAIN.md 13.5). Aggregates only, suppressed as everywhere;
"insufficient data" below 30 eligible episodes. No ranks: individual comparisons need large
samples (the QI page has the funnel plot with its control limits)."""

import polars as pl
import streamlit as st

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
