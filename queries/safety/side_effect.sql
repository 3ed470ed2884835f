/* ---
title: Side-effect reports of a drug class, counted by one attribute
description: >
  Side-effect reports dated in the period attributed to an episode of the drug class (suspected
  drug when named, else every active episode; DOMAIN.md 9.3), with each value's share of the
  class's reports. Unattributed reports are counted under drug_class 'unattributed', never dropped
grain: one row per drug_class x $counted_by
columns:
  drug_class: varchar
  reports: count
  class_reports: {type: bigint, fmt: count, description: all reports of the class}
  share: pct1
  $counted_by: {type: varchar}
metric:
  filter_source: marts.fct_side_effect_events
  filters: [site_id, diagnosis_group, age_band, sex, drug_class, drug]
  period: report_on
  kind: table
  suppression:
    derived: {share: [reports, class_reports]}
    nested: [[reports, class_reports]]
    margins: [drug_class, $counted_by]
tests:
  unique: [drug_class, $counted_by]
  expressions: [reports <= class_reports]
# The same count by action taken or by severity: each variant is a catalogue entry of its own,
# its attribute fixed by the constant counted_by ($counted_by above), and returns only the
# columns it declares.
variants:
  side_effect_actions:
    title: What was done about side effects
    description: Counted by the action taken (none, dose_reduced, discontinued, switched, or not_recorded when the extract sent none)
    constants: {counted_by: action}
  side_effect_severity:
    title: Side-effect reports by severity
    description: Counted by severity (mild, moderate, severe; DOMAIN.md 9.2)
    constants: {counted_by: severity}
--- */
with events as (
    select
        side_effect_id,
        coalesce(drug_class, 'unattributed') as drug_class,
        -- the attribute not counted is null, so it neither splits the groups nor is returned
        case when $counted_by = 'action' then coalesce(action, 'not_recorded') end as action,
        case when $counted_by = 'severity' then severity end as severity
    from filtered_source
),

counted as (
    select drug_class, action, severity, count(distinct side_effect_id) as reports
    from events
    group by drug_class, action, severity
),

final as (
    select
        drug_class,
        action,
        severity,
        reports,
        sum(reports) over (partition by drug_class)::bigint as class_reports,
        reports / class_reports as share
    from counted
)

select * from final
order by drug_class, action, severity
