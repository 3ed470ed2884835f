/* ---
name: stg_dispenses
grain: one row per pharmacy fill
materialized: view
description: raw.dispenses renamed; drug is the normalised ingredient (null when unmapped).
columns:
  dispense_id: varchar
  patient_id: varchar
  drug: varchar
  filled_on: date
  days_supply: integer
--- */
select
    dispense_id,
    patient_id,
    ingredient as drug,
    dispense_date as filled_on,
    cast(days_supply as integer) as days_supply
from raw.dispenses
