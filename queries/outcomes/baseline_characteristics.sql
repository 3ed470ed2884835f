/* ---
name: baseline_characteristics
title: Baseline characteristics
description: >
  Who the episodes were, for comparing groups: among eligible episodes starting in the period
  (baseline in [-30, +7] days at or above the threshold, PHQ-9 >= 10), the number of episodes,
  mean and sd of age at start and of baseline score, and the count in each sex, baseline severity
  band and diagnosis group. outcomes compare uses it for standardised mean differences (|SMD| >
  0.1 flags imbalance, Austin 2009).
grain: one row per characteristic x level
columns:
  characteristic: {type: varchar, description: 'episodes, age, baseline_score, sex, baseline_severity, diagnosis_group'}
  level: {type: varchar, description: category level (null for continuous rows)}
  episodes: {type: bigint, fmt: count, description: eligible episodes in the group}
  n: {type: bigint, fmt: count, description: episodes with the value (continuous) or in the level (categorical)}
  mean: num1
  sd: num1
  proportion: {type: double, fmt: pct1, description: n / episodes for categorical rows}
metric:
  filter_source: marts.fct_episode_outcomes
  scope: [instrument, preset]
  filters: [site_id, clinician_id, diagnosis_group, age_band, sex, drug_class, drug]
  period: start_on
  kind: table
  suppression:
    derived: {mean: [n], sd: [n], proportion: [n, episodes]}
    nested: [[n, episodes]]
tests:
  unique: [characteristic, level]
  expressions: [n <= episodes]
--- */
with eligible as (
    select *
    from filtered_source
    where is_eligible
),

episode_total as (
    select count(*) as episodes from eligible
),

continuous as (
    select 'age' as characteristic, count(age_at_start) as n, avg(age_at_start)::double as mean,
        stddev_samp(age_at_start)::double as sd
    from eligible
    left join marts.fct_treatment_episodes as episodes using (episode_id)
    union all
    select 'baseline_score' as characteristic, count(baseline_score) as n,
        avg(baseline_score)::double as mean, stddev_samp(baseline_score)::double as sd
    from eligible
),

categorical as (
    select 'sex' as characteristic, sex as level, count(*) as n from eligible group by sex
    union all
    select 'baseline_severity' as characteristic, baseline_severity_band as level, count(*) as n
    from eligible group by baseline_severity_band
    union all
    select 'diagnosis_group' as characteristic, diagnosis_group as level, count(*) as n
    from eligible group by diagnosis_group
),

final as (
    select 'episodes' as characteristic, null::varchar as level, episodes, episodes as n,
        null::double as mean, null::double as sd, null::double as proportion
    from episode_total
    union all
    select characteristic, null::varchar as level, episodes, n, mean, sd, null::double as proportion
    from continuous cross join episode_total
    union all
    select characteristic, level, episodes, n, null::double as mean, null::double as sd,
        n / episodes as proportion
    from categorical cross join episode_total
)

select * from final
order by characteristic, level nulls first
