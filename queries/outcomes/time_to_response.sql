/* ---
name: time_to_response
title: Time to response
description: >
  Kaplan-Meier time from episode start to the first score meeting the response rule
  (the instrument's rule from pipelines/reference/instruments.csv: 2 * score <= baseline; PCL-5 a drop of >= 10 points) among eligible episodes (baseline in [-30, +7] days at or above the
  threshold, PHQ-9 >= 10). Episodes without a response are censored at their last score after the
  start; eligible episodes with no score after the start are excluded (no time at risk observed).
  Median with 95% interval (log-log) and the share responded by 8 and 12 weeks. DOMAIN.md 3 and 7.
grain: one row per eligible episode with a score after the start (unit level)
columns:
  start_on: date
  instrument: varchar
  days_to_response: integer
  is_response_event: {type: boolean, description: true = responded on that day, false = censored}
metric:
  filter_source: marts.fct_episode_outcomes
  scope: [instrument, preset]
  kind: survival
  unit: episode
  time: days_to_response
  event: is_response_event
  horizons: [56, 84]
  event_label: responded
tests:
  expressions: [days_to_response >= 1]
  total: >
   select count(*) from marts.fct_episode_outcomes where instrument = 'PHQ-9' and
   is_default_preset and is_eligible and days_to_response is not null
--- */
with in_scope as (
    select *
    from filtered_source
    where is_eligible and days_to_response is not null
),

final as (
    select
        episode_id,
        start_on,
        unnest(episode_unit_columns(in_scope)),
        instrument,
        days_to_response,
        is_response_event
    from in_scope
)

select * from final
order by episode_id
