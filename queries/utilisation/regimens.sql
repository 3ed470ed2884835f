/* ---
name: regimens
title: Regimens in use
description: >
  Regimens (the psychiatric ingredients taken together: this drug plus every other whose episode
  overlaps it for at least the 30-day combination window; sorted names joined by '+') of episodes
  starting in the period, with episodes, distinct patients, the number of ingredients and the
  number of drug classes in the regimen. DOMAIN.md glossary (regimen).
grain: one row per regimen
columns:
  regimen: varchar
  ingredients: integer
  drug_classes: bigint
  episodes: count
  patients: count
metric:
  source: episodes
  suppression:
    nested: [[patients, episodes]]
tests:
  unique: [regimen]
  expressions: [patients <= episodes, ingredients >= 1]
--- */
with episodes as (
    select * from filtered_source
),

regimen_classes as (
    -- the classes of the regimen's ingredients (not of the episodes that carry it: the
    -- aripiprazole episode of "aripiprazole+sertraline" alone would count one class)
    select
        regimen,
        count(distinct drugs.drug_class) as drug_classes
    from (select distinct regimen from episodes) as regimens
    cross join unnest(string_split(regimens.regimen, '+')) as parts (ingredient)
    inner join marts.dim_drugs as drugs on parts.ingredient = drugs.drug
    group by regimen
),

final as (
    select
        episodes.regimen,
        len(string_split(episodes.regimen, '+'))::integer as ingredients,
        any_value(regimen_classes.drug_classes) as drug_classes,
        count(*) as episodes,
        count(distinct episodes.patient_id) as patients
    from episodes
    left join regimen_classes on episodes.regimen = regimen_classes.regimen
    group by episodes.regimen
)

select * from final
order by episodes desc, regimen
