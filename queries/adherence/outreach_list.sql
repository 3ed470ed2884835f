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
params:
  start_date: {type: date, description: 'measurement period start: calendar years overlapping [start_date, end_date] are included'}
  end_date: {type: date, description: measurement period end}
  site_id: {type: varchar, description: site filter (null = all)}
  diagnosis_group: {type: varchar, description: diagnosis group filter (null = all)}
  age_band: {type: varchar, description: age band filter (null = all)}
  sex: {type: varchar, description: sex filter (null = all)}
  drug_class: {type: varchar, description: drug class filter (null = all)}
columns:
  patient_id: {type: varchar}
  drug_class: {type: varchar}
  measurement_year: {type: integer}
  index_on: {type: date}
  pdc: {type: double, fmt: pct1}
  covered_days: {type: integer}
  denominator_days: {type: integer}
  fills: {type: integer}
metric:
  kind: table
  patient_level: true
tests:
  unique: [patient_id, drug_class]
  expressions: [pdc >= 0 and pdc < 1]
--- */
with pdc as (
    select *
    from marts.fct_adherence_pdc
    where
        level = 'class'
        and pdc is not null
        and ($start_date is null or period_end_on >= $start_date)
        and ($end_date is null or period_start_on <= $end_date)
        and ($site_id is null or site_id = $site_id)
        and ($diagnosis_group is null or diagnosis_group = $diagnosis_group)
        and ($age_band is null or age_band = $age_band)
        and ($sex is null or sex = $sex)
        and ($drug_class is null or drug_class = $drug_class)
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
