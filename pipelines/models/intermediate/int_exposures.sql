/* ---
name: int_exposures
grain: one row per exposure (a shifted fill, or a prescription where the patient has no fill of that ingredient)
materialized: view
description: >
  The exposure intervals episodes are built from. Fills are the basis wherever they exist for the
  patient x ingredient (DOMAIN glossary: adherence uses fills, never prescriptions written).
  Otherwise a prescription covers start_on..end_on, or without an end date
  start_on + days_supply * (1 + refills) - 1 (the supply written, refills included). Prescriptions
  with neither end date nor days supply are not exposures; dq_model_exclusions lists them.
columns:
  patient_id: varchar
  drug: varchar
  drug_class: varchar
  exposure_source: {type: varchar, description: "dispenses or prescriptions"}
  source_id: varchar
  cov_start_on: date
  cov_end_on: date
  covered_until: {type: date, description: "the latest end of the pair's earlier exposures (sorted by start, then end); null for the first"}
--- */
with filled_pairs as (
    select distinct patient_id, drug from intermediate.int_fills__shifted
),

prescribed as (
    select
        prescriptions.patient_id,
        prescriptions.drug,
        drugs.drug_class,
        'prescriptions' as exposure_source,
        prescriptions.prescription_id as source_id,
        prescriptions.start_on as cov_start_on,
        coalesce(
            prescriptions.end_on,
            prescriptions.start_on
            + (prescriptions.days_supply * (1 + coalesce(prescriptions.refills, 0)) - 1)
        ) as cov_end_on
    from staging.stg_prescriptions as prescriptions
    inner join staging.stg_drugs as drugs on prescriptions.drug = drugs.drug
    anti join filled_pairs
        on prescriptions.patient_id = filled_pairs.patient_id
        and prescriptions.drug = filled_pairs.drug
    where prescriptions.end_on is not null or prescriptions.days_supply is not null
),

prescribed_coverage as (
    -- prescriptions may overlap, so the coverage before each is a running maximum of earlier ends.
    -- source_id breaks ties in start and end: int_episodes numbers its islands in the same total
    -- order, so of two identical intervals the one without an earlier end is the one that
    -- starts the island (two window passes ordered by start and end alone may order ties
    -- differently, which split one episode into two with the same start)
    select
        *,
        max(cov_end_on) over (
            partition by patient_id, drug order by cov_start_on, cov_end_on, source_id
            rows between unbounded preceding and 1 preceding
        ) as covered_until
    from prescribed
)

select
    patient_id,
    drug,
    drug_class,
    'dispenses' as exposure_source,
    dispense_id as source_id,
    cov_start_on,
    cov_end_on,
    previous_cov_end_on as covered_until
from intermediate.int_fills__shifted
union all
select * from prescribed_coverage
