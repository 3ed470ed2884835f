/* ---
name: weight_change_12w
title: Weight change at 12 weeks
description: >
  Mean change in weight (kg) from baseline to about 12 weeks, per episode: baseline = latest
  weight in [-90, +30] days of the episode start, follow-up = latest weight in [+56, +140] days
  (DOMAIN.md 9.4 monitoring windows). Only episodes with both weights count (completers);
  the share of episodes with 7% or more gain is given as gained_7pct (the usual clinically
  significant threshold in antipsychotic trials).
grain: one row per episode with a baseline weight (unit level)
columns:
  start_on: date
  baseline_kg: double
  followup_kg: double
  has_followup: boolean
  change_kg: num1
  is_gain_7pct: boolean
metric:
  filter_source: marts.fct_treatment_episodes
  kind: mean
  unit: episode
  value: change_kg
  counts:
    with_baseline_weight: '*'
    gained_7pct: is_gain_7pct
  fmt: num1
tests:
  expressions: [(change_kg is null) = (not has_followup)]
  total: >
   select count(distinct episode_id) from marts.fct_measurements where measure = 'weight_kg' and
   days_from_start between 56 and 140 and episode_id in (select episode_id from
   marts.fct_measurements where measure = 'weight_kg' and days_from_start between -90 and 30)
--- */
with weights as (
    select * from marts.fct_measurements
    where measure = 'weight_kg' and episode_id is not null
),

baseline as (
    select episode_id, arg_max(value, measured_on) as baseline_kg
    from weights
    where days_from_start between -90 and 30
    group by episode_id
),

followup as (
    select episode_id, arg_max(value, measured_on) as followup_kg
    from weights
    where days_from_start between 56 and 140
    group by episode_id
),

episodes as (
    select * from filtered_source
),

final as (
    select
        episodes.episode_id,
        episodes.start_on,
        unnest(episode_unit_columns(episodes)),
        baseline.baseline_kg,
        followup.followup_kg,
        followup.followup_kg is not null as has_followup,
        followup.followup_kg - baseline.baseline_kg as change_kg,
        coalesce(followup.followup_kg >= 1.07 * baseline.baseline_kg, false) as is_gain_7pct
    from episodes
    inner join baseline on episodes.episode_id = baseline.episode_id
    left join followup on episodes.episode_id = followup.episode_id
)

select * from final
order by episode_id
