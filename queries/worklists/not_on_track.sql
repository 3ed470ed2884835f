/* ---
name: not_on_track
title: Not on track (antidepressant episodes)
description: >
  Patient-level worklist (DOMAIN.md 13.1). An antidepressant episode current on the as-of date
  (start_on <= as_of <= end_on + grace) and at most not_on_track_listed_until_days old, whose
  baseline PHQ-9 (the latest score in [baseline_start_days, baseline_end_days] of the episode
  start, on or before as_of) is at least eligible_min. Stage "not on track at week 6" (ICSI:
  continue when >= 25% reduction at 6 weeks): the latest PHQ-9 in [week6_window_start_days,
  week6_window_end_days] is listed when 100 * (baseline - score) < week6_improvement_min_pct *
  baseline. Without such a score, stage "early non-improvement" (Szegedi 2009: < 20% by week 2
  predicts non-response; CANMAT 2016): the latest PHQ-9 in [early_window_start_days,
  early_window_end_days] is listed when 100 * (baseline - score) < early_improvement_min_pct *
  baseline. Only scores dated on or before as_of count. Caution shown with the list: early
  non-improvement predicts poorly for individuals (29% of predicted non-responders responded by
  week 6, 43% by week 12), so a row prompts a review of dose, adherence and side effects, not a
  switch. Adequate dose is not checked (the contract's doses are optional).
grain: one row per listed episode
params:
  clinician_id: {type: varchar, description: 'the episode clinician (null = all)'}
  baseline_start_days: {type: integer, default: -30, description: baseline window start (DOMAIN 3)}
  baseline_end_days: {type: integer, default: 7, description: baseline window end}
  eligible_min: {type: integer, default: 10, description: baseline PHQ-9 at or above which an episode is eligible}
  early_window_start_days: {type: integer, default: 10}
  early_window_end_days: {type: integer, default: 35}
  early_improvement_min_pct: {type: integer, default: 20}
  week6_window_start_days: {type: integer, default: 35}
  week6_window_end_days: {type: integer, default: 63}
  week6_improvement_min_pct: {type: integer, default: 25}
  not_on_track_listed_until_days: {type: integer, default: 91, description: an episode leaves the list after this day}
columns_from: worklist  # the columns, parameter as_of and CTEs of every worklist (pipelines/metric_shorthand.py)
tests:
  unique: [patient_id, drug, trigger_on]
--- */
with episodes as (
    select *
    from current_episodes
    where
        drug_class = 'antidepressant'
        and as_of_on - start_on <= $not_on_track_listed_until_days
        and ($clinician_id is null or clinician_id = $clinician_id)
),

-- fct_scores repeats a score per episode it falls in: one row per score here
phq9 as (
    select distinct assessment_id, patient_id, assessed_on, total_score
    from marts.fct_scores
    where instrument = 'PHQ-9'
),

-- the three windows of the rule, in days from the episode start
windows as (
    select * from (values
        ('baseline', $baseline_start_days, $baseline_end_days),
        ('early', $early_window_start_days, $early_window_end_days),
        ('week6', $week6_window_start_days, $week6_window_end_days)
    ) as windows (name, from_day, to_day)
),

-- each episode's latest PHQ-9 (on or before as_of) in each window it has one
latest as (
    select
        episodes.episode_id,
        windows.name,
        arg_max(phq9.total_score, phq9.assessed_on) as score,
        max(phq9.assessed_on) as score_on
    from episodes
    inner join phq9
        on episodes.patient_id = phq9.patient_id
        and phq9.assessed_on <= episodes.as_of_on
    inner join windows
        on phq9.assessed_on - episodes.start_on between windows.from_day and windows.to_day
    group by episodes.episode_id, windows.name
),

staged as (
    select
        episodes.*,
        baseline.score as baseline_score,
        baseline.score_on as baseline_on,
        case when week6.score_on is not null then 'not on track at week 6'
             else 'early non-improvement' end as reason,
        coalesce(week6.score, early.score) as score,
        coalesce(week6.score_on, early.score_on) as score_on,
        case when week6.score_on is not null then $week6_improvement_min_pct
             else $early_improvement_min_pct end as min_pct
    from episodes
    inner join latest as baseline
        on episodes.episode_id = baseline.episode_id and baseline.name = 'baseline'
    left join latest as early on episodes.episode_id = early.episode_id and early.name = 'early'
    left join latest as week6 on episodes.episode_id = week6.episode_id and week6.name = 'week6'
    where baseline.score >= $eligible_min
),

final as (
    select
        'not-on-track' as worklist,
        patient_id,
        clinician_id,
        drug,
        drug_class,
        reason,
        format('PHQ-9 {} on {} (day {}) against baseline {} on {}: {}, under the {}% expected',
               score, score_on, score_on - start_on, baseline_score, baseline_on,
               case when score > baseline_score then 'worse'
                    else format('{}% better', cast(floor(100.0 * (baseline_score - score) / baseline_score) as integer))
               end,
               min_pct) as facts,
        score_on as trigger_on,
        cast(null as date) as due_on,
        cast(null as integer) as days_overdue,
        format('review dose, adherence and side effects; on track at a PHQ-9 of {} or less',
               baseline_score - (min_pct * baseline_score + 99) // 100) as clears
    from staged
    where score is not null and 100 * (baseline_score - score) < min_pct * baseline_score
)

select * from final
order by clinician_id, patient_id, drug
