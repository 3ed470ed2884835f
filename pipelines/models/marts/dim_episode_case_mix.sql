/* ---
name: dim_episode_case_mix
grain: one row per treatment episode
unique_key: [episode_id]
description: >
  The case-mix band of a treatment episode: its baseline PHQ-9 severity band at the default
  follow-up preset (marts.fct_episode_outcomes), or 'no baseline' when the episode has no
  baseline PHQ-9 score (has_baseline guards against a null score falling through to a band).
  Stated once for the measures that stratify by it (AMM, follow-up after a new prescription).
columns:
  episode_id: varchar
  severity_band: varchar
--- */
select
    episodes.episode_id,
    case when outcomes.has_baseline then outcomes.baseline_severity_band else 'no baseline' end
        as severity_band
from marts.fct_treatment_episodes as episodes
left join marts.fct_episode_outcomes as outcomes
    on
        episodes.episode_id = outcomes.episode_id
        and outcomes.instrument = 'PHQ-9'
        and outcomes.is_default_preset
