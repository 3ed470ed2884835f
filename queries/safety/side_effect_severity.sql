/* ---
name: side_effect_severity
title: Side-effect reports by severity
description: >
  Side-effect reports dated in the period attributed to an episode of the drug class (suspected
  drug when named, else every active episode; DOMAIN.md 9.3), counted by severity (mild, moderate,
  severe; DOMAIN.md 9.2), with each severity's share of the class's reports. Unattributed reports
  are counted under drug_class 'unattributed', never dropped.
grain: one row per drug_class x severity
params:
  start_date: {type: date, description: first report date included (null = no lower bound)}
  end_date: {type: date, description: last report date included (null = no upper bound)}
  site_id: {type: varchar, description: site filter (null = all)}
  diagnosis_group: {type: varchar, description: diagnosis group filter (null = all)}
  age_band: {type: varchar, description: age band filter (null = all)}
  sex: {type: varchar, description: sex filter (null = all)}
  drug_class: {type: varchar, description: drug class filter (null = all)}
  drug: {type: varchar, description: ingredient filter (null = all)}
columns:
  drug_class: {type: varchar}
  severity: {type: varchar}
  reports: {type: bigint, fmt: count}
  class_reports: {type: bigint, fmt: count, description: all reports of the class}
  share: {type: double, fmt: pct1}
metric:
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
    from marts.fct_side_effect_events
    where
        ($start_date is null or report_on >= $start_date)
        and ($end_date is null or report_on <= $end_date)
        and ($site_id is null or site_id = $site_id)
        and ($diagnosis_group is null or diagnosis_group = $diagnosis_group)
        and ($age_band is null or age_band = $age_band)
        and ($sex is null or sex = $sex)
        and ($drug_class is null or drug_class = $drug_class)
        and ($drug is null or drug = $drug)
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
