/* ---
name: episode_ends_before_start
severity: error
model: marts.fct_treatment_episodes
category: plausibility (temporal)
description: >
  No treatment episode ends before it starts: end_on >= start_on (an episode of one fill of one
  day starts and ends on the same day). Returns the episodes that end first.
--- */
select episode_id
from marts.fct_treatment_episodes
where end_on < start_on
