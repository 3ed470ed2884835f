/* ---
name: int_episode_relations
grain: one row per episode
unique_key: [episode_id]
description: >
  How an episode relates to the patient's other episodes (other ingredients), with
  w = $combination_window_days (30):
  regimen - this drug plus every other drug whose episode is active within the first w days of
  this one (other.start <= start + w - 1 and other.end >= start) and overlaps it for at least w
  days (or for all of this episode when it is shorter), sorted and joined by '+'.
  switch (DOMAIN glossary) - A stops and B starts overlapping for fewer than w days: A started
  before B and A.end - B.start is in [-30, w - 2] (A ends within 30 days either side of B's
  start). switched_to on A is the earliest such B; switched_from on B the latest-ending such A.
  added_to - drugs that started before this episode and continue at least w days after its
  start (A.end >= start + w - 1, i.e. >= w days together): augmentation when one is of another
  class, combination when one is of the same class.
columns:
  episode_id: varchar
  regimen: varchar
  switched_to: varchar
  switched_from: varchar
  added_to: varchar
  is_augmentation: boolean
  is_combination: boolean
--- */
with episodes as (
    select episode_id, patient_id, drug, drug_class, start_on, end_on
    from intermediate.int_episodes
),

pairs as (
    -- every ordered pair of episodes of one patient on different drugs that come within 30 days
    -- of overlapping; the conditions below pick what each relation needs
    select
        this.episode_id,
        this.drug,
        this.drug_class,
        this.start_on,
        this.end_on,
        other.episode_id as other_episode_id,
        other.drug as other_drug,
        other.drug_class as other_class,
        other.start_on as other_start_on,
        other.end_on as other_end_on
    from episodes as this
    inner join episodes as other
        on this.patient_id = other.patient_id
        and this.drug <> other.drug
        and other.start_on <= this.end_on + 30
        and other.end_on >= this.start_on - 30
),

regimen_members as (
    select episode_id, other_drug
    from pairs
    where
        other_start_on <= start_on + cast($combination_window_days as integer) - 1
        and other_end_on >= start_on
        and least(end_on, other_end_on) - greatest(start_on, other_start_on) + 1
            >= least(cast($combination_window_days as integer), end_on - start_on + 1)
),

regimens as (
    select
        episodes.episode_id,
        array_to_string(
            list_sort(list_distinct(list_concat([episodes.drug], list(regimen_members.other_drug)
                filter (where regimen_members.other_drug is not null)))),
            '+'
        ) as regimen
    from episodes
    left join regimen_members on episodes.episode_id = regimen_members.episode_id
    group by episodes.episode_id, episodes.drug
),

switches as (
    -- this = A (stopping), other = B (starting)
    select episode_id, other_episode_id, other_drug, other_start_on, drug, end_on
    from pairs
    where
        start_on < other_start_on
        and end_on - other_start_on between -30 and cast($combination_window_days as integer) - 2
),

switched_to as (
    select episode_id, arg_min(other_drug, {'start_on': other_start_on, 'drug': other_drug}) as switched_to
    from switches
    group by episode_id
),

switched_from as (
    select other_episode_id as episode_id, arg_max(drug, {'end_on': end_on, 'drug': drug}) as switched_from
    from switches
    group by other_episode_id
),

additions as (
    -- this = B (added), other = A (continuing)
    select
        episode_id,
        array_to_string(list_sort(list_distinct(list(other_drug))), '+') as added_to,
        bool_or(other_class <> drug_class) as is_augmentation,
        bool_or(other_class = drug_class) as is_combination
    from pairs
    where
        other_start_on < start_on
        and other_end_on >= start_on + cast($combination_window_days as integer) - 1
    group by episode_id
)

select
    episodes.episode_id,
    regimens.regimen,
    switched_to.switched_to,
    switched_from.switched_from,
    additions.added_to,
    coalesce(additions.is_augmentation, false) as is_augmentation,
    coalesce(additions.is_combination, false) as is_combination
from episodes
inner join regimens on episodes.episode_id = regimens.episode_id
left join switched_to on episodes.episode_id = switched_to.episode_id
left join switched_from on episodes.episode_id = switched_from.episode_id
left join additions on episodes.episode_id = additions.episode_id
