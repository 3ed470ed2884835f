/* ---
name: side_effect_actions
title: What was done about side effects
description: >
  Side-effect reports dated in the period attributed to an episode of the drug class, counted by
  the action taken (none, dose_reduced, discontinued, switched, or not_recorded when the extract
  sent none), with each action's share of the class's reports. Attribution as in side_effects
  (DOMAIN.md 9.3); unattributed reports count under 'unattributed'.
grain: one row per drug_class x action
columns:
  drug_class: {type: varchar}
  action: {type: varchar}
  reports: {type: bigint, fmt: count}
  class_reports: {type: bigint, fmt: count}
  share: {type: double, fmt: pct1}
metric:
  filter_source: marts.fct_side_effect_events
  filters: [site_id, diagnosis_group, age_band, sex, drug_class, drug]
  period: report_on
  kind: table
  suppression:
    derived: {share: [reports, class_reports]}
    nested: [[reports, class_reports]]
    margins: [drug_class, action]
tests:
  unique: [drug_class, action]
  expressions: [reports <= class_reports]
--- */
with events as (
    select
        side_effect_id,
        coalesce(drug_class, 'unattributed') as drug_class,
        coalesce(action, 'not_recorded') as action
    from filtered_source
),

by_action as (
    select drug_class, action, count(distinct side_effect_id) as reports
    from events
    group by drug_class, action
),

final as (
    select
        drug_class,
        action,
        reports,
        sum(reports) over (partition by drug_class)::bigint as class_reports,
        reports / class_reports as share
    from by_action
)

select * from final
order by drug_class, action
