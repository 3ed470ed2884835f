/* ---
name: stg_drugs
grain: one row per ingredient of ref.drugs
description: The curated ingredient -> class/subclass table (DOMAIN 8), renamed.
columns:
  drug: {type: varchar, description: normalised ingredient}
  drug_class: varchar
  drug_subclass: varchar
  atc_code: varchar
--- */
select
    ingredient as drug,
    drug_class,
    drug_subclass,
    atc_code
from ref.drugs
