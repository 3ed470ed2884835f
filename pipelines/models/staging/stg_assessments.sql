/* ---
name: stg_assessments
grain: one row per patient x date x instrument family (same-day duplicates resolved)
description: >
  raw.assessments renamed. PHQ-A is scored and banded as PHQ-9 (DOMAIN 2), so instrument is the
  family ('PHQ-9' for both) and instrument_as_sent keeps what the clinic sent. Same-day duplicates
  of one family: the extract has no timestamps, so the higher total is kept (DOMAIN 3 product
  choice; ties go to the smaller assessment_id so rebuilds agree); the others are listed in
  stg_assessments__duplicates and so in dq_model_exclusions.
columns:
  assessment_id: varchar
  patient_id: varchar
  assessed_on: date
  instrument: {type: varchar, description: family}
  instrument_as_sent: varchar
  total_score: integer
  item_9: integer
--- */
with sent as not materialized (
    select
        *,
        instrument_family(instrument) as instrument_family  -- PHQ-A is PHQ-9 (instruments.csv)
    from raw.assessments
),

duplicated as (
    -- the few patient x date x family keys sent more than once: only their rows are sorted to
    -- pick one (a window over every score cost 2.7 CPU-s at 1M patients; this count is a hash
    -- aggregate)
    select patient_id, assessment_date, instrument_family
    from sent
    group by all
    having count(*) > 1
),

kept as (
    select * from sent
    anti join duplicated using (patient_id, assessment_date, instrument_family)
    union all
    select * from (
        select * from sent
        semi join duplicated using (patient_id, assessment_date, instrument_family)
    )
    qualify row_number() over (
        partition by patient_id, assessment_date, instrument_family
        order by total_score desc, assessment_id
    ) = 1
)

select
    assessment_id,
    patient_id,
    assessment_date as assessed_on,
    instrument_family as instrument,
    instrument as instrument_as_sent,
    cast(total_score as integer) as total_score,
    cast(item_9 as integer) as item_9
from kept
