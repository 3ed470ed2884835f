/* ---
name: adherence
title: Adherence (PDC >= 80%)
description: >
  Proportion of days covered, Pharmacy Quality Alliance method, per patient and target (drug
  class by default, or ingredient) and calendar measurement year: index = first fill in the
  period; needs at least 2 fills on distinct dates and the index at least 91 days before the
  period end; fills of one ingredient shifted forward, ingredients of one class combined without
  shifting; coverage truncated to the period; fills before the period ignored. Numerator:
  evaluable patient-targets with PDC >= 0.80. Denominator: evaluable patient-targets. Attrition:
  patient-targets with a fill in the period, not evaluable (single fill date or index too late).
  The mean PDC is reported beside it. DOMAIN.md 5.1; PQA PDC.
grain: one row per patient x target x measurement year with a fill in the period (unit level)
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
  pdc: {type: double}
  is_evaluable: {type: boolean}
  is_adherent: {type: boolean}
  not_evaluable_reason: {type: varchar}
metric:
  filter_source: marts.fct_adherence_pdc
  filters: [site_id, diagnosis_group, age_band, sex, drug_class, drug]
  period: {overlap: [period_start_on, period_end_on]}
  kind: proportion
  unit: patient-target-year
  date: period_start_on
  counts:
    patient_targets: '*'
    evaluable: is_evaluable
    adherent: is_adherent
  attrition:
    - {count: patient_targets}
    - {count: evaluable, dropped: not_evaluable}
  rates:
    - {name: rate, numerator: adherent, denominator: evaluable, label: 'PDC >= 80% among evaluable patients'}
tests:
  unique: [patient_id, drug_class, drug, measurement_year]
  expressions: [is_adherent <= is_evaluable, pdc between 0 and 1]
  total: >
   select count(*) from marts.fct_adherence_pdc where level = 'class' and not_evaluable_reason is
   null
--- */
with pdc as (
    select *
    from filtered_source
    where level = coalesce($level, 'class')
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
        pdc,
        pdc is not null as is_evaluable,
        coalesce(is_adherent, false) as is_adherent,
        not_evaluable_reason
    from pdc
)

select * from final
order by patient_id, drug_class, drug, measurement_year
