/* ---
name: mbc_coverage
title: Measurement-based care coverage
description: >
  Share of treatment episodes starting in the period with both a baseline score (latest in
  [-30, +7] days of the start) and a follow-up score (latest in the preset window, default
  [+42, +112] days) of the instrument, whatever the baseline severity; the share with a baseline
  is shown beside it. Denominator: all episodes starting in the period. DOMAIN.md section 3.
grain: one row per treatment episode x instrument in the chosen preset (unit level)
params:
  instrument: {type: varchar, default: PHQ-9, description: 'instrument family (PHQ-9 includes PHQ-A; GAD-7, QIDS-SR16, MADRS, HAM-D17, YMRS)'}
  preset: {type: varchar, description: 'follow-up window preset (clinic_w6_16, hedis_drr_e, six_months, twelve_months); null = the configured default'}
columns:
  episode_id: {type: varchar}
  start_on: {type: date}
  has_baseline: {type: boolean}
  has_both: {type: boolean}
metric:
  period: start_on
  kind: proportion
  unit: episode
  date: start_on
  counts:
    episodes: '*'
    with_baseline: has_baseline
    with_both: has_both
  attrition:
    - {count: episodes}
    - {count: with_baseline, dropped: without_baseline}
    - {count: with_both, dropped: without_follow_up}
  rates:
    - {name: rate, numerator: with_both, denominator: episodes, label: 'Episodes with a baseline and a follow-up score'}
    - {name: rate_baseline, numerator: with_baseline, denominator: episodes, label: 'Episodes with a baseline score'}
tests:
  unique: [episode_id]
  expressions: [has_both <= has_baseline]
  total: >
   select count(*) from marts.fct_episode_outcomes where instrument = 'PHQ-9' and
   is_default_preset
--- */
with outcomes as (
    select *
    from marts.fct_episode_outcomes
    where
        instrument = coalesce($instrument, 'PHQ-9')
        and (preset = $preset or ($preset is null and is_default_preset))
),

final as (
    select
        episode_id,
        start_on,
        unnest(episode_unit_columns(outcomes)),
        has_baseline,
        has_baseline and has_followup as has_both
    from outcomes
)

select * from final
order by episode_id
