/* ---
name: episodes
title: Treatment episodes
description: >
  Treatment episodes (continuous use of one ingredient: first fill or prescription start to the
  last covered day, a gap beyond the grace period, 30 days or 60 for antipsychotics, ending it)
  starting in the period, with the number of distinct patients, new-user episodes (no drug of the
  same class in the prior 105 days), switches, augmentations (a drug of another class added) and
  discontinuations observed. DOMAIN.md glossary and 5.5.
grain: one row per treatment episode (unit level)
columns:
  start_on: date
  is_new_user: boolean
  is_switch: {type: boolean, description: the episode was followed by a switch to another ingredient}
  is_augmentation: boolean
  is_discontinued: boolean
metric:
  kind: count
  unit: episode
  counts:
    episodes: '*'
    patients: distinct patient_id
    new_user_episodes: is_new_user
    switched: is_switch
    augmentations: is_augmentation
    discontinued: is_discontinued
tests:
  total: >
   select count(*) from marts.fct_treatment_episodes
--- */
with episodes as (
    select *
    from marts.fct_treatment_episodes
),

final as (
    select
        episode_id,
        start_on,
        unnest(episode_unit_columns(episodes)),
        is_new_user,
        switched_to is not null as is_switch,
        is_augmentation,
        is_discontinued
    from episodes
)

select * from final
order by episode_id
