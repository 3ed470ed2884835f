/* ---
name: dim_drugs
grain: one row per ingredient of ref.drugs
unique_key: [drug]
description: The ingredient -> class and subclass mapping (DOMAIN 8), keyed by ingredient.
columns:
  drug: varchar
  drug_class: varchar
  drug_subclass: varchar
  atc_code: varchar
--- */
select drug, drug_class, drug_subclass, atc_code
from staging.stg_drugs
