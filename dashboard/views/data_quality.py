"""Data & loads: load history, rejects by reason, unmapped drugs, scale completeness, definitions."""

import streamlit as st

from dashboard import components, data, filters

f = filters.current()
st.title("Data & loads")
deployment = data.deployment()
st.caption(f"De-identification mode: **{deployment.get('deid_mode', 'not recorded').replace('_', ' ')}** · "
           f"data {deployment.get('data_start', '?')} to {deployment.get('data_end', '?')} · warehouse `{data.db_path().name}`")

history = data.meta_table("load_history")
if history is not None:
    components.table(history, title="Load history", key="load_history",
                     formats={"rows_read": "count", "rows_loaded": "count", "rows_rejected": "count"})
left, right = st.columns(2)
with left:
    rejects = data.meta_table("rejects_by_reason")
    if rejects is not None:
        components.table(rejects, title="Rejected rows by reason (with example lines)", key="rejects",
                         formats={"rows": "count"}, caption="Rejected values themselves are not shown: they may hold identifiers.")
with right:
    unmapped = data.meta_table("unmapped_drugs")
    if unmapped is not None:
        components.table(unmapped, title="Drug names not mapped to an ingredient", key="unmapped_drugs",
                         formats={"rows": "count"}, caption="Add them to pipelines/reference/drug_synonyms.csv and reload.")

st.subheader("Completeness of rating scales per episode")
coverage = components.load("mbc_coverage", f, by="drug_class")
if coverage is not None:
    components.table(coverage.frame, title=f"Episodes with {f.instrument} baseline and follow-up", key="mbc_coverage",
                     formats={**coverage.formats, "rate_baseline": "pct1"},
                     labels={"rate": "Baseline and follow-up (%)", "rate_baseline": "Baseline (%)", "with_both": "With both",
                             "with_baseline": "With baseline", "episodes": "Episodes"})

st.subheader("Definitions in force")
definitions = data.meta_table("definitions")
if definitions is not None:
    components.table(definitions, title="Definition parameters used to build the marts", key="definitions",
                     caption="is_default = false marks a parameter changed from the product default (outcomes.toml).")
for name in data.catalog_names():
    query = data.describe(name)
    with st.expander(f"{query.title} (`{name}`)"):
        st.write(query.description)
        st.caption(f"Grain: {query.grain} · file `queries/{query.domain}/{query.path.name}`")
        st.code(query.sql, language="sql")
