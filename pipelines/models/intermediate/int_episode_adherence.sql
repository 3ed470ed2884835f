/* ---
name: int_episode_adherence
grain: one row per episode
unique_key: [episode_id]
description: >
  PDC over the first 84 and 180 days of an episode ([start, start + 83] and [start, start + 179]),
  from the shifted fills of the episode's ingredient (int_fills__shifted: one chain per patient x
  ingredient, so its intervals never overlap and clipped lengths can be summed). Null for episodes
  built from prescriptions (no fills) and when the window ends after the data end (not yet
  observable). adherence_band bands pdc_84 at 0.5 and $pdc_threshold (labels show the threshold).
columns:
  episode_id: varchar
  pdc_84: {type: double, range: [0, 1]}
  pdc_180: {type: double, range: [0, 1]}
  adherence_band: {type: varchar, description: ">=0.8, 0.5-0.8, <0.5, no fills, not observed"}
--- */
with episodes as (
    -- the two windows' last days, each stated once: [start, start + 83] and [start, start + 179]
    select
        episode_id, patient_id, drug, start_on, exposure_source,
        start_on + 83 as end_84_on,
        start_on + 179 as end_180_on
    from intermediate.int_episodes
),

covered as (
    select
        episodes.episode_id,
        sum(greatest(0, least(fills.cov_end_on, episodes.end_84_on)
            - greatest(fills.cov_start_on, episodes.start_on) + 1)) as covered_84,
        sum(greatest(0, least(fills.cov_end_on, episodes.end_180_on)
            - greatest(fills.cov_start_on, episodes.start_on) + 1)) as covered_180
    from episodes
    inner join intermediate.int_fills__shifted as fills
        on episodes.patient_id = fills.patient_id
        and episodes.drug = fills.drug
        and fills.cov_end_on >= episodes.start_on
        and fills.cov_start_on <= episodes.end_180_on
    group by episodes.episode_id
),

ratios as (
    select
        episodes.episode_id,
        episodes.exposure_source,
        episodes.end_84_on <= coverage.data_end_on as is_84_observed,
        case when episodes.end_84_on <= coverage.data_end_on and episodes.exposure_source = 'dispenses'
            then coalesce(covered.covered_84, 0) / 84.0 end as pdc_84,
        case when episodes.end_180_on <= coverage.data_end_on and episodes.exposure_source = 'dispenses'
            then coalesce(covered.covered_180, 0) / 180.0 end as pdc_180
    from episodes
    cross join staging.stg_data_coverage as coverage
    left join covered on episodes.episode_id = covered.episode_id
)

select
    episode_id,
    pdc_84,
    pdc_180,
    case
        when exposure_source <> 'dispenses' then 'no fills'
        when not is_84_observed then 'not observed'
        else adherence_band(pdc_84, $pdc_threshold)
    end as adherence_band
from ratios
