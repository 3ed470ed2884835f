/* ---
name: mpr
title: Medication possession ratio
description: >
  MPR = days supplied by the target's fills from the index to the period end divided by the days
  in that span (DOMAIN.md 5.3), over the same evaluable patient-targets as adherence (PQA index,
  at least 2 fill dates, index at least 91 days before the period end). The mean is of the MPR
  capped at 1, because early refills push the uncapped ratio above 1 and overstate adherence; the
  uncapped value is kept per patient. MPR equals PDC with one drug and no overlap.
grain: one row per evaluable patient x target x measurement year (unit level)
params:
  level: {type: varchar, default: class, description: 'class (all ingredients of the class combined, no shift between them) or ingredient'}
columns:
  patient_id: {type: varchar}
  period_start_on: {type: date}
  measurement_year: {type: integer}
  drug_class: {type: varchar}
  drug_subclass: {type: varchar}
  drug: {type: varchar}
  site_id: {type: varchar}
  diagnosis_group: {type: varchar}
  age_band: {type: varchar}
  sex: {type: varchar}
  adherence_band: {type: varchar}
  mpr: {type: double}
  mpr_capped: {type: double, fmt: pct1}
metric:
  filter_source: marts.fct_adherence_pdc
  filters: [site_id, diagnosis_group, age_band, sex, drug_class, drug]
  period: {overlap: [period_start_on, period_end_on]}
  kind: mean
  unit: patient-target-year
  date: period_start_on
  value: mpr_capped
  fmt: pct1
tests:
  unique: [patient_id, drug_class, drug, measurement_year]
  expressions: [mpr_capped between 0 and 1, mpr_capped <= mpr or mpr_capped = 1]
  total: >
   select count(*) from marts.fct_adherence_pdc where level = 'class' and not_evaluable_reason is
   null
--- */
with pdc as (
    select *
    from filtered_source
    where level = coalesce($level, 'class') and pdc is not null
),

final as (
    select
        patient_id,
        period_start_on,
        measurement_year,
        drug_class,
        drug_subclass,
        drug,
        site_id,
        diagnosis_group,
        age_band,
        sex,
        adherence_band,
        mpr,
        mpr_capped
    from pdc
)

select * from final
order by patient_id, drug_class, drug, measurement_year
