/* ---
name: fct_episode_outcomes
grain: one row per episode x instrument x follow-up preset
unique_key: [episode_id, instrument, preset]
description: >
  Rating-scale outcomes of an episode (DOMAIN 3), day 0 = start_on, day offsets inclusive.
  Baseline: the latest score in [$baseline_start_days, $baseline_end_days] ([-30, +7]).
  Follow-up: the score picked by $which_score (latest by default; first; best = lowest, latest on
  ties) in the preset's window. Every preset of $followup_presets ("name:start:end,...") has its
  rows, so the dashboard switches preset with `where preset = $preset`; is_default_preset marks
  $followup_preset. The instrument rules come from ref.instrument_rules (pipelines/reference/
  instruments.csv with the configured overrides); none is restated here. Eligible: baseline >=
  the instrument's eligibility_min. Response: the macro meets_response_rule (2 * followup <=
  baseline; PCL-5: a drop of >= response_min_drop points). Remission: followup <= remission_max
  (the comparator in integers: PHQ-9 < 5 is <= 4); null with a reason where none is defined. Among
  eligible episodes a missing follow-up is "not achieved" (false), as the HEDIS/CMS rates count it;
  for ineligible episodes both are null. Time to response (eligible only): days to the first score
  in [1, preset end] meeting the response rule, else censored at the last score in that range.
  PHQ-9 and GAD-7 rows exist for every episode; other instruments only where the patient has a score.
columns_from: {model: fct_treatment_episodes, only: [episode_id, patient_id, drug, drug_class, drug_subclass, regimen, start_on, start_month, is_new_user, line_of_therapy, site_id, clinician_id, diagnosis_group, age_band, sex, adherence_band]}
columns:
  preset: varchar
  is_default_preset: boolean
  instrument: varchar
  followup_start_days: integer
  followup_end_days: integer
  baseline_score: integer
  baseline_on: date
  baseline_severity_band: varchar
  followup_score: integer
  followup_on: date
  change: integer
  has_baseline: boolean
  has_followup: boolean
  eligibility_min: integer
  is_eligible: boolean
  is_response: boolean
  is_remission: boolean
  meets_response_rule: {type: boolean, description: "the follow-up meets the instrument's response rule, whatever the eligibility (null without both scores)"}
  remission_max: integer
  remission_not_defined_reason: {type: varchar, description: "why the instrument has no remission rule (PCL-5); null when it has one"}
  cutoff_id: {type: varchar, description: "the remission comparator as configured, e.g. 'PHQ-9<5' (ref.instrument_rules)"}
  not_evaluable_reason: {type: varchar, description: 'no_baseline, ineligible_baseline or no_followup, in this order; null when evaluable'}
  days_to_response: integer
  is_response_event: boolean
--- */
with presets as (
    select
        split_part(spec, ':', 1) as preset,
        cast(split_part(spec, ':', 2) as integer) as followup_start_days,
        cast(split_part(spec, ':', 3) as integer) as followup_end_days
    from (select unnest(string_split($followup_presets, ',')) as spec)
),

rules as (
    -- the rules in force (pipelines/reference/instruments.csv with the configured overrides)
    select
        instrument, eligibility_min, remission_max, cutoff_id, response_rule, response_min_drop,
        remission_not_defined_reason
    from ref.instrument_rules
),

-- The episode's attributes ride along from here instead of being joined back at the end: a
-- final join of every output row to its episode was the model's slowest step (14 s of 17 s for
-- 24.8M rows from 3.1M episodes in the 10M-row ingest benchmark), and an episode's attributes
-- are the same in each of its instrument x preset rows.
episodes as (
    select
        episode_id, patient_id, drug, drug_class, drug_subclass, regimen, start_on, start_month,
        is_new_user, line_of_therapy, site_id, clinician_id, diagnosis_group, age_band, sex,
        adherence_band
    from marts.fct_treatment_episodes
),

scores as (
    select patient_id, instrument, assessed_on, total_score
    from staging.stg_assessments
    where instrument in (select instrument from rules)
),

patient_instruments as (
    select distinct patient_id, instrument from scores
),

episode_instruments as (
    select
        episodes.*,
        rules.instrument
    from episodes
    cross join rules
    left join patient_instruments
        on episodes.patient_id = patient_instruments.patient_id
        and rules.instrument = patient_instruments.instrument
    where rules.instrument in ('PHQ-9', 'GAD-7') or patient_instruments.patient_id is not null
),

episode_scores as (
    select
        episode_instruments.episode_id,
        episode_instruments.instrument,
        cast(scores.assessed_on - episode_instruments.start_on as integer) as score_day,
        scores.assessed_on,
        scores.total_score
    from episode_instruments
    inner join scores
        on episode_instruments.patient_id = scores.patient_id
        and episode_instruments.instrument = scores.instrument
        and scores.assessed_on >= episode_instruments.start_on + cast($baseline_start_days as integer)
        and scores.assessed_on <= episode_instruments.start_on + (select max(followup_end_days) from presets)
),

baselines as (
    select
        episode_id,
        instrument,
        arg_max(total_score, score_day) as baseline_score,
        arg_max(assessed_on, score_day) as baseline_on
    from episode_scores
    where score_day between $baseline_start_days and $baseline_end_days
    group by episode_id, instrument
),

followup_candidates as (
    select
        episode_scores.*,
        presets.preset,
        case $which_score
            when 'latest' then score_day
            when 'first' then -score_day
            else -total_score * 100000 + score_day  -- best: lowest score, latest on ties
        end as pick_key
    from episode_scores
    inner join presets
        on episode_scores.score_day between presets.followup_start_days and presets.followup_end_days
),

