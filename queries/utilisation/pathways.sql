/* ---
name: pathways
title: Treatment pathways by line of therapy
description: >
  For each diagnosis group, drug class and line of therapy (1 = the first ingredient of the class
  in a course started by a new-user episode, 2 = the second distinct ingredient, ...; lines above
  3 are grouped as 4+): episodes starting in the period, distinct patients, episodes that ended
  in a switch to another ingredient (overlap under the 30-day combination window), augmentations
  (a drug of another class added while this continued for at least 30 days), combinations (a
  second drug of the same class), and the median days on treatment. Reaching line n+1 from line
  n is the transition line n -> n+1. DOMAIN.md glossary (switch, augment).
grain: one row per diagnosis_group x drug_class x line
params:
  start_date: {type: date, description: first episode start included (null = no lower bound)}
  end_date: {type: date, description: last episode start included (null = no upper bound)}
  site_id: {type: varchar, description: site filter (null = all)}
  diagnosis_group: {type: varchar, description: diagnosis group filter (null = all)}
  age_band: {type: varchar, description: age band filter (null = all)}
  sex: {type: varchar, description: sex filter (null = all)}
  drug_class: {type: varchar, description: drug class filter (null = all)}
columns:
  diagnosis_group: {type: varchar}
  drug_class: {type: varchar}
  line: {type: varchar, description: '1, 2, 3 or 4+'}
  episodes: {type: bigint, fmt: count}
  patients: {type: bigint, fmt: count}
  switched: {type: bigint, fmt: count}
  augmented: {type: bigint, fmt: count}
  combined: {type: bigint, fmt: count}
  median_days_on_line: {type: double, fmt: days}
metric:
  kind: table
  suppression:
    derived: {median_days_on_line: [episodes]}
    nested: [[switched, episodes], [augmented, episodes], [combined, episodes], [patients, episodes]]
tests:
  unique: [diagnosis_group, drug_class, line]
  expressions: [switched <= episodes, patients <= episodes]
--- */
with episodes as (
    select *
    from marts.fct_treatment_episodes
    where
        line_of_therapy is not null
        and ($start_date is null or start_on >= $start_date)
        and ($end_date is null or start_on <= $end_date)
        and ($site_id is null or site_id = $site_id)
        and ($diagnosis_group is null or diagnosis_group = $diagnosis_group)
        and ($age_band is null or age_band = $age_band)
        and ($sex is null or sex = $sex)
        and ($drug_class is null or drug_class = $drug_class)
),

lined as (
    select
        *,
        case when line_of_therapy >= 4 then '4+' else line_of_therapy::varchar end as line
    from episodes
),

final as (
    select
        diagnosis_group,
        drug_class,
        line,
        count(*) as episodes,
        count(distinct patient_id) as patients,
        count(*) filter (where switched_to is not null) as switched,
        count(*) filter (where is_augmentation) as augmented,
        count(*) filter (where is_combination) as combined,
        median(days_on_treatment)::double as median_days_on_line
    from lined
    group by diagnosis_group, drug_class, line
)

select * from final
order by diagnosis_group, drug_class, line
