/* ---
name: patient_without_visit
severity: warn
model: marts.dim_patients
category: completeness
description: >
  Every patient of the extract has at least one visit. A patient without one has no site from
  visits, no visit-based follow-up and no measurement-based-care denominator; often the visits
  file is from a narrower window than the patients file.
--- */
select patient_id
from marts.dim_patients
where visits = 0
