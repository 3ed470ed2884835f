/* ---
name: fct_safety_flags
grain: one row per PHQ-9 or PHQ-A score with item 9 recorded
unique_key: [assessment_id]
description: >
  PHQ-9 item 9 (thoughts of self-harm) is a flag, not an outcome (DOMAIN 2): is_positive when
  item_9 > 0, whatever the total. For the process measure "% of positive item-9 responses with
  documented follow-up" (DOMAIN 2) and the item-9 worklist, both by the rule of DOMAIN 13.3 (a
  suicide risk assessment or a clinician contact in [0, +N] days): first_contact_on, the first
  contact on or after the screen's day, where a contact is a visit or a C-SSRS assessment. The
  rule "followed up within N days" is then first_contact_on <= assessed_on + N, with N the
  item9_followup_days parameter of the metric or worklist that asks. regimen: the regimen of the
  latest-starting episode active on the date (start_on <= date <= end_on), null if none.
columns:
  assessment_id: varchar
  patient_id: varchar
  assessed_on: date
  instrument_as_sent: varchar
  total_score: integer
  item_9: integer
  is_positive: boolean
  first_contact_on: {type: date, description: 'first visit or C-SSRS on or after assessed_on (null: none)'}
  regimen: varchar
  drug_class: varchar
  site_id: varchar
  age_band: varchar
  sex: varchar
  diagnosis_group: varchar
  assessed_month: date
--- */
with flagged as (
    select * from staging.stg_assessments
    where instrument = 'PHQ-9' and item_9 is not null
),

-- a contact: a visit, or a suicide risk assessment recorded as an instrument (DOMAIN 13.3)
contacts as (
    select patient_id, visit_on as contact_on from marts.fct_visits
    union all
    select patient_id, assessed_on from marts.fct_scores where instrument = 'C-SSRS'
),

followed_up as (
    select
        flagged.assessment_id,
        min(contacts.contact_on) as first_contact_on
    from flagged
    inner join contacts
        on flagged.patient_id = contacts.patient_id
        and contacts.contact_on >= flagged.assessed_on
    group by flagged.assessment_id
),

active_regimen as (
    select
        flagged.assessment_id,
        -- one arg_max carrying both columns: the struct ordering key is the costly part
        arg_max({'regimen': episodes.regimen, 'drug_class': episodes.drug_class},
                {'start_on': episodes.start_on, 'drug': episodes.drug}) as latest
    from flagged
    inner join marts.fct_treatment_episodes as episodes
        on flagged.patient_id = episodes.patient_id
        and flagged.assessed_on between episodes.start_on and episodes.end_on
    group by flagged.assessment_id
)

select
    flagged.assessment_id,
    flagged.patient_id,
    flagged.assessed_on,
    flagged.instrument_as_sent,
    flagged.total_score,
    flagged.item_9,
    flagged.item_9 > 0 as is_positive,
    followed_up.first_contact_on,
    active_regimen.latest.regimen,
    active_regimen.latest.drug_class,
    coalesce(patients.site_id, 'unknown') as site_id,
    age_band(year(flagged.assessed_on) - patients.birth_year) as age_band,
    coalesce(patients.sex, 'U') as sex,
    coalesce(patients.diagnosis_group, 'unknown') as diagnosis_group,
    cast(date_trunc('month', flagged.assessed_on) as date) as assessed_month
from flagged
left join followed_up on flagged.assessment_id = followed_up.assessment_id
left join active_regimen on flagged.assessment_id = active_regimen.assessment_id
left join marts.dim_patients as patients on flagged.patient_id = patients.patient_id
