/* ---
name: fct_persistence
grain: one row per episode
unique_key: [episode_id]
description: >
  Persistence (DOMAIN 5.5): the time from the episode start to discontinuation, a gap beyond the
  grace period, dated at the last covered day (grace not appended). persistence_days is
  end_on - start_on + 1 for a discontinued episode (event) and data_end_on - start_on + 1 for a
  censored one (supply plus grace runs past the data end). is_persistent_182/365: still on
  treatment after that many days; null when censored before it (unknown).
columns_from: {model: fct_treatment_episodes, only: [episode_id, patient_id, drug, drug_class, drug_subclass, regimen, start_on, start_month, is_new_user, line_of_therapy, site_id, clinician_id, diagnosis_group, age_band, sex, adherence_band, grace_days]}
columns:
  persistence_days: integer
  is_event: boolean
  is_censored: boolean
  is_persistent_182: boolean
  is_persistent_365: boolean
--- */
with persistence as (
    select
        episodes.*,
        cast(
            case when episodes.is_discontinued then episodes.end_on else coverage.data_end_on end
            - episodes.start_on + 1 as integer
        ) as persistence_days
    from marts.fct_treatment_episodes as episodes
    cross join staging.stg_data_coverage as coverage
)

select
    episode_id,
    patient_id,
    drug,
    drug_class,
    drug_subclass,
    regimen,
    start_on,
    start_month,
    is_new_user,
    line_of_therapy,
    site_id,
    clinician_id,
    diagnosis_group,
    age_band,
    sex,
    adherence_band,
    grace_days,
    persistence_days,
    is_discontinued as is_event,
    is_censored,
    case when persistence_days > 182 then true when is_discontinued then false end as is_persistent_182,
    case when persistence_days > 365 then true when is_discontinued then false end as is_persistent_365
from persistence
