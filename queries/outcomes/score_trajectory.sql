/* ---
name: score_trajectory
title: Mean score by week since start
description: >
  Mean total score of the instrument by whole week since the episode start (week 0 = days 0-6;
  negative weeks are before the start), per drug class, from week -4 to week 26, among episodes
  starting in the period whose baseline was eligible (PHQ-9 >= 10 in the default preset). n is the
  number of scores in the week; sd gives the interval band (mean +- 1.96 sd / sqrt(n)). A score is
  counted once per episode it falls in. DOMAIN.md section 3.
grain: one row per drug_class x week_since_start
columns:
  drug_class: varchar
  week_since_start: integer
  n: {type: bigint, fmt: count, description: scores in the week}
  mean_score: num1
  sd_score: num1
metric:
  filter_source: marts.fct_episode_outcomes
  scope: [instrument]
  filters: [site_id, diagnosis_group, age_band, sex, drug_class, drug]
  period: start_on
  kind: table
  suppression:
    derived: {mean_score: [n], sd_score: [n]}
tests:
  unique: [drug_class, week_since_start]
  expressions: [n > 0, week_since_start between -4 and 26]
--- */
with scores as (
    select * from marts.fct_scores
),

eligible_episodes as (
    select episode_id
    from filtered_source
    where is_default_preset and is_eligible
),

in_scope as (
    select
        scores.drug_class,
        scores.weeks_from_start,
        scores.total_score
    from scores
    inner join eligible_episodes on scores.episode_id = eligible_episodes.episode_id
    where
        scores.instrument = coalesce($instrument, 'PHQ-9')
        and scores.weeks_from_start between -4 and 26
),

final as (
    select
        drug_class,
        weeks_from_start as week_since_start,
        count(*) as n,
        avg(total_score)::double as mean_score,
        stddev_samp(total_score)::double as sd_score
    from in_scope
    group by drug_class, weeks_from_start
)

select * from final
order by drug_class, week_since_start
