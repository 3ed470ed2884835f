/* ---
name: stg_assessments__duplicates
grain: one row per assessment not kept as a same-day duplicate
description: >
  The complement of stg_assessments: scores of the same patient, date and instrument family that
  lost to a higher total (or, on equal totals, to a smaller assessment_id).
columns:
  assessment_id: varchar
  patient_id: varchar
  kept_assessment_id: varchar
--- */
-- Only the scores stg_assessments left out (an anti join on the key, whose output is the few
-- duplicates) are matched to the score kept in their place: matching every score to its own
-- kept row first meant an 8M-row join at 1M patients to return a handful of rows.
with dropped as (
    select patient_id, assessment_date, instrument, assessment_id
    from raw.assessments
    anti join staging.stg_assessments using (assessment_id)
)

select
    dropped.assessment_id,
    dropped.patient_id,
    kept.assessment_id as kept_assessment_id
from dropped
inner join staging.stg_assessments as kept
    on dropped.patient_id = kept.patient_id
    and dropped.assessment_date = kept.assessed_on
    and instrument_family(dropped.instrument) = kept.instrument
