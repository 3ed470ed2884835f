/* ---
name: fct_side_effect_episode_flags
grain: one row per episode x effect code reported within the episode's side-effect window
unique_key: [episode_id, effect_code]
description: >
  The numerator rows of "episodes with >= 1 report of code X at or above severity s in
  [0, $side_effect_window_days]" (DOMAIN 9.3): count episode_id where effect_code = X and
  max_severity_rank >= s. The denominator is fct_treatment_episodes where
  has_visit_in_side_effect_window (a chance to report), with all episodes shown beside it; that
  flag is copied here for convenience.
columns_from: {model: fct_treatment_episodes, only: [episode_id, patient_id, drug, drug_class, drug_subclass, regimen, start_on, start_month, site_id, clinician_id, diagnosis_group, age_band, sex, has_visit_in_side_effect_window]}
columns:
  effect_code: varchar
  reports: integer
  max_severity_rank: integer
  first_report_days: integer
  has_discontinuing_action: boolean
--- */
with flags as (
    select
        episode_id,
        effect_code,
        cast(count(*) as integer) as reports,
        max(severity_rank) as max_severity_rank,
        min(days_from_start) as first_report_days,
        bool_or(coalesce(action in ('discontinued', 'switched'), false)) as has_discontinuing_action
    from marts.fct_side_effect_events
    where episode_id is not null and is_within_window
    group by episode_id, effect_code
)

select
    flags.episode_id,
    episodes.patient_id,
    flags.effect_code,
    flags.reports,
    flags.max_severity_rank,
    flags.first_report_days,
    flags.has_discontinuing_action,
    episodes.drug,
    episodes.drug_class,
    episodes.drug_subclass,
    episodes.regimen,
    episodes.start_on,
    episodes.start_month,
    episodes.site_id,
    episodes.clinician_id,
    episodes.diagnosis_group,
    episodes.age_band,
    episodes.sex,
    episodes.has_visit_in_side_effect_window
from flags
inner join marts.fct_treatment_episodes as episodes on flags.episode_id = episodes.episode_id
