/* ---
name: regimens
title: Regimens in use
description: >
  Regimens (the psychiatric ingredients taken together: this drug plus every other whose episode
  overlaps it for at least the 30-day combination window; sorted names joined by '+') of episodes
  starting in the period, with episodes, distinct patients, the number of ingredients and the
  number of drug classes in the regimen. DOMAIN.md glossary (regimen).
grain: one row per regimen
params:
  start_date: {type: date, description: first episode start included (null = no lower bound)}
  end_date: {type: date, description: last episode start included (null = no upper bound)}
  site_id: {type: varchar, description: site filter (null = all)}
  diagnosis_group: {type: varchar, description: diagnosis group filter (null = all)}
  age_band: {type: varchar, description: age band filter (null = all)}
  sex: {type: varchar, description: sex filter (null = all)}
  drug_class: {type: varchar, description: drug class filter (null = all)}
columns:
  regimen: {type: varchar}
  ingredients: {type: integer}
  drug_classes: {type: bigint}
  episodes: {type: bigint, fmt: count}
  patients: {type: bigint, fmt: count}
metric:
  kind: table
  suppression:
    nested: [[patients, episodes]]
tests:
  unique: [regimen]
  expressions: [patients <= episodes, ingredients >= 1]
--- */
with episodes as (
    select *
    from marts.fct_treatment_episodes
    where
        ($start_date is null or start_on >= $start_date)
        and ($end_date is null or start_on <= $end_date)
        and ($site_id is null or site_id = $site_id)
        and ($diagnosis_group is null or diagnosis_group = $diagnosis_group)
        and ($age_band is null or age_band = $age_band)
        and ($sex is null or sex = $sex)
        and ($drug_class is null or drug_class = $drug_class)
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
