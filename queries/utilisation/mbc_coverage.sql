/* ---
name: mbc_coverage
title: Measurement-based care coverage
description: >
  Share of treatment episodes starting in the period with both a baseline score (latest in
  [-30, +7] days of the start) and a follow-up score (latest in the preset window, default
  [+42, +112] days) of the instrument, whatever the baseline severity; the share with a baseline
  is shown beside it. Denominator: all episodes starting in the period. DOMAIN.md section 3.
grain: one row per treatment episode x instrument in the chosen preset (unit level)
columns:
  start_on: date
  has_baseline: boolean
  has_both: boolean
metric:
  filter_source: marts.fct_episode_outcomes
  scope: [instrument, preset]
  kind: proportion
  unit: episode
  counts: {episodes: '*', with_baseline: has_baseline, with_both: has_both}
  attrition: [{count: episodes}, {count: with_baseline, dropped: without_baseline}, {count: with_both, dropped: without_follow_up}]
  rates:
    - {name: rate, numerator: with_both, denominator: episodes, label: 'Episodes with a baseline and a follow-up score'}
    - {name: rate_baseline, numerator: with_baseline, denominator: episodes, label: 'Episodes with a baseline score'}
tests:
  total: >
   select count(*) from marts.fct_episode_outcomes where instrument = 'PHQ-9' and
   is_default_preset
--- */
with final as (
    select
        episode_id,
        start_on,
        unnest(episode_unit_columns(outcomes)),
        has_baseline,
        has_baseline and has_followup as has_both
    from filtered_source as outcomes
)

select * from final
order by episode_id
