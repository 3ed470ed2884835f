/* ---
name: dim_dose_maximums
grain: one row per ingredient x age condition of ref.dose_maximums
unique_key: [drug, older_than_age]
not_null: [drug]
description: >
  Labelled maximum daily doses in mg (DOMAIN 13.4, secondary compilations: verify each against
  the current FDA label). A row with older_than_age applies to patients older than that age and
  then replaces the general row (citalopram 20 mg above age 60). Where the maximum depends on a
  formulation the contract does not carry (paroxetine CR, bupropion XL), the higher maximum is
  used so that no patient is listed for a dose their formulation allows.
columns:
  drug: varchar
  max_daily_dose_mg: double
  older_than_age: integer
  note: varchar
  source: varchar
--- */
select
    trim(drug) as drug,
    cast(max_daily_dose_mg as double) as max_daily_dose_mg,
    cast(nullif(trim(older_than_age), '') as integer) as older_than_age,
    note,
    source
from ref.dose_maximums
