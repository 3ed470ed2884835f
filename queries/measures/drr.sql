/* ---
description: >
  Modelled on HEDIS DRR-E (depression remission or response, ages 12+), DOMAIN.md sections 3 and
  4, preset hedis_drr_e (follow-up = the latest PHQ-9 in [+120, +240] days). Unit: a treatment
  start (one per patient x start date) of a patient aged 12 or more with major depression or
  dysthymia on record and none of the DRR-E exclusions on record (bipolar, personality, psychotic
  disorders incl. schizophrenia, pervasive developmental disorders), whose baseline PHQ-9 (PHQ-A
  counted; latest in [-30, +7]) is above 9. Numerator: the variant's rule on the follow-up score;
  a missing follow-up counts as not achieved. Denominator: such starts
  whose follow-up window has ended inside the data ("enrolled" = observed). What our data cannot
  do exactly: the index is the treatment start with its baseline score, not the IESD (the date of
  any elevated PHQ-9), so untreated patients are not counted; diagnoses and exclusions are any on
  record (no dates in the marts); no intake period (trended by start month).
grain: one row per patient x treatment start with an elevated baseline PHQ-9, unit level
columns_from: unit_dimensions
columns:
  unit_id: {type: varchar, description: episode id of the start}
  index_on: {type: date, description: treatment start (day 0)}
  drug_class: varchar
  drug: varchar
  severity_band: {type: varchar, description: baseline PHQ-9 band (case mix)}
  baseline_score: integer
  followup_score: integer
  is_observed: {type: boolean, description: 'day +240 is inside the data'}
  has_followup: {type: boolean, description: 'observed with a PHQ-9 in [+120, +240]'}
  is_numerator: boolean
metric:
  filters: [site_id, clinician_id, diagnosis_group, age_band, sex, drug_class]
  period: index_on
  unit: treatment start
  direction: higher
  observed_rate: {units: starts, within: has_followup}  # each rule names its numerator
  counts: {followed_up: has_followup}
  rates:
    - {name: rate_followup, numerator: followed_up, denominator: observed, label: 'PHQ-9 follow-up at 4-8 months'}
# Response and remission are one measure with two numerator rules: each variant is a catalogue
# entry of its own, its rule bound as a constant parameter (not settable by users).
variants:
  drr_response:
    title: Depression response at 4-8 months (DRR-style)
    description: 'Numerator: follow-up score at most half the baseline (2 * follow-up <= baseline)'
    constants: {rule: response}
    columns:
      is_numerator: {description: observed and 2 * follow-up <= baseline}
    metric:
      target: 0.4
      observed_rate: {numerator: responders, label: 'Response at 4-8 months (missing follow-up = not achieved)'}
  drr_remission:
    title: Depression remission at 4-8 months (DRR-style)
    description: 'Numerator: follow-up PHQ-9 below 5 (remission, strict inequality)'
    constants: {rule: remission}
    columns:
      is_numerator: {description: observed and follow-up < 5}
    metric:
      target: 0.2
      observed_rate: {numerator: remitters, label: 'Remission (PHQ-9 < 5) at 4-8 months (missing follow-up = not achieved)'}
--- */
with patients as (
    select patient_id, string_split(diagnosis_groups, '+') as groups
    from marts.dim_patients
),

outcomes as (
    select
        outcomes.*,
        episodes.age_at_start
    from marts.fct_episode_outcomes as outcomes
    inner join marts.fct_treatment_episodes as episodes on outcomes.episode_id = episodes.episode_id
    inner join patients on outcomes.patient_id = patients.patient_id
    where
        outcomes.preset = 'hedis_drr_e'
        and outcomes.instrument = 'PHQ-9'
        and outcomes.has_baseline
        and outcomes.baseline_score > 9
        and episodes.age_at_start >= 12
        and list_has_any(patients.groups, ['major_depression', 'dysthymia'])
        and not list_has_any(
            patients.groups, ['bipolar', 'personality', 'psychosis', 'schizophrenia', 'autism_spectrum']
        )
    -- one unit per patient x start date: an antidepressant start wins, then the first ingredient
    qualify row_number() over (
        partition by outcomes.patient_id, outcomes.start_on
        order by outcomes.drug_class != 'antidepressant', outcomes.drug
    ) = 1
),

final as (
    select
        outcomes.episode_id as unit_id,
        outcomes.start_on as index_on,
        outcomes.patient_id,
        outcomes.drug_class,
        outcomes.drug,
        outcomes.site_id,
        outcomes.clinician_id,
        outcomes.diagnosis_group,
        outcomes.age_band,
        outcomes.sex,
        outcomes.baseline_severity_band as severity_band,
        outcomes.baseline_score,
        outcomes.followup_score,
        outcomes.start_on + outcomes.followup_end_days <= coverage.data_end_on as is_observed,
        is_observed and outcomes.has_followup as has_followup,
        is_observed and outcomes.has_followup and case $rule
            when 'response' then outcomes.meets_response_rule
            -- remission_max is the configured inclusive cut-off (PHQ-9 < 5 is <= 4)
            when 'remission' then outcomes.followup_score <= outcomes.remission_max
        end as is_numerator
    from outcomes
    cross join coverage
)

select * from final
order by unit_id
