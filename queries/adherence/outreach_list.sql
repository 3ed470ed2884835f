/* ---
name: outreach_list
title: Outreach list (non-adherent patients)
description: >
  Patient-level list for care management inside the clinic: de-identified patient ids whose
  class-level PDC (PQA method, DOMAIN.md 5.1) in the latest measurement year overlapping the
  period is below the adherence threshold (the configured PDC cut-off, 0.80), lowest PDC first.
  Not an aggregate: the list carries no counts, and it re-identifies nobody outside the covered
  entity that holds the id mapping; do not export it beyond care management.
grain: one row per patient x drug_class
columns:
  patient_id: varchar
  drug_class: varchar
  measurement_year: integer
  index_on: date
  pdc: pct1
  covered_days: integer
  denominator_days: integer
  fills: integer
metric:
  filter_source: marts.fct_adherence_pdc
  filters: [site_id, diagnosis_group, age_band, sex, drug_class]
  period: {overlap: [period_start_on, period_end_on]}
  kind: table
  patient_level: true
tests:
  unique: [patient_id, drug_class]
  expressions: [pdc >= 0 and pdc < 1]
--- */
with pdc as (
    select *
    from filtered_source
    where level = 'class' and pdc is not null
),

latest as (
    select *
    from pdc
    qualify row_number() over (partition by patient_id, drug_class order by measurement_year desc) = 1
),

final as (
    select
        patient_id,
        drug_class,
        measurement_year,
        index_on,
        pdc,
        covered_days,
        denominator_days,
        fills
    from latest
    where not is_adherent
)

select * from final
order by pdc, patient_id, drug_class
