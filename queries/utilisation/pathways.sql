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
columns:
  diagnosis_group: varchar
  drug_class: varchar
  line: {type: varchar, description: '1, 2, 3 or 4+'}
  episodes: count
  patients: count
  switched: count
  augmented: count
  combined: count
  median_days_on_line: days
metric:
  source: episodes
  suppression:
    derived: {median_days_on_line: [episodes]}
    nested: [[switched, episodes], [augmented, episodes], [combined, episodes], [patients, episodes]]
tests:
  unique: [diagnosis_group, drug_class, line]
  expressions: [switched <= episodes, patients <= episodes]
--- */
with episodes as (
    select *
    from filtered_source
    where line_of_therapy is not null
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
