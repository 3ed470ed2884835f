/* ---
name: adherence_covered_days_within_denominator
severity: error
model: marts.fct_adherence_pdc
category: conformance (computational)
description: >
  PDC's numerator is at most its denominator: 0 <= covered_days <= denominator_days (the days
  from the index fill to the period end), and pdc is their ratio. Returns the patient-target-years
  where either fails.
--- */
select patient_id, level, drug_class, drug, measurement_year
from marts.fct_adherence_pdc
where
    covered_days < 0
    or covered_days > denominator_days
    or denominator_days < 1
    or abs(pdc - covered_days / denominator_days) > 1e-9
