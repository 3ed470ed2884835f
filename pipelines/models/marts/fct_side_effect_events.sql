/* ---
name: fct_side_effect_events
grain: one row per side-effect report x attributed episode (one row with a null episode when none)
unique_key: [side_effect_id, episode_id]
not_null: [side_effect_id]
description: >
  Side-effect reports attributed to treatment episodes (issue 4: the suspected drug when given,
  else every episode active on the report date). When the report names a suspected drug and the
  patient has an episode of it that started on or before the report date, the report belongs to
  the latest such episode (attribution 'suspected_drug'), even if its supply has run out: a side
  effect that made the patient stop is often recorded at the next visit, after the episode ended.
  Otherwise it belongs to every episode active on the report date (start_on <= date <= end_on +
  grace_days; 'active_episode', so class rows do not sum to the total, DOMAIN 9.3); with none it
  is kept once with a null episode ('unattributed'), never dropped. is_within_window:
  days_from_start in [0, $side_effect_window_days].
columns_from: stg_side_effects  # its columns first (pipelines/model_columns.py)
columns:
  attribution: varchar
  episode_id: varchar
  drug: varchar
  drug_class: varchar
  drug_subclass: varchar
  regimen: varchar
  episode_start_on: date
  days_from_start: integer
  is_within_window: boolean
  site_id: varchar
  clinician_id: varchar
  age_band: varchar
  sex: varchar
  diagnosis_group: varchar
--- */
with reports as (
    select * from staging.stg_side_effects
),

active as (
    select
        reports.side_effect_id,
        episodes.episode_id,
        episodes.drug,
        coalesce(episodes.drug = reports.suspected_drug, false) as is_suspected
    from reports
    inner join marts.fct_treatment_episodes as episodes
        on reports.patient_id = episodes.patient_id
        and reports.report_on >= episodes.start_on
        -- active on the report date, or an episode of the named drug (however long ago it ended)
        and (
            reports.report_on <= episodes.end_on + episodes.grace_days
            or episodes.drug = reports.suspected_drug
        )
    -- of the named drug's episodes only the latest started counts; active ones are all kept
    qualify
        not coalesce(episodes.drug = reports.suspected_drug, false)
        or row_number() over (
            partition by reports.side_effect_id, episodes.drug = reports.suspected_drug
            order by episodes.start_on desc
        ) = 1
),

attributed as (
    select
        side_effect_id,
        episode_id,
        case when bool_or(is_suspected) over (partition by side_effect_id)
            then 'suspected_drug' else 'active_episode' end as attribution,
        is_suspected,
        bool_or(is_suspected) over (partition by side_effect_id) as has_suspected_episode
    from active
)

select
    reports.side_effect_id,
    reports.patient_id,
    reports.report_on,
    reports.effect_code,
    reports.severity,
    reports.severity_rank,
    reports.action,
    reports.suspected_drug,
    coalesce(attributed.attribution, 'unattributed') as attribution,
    episodes.episode_id,
    episodes.drug,
    episodes.drug_class,
    episodes.drug_subclass,
    episodes.regimen,
    episodes.start_on as episode_start_on,
    cast(reports.report_on - episodes.start_on as integer) as days_from_start,
    coalesce(reports.report_on - episodes.start_on between 0 and $side_effect_window_days, false)
        as is_within_window,
    coalesce(episodes.site_id, patients.site_id, 'unknown') as site_id,
    coalesce(episodes.clinician_id, 'unknown') as clinician_id,
    coalesce(episodes.age_band, patients.age_band, 'unknown') as age_band,
    coalesce(episodes.sex, patients.sex, 'U') as sex,
    coalesce(episodes.diagnosis_group, patients.diagnosis_group, 'unknown') as diagnosis_group
from reports
left join attributed
    on reports.side_effect_id = attributed.side_effect_id
    and (attributed.is_suspected or not attributed.has_suspected_episode)
left join marts.fct_treatment_episodes as episodes on attributed.episode_id = episodes.episode_id
left join marts.dim_patients as patients on reports.patient_id = patients.patient_id
