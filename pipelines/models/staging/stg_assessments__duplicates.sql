/* ---
name: stg_assessments__duplicates
grain: one row per assessment not kept as a same-day duplicate
description: >
  The complement of stg_assessments: scores of the same patient, date and instrument family that
  lost to a higher total (or, on equal totals, to a smaller assessment_id).
columns:
  assessment_id: {type: varchar}
  patient_id: {type: varchar}
  kept_assessment_id: {type: varchar}
--- */
select
    raw_scores.assessment_id,
    raw_scores.patient_id,
    kept.assessment_id as kept_assessment_id
from raw.assessments as raw_scores
inner join staging.stg_assessments as kept
    on raw_scores.patient_id = kept.patient_id
    and raw_scores.assessment_date = kept.assessed_on
    and instrument_family(raw_scores.instrument) = kept.instrument
where raw_scores.assessment_id <> kept.assessment_id
