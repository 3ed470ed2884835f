/* ---
name: fct_scores
grain: one row per score x episode it falls in, or one row with a null episode
unique_key: [assessment_id, episode_id]
not_null: [assessment_id]
description: >
  Every kept score (same-day duplicates resolved; PHQ-A as PHQ-9) for trajectories by week. A
  score falls in an episode when start_on + $baseline_start_days <= assessed_on <=
  greatest(end_on, start_on + $followup_end_days): the active episode plus its baseline and default
  follow-up windows, so the week-16 score of a discontinued episode still shows. Scores in no
  episode appear once with a null episode so per-patient counts (MBC, DMS) see them.
  weeks_from_start = floor(days_from_start / 7). dms_period: DMS-E periods Jan-Apr (P1), May-Aug
  (P2), Sep-Dec (P3).
columns:
  assessment_id: varchar
  patient_id: varchar
  assessed_on: date
  instrument: varchar
  instrument_as_sent: varchar
  total_score: integer
  item_9: integer
  episode_id: varchar
  drug: varchar
  drug_class: varchar
  drug_subclass: varchar
  regimen: varchar
  days_from_start: integer
  weeks_from_start: integer
  site_id: varchar
  age_band: varchar
  sex: varchar
  diagnosis_group: varchar
  dms_period: varchar
--- */
with scores as (
    select
        *,
        dms_period(assessed_on) as dms_period
    from staging.stg_assessments
)

-- one left join: a score matches every episode whose window holds it, or stays once with nulls
-- (joining the matches back to the scores by assessment_id cost a second pass over every score)
select
    scores.assessment_id,
    scores.patient_id,
    scores.assessed_on,
    scores.instrument,
    scores.instrument_as_sent,
    scores.total_score,
    scores.item_9,
    episodes.episode_id,
    episodes.drug,
    episodes.drug_class,
    episodes.drug_subclass,
    episodes.regimen,
    cast(scores.assessed_on - episodes.start_on as integer) as days_from_start,
    cast(floor(cast(scores.assessed_on - episodes.start_on as integer) / 7) as integer) as weeks_from_start,
    coalesce(episodes.site_id, patients.site_id, 'unknown') as site_id,
    coalesce(episodes.age_band, patients.age_band, 'unknown') as age_band,
    coalesce(episodes.sex, patients.sex, 'U') as sex,
    coalesce(episodes.diagnosis_group, patients.diagnosis_group, 'unknown') as diagnosis_group,
    scores.dms_period
from scores
left join marts.fct_treatment_episodes as episodes
    on scores.patient_id = episodes.patient_id
    and scores.assessed_on >= episodes.start_on + cast($baseline_start_days as integer)
    and scores.assessed_on <= greatest(episodes.end_on, episodes.start_on + cast($followup_end_days as integer))
left join marts.dim_patients as patients on scores.patient_id = patients.patient_id
