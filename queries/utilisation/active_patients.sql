/* ---
name: active_patients
title: Patients on treatment
description: >
  Distinct patients with a treatment episode active at any time in the period (episode start on
  or before the period end and last covered day on or after the period start; an open period
  bound means no limit), and the number of such episodes. A patient on two classes counts once in
  the total and once under each class, so class rows do not sum to the total.
grain: one row per treatment episode active in the period (unit level)
columns: {}  # an episode unit's key and dimensions only (pipelines/metric_shorthand.py)
metric:
  filter_source: marts.fct_treatment_episodes
  period: {overlap: [start_on, end_on]}
  kind: count
  unit: episode
  counts:
    patients: distinct patient_id
    active_episodes: '*'
tests:
  total: >
   select count(distinct patient_id) from marts.fct_treatment_episodes
--- */
with episodes as (
    select * from filtered_source
),

final as (
    select
        episode_id,
        unnest(episode_unit_columns(episodes))
    from episodes
)

select * from final
order by episode_id
