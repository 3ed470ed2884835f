/* ---
name: side_effect_severity
title: Side-effect reports by severity
description: >
  Side-effect reports dated in the period attributed to an episode of the drug class (suspected
  drug when named, else every active episode; DOMAIN.md 9.3), counted by severity (mild, moderate,
  severe; DOMAIN.md 9.2), with each severity's share of the class's reports. Unattributed reports
  are counted under drug_class 'unattributed', never dropped.
grain: one row per drug_class x severity
columns:
  drug_class: {type: varchar}
  severity: {type: varchar}
  reports: {type: bigint, fmt: count}
  class_reports: {type: bigint, fmt: count, description: all reports of the class}
  share: {type: double, fmt: pct1}
metric:
  filter_source: marts.fct_side_effect_events
  filters: [site_id, diagnosis_group, age_band, sex, drug_class, drug]
  period: report_on
  kind: table
  suppression:
    derived: {share: [reports, class_reports]}
    nested: [[reports, class_reports]]
    margins: [drug_class, severity]
tests:
  unique: [drug_class, severity]
  expressions: [reports <= class_reports]
--- */
with events as (
    select
        side_effect_id,
        coalesce(drug_class, 'unattributed') as drug_class,
        severity
    from filtered_source
),

by_severity as (
    select drug_class, severity, count(distinct side_effect_id) as reports
    from events
    group by drug_class, severity
),

final as (
    select
        drug_class,
        severity,
        reports,
        sum(reports) over (partition by drug_class)::bigint as class_reports,
        reports / class_reports as share
    from by_severity
)

select * from final
order by drug_class, severity
