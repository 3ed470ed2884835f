/* ---
name: fill_without_earlier_prescription
severity: warn
model: marts.fct_fill_coverage
category: plausibility (temporal)
description: >
  A pharmacy fill normally follows a prescription of the same ingredient for the patient, written
  on or before the fill date. Fills without one are counted in PDC all the same (adherence uses
  fills); many of them point to prescriptions missing from the extract (another prescriber, an
  extract window that starts after the prescription).
--- */
select fills.dispense_id
from marts.fct_fill_coverage as fills
anti join staging.stg_prescriptions as prescriptions
    on fills.patient_id = prescriptions.patient_id
    and fills.drug = prescriptions.drug
    and prescriptions.start_on <= fills.filled_on