followups as (
    select
        episode_id,
        instrument,
        preset,
        arg_max(total_score, pick_key) as followup_score,
        arg_max(assessed_on, pick_key) as followup_on
    from followup_candidates
    group by episode_id, instrument, preset
),

score_times as (
    -- Time to response per episode x instrument with a baseline, once for every preset: the first
    -- score day >= 1 meeting the response rule (R) and every score day >= 1. A preset ending on
    -- day E then has its first response at R when R <= E (the earliest in [1, E] is the overall
    -- earliest if it falls there, else there is none) and its censoring day at the last score day
    -- <= E. Grouping every score again per preset cost 3.9 CPU-s of 29 at 1M patients.
    select
        episode_scores.episode_id,
        episode_scores.instrument,
        min(episode_scores.score_day) filter (
            where meets_response_rule(rules.response_rule, rules.response_min_drop,
                                      baselines.baseline_score, episode_scores.total_score)
        ) as first_response_day,
        list(episode_scores.score_day) as score_days
    from episode_scores
    inner join baselines
        on episode_scores.episode_id = baselines.episode_id
        and episode_scores.instrument = baselines.instrument
    inner join rules on episode_scores.instrument = rules.instrument
    where episode_scores.score_day >= 1
    group by episode_scores.episode_id, episode_scores.instrument
),

episode_instrument_scores as (
    -- everything that does not depend on the preset, joined once per episode x instrument
    -- rather than once per output row (one per preset)
    select
        episode_instruments.*,
        rules.eligibility_min,
        rules.remission_max,
        rules.cutoff_id,
        rules.response_rule,
        rules.response_min_drop,
        rules.remission_not_defined_reason,
        baselines.baseline_score,
        baselines.baseline_on,
        score_times.first_response_day,
        score_times.score_days
    from episode_instruments
    inner join rules on episode_instruments.instrument = rules.instrument
    left join baselines
        on episode_instruments.episode_id = baselines.episode_id
        and episode_instruments.instrument = baselines.instrument
    left join score_times
        on episode_instruments.episode_id = score_times.episode_id
        and episode_instruments.instrument = score_times.instrument
),

assembled as (
    select
        episode_instrument_scores.* exclude (first_response_day, score_days),
        presets.preset,
        presets.followup_start_days,
        presets.followup_end_days,
        followups.followup_score,
        followups.followup_on,
        case when episode_instrument_scores.first_response_day <= presets.followup_end_days
            then episode_instrument_scores.first_response_day end as first_response_day,
        list_max(list_filter(episode_instrument_scores.score_days,
            lambda score_day: score_day <= presets.followup_end_days)) as last_score_day,
        episode_instrument_scores.baseline_score is not null as has_baseline,
        followups.followup_score is not null as has_followup,
        coalesce(episode_instrument_scores.baseline_score >= episode_instrument_scores.eligibility_min, false)
            as is_eligible,
        meets_response_rule(episode_instrument_scores.response_rule,
                            episode_instrument_scores.response_min_drop,
                            episode_instrument_scores.baseline_score, followups.followup_score)
            as meets_response_rule
    from episode_instrument_scores
    cross join presets
    left join followups
        on episode_instrument_scores.episode_id = followups.episode_id
        and episode_instrument_scores.instrument = followups.instrument
        and presets.preset = followups.preset
)

select
    assembled.episode_id,
    assembled.patient_id,
    assembled.preset,
    assembled.preset = $followup_preset as is_default_preset,
    assembled.instrument,
    assembled.followup_start_days,
    assembled.followup_end_days,
    assembled.drug,
    assembled.drug_class,
    assembled.drug_subclass,
    assembled.regimen,
    assembled.start_on,
    assembled.start_month,
    assembled.is_new_user,
    assembled.line_of_therapy,
    assembled.site_id,
    assembled.clinician_id,
    assembled.diagnosis_group,
    assembled.age_band,
    assembled.sex,
    assembled.adherence_band,
    assembled.baseline_score,
    assembled.baseline_on,
    -- upper bounds of each band (inclusive); without a baseline score there is no band (the
    -- macro gives null, not 'severe' by fall-through)
    case assembled.instrument
        when 'PHQ-9' then severity_band(assembled.baseline_score, [4, 9, 14, 19],
            ['minimal', 'mild', 'moderate', 'moderately_severe', 'severe'])
        when 'GAD-7' then severity_band(assembled.baseline_score, [4, 9, 14],
            ['minimal', 'mild', 'moderate', 'severe'])
        when 'QIDS-SR16' then severity_band(assembled.baseline_score, [5, 10, 15, 20],
            ['none', 'mild', 'moderate', 'severe', 'very_severe'])
    end as baseline_severity_band,
    assembled.followup_score,
    assembled.followup_on,
    assembled.followup_score - assembled.baseline_score as change,
    assembled.has_baseline,
    assembled.has_followup,
    assembled.eligibility_min,
    assembled.is_eligible,
    case when assembled.is_eligible then coalesce(assembled.meets_response_rule, false) end as is_response,
    case when assembled.is_eligible and assembled.remission_max is not null
        then coalesce(assembled.followup_score <= assembled.remission_max, false) end as is_remission,
    assembled.meets_response_rule,
    assembled.remission_max,
    assembled.remission_not_defined_reason,
    assembled.cutoff_id,
    case
        when not assembled.has_baseline then 'no_baseline'
        when not assembled.is_eligible then 'ineligible_baseline'
        when not assembled.has_followup then 'no_followup'
    end as not_evaluable_reason,
    case when assembled.is_eligible
        then coalesce(assembled.first_response_day, assembled.last_score_day) end as days_to_response,
    case when assembled.is_eligible and assembled.last_score_day is not null
        then assembled.first_response_day is not null end as is_response_event
from assembled
