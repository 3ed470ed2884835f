/* ---
title: Adherence of a patient to a drug target
description: >
  Per patient and target (drug class by default, or ingredient) and calendar measurement year,
  Pharmacy Quality Alliance method: index = first fill in the period; needs at least 2 fills on
  distinct dates and the index at least 91 days before the period end (evaluable); fills of one
  ingredient shifted forward, ingredients of one class combined without shifting; coverage
  truncated to the period; fills before the period ignored. DOMAIN.md 5.1-5.3; PQA PDC
grain: one row per patient x target x measurement year with a fill in the period (unit level)
params:
  level: {type: varchar, default: class, description: 'class (all ingredients of the class combined, no shift between them) or ingredient'}
columns:
  patient_id: varchar
  period_start_on: date
  measurement_year: integer
  drug_class: varchar
  drug_subclass: varchar
  drug: varchar
  site_id: varchar
  diagnosis_group: varchar
  age_band: varchar
  sex: varchar
  adherence_band: varchar
metric:
  filter_source: marts.fct_adherence_pdc
  filters: [site_id, diagnosis_group, age_band, sex, drug_class, drug]
  period: {overlap: [period_start_on, period_end_on]}
  unit: patient-target-year
  date: period_start_on
tests:
  unique: [patient_id, drug_class, drug, measurement_year]
  total: >
   select count(*) from marts.fct_adherence_pdc where level = 'class' and not_evaluable_reason is
   null
# PDC and MPR are two ratios of the same patient-target-years: each variant is a catalogue entry
# of its own (evaluable_only fixed) and returns only the columns it declares.
variants:
  adherence:
    title: Adherence (PDC >= 80%)
    description: >
      Proportion of days covered. Numerator: evaluable patient-targets with PDC >= 0.80.
      Denominator: evaluable patient-targets. Attrition: patient-targets with a fill in the
      period, not evaluable (single fill date or index too late). The mean PDC is reported beside it
    grain: one row per patient x target x measurement year with a fill in the period (unit level)
    constants: {evaluable_only: false}
    columns:
      pdc: double
      is_evaluable: boolean
      is_adherent: boolean
      not_evaluable_reason: varchar
    metric:
      observed_rate:
        units: patient_targets
        denominator: {evaluable: is_evaluable, dropped: not_evaluable}
        numerator: adherent
        label: 'PDC >= 80% among evaluable patients'
      counts: {adherent: is_adherent}
    tests:
      expressions: [pdc between 0 and 1]
  mpr:
    title: Medication possession ratio
    description: >
      MPR = days supplied by the target's fills from the index to the period end divided by the
      days in that span (DOMAIN.md 5.3), over the evaluable patient-targets. The mean is of the
      MPR capped at 1, because early refills push the uncapped ratio above 1 and overstate
      adherence; the uncapped value is kept per patient. MPR equals PDC with one drug and no overlap
    grain: one row per evaluable patient x target x measurement year (unit level)
    constants: {evaluable_only: true}
    columns:
      mpr: double
      mpr_capped: pct1
    metric:
      kind: mean
      value: mpr_capped
      fmt: pct1
    tests:
      expressions: [mpr_capped between 0 and 1, mpr_capped <= mpr or mpr_capped = 1]
--- */
with pdc as (
    select *
    from filtered_source
    where level = coalesce($level, 'class') and (pdc is not null or not $evaluable_only)
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
        not_evaluable_reason,
        mpr,
        mpr_capped
    from pdc
)

select * from final
order by patient_id, drug_class, drug, measurement_year
