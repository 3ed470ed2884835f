"""Treatment pathways: lines 1→2→3 (Sankey of true transitions), lines per diagnosis group, time on line."""

import polars as pl
import streamlit as st

import charts
from dashboard import components, filters

f = filters.current()
st.title("Treatment pathways")
components.filters_caption(f)
st.caption("A pathway starts at a patient's first new-user episode in the period (line 1); each later line is the "
           "next distinct drug the patient started. Switch: the previous drug stopped within ±30 days of the new "
           "start; added: started on top of a drug that continued for at least 30 days (augmentation or combination).")

transitions = components.load("pathway_transitions", f)
if transitions is not None:
    frame = transitions.frame
    flows = pl.DataFrame(schema={"source": pl.String, "target": pl.String, "patients": pl.Int64})
    if not frame.is_empty():
        def node(line, drug_class):  # type: ignore[no-untyped-def]
            return pl.format("Line {}: {}", line, drug_class.map_elements(charts.class_label, return_dtype=pl.String))
        flows = frame.select(
            node(pl.col("from_line"), pl.col("from_class")).alias("source"),
            pl.when(pl.col("to_class") == "none").then(pl.format("No line {}", pl.col("from_line") + 1))
            .otherwise(node(pl.col("from_line") + 1, pl.col("to_class"))).alias("target"),
            pl.col("patients"),
        )
    components.chart(charts.pathway_sankey(flows, "Line 1 → line 2 → line 3 (patients)"),
                     key="pathways_sankey", alt="Sankey of patients moving from line 1 to line 2 to line 3 by drug class",
                     caption="Width = patients. Flows of 1–10 patients, and flows that would reveal one, are not drawn.")
    components.table(frame, title="Moves between lines", key="pathway_transitions", formats=transitions.formats, source=transitions,
                     labels={"from_line": "From line", "from_class": "From class", "to_class": "To class",
                             "patients": "Patients", "switched": "Switched", "added": "Added on top",
                             "median_days_to_next": "Median days to next line"})
    components.definition(transitions)

result = components.load("pathways", f)
if result is not None:
    st.subheader("Lines of therapy within a class, by diagnosis group")
    frame = result.frame.filter(pl.col("line").cast(pl.String).is_in(["1", "2", "3"])) if not result.frame.is_empty() else result.frame
    if not frame.is_empty():
        frame = frame.with_columns(pl.format("Line {}", pl.col("line")).alias("line_label"),
                                   pl.col("drug_class").map_elements(charts.class_label, return_dtype=pl.String).alias("class_label"),
                                   pl.col("diagnosis_group").map_elements(charts.diagnosis_label, return_dtype=pl.String).alias("diagnosis_label"))
    components.chart(charts.pathway_sunburst(frame, "Episodes by diagnosis group, line and class",
                                             path=("diagnosis_label", "line_label", "class_label"), value="episodes"),
                     key="pathways_sunburst", alt="Sunburst of episodes by diagnosis group, line of therapy and class",
                     caption="Inner ring: diagnosis group; middle: line within the class; outer: drug class. "
                             "Segments of 1–10 episodes are left out.")
    components.table(result.frame, title="Lines of therapy", key="pathways_table", formats=result.formats, source=result,
                     labels={"diagnosis_group": "Diagnosis group", "drug_class": "Drug class", "line": "Line",
                             "episodes": "Episodes", "patients": "Patients", "switched": "Switched",
                             "augmented": "Augmented", "combined": "Combined", "median_days_on_line": "Median days on line"})
    components.definition(result)
components.suppression_note()
