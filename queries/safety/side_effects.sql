/* ---
name: side_effects
title: Side-effect frequency
description: >
  Numerator: episodes with at least one report of the side effect (any code when effect_code is
  null) at or above the chosen severity in [0, +90] days of the episode start, among episodes with
  a chance to report. Denominator: episodes starting in the period with at least one visit in
  [0, +90] days (DOMAIN.md 9.3); the rate over all episodes is shown beside it. A report counts for
  the suspected drug's episode when named, else for every episode active on the report date, so
  class rows do not sum to the total.
grain: one row per treatment episode (unit level)
params:
  effect_code: {type: varchar, description: 'vocabulary code (DOMAIN 9.1), e.g. weight_gain; null = any side effect'}
  min_severity: {type: varchar, default: mild, description: 'lowest severity counted: mild, moderate or severe'}
columns:
  start_on: date
  has_review: {type: boolean, description: 'a visit in [0, +90] days'}
  has_report: {type: boolean, description: 'a report of the effect at or above the severity in [0, +90] days'}
  is_reviewed_with_report: boolean
metric:
  unit: episode
  observed_rate:
    units: episodes
    denominator: {reviewed: has_review, dropped: without_review}
    numerator: with_report
    label: 'Episodes with the side effect among episodes with a visit in the window'
  counts: {with_report: is_reviewed_with_report, with_report_any: has_report}
  rates:
    - {name: rate_all_episodes, numerator: with_report_any, denominator: episodes, label: 'Episodes with the side effect among all episodes'}
tests:
  expressions: [is_reviewed_with_report <= has_report]
  total: >
   select count(*) from marts.fct_treatment_episodes where has_visit_in_side_effect_window
--- */
with episodes as (
    select *
    from marts.fct_treatment_episodes
),

reported as (
    select distinct episode_id
    from marts.fct_side_effect_episode_flags
    where
        ($effect_code is null or effect_code = $effect_code)
        and max_severity_rank >= case coalesce($min_severity, 'mild') when 'mild' then 1 when 'moderate' then 2 when 'severe' then 3 end
),

final as (
    select
        episodes.episode_id,
        episodes.start_on,
        unnest(episode_unit_columns(episodes)),
        episodes.has_visit_in_side_effect_window as has_review,
        reported.episode_id is not null as has_report,
        episodes.has_visit_in_side_effect_window and reported.episode_id is not null
            as is_reviewed_with_report
    from episodes
    left join reported on episodes.episode_id = reported.episode_id
)

select * from final
order by episode_id
