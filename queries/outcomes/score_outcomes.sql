/* ---
title: Score outcomes of a treatment episode
description: >
  Denominator: episodes starting in the period with a baseline (latest score in [-30, +7] days of
  the start) at or above the eligibility threshold (PHQ-9 >= 10); follow-up is the latest score in
  the preset window (product default [+42, +112] days, preset clinic_w6_16). DOMAIN.md sections 2-3
grain: one row per treatment episode x instrument in the chosen preset (unit level; queries.metric aggregates it)
params:
  eligibility_min: {type: integer, description: 'baseline score needed to be eligible (null = the configured threshold, PHQ-9 >= 10)'}
columns:
  start_on: {type: date, description: episode start (day 0)}
  instrument: varchar
  baseline_score: integer
  followup_score: integer
  is_eligible: boolean
  is_assessed: {type: boolean, description: eligible and a follow-up score in the window}
metric:
  filter_source: marts.fct_episode_outcomes
  scope: [instrument, preset]
  unit: episode
# Response, remission and the change in score are one unit (an eligible episode with its
# follow-up score) with three outcomes: each variant is a catalogue entry of its own and returns
# only the columns it declares. The rate variants share their counts and attrition (YAML anchors).
variants:
  response:
    title: Response rate
    description: >
      Numerator: eligible episodes whose latest follow-up score in the preset window meets the
      instrument's response rule (pipelines/reference/instruments.csv, applied in the mart: at most
      half the baseline, 2 * follow-up <= baseline in integers so exactly half is a response;
      PCL-5: a drop of at least 10 points, the clinically meaningful change); a missing follow-up
      counts as not achieved. The rate among assessed (completers) is shown beside it. Attrition:
      episodes, without baseline, ineligible baseline, without follow-up. HEDIS DRR-E response rule
    constants: {remission_max: null}
    columns:
      <<: &rate_columns
        preset: varchar
        baseline_severity_band: {type: varchar, description: 'severity band of the baseline score (stratifier for compare --adjust baseline_severity)'}
        has_baseline: boolean
      is_responder: boolean
    metric:
      kind: proportion
      counts: {<<: &rate_counts {episodes: '*', with_baseline: has_baseline, eligible: is_eligible, assessed: is_assessed}, responders: is_responder}
      attrition: &rate_attrition
        - {count: episodes}
        - {count: with_baseline, dropped: without_baseline}
        - {count: eligible, dropped: ineligible_baseline}
        - {count: assessed, dropped: without_follow_up}
      rates:
        - {name: rate, numerator: responders, denominator: eligible, label: 'Response among eligible (missing follow-up = not achieved)'}
        - {name: rate_assessed, numerator: responders, denominator: assessed, label: 'Response among assessed (completers)'}
    tests:
      expressions: [is_responder <= is_assessed]
      total: &eligible_total >
        select count(*) from marts.fct_episode_outcomes where instrument = 'PHQ-9' and
        is_default_preset and is_eligible
  remission:
    title: Remission rate
    description: >
      Numerator: eligible episodes whose latest follow-up score in the preset window is at or
      below the instrument's remission cut-off (PHQ-9 < 5, i.e. <= 4: a score of 5 is not a
      remission; GAD-7 < 5; MADRS < 10; HAM-D17 <= 7; QIDS-SR16 <= 5; YMRS <= 12;
      pipelines/reference/instruments.csv). PCL-5 has no standard remission: its rate is not
      defined (null, with not_defined_reason), never 0, unless remission_max is given. A missing
      follow-up counts as not achieved. The completers' rate (among assessed) is shown beside it.
      CMS159 / DRR-E remission < 5
    params:
      remission_max: {type: integer, description: 'highest follow-up score that counts as remission (null = the configured cut-off, PHQ-9 4)'}
    columns:
      <<: *rate_columns
      is_remitter: {type: boolean, description: null when the instrument has no remission rule}
      not_defined_reason: {type: varchar, description: 'why remission is not defined for the instrument (PCL-5); null when it is'}
    metric:
      kind: proportion
      counts: {<<: *rate_counts, remitters: is_remitter}
      not_defined: {reason: not_defined_reason, counts: [remitters]}
      attrition: *rate_attrition
      rates:
        - {name: rate, numerator: remitters, denominator: eligible, label: 'Remission among eligible (missing follow-up = not achieved)'}
        - {name: rate_assessed, numerator: remitters, denominator: assessed, label: 'Remission among assessed (completers)'}
    tests:
      expressions: [is_remitter <= is_assessed]
      total: *eligible_total
  score_change:
    title: Mean change in score
    description: >
      Mean change (follow-up minus baseline; negative = improvement) among assessed episodes
      (eligible with a follow-up score), reported with the standard deviation and a t-based 95%
      interval; episodes without a follow-up are excluded (this is a completers' figure)
    constants: {remission_max: null}
    columns:
      change: {type: integer, description: follow-up minus baseline, null unless assessed}
    metric:
      kind: mean
      value: change
      counts: {eligible: is_eligible}
      fmt: num1
    tests:
      expressions: [is_assessed <= is_eligible, (change is null) = (not is_assessed)]
      total: >
        select count(*) from marts.fct_episode_outcomes where instrument = 'PHQ-9' and
        is_default_preset and is_eligible and has_followup
--- */
with evaluated as (
    select
        *,
        -- the threshold is re-applied here so it can be changed at query time (DOMAIN 3)
        coalesce(has_baseline and baseline_score >= coalesce($eligibility_min, eligibility_min), false)
            as is_eligible_now,
        coalesce($remission_max, remission_max) as remission_max_now
    from filtered_source
),

final as (
    select
        episode_id,
        start_on,
        unnest(episode_unit_columns(evaluated)),
        instrument,
        preset,
        baseline_score,
        baseline_severity_band,
        followup_score,
        has_baseline,
        is_eligible_now as is_eligible,
        is_eligible_now and has_followup as is_assessed,
        -- the rule is the mart's verdict (one home: ref.instrument_rules), never restated here
        coalesce(is_eligible_now and has_followup and meets_response_rule, false) as is_responder,
        case when remission_max_now is not null then coalesce(
            is_eligible_now and has_followup and followup_score <= remission_max_now, false) end
            as is_remitter,
        -- no cut-off (PCL-5): the rate is "not defined", with the reason, rather than 0
        case when remission_max_now is null then remission_not_defined_reason end as not_defined_reason,
        case when is_eligible_now and has_followup then followup_score - baseline_score end as change
    from evaluated
)

select * from final
order by episode_id
