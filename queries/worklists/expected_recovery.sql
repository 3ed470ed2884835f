/* ---
name: expected_recovery
title: Expected recovery (the clinic's own PHQ-9 change by week and baseline severity)
description: >
  The expected-recovery band of DOMAIN.md 13.1 (after Finch, Lambert and Schaalje 2001): how
  the clinic's own patients improved, against which one patient's trajectory is read. From the
  eligible episodes of the drug class (default preset: baseline PHQ-9, the latest in [-30, +7],
  at or above the eligibility minimum; marts.fct_episode_outcomes) started in [start_date,
  end_date] whose max_week weeks had all passed by the data end (start_on + 7 * max_week + 6 <=
  data end: the follow-up is closed). For each baseline severity band (PHQ-9 10-14 moderate,
  15-19 moderately severe, 20-27 severe) x week since start (week w = days 7w to 7w + 6, weeks 1
  to max_week): the change from baseline of each episode's latest PHQ-9 in the week (score -
  baseline; negative is better) and its 25th, 50th (the expected value), 75th (amber above: worse
  than three in four) and 90th (red above) percentiles, by linear interpolation between order
  statistics (DuckDB quantile_cont: numpy's default 'linear' method, Hyndman and Fan type 7). A
  cell of fewer than min_episodes episodes (DOMAIN: 30) shows no percentiles ("insufficient
  data"; neighbouring bands are not pooled). Counts are suppressed as every aggregate is, and the
  percentiles are withheld with their count.
grain: one row per baseline_severity_band x week_since_start
params:
  start_date: {type: date, description: first episode start included (null = no lower bound)}
  end_date: {type: date, description: last episode start included (null = no upper bound)}
  drug_class: {type: varchar, default: antidepressant, description: 'the episodes drug class (null = all)'}
  max_week: {type: integer, default: 16, description: the last week shown; an episode counts once all its weeks have passed}
  min_episodes: {type: integer, default: 30, description: episodes a cell needs for its percentiles}
columns:
  baseline_severity_band: varchar
  week_since_start: integer
  episodes: {type: bigint, fmt: count, description: episodes with a PHQ-9 in the week}
  p25_change: num1
  p50_change: {type: double, fmt: num1, description: the expected change (the cell median)}
  p75_change: {type: double, fmt: num1, description: amber above}
  p90_change: {type: double, fmt: num1, description: red above}
metric:
  kind: table
  suppression:
    derived: {p25_change: [episodes], p50_change: [episodes], p75_change: [episodes], p90_change: [episodes]}
tests:
  unique: [baseline_severity_band, week_since_start]
  expressions: [episodes > 0, week_since_start between 1 and 52, p25_change <= p50_change, p50_change <= p75_change, p75_change <= p90_change]
--- */
with reference_episodes as (
    select outcomes.episode_id, outcomes.baseline_score, outcomes.baseline_severity_band
    from marts.fct_episode_outcomes as outcomes
    where
        outcomes.is_default_preset
        and outcomes.is_eligible
        and outcomes.instrument = 'PHQ-9'
        and ($drug_class is null or outcomes.drug_class = $drug_class)
        and ($start_date is null or outcomes.start_on >= $start_date)
        and ($end_date is null or outcomes.start_on <= $end_date)
        and outcomes.start_on + 7 * $max_week + 6 <= (select data_end_on from marts.data_coverage)
),

weekly as (
    select
        reference_episodes.baseline_severity_band,
        scores.weeks_from_start as week_since_start,
        arg_max(scores.total_score, {'on': scores.assessed_on, 'id': scores.assessment_id})
            - any_value(reference_episodes.baseline_score) as change
    from reference_episodes
    inner join marts.fct_scores as scores on reference_episodes.episode_id = scores.episode_id
    where scores.instrument = 'PHQ-9' and scores.weeks_from_start between 1 and $max_week
    group by reference_episodes.episode_id, reference_episodes.baseline_severity_band,
             scores.weeks_from_start
),

final as (
    select
        baseline_severity_band,
        week_since_start,
        count(*) as episodes,
        case when count(*) >= $min_episodes then quantile_cont(change, 0.25) end as p25_change,
        case when count(*) >= $min_episodes then quantile_cont(change, 0.50) end as p50_change,
        case when count(*) >= $min_episodes then quantile_cont(change, 0.75) end as p75_change,
        case when count(*) >= $min_episodes then quantile_cont(change, 0.90) end as p90_change
    from weekly
    group by baseline_severity_band, week_since_start
)

select * from final
order by baseline_severity_band, week_since_start
