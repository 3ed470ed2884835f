"""Data & loads: load history, rejects by reason, unmapped drugs, audits, scale completeness,
definitions.

Every table comes from a ``queries/data_quality/*.sql`` file through ``data.dq_table``.
"""

import streamlit as st

from dashboard import components, data, filters

f = filters.current()
st.title("Data & loads")
deployment = data.deployment()
freshness = data.dq_table("data_freshness")
fresh = freshness.frame.row(0, named=True) if freshness is not None and freshness.frame.height else {}
st.caption(f"De-identification mode: **{deployment.get('deid_mode', 'not recorded').replace('_', ' ')}** · "
           f"data {fresh.get('data_start_on', deployment.get('data_start', '?'))} to "
           f"{fresh.get('data_end_on', deployment.get('data_end', '?'))} · warehouse `{data.db_path().name}`")
if fresh.get("days_since_data_end") is not None:
    st.caption(f"The newest data is {fresh['days_since_data_end']:,} days old (end of data from the "
               f"{fresh.get('data_end_source', 'load')}).")

history = data.dq_table("load_history")
if history is not None:
    components.table(history.frame, title="Load history", key="load_history", formats=history.formats, source=history,
                     labels={"load_id": "Load", "started_at": "Started", "finished_at": "Finished",
                             "source_kind": "Source", "software_version": "Software", "contract_version": "Contract",
                             "rows_read": "Rows read", "rows_loaded": "Rows loaded", "rows_rejected": "Rows rejected"})
# one table per row: full width, so every column is reachable
rejects = data.dq_table("rejects_by_reason")
if rejects is not None:
    if rejects.frame.is_empty():
        st.markdown("**Rejected rows by reason**")
        st.success("No rows were rejected by the loads in this warehouse.", icon=":material/check_circle:")
    else:
        components.table(rejects.frame, title="Rejected rows by reason (first line as example)", key="rejects",
                         formats=rejects.formats, source=rejects,
                         labels={"table_name": "Table", "column_name": "Column", "reason_code": "Reason",
                                 "rejected_rows": "Rows", "first_line": "First line", "example_message": "Example"},
                         caption="Rejected values themselves are not shown: they may hold identifiers.")
unmapped = data.dq_table("unmapped_drugs")
if unmapped is not None:
    if unmapped.frame.is_empty():
        st.markdown("**Drug names not mapped to an ingredient**")
        st.success("Every drug name was mapped to an ingredient.", icon=":material/check_circle:")
    else:
        components.table(unmapped.frame, title="Drug names not mapped to an ingredient", key="unmapped_drugs",
                         formats=unmapped.formats, source=unmapped, labels={"drug_as_written": "Drug as written", "affected_rows": "Rows"},
                         caption="Add them to pipelines/reference/drug_synonyms.csv and reload.")
quarantined = data.dq_table("quarantined_values")
if quarantined is not None and not quarantined.frame.is_empty():
    components.table(quarantined.frame, title="Quarantined values (count only)", key="quarantined",
                     formats=quarantined.formats, source=quarantined,
                     labels={"table_name": "Table", "column_name": "Column", "reason_code": "Reason",
                             "detector": "Detector", "quarantined_values": "Values"},
                     caption="Stored only masked. An analyst lists them with `outcomes quarantine`; "
                             "raw values only with `--reveal --extract FOLDER` (see docs/privacy.md).")

audit_results = data.dq_table("audit_results")
if audit_results is not None and audit_results.frame.height:
    st.subheader("Audits at the latest load")
    frame = audit_results.frame
    statuses = frame.get_column("status").to_list()
    st.caption(f"{len(statuses)} audits checked the warehouse built by load "
               f"`{frame.get_column('load_id')[0]}`: {statuses.count('pass')} passed, "
               f"{statuses.count('fail')} warned, {statuses.count('skipped')} skipped. An audit at "
               "error level that fails refuses the load, so the previous warehouse stays live.")
    warnings = frame.filter(frame.get_column("status") != "pass")
    if warnings.is_empty():
        st.success("Every audit passed.", icon=":material/check_circle:")
    else:
        components.table(warnings, title="Audits that warned", key="audit_results",
                         formats=audit_results.formats,
                         columns=["audit", "model", "category", "offending_rows", "description"],
                         labels={"audit": "Audit", "model": "Checks", "category": "Kahn category",
                                 "offending_rows": "Rows", "description": "Rule"},
                         caption="Counts of source records; the offending values are not shown.")

st.subheader("Completeness of rating scales")
completeness = data.dq_table("scale_completeness")
if completeness is not None:
    components.table(completeness.frame, title="Scores per instrument and episodes with a baseline and follow-up",
                     key="scale_completeness", formats=completeness.formats, source=completeness,
                     labels={"scores_in_episode": "Scores during an episode", "episodes_with_baseline": "Episodes with a baseline",
                             "episodes_with_both": "Episodes with baseline and follow-up",
                             "share_in_episode": "Scores during an episode (%)", "share_with_baseline": "Episodes with a baseline (%)"},
                     caption="Whole warehouse, all periods. Episodes: treatment episodes of patients with this instrument.")
coverage = components.load("mbc_coverage", f, by="drug_class")
if coverage is not None:
    components.table(coverage.frame, title=f"Episodes in the period with a {f.instrument} baseline and follow-up, by class",
                     key="mbc_coverage", formats={**coverage.formats, "rate_baseline": "pct1"},
                     columns=["drug_class", "episodes", "with_baseline", "with_both", "rate_baseline", "rate"],
                     labels={"rate": "Baseline and follow-up (%)", "rate_baseline": "Baseline (%)", "with_both": "With both",
                             "with_baseline": "With baseline", "episodes": "Episodes"})

st.subheader("Definitions in force")
definitions = data.dq_table("definitions_in_force")
if definitions is not None:
    components.table(definitions.frame, title="Definition parameters used to build the marts", key="definitions",
                     labels={"key": "Parameter", "value": "Value", "is_default": "Product default"},
                     caption="Product default = false marks a parameter changed in outcomes.toml.")
st.subheader("Metric definitions")
st.caption("Every number in the dashboard comes from one SQL file; pick one to read its definition and code.")
# One picker, not an expander per metric: each expander held a highlighted code block, so the page
# loaded Streamlit's syntax highlighter and laid out every metric's SQL (41 files) on every visit.
titles = {name: f"{data.describe(name).title} ({name})" for name in data.catalog_names()}
picked = st.selectbox("Metric", list(titles), index=None, format_func=titles.get,
                      placeholder="Pick a metric", key="dq_metric_definition")
if picked is not None:
    query = data.describe(picked)
    st.write(query.description)
    st.caption(f"Grain: {query.grain} · file `queries/{query.domain}/{query.path.name}`")
    if st.toggle("Show the SQL", key="dq_metric_sql"):
        st.code(query.sql, language="sql")
components.suppression_note()
