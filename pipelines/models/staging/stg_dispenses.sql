/* ---
name: stg_dispenses
grain: one row per pharmacy fill
materialized: view
description: raw.dispenses renamed; drug is the normalised ingredient (null when unmapped).
columns:
  dispense_id: {type: varchar}
  patient_id: {type: varchar}
  drug: {type: varchar}
  filled_on: {type: date}
  days_supply: {type: integer}
--- */
select
    dispense_id,
    patient_id,
    ingredient as drug,
    dispense_date as filled_on,
    cast(days_supply as integer) as days_supply
from raw.dispenses
