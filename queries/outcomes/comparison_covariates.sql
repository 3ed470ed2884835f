/* ---
name: comparison_covariates
title: Baseline covariates for adjusted comparisons
description: >
  Unit-level input of the propensity-score adjusted comparison (outcomes compare --adjust
  weighting|matching, docs/adjusted-comparisons.md): for every treatment episode, what was known
  on day 0 that may have steered the choice of drug: age at the episode start, sex, the baseline
  score on the instrument (latest score in [-30, +7] days of the start; null when none), its
  severity band, the diagnosis group, the line of therapy within the class, the number of the
  patient's earlier episodes of any drug (prior_episodes), the site and the calendar year of the
  start. Never published as rows: queries.adjusted joins it to the metric's units by episode_id
  and only balance statistics and effects leave the comparison.
grain: one row per treatment episode
columns:
  episode_id: varchar
  age_at_start: integer
  sex: varchar
  baseline_score: {type: integer, description: baseline score on the instrument (null = no baseline)}
  baseline_severity_band: varchar
  diagnosis_group: varchar
  line_of_therapy: integer
  prior_episodes: {type: bigint, description: the patient's episodes of any drug that started before this one}
  site_id: varchar
  start_year: integer
metric:
  filter_source: marts.fct_episode_outcomes
  scope: [instrument, preset]
  kind: table
  patient_level: true
tests:
  unique: [episode_id]
  expressions: [prior_episodes >= 0]
--- */
with episodes as (
    select
        episode_id,
        patient_id,
        age_at_start,
        sex,
        diagnosis_group,
        line_of_therapy,
        site_id,
        start_on
    from marts.fct_treatment_episodes
),

baselines as (
    select episode_id, baseline_score, baseline_severity_band
    from filtered_source
),

final as (
    select
        episodes.episode_id,
        episodes.age_at_start,
        episodes.sex,
        baselines.baseline_score,
        baselines.baseline_severity_band,
        episodes.diagnosis_group,
        episodes.line_of_therapy,
        -- rank - 1 = episodes that started strictly earlier (same-day starts are not "prior")
        rank() over (partition by episodes.patient_id order by episodes.start_on) - 1
            as prior_episodes,
        episodes.site_id,
        year(episodes.start_on)::integer as start_year
    from episodes
    left join baselines using (episode_id)
)

select * from final
order by episode_id
