/* ---
name: int_episodes
grain: one row per episode (patient x ingredient x island of continuous use)
unique_key: [episode_id]
description: >
  Gaps and islands over the exposures of one patient x ingredient, ordered by coverage start. The
  gap before an exposure is start - (latest end so far) - 1 uncovered days; a gap longer than the
  grace period opens a new episode, so a gap of exactly grace days continues it (DOMAIN 5.5).
  Grace is $grace_days, or $antipsychotic_grace_days for antipsychotics. start_on is the first
  fill or prescription, end_on the last covered day (no grace appended). A new user has no
  exposure to any drug of the same class on any day of [start - $washout_days, start - 1].
  Discontinued: end_on + grace < data end (the over-long gap is observed); otherwise censored.
columns:
  episode_id: {type: varchar, description: "patient_id|drug|start_on"}
  patient_id: varchar
  drug: varchar
  drug_class: varchar
  exposure_source: varchar
  exposures: integer
  start_on: date
  end_on: date
  grace_days: integer
  is_new_user: boolean
  has_full_lookback: boolean
  is_discontinued: boolean
  is_censored: boolean
  days_on_treatment: integer
--- */
with exposures as (
    -- covered_until (the latest earlier end) comes with the exposures: for fills it is the
    -- previous shifted end from int_fills__shifted's own sorted pass, so only the island
    -- numbering below sorts here
    select
        *,
        case when drug_class = 'antipsychotic' then $antipsychotic_grace_days else $grace_days end
            as grace_days
    from intermediate.int_exposures
),

islands as (
    select
        *,
        sum(case when covered_until is null or cov_start_on - covered_until - 1 > grace_days then 1 else 0 end)
            over (
                partition by patient_id, drug order by cov_start_on, cov_end_on, source_id
                rows between unbounded preceding and current row
            ) as island
    from exposures
),

episodes as (
    select
        patient_id,
        drug,
        any_value(drug_class) as drug_class,
        any_value(exposure_source) as exposure_source,
        cast(count(*) as integer) as exposures,
        min(cov_start_on) as start_on,
        max(cov_end_on) as end_on,
        cast(any_value(grace_days) as integer) as grace_days
    from islands
    group by patient_id, drug, island
),

prior_class_use as (
    select distinct
        episodes.patient_id,
        episodes.drug,
        episodes.start_on
    from episodes
    inner join intermediate.int_exposures as earlier
        on episodes.patient_id = earlier.patient_id
        and episodes.drug_class = earlier.drug_class
        and earlier.cov_start_on < episodes.start_on
        and earlier.cov_end_on >= episodes.start_on - cast($washout_days as integer)
)

select
    episodes.patient_id || '|' || episodes.drug || '|' || strftime(episodes.start_on, '%Y-%m-%d')
        as episode_id,
    episodes.patient_id,
    episodes.drug,
    episodes.drug_class,
    episodes.exposure_source,
    episodes.exposures,
    episodes.start_on,
    episodes.end_on,
    episodes.grace_days,
    prior_class_use.patient_id is null as is_new_user,
    episodes.start_on - cast($washout_days as integer) >= coverage.data_start_on as has_full_lookback,
    episodes.end_on + episodes.grace_days < coverage.data_end_on as is_discontinued,
    not (episodes.end_on + episodes.grace_days < coverage.data_end_on) as is_censored,
    cast(least(episodes.end_on, coverage.data_end_on) - episodes.start_on + 1 as integer)
        as days_on_treatment
from episodes
cross join staging.stg_data_coverage as coverage
left join prior_class_use
    on episodes.patient_id = prior_class_use.patient_id
    and episodes.drug = prior_class_use.drug
    and episodes.start_on = prior_class_use.start_on
