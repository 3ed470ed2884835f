/* ---
name: scale_completeness
title: Rating-scale completeness
description: >
  Per instrument family: scores, distinct patients, the share of scores that fall inside a
  treatment episode, and (PHQ-9) the share with item 9 recorded; plus, per instrument, the share of
  episodes with a baseline score and with both baseline and follow-up in the default preset
  (fct_episode_outcomes). Low coverage makes response rates fragile.
grain: one row per instrument
params: {}
columns:
  instrument: varchar
  scores: count
  patients: count
  scores_in_episode: count
  with_item_9: count
  episodes: count
  episodes_with_baseline: count
  episodes_with_both: count
  share_in_episode: pct1
  share_with_baseline: pct1
metric:
  kind: table
  suppression:
    derived: {share_in_episode: [scores_in_episode, scores], share_with_baseline: [episodes_with_baseline, episodes]}
    nested: [[scores_in_episode, scores], [episodes_with_baseline, episodes], [episodes_with_both, episodes_with_baseline]]
tests:
  unique: [instrument]
  expressions: [scores_in_episode <= scores, episodes_with_both <= episodes_with_baseline]
--- */
with per_score as (
    -- fct_scores has a row per score x episode: collapse to one row per score first (one hash
    -- aggregation instead of three distinct counts over every row)
    select
        instrument,
        assessment_id,
        any_value(patient_id) as patient_id,
        bool_or(episode_id is not null) as is_in_episode,
        bool_or(item_9 is not null) as has_item_9
    from marts.fct_scores
    group by instrument, assessment_id
),

scores as (
    select
        instrument,
        count(*) as scores,
        count(distinct patient_id) as patients,
        count(*) filter (where is_in_episode) as scores_in_episode,
        count(*) filter (where has_item_9) as with_item_9
    from per_score
    group by instrument
),

episodes as (
    select
        instrument,
        count(*) as episodes,
        count(*) filter (where has_baseline) as episodes_with_baseline,
        count(*) filter (where has_baseline and has_followup) as episodes_with_both
    from marts.fct_episode_outcomes
    where is_default_preset
    group by instrument
),

final as (
    select
        coalesce(scores.instrument, episodes.instrument) as instrument,
        coalesce(scores.scores, 0) as scores,
        coalesce(scores.patients, 0) as patients,
        coalesce(scores.scores_in_episode, 0) as scores_in_episode,
        coalesce(scores.with_item_9, 0) as with_item_9,
        coalesce(episodes.episodes, 0) as episodes,
        coalesce(episodes.episodes_with_baseline, 0) as episodes_with_baseline,
        coalesce(episodes.episodes_with_both, 0) as episodes_with_both,
        scores.scores_in_episode / nullif(scores.scores, 0) as share_in_episode,
        episodes.episodes_with_baseline / nullif(episodes.episodes, 0) as share_with_baseline
    from scores
    full outer join episodes on scores.instrument = episodes.instrument
)

select * from final
order by instrument
