/* ---
name: score_outside_instrument_range
severity: error
model: marts.fct_scores
category: plausibility (atemporal)
description: >
  Every kept score lies within its instrument's total-score range (as sent: PHQ-A keeps its own
  entry), $instrument_ranges being the contract's INSTRUMENT_RANGES; an instrument with no range
  is an offender too. Validation rejects such rows at load, so this is the last line of defence.
--- */
with ranges as (
    select unnest($instrument_ranges, recursive := true)
)

select scores.assessment_id, scores.instrument_as_sent
from marts.fct_scores as scores
left join ranges on scores.instrument_as_sent = ranges.instrument
where
    ranges.instrument is null
    or scores.total_score < ranges.min_score
    or scores.total_score > ranges.max_score
