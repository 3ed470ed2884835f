/* ---
name: episode_drug_without_class
severity: error
model: marts.fct_treatment_episodes
category: conformance (relational)
description: >
  Every drug of an episode has a class: the episode's ingredient and each ingredient of its
  regimen (joined by '+') is in marts.dim_drugs with a drug_class, and the episode's drug_class
  is that ingredient's class. Returns one row per episode x drug that fails.
--- */
with episode_drugs as (
    select episode_id, drug, drug_class as episode_class from marts.fct_treatment_episodes
    union all
    select episode_id, unnest(string_split(regimen, '+')) as drug, null as episode_class
    from marts.fct_treatment_episodes
)

select episode_drugs.episode_id, episode_drugs.drug
from episode_drugs
left join marts.dim_drugs as drugs on episode_drugs.drug = drugs.drug
where
    drugs.drug_class is null
    or (episode_drugs.episode_class is not null and episode_drugs.episode_class <> drugs.drug_class)
