/* ---
name: amm
title: Antidepressant management, $phase phase (AMM-style)
description: >
  Modelled on HEDIS AMM / eCQM CMS128 (NQF 0105), DOMAIN.md section 4. Unit: a newly treated adult
  with depression: an antidepressant dispensing (IPSD = the first fill of the episode) with no
  antidepressant of any ingredient in the 105 days before (class-level washout), age 18 or more in
  the IPSD year, and a major depression diagnosis on record. Numerator: at least
  $min_treatment_days treatment days in [0, +$window_end_day], where a treatment day is a day
  covered by at least one antidepressant fill after shifting same-ingredient early refills forward
  (PDC-style union; the spec does not say whether overlaps are summed or unioned, DOMAIN 4).
  Denominator: such IPSDs observed in the data from day -105 to day +$window_end_day ("enrolled" =
  observed in the data). What our data cannot do exactly: the diagnosis is any major depression
  diagnosis on record (the marts carry no diagnosis dates, so the [-60, +60] window is not
  checked); there is no intake period (every new-user start is a unit, trended by IPSD month), no
  enrolment gap rule and no hospice exclusion.
grain: one row per patient x IPSD (new antidepressant start), unit level
columns_from: unit_dimensions
columns:
  unit_id: {type: varchar, description: 'patient_id|IPSD'}
  index_on: {type: date, description: IPSD (day 0)}
  drug: varchar
  severity_band: {type: varchar, description: 'baseline PHQ-9 band of the episode (case mix); no baseline when none'}
  treatment_days: {type: integer, description: 'days in [0, +window_end_day] covered by >= 1 antidepressant'}
  is_observed: {type: boolean, description: 'data cover [-105, +window_end_day]'}
  is_numerator: {type: boolean, description: 'observed and treatment_days >= min_treatment_days'}
metric:
  filters: [site_id, clinician_id, diagnosis_group, age_band, sex, drug]
  period: index_on
  unit: patient IPSD
  direction: higher
  observed_rate:
    units: starts
    numerator: on_treatment_${min_treatment_days}d
    label: 'Remained on an antidepressant >= $min_treatment_days days of [0, +$window_end_day]'
# The two phases are one rule with two windows: each variant is a catalogue entry of its own,
# with its phase and window bound as constant parameters (not settable by users).
variants:
  amm_acute:
    description: numerator 1 (acute phase) of HEDIS AMM / CMS128 (115 days)
    constants: {phase: acute, window_end_day: 114, min_treatment_days: 84}
    metric: {target: 0.7}
  amm_continuation:
    description: numerator 2 (continuation phase) of HEDIS AMM / CMS128 (232 days)
    constants: {phase: continuation, window_end_day: 231, min_treatment_days: 180}
    metric: {target: 0.5}
--- */
with patients as (
    select patient_id, birth_year, diagnosis_groups from marts.dim_patients
),

starts as (
    -- one unit per patient x IPSD: same-day starts of two antidepressants are one IPSD
    -- only the columns the units use: the episode mart is wide, and every column read is scanned
    select
        episodes.episode_id,
        episodes.patient_id,
        episodes.start_on,
        episodes.drug,
        episodes.site_id,
        episodes.clinician_id,
        episodes.diagnosis_group,
        episodes.age_band,
        episodes.sex
    from marts.fct_treatment_episodes as episodes
    inner join patients on episodes.patient_id = patients.patient_id
    where
        episodes.drug_class = 'antidepressant'
        and episodes.exposure_source = 'dispenses'
        and episodes.is_new_user
        and year(episodes.start_on) - patients.birth_year >= 18
        and list_contains(string_split(patients.diagnosis_groups, '+'), 'major_depression')
    qualify row_number() over (partition by episodes.patient_id, episodes.start_on order by episodes.drug) = 1
),

units as (
    select
        starts.patient_id || '|' || strftime(starts.start_on, '%Y-%m-%d') as unit_id,
        starts.start_on as index_on,
        starts.patient_id,
        starts.drug,
        starts.site_id,
        starts.clinician_id,
        starts.diagnosis_group,
        starts.age_band,
        starts.sex,
        case_mix.severity_band,
        starts.start_on - 105 >= coverage.data_start_on
        and starts.start_on + $window_end_day <= coverage.data_end_on as is_observed
    from starts
    cross join coverage
    left join marts.dim_episode_case_mix as case_mix on starts.episode_id = case_mix.episode_id
),

clipped as (
    -- antidepressant coverage intervals clipped to the window [0, +window_end_day]
    select
        units.unit_id,
        greatest(fills.cov_start_on, units.index_on) as from_on,
        least(fills.cov_end_on, units.index_on + $window_end_day) as to_on
    from units
    inner join marts.fct_fill_coverage as fills
        on
            units.patient_id = fills.patient_id
            and fills.drug_class = 'antidepressant'
            and fills.cov_start_on <= units.index_on + $window_end_day
            and fills.cov_end_on >= units.index_on
),

final as (
    select
        units.unit_id,
        units.index_on,
        units.patient_id,
        units.drug,
        units.site_id,
        units.clinician_id,
        units.diagnosis_group,
        units.age_band,
        units.sex,
        units.severity_band,
        coalesce(treatment.covered_days, 0) as treatment_days,
        units.is_observed,
        units.is_observed and coalesce(treatment.covered_days, 0) >= $min_treatment_days as is_numerator
    from units
    -- the union of the clipped intervals, overlapping days counted once (macros.sql)
    left join covered_days_by_unit(clipped) as treatment on units.unit_id = treatment.unit_id
)

select * from final
order by unit_id
