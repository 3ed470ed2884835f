"""Treatment pathways: lines 1–3 per diagnosis group, switches, augmentations, time on line."""

import polars as pl
import streamlit as st

from dashboard import charts, components, filters

f = filters.current()
st.title("Treatment pathways")
components.filters_caption(f)
st.caption("Line of therapy within a drug class: line 1 is the first ingredient of a new course, line 2 the "
           "next distinct ingredient, and so on. Switch: the previous drug stops within ±30 days of the new "
           "start; augmentation: a drug of another class added for at least 30 days.")
result = components.load("pathways", f)
if result is not None:
    frame = result.frame.filter(pl.col("line").cast(pl.String).is_in(["1", "2", "3"])) if not result.frame.is_empty() else result.frame
    frame = frame.with_columns(pl.format("Line {}", pl.col("line")).alias("line_label"),
                               pl.col("drug_class").map_elements(charts.class_label, return_dtype=pl.String).alias("class_label")) \
        if not frame.is_empty() else frame
    left, right = st.columns(2)
    with left:
        components.chart(charts.pathway_sunburst(frame, "Lines 1–3 by diagnosis group and class",
                                                 path=("diagnosis_group", "line_label", "class_label"), value="episodes"),
                         key="pathways_sunburst", alt="Sunburst of treatment lines")
    with right:
        flows = pl.DataFrame()
        if not frame.is_empty():
            first = frame.filter(pl.col("line").cast(pl.String) == "1")
            flows = pl.concat([
                first.select(pl.col("diagnosis_group").alias("source"),
                             pl.format("L1 {}", pl.col("drug_class")).alias("target"), pl.col("episodes").alias("patients")),
                first.select(pl.format("L1 {}", pl.col("drug_class")).alias("source"),
                             pl.lit("switched").alias("target"), pl.col("switched").alias("patients")),
                first.select(pl.format("L1 {}", pl.col("drug_class")).alias("source"),
                             pl.lit("augmented").alias("target"), pl.col("augmented").alias("patients")),
            ]).filter(pl.col("patients") > 0)
        components.chart(charts.pathway_sankey(flows, "First line and what happened next"),
                         key="pathways_sankey", alt="Sankey of first-line treatment, switches and augmentations",
                         caption="Flows with fewer than 11 episodes are not drawn.")
    components.table(result.frame, title="Lines of therapy", key="pathways_table", formats=result.formats,
                     labels={"diagnosis_group": "Diagnosis group", "drug_class": "Drug class", "line": "Line",
                             "episodes": "Episodes", "patients": "Patients", "switched": "Switched",
                             "augmented": "Augmented", "combined": "Combined", "median_days_on_line": "Median days on line"})
    components.definition(result)
components.suppression_note()
