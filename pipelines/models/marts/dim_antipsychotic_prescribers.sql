/* ---
name: dim_antipsychotic_prescribers
grain: one row per patient x span of days with the same antipsychotic prescriber
unique_key: [patient_id, from_on]
description: >
  Who prescribes a patient's antipsychotic on a given day: the antipsychotic episode covering the
  day (start_on <= day <= end_on) gives the clinician and site, the earliest start winning when
  several cover it. Stated once for the patient-year measures (APC, SAA, APM), which join it on
  their index date (from_on <= index_on <= to_on). The days are cut at every episode start and
  every day after an episode ends, so the covering episodes, and the winner, are the same on
  every day of a span; days no antipsychotic episode covers have no row.
columns:
  patient_id: varchar
  from_on: {type: date, description: first day of the span}
  to_on: {type: date, description: last day of the span}
  clinician_id: {type: varchar, description: prescriber of the winning episode}
  site_id: {type: varchar, description: site of the winning episode}
--- */
with episodes as (
    select patient_id, start_on, end_on, clinician_id, site_id
    from marts.fct_treatment_episodes
    where drug_class = 'antipsychotic'
),

cuts as (
    select distinct patient_id, day_on
    from (
        select patient_id, start_on as day_on from episodes
        union all
        select patient_id, end_on + 1 as day_on from episodes
    )
    where day_on is not null
),

spans as (
    select
        patient_id,
        day_on as from_on,
        lead(day_on) over (partition by patient_id order by day_on) - 1 as to_on
    from cuts
)

select
    spans.patient_id,
    spans.from_on,
    spans.to_on,
    arg_min(episodes.clinician_id, episodes.start_on) as clinician_id,
    arg_min(episodes.site_id, episodes.start_on) as site_id
from spans
inner join episodes
    on
        spans.patient_id = episodes.patient_id
        and spans.from_on between episodes.start_on and episodes.end_on
group by spans.patient_id, spans.from_on, spans.to_on
