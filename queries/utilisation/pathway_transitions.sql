/* ---
name: pathway_transitions
title: Treatment pathways, line to line
description: >
  Patients moving from one line of treatment to the next. A pathway starts at the patient's first
  new-user episode starting in the period (line 1). Each later line is the next distinct
  ingredient the patient started after the previous line's start (any class; a restart of an
  ingredient already taken is not a new line). Each row counts the patients going from a drug
  class at line n (1 or 2) to a drug class at line n + 1, or to 'none' when no further line was
  started before the end of the data. switched counts moves where the new ingredient replaced the
  previous line's ingredient (switched_from, DOMAIN glossary: the old drug ended within 30 days of
  the new start); added counts moves where it was added on top (augmentation or combination).
  Median days from the start of line n to the start of line n + 1. TreatmentPatterns-style event
  cohorts, class level.
grain: one row per from_line x from_class x to_class (a diagnosis group is a filter)
params:
  drug_class: {type: varchar, description: drug class of line 1 (null = all)}
columns:
  from_line: {type: integer, description: '1 or 2'}
  from_class: varchar
  to_class: {type: varchar, description: "drug class of the next line, 'none' when there was none"}
  patients: count
  switched: count
  added: count
  median_days_to_next: days
metric:
  filter_source: marts.fct_treatment_episodes
  filters: [site_id, diagnosis_group, age_band, sex]
  period: start_on
  kind: table
  suppression:
    derived: {median_days_to_next: [patients]}
    nested: [[switched, patients], [added, patients]]
    margins: [from_line, from_class, to_class]
tests:
  unique: [from_line, from_class, to_class]
  expressions: [switched + added <= patients, from_line between 1 and 2]
--- */
with episodes as (
    select
        patient_id,
        drug,
        drug_class,
        start_on,
        is_new_user,
        site_id,
        diagnosis_group,
        age_band,
        sex,
        switched_from,
        is_augmentation,
        is_combination
    from marts.fct_treatment_episodes
),

anchors as (
    select
        patient_id,
        start_on as pathway_start_on
    from filtered_source
    where is_new_user
    qualify row_number() over (partition by patient_id order by start_on, drug) = 1
),

first_starts as (
    -- the first start of each ingredient on or after the pathway start: restarts are not lines
    select
        e.patient_id,
        e.drug,
        e.drug_class,
        e.start_on,
        e.switched_from,
        coalesce(e.is_augmentation or e.is_combination, false) as is_added
    from episodes as e
    inner join anchors as a
        on e.patient_id = a.patient_id and e.start_on >= a.pathway_start_on
    qualify row_number() over (partition by e.patient_id, e.drug order by e.start_on) = 1
),

lines as (
    select
        *,
        row_number() over (partition by patient_id order by start_on, drug) as line,
        lag(drug) over (partition by patient_id order by start_on, drug) as previous_drug
    from first_starts
),

kept as (
    select * from lines
    where line <= 3
),

pathways as (
    select patient_id
    from kept
    where line = 1 and ($drug_class is null or drug_class = $drug_class)
),

moves as (
    select
        cur.line as from_line,
        cur.drug_class as from_class,
        coalesce(nxt.drug_class, 'none') as to_class,
        nxt.switched_from is not null and nxt.switched_from = cur.drug as is_switch,
        coalesce(nxt.is_added, false) and nxt.drug is not null as is_added,
        nxt.start_on - cur.start_on as days_to_next
    from kept as cur
    inner join pathways as p on cur.patient_id = p.patient_id
    left join kept as nxt
        on cur.patient_id = nxt.patient_id and nxt.line = cur.line + 1
    where cur.line <= 2
),

final as (
    select
        from_line::integer as from_line,
        from_class,
        to_class,
        count(*) as patients,
        count(*) filter (where is_switch) as switched,
        count(*) filter (where is_added and not is_switch) as added,
        median(days_to_next)::double as median_days_to_next
    from moves
    group by from_line, from_class, to_class
)

select * from final
order by from_line, from_class, to_class
