"""Adherence & persistence: PDC distribution, share ≥80%, KM persistence, outreach list."""

import streamlit as st

import charts
from dashboard import components, filters

f = filters.current()
st.title("Adherence & persistence")
components.filters_caption(f)
st.caption("PDC (proportion of days covered, PQA method) per patient and calendar year from pharmacy fills; "
           "adherent = PDC ≥ 80%. Persistence: days from episode start to a gap longer than the grace period.")

left, right = st.columns(2)
with left:
    by_class = components.load("adherence", f, by="drug_class", level="class")
    if by_class is not None:
        components.chart(charts.rate_bars(by_class.frame, "drug_class", "Adherent (PDC ≥ 80%) by drug class, 95% CI",
                                          axis_title="Patient-years with PDC ≥ 80% (%)"),
                         key="adherence_by_class", alt="Share adherent by class")
with right:
    bands = components.load("adherence", f, by=("drug_class", "adherence_band"), level="class")
    if bands is not None:
        components.chart(charts.distribution_bars(charts.label_bands(bands.frame.filter(bands.frame["adherence_band"].is_not_null())),
                                                  "adherence_band", "evaluable", "PDC distribution by class",
                                                  x_title="Proportion of days covered (PDC)", group="drug_class",
                                                  y_title="Patient-years"),
                         key="pdc_distribution", alt="Distribution of PDC bands by class")

by_drug = components.load("adherence", f, by="drug", level="ingredient")
if by_drug is not None:
    components.table(by_drug.frame, title="Adherence by drug", key="adherence_by_drug", formats=by_drug.formats, source=by_drug,
                     columns=["drug", "rate", "ci_low", "ci_high", "adherent", "evaluable", "patient_targets"],
                     labels={"drug": "Drug", "rate": "PDC ≥ 80% (%)", "ci_low": "95% CI low", "ci_high": "95% CI high",
                             "adherent": "Adherent", "evaluable": "Evaluable (denominator)", "patient_targets": "Patient-years with a fill"},
                     caption="Not evaluable: a single fill date, or an index fill less than 91 days before the period end.")
    components.definition(by_drug)

st.subheader("Persistence")
persistence = components.load("persistence", f, by="drug_class")
if persistence is not None:
    components.survival_section(persistence, "drug_class", key="persistence", title="Kaplan–Meier: still on treatment",
                                y_title="Still on treatment (%)", event_words="discontinued")

early = components.load("episodes", f, by="drug_class")
if early is not None:
    components.table(early.frame, title="Episodes, discontinuations and switches", key="episodes_by_class",
                     formats=early.formats, source=early, labels={"drug_class": "Drug class", "episodes": "Episodes", "patients": "Patients",
                                                    "new_user_episodes": "New users", "switched": "Switched",
                                                    "augmentations": "Augmented", "discontinued": "Discontinued"})

st.subheader("Outreach list")
with st.expander("Non-adherent patients (PDC < 80%): de-identified ids for care-team outreach", icon=":material/lock:"):
    st.warning("Patient-level list for the care team only. Ids are opaque surrogates; re-identification happens "
               "in the clinic's own system. Do not export outside the care team.", icon=":material/privacy_tip:")
    # Patient-level rows reach the browser only when asked for, and a page at a time: the
    # expander's body runs on every rerun even when it is collapsed.
    if st.toggle("Show the list", key="outreach_show"):
        outreach = components.load("outreach_list", f)
        if outreach is not None:
            components.paged_table(outreach.frame, title="Outreach list", key="outreach_list", source=outreach,
                                   labels={"patient_id": "Patient (surrogate id)", "pdc": "PDC", "covered_days": "Days covered",
                                           "denominator_days": "Days in period", "index_on": "First fill"})
components.suppression_note()
