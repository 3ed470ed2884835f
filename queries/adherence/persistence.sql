/* ---
name: persistence
title: Persistence on treatment
description: >
  Kaplan-Meier time from episode start to discontinuation: a gap in supply longer than the grace
  period (30 days; 60 for antipsychotics), dated on the last covered day, grace not appended.
  Episodes whose supply plus grace runs past the end of the data are censored there. Median with
  95% interval (log-log) and the share still persistent at 6 and 12 months (182 and 365 days).
  Cramer 2008 (ISPOR), DOMAIN.md 5.5.
grain: one row per treatment episode (unit level)
params:
  new_users_only: {type: boolean, default: false, description: 'only new-user episodes (no drug of the class in the prior 105 days)'}
columns:
  start_on: date
  persistence_days: integer
  is_event: {type: boolean, description: discontinued (true) or censored (false)}
metric:
  kind: survival
  unit: episode
  time: persistence_days
  event: is_event
  horizons: [182, 365]
  event_label: discontinued
tests:
  expressions: [persistence_days >= 1]
  total: >
   select count(*) from marts.fct_persistence
--- */
with persistence as (
    select *
    from marts.fct_persistence
    where
        (not coalesce($new_users_only, false) or is_new_user)
),

final as (
    select
        episode_id,
        start_on,
        unnest(episode_unit_columns(persistence)),
        persistence_days,
        is_event
    from persistence
)

select * from final
order by episode_id
