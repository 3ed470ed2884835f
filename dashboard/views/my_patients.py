"""My patients: who needs a review this week, one worklist at a time (DOMAIN.md section 13).

Patient-level: shown to clinicians (their own patients) and analysts; leadership sees the
number of patients on each list only, suppressed as every count is.
"""

import streamlit as st

from charts.expected_recovery import expected_recovery_figure
from dashboard import components, data
from dashboard import worklist_data as worklists

TITLES = {
    "not-on-track": "Not on track",
    "item9-follow-up": "Item 9 without follow-up",
    "overdue-monitoring": "Overdue monitoring",
    "adherence-drop": "Adherence drop",
    "prescribing-safety": "Prescribing safety",
}
LABELS = {"patient_id": "Patient (surrogate id)", "clinician_id": "Clinician", "drug": "Drug",
          "reason": "Needs review", "facts": "Why (facts and dates)", "due_on": "Due",
          "days_overdue": "Days overdue", "clears": "What clears it", "trigger_on": "Since"}

TIMELINE_PARTS = {
    "scores": ("Scores (PHQ-9, GAD-7 and other instruments)",
               {"assessed_on": "Date", "instrument": "Instrument", "total_score": "Total",
                "item_9": "PHQ-9 item 9"}),
    "fills": ("Fills", {"filled_on": "Filled", "drug": "Drug", "days_supply": "Days' supply",
                        "cov_start_on": "Covers from", "cov_end_on": "Covers to"}),
    "measurements": ("Labs and measurements", {"measured_on": "Date", "measure": "Measure",
                                               "value": "Value"}),
    "side_effects": ("Side effects", {"report_on": "Reported", "effect_code": "Side effect",
                                      "severity": "Severity", "action": "Action",
                                      "suspected_drug": "Suspected drug"}),
}


def show_expected_recovery(recovery) -> None:  # type: ignore[no-untyped-def]
    """The latest eligible antidepressant episode's PHQ-9 change against the clinic's band."""
    if not recovery.height:
        return
    latest = recovery.filter(recovery["episode_id"] == recovery["episode_id"][-1])
    first = latest.row(0, named=True)
    band = data.metric("expected_recovery").frame
    st.plotly_chart(expected_recovery_figure(band, latest, first["baseline_severity_band"],
                                             drug=first["drug"]),
                    key="expected_recovery_chart")
    st.caption(f"{first['drug']} from {first['start_on']}, baseline PHQ-9 {first['baseline_score']}. "
               "The band is the clinic's own: its 25th-75th percentile of change by week among "
               "closed episodes of the same baseline severity, the line its median; a point above "
               "the 75th percentile is amber, above the 90th red. A week with too few episodes "
               "has no band.")


def show_timeline(timeline) -> None:  # type: ignore[no-untyped-def]
    """Scores over time as a line per instrument, then each part as a table (oldest first)."""
    st.caption(f"Patient {timeline.patient_id} (surrogate id); dates as the warehouse holds "
               "them (shifted when de-identification shifts dates).")
    if timeline.scores.height:
        st.line_chart(timeline.scores, x="assessed_on", y="total_score", color="instrument",
                      x_label="Date", y_label="Total score")
    show_expected_recovery(timeline.recovery)
    for part, (title, labels) in TIMELINE_PARTS.items():
        frame = getattr(timeline, part)
        st.markdown(f"**{title}**: {frame.height}")
        if frame.height:
            st.dataframe(frame.select(list(labels)).rename(labels), hide_index=True,
                         key=f"timeline_{part}")


st.title("My patients")
allowed, refusal = worklists.may_see_patients()
counts = worklists.worklist_counts()
if not allowed:
    st.info(refusal, icon=":material/lock:")
    st.caption("Patients on each worklist today (counts of 1-10 are hidden):")
    shown = counts.with_columns(
        counts["worklist"].replace_strict(TITLES, default=None).alias("worklist"))
    components.table(shown, title="Worklists", key="worklist_counts",
                     formats={"rows": "count"}, labels={"worklist": "Worklist", "rows": "Patients"})
    components.suppression_note()
    st.stop()

user = worklists.page_user()
if user.role == "clinician":
    st.caption(f"Your patients (clinician {user.clinician_id}). Rows name surrogate ids: keep "
               "them inside the clinic.")
else:
    st.caption("All clinicians' patients (analyst). Rows name surrogate ids: keep them inside "
               "the clinic.")

names = worklists.worklist_names()
name = st.radio("Worklist", names, horizontal=True, key="worklist_name",
                format_func=lambda n: TITLES[n])
whole = worklists.worklist(name)
left, right = st.columns(2)
with left:
    clinician = None
    if user.role == "analyst":
        clinicians = sorted({c for c in whole.frame["clinician_id"].to_list() if c})
        picked = st.selectbox("Clinician", ["All clinicians", *clinicians], key="worklist_clinician")
        clinician = None if picked == "All clinicians" else picked
with right:
    reasons = sorted(set(whole.frame["reason"].to_list()))
    chosen = st.multiselect("Needs review for", reasons, key="worklist_reasons")

first = worklists.worklist_page(name, 1, clinician_id=clinician, reasons=tuple(chosen))
as_of = whole.as_of.isoformat() if whole.as_of else "-"
st.subheader(f"{TITLES[name]}: {first.total} on {as_of}")
st.caption("Evaluated on the data end date (the sidebar's period and filters do not apply to "
           "worklists); sort by any column header.")
caution = worklists.worklist_caution(name)
if caution:
    st.warning(caution, icon=":material/info:")
page = 1
if first.pages > 1:
    page = int(st.number_input(f"Page (of {first.pages}, {worklists.PAGE_SIZE} rows each)", 1,
                               first.pages, 1, key="worklist_page"))
current = worklists.worklist_page(name, page, clinician_id=clinician, reasons=tuple(chosen))
if current.total == 0:
    st.success("Nobody on this list today.", icon=":material/check_circle:")
else:
    # a column this list never fills (no due date on not-on-track) is left out, not shown empty
    columns = [c for c in ("patient_id", "clinician_id", "drug", "reason", "due_on",
                           "days_overdue", "facts", "clears")
               if c in current.rows.columns and current.rows[c].null_count() < current.rows.height]
    st.dataframe(current.rows.select(columns).rename({c: LABELS[c] for c in columns}),
                 hide_index=True, key="worklist_rows")
    whole_list = worklists.worklist(name, clinician).frame
    st.download_button("Download this list (CSV)", whole_list.write_csv().encode(),
                       file_name=f"{name}.csv", mime="text/csv", icon=":material/download:",
                       key="worklist_csv")
    # the patients of the page shown, not of the whole list: a picker's options are all sent to
    # the browser, and a list can hold tens of thousands of ids (issue 18: a page at a time)
    patients = sorted(set(current.rows["patient_id"].drop_nulls().to_list()))
    st.subheader("Patient timeline")
    picked_patient = st.selectbox(
        "Open a patient's de-identified timeline (scores, fills, labs, side effects)", patients,
        index=None, placeholder="Choose a patient on this page of the list", key="timeline_patient")
    if picked_patient:
        try:
            shown_timeline = worklists.timeline(picked_patient)
        except worklists.AccessDenied as exc:
            st.info(str(exc), icon=":material/lock:")
        else:
            show_timeline(shown_timeline)
with st.expander("The rule"):
    st.write(whole.definition)
    st.caption("Parameters: " + ", ".join(f"{k} = {v}" for k, v in whole.parameters.items()
                                          if k != "as_of"))
