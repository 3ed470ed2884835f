/* ---
name: metabolic_monitoring
title: Metabolic monitoring on antipsychotics
description: >
  Among antipsychotic episodes starting in the period and observed for at least 140 days: the
  share with a glucose or HbA1c test AND an LDL-C or total cholesterol test in [-90, +30] days of
  the start (baseline; glucose/HbA1c and LDL/cholesterol interchangeable as in APM), and the share
  with a glucose or HbA1c test in [+56, +140] days (early). Product default measure, DOMAIN.md 9.4
  (the ADA/APA 2004 schedule is unverified; windows are configurable). Episodes not yet observed
  to day 140 are excluded and counted as not_observed.
grain: one row per antipsychotic episode (unit level)
columns:
  start_on: date
  is_observed_140d: boolean
  has_baseline_glucose: boolean
  has_baseline_lipids: boolean
  has_baseline_both: boolean
  has_early_glucose: boolean
metric:
  unit: episode
  observed_rate:
    units: episodes
    denominator: {observed: is_observed_140d}
    numerator: baseline_both
    label: 'Baseline glucose/HbA1c and lipids'
  counts: {baseline_both: has_baseline_both, baseline_glucose: has_baseline_glucose, baseline_lipids: has_baseline_lipids, early_glucose: has_early_glucose}
  rates:
    - {name: rate_baseline_glucose, numerator: baseline_glucose, denominator: observed, label: 'Baseline glucose or HbA1c'}
    - {name: rate_baseline_lipids, numerator: baseline_lipids, denominator: observed, label: 'Baseline LDL-C or cholesterol'}
    - {name: rate_early_glucose, numerator: early_glucose, denominator: observed, label: 'Glucose or HbA1c at 8-20 weeks'}
tests:
  total: >
   select count(*) from marts.fct_treatment_episodes, marts.data_coverage where drug_class =
   'antipsychotic' and start_on + 140 <= data_end_on
--- */
with coverage as (
    select data_end_on from marts.data_coverage
),

episodes as (
    select *
    from marts.fct_treatment_episodes
    where
        drug_class = 'antipsychotic'
),

tests as (
    select
        episode_id,
        bool_or(measure_group = 'glucose' and days_from_start between -90 and 30) as has_glucose_0,
        bool_or(measure_group = 'lipids' and days_from_start between -90 and 30) as has_lipids_0,
        bool_or(measure_group = 'glucose' and days_from_start between 56 and 140) as has_glucose_early
    from marts.fct_measurements
    where episode_id is not null
    group by episode_id
),

final as (
    select
        episodes.episode_id,
        episodes.start_on,
        unnest(episode_unit_columns(episodes)),
        episodes.start_on + 140 <= coverage.data_end_on as is_observed_140d,
        is_observed_140d and coalesce(tests.has_glucose_0, false) as has_baseline_glucose,
        is_observed_140d and coalesce(tests.has_lipids_0, false) as has_baseline_lipids,
        has_baseline_glucose and has_baseline_lipids as has_baseline_both,
        is_observed_140d and coalesce(tests.has_glucose_early, false) as has_early_glucose
    from episodes
    cross join coverage
    left join tests on episodes.episode_id = tests.episode_id
)

select * from final
order by episode_id
