/* ---
name: prescribing_safety
title: Prescribing safety (antipsychotic polypharmacy, long-term benzodiazepines, opioid with benzodiazepine, dose above maximum)
description: >
  Patient-level worklist (DOMAIN.md 13.4), four rules on the as-of date. Antipsychotic
  polypharmacy (HEDIS APC's rule, at all ages): two antipsychotic episodes, both current (start_on
  <= as_of <= end_on + grace), whose overlap up to as_of, least(end_on, end_on, as_of) -
  greatest(start_on, start_on) + 1, is at least polypharmacy_min_days (one row per pair; a
  chain of three drugs with no pair overlapping that long is not listed). Long-term
  benzodiazepine use (Olfson 2015; preset 90): at least benzodiazepine_min_days days covered by
  the shifted supply of benzodiazepine fills dispensed on or before as_of, in the rolling window
  [as_of - benzodiazepine_window_days + 1, as_of], days covered by several ingredients counted
  once; patients aged older_adult_age or more on the as-of date are flagged (AGS Beers).
  Opioid with benzodiazepine (PQA COB), from pharmacy fills dispensed in the rolling window
  [as_of - cob_window_days + 1, as_of]: at least cob_opioid_min_fills opioid analgesic fills
  (dim_drugs subclass opioid_analgesic) on different dates with at least
  cob_opioid_min_supply_days days' supply in total, at least cob_benzodiazepine_min_fills
  benzodiazepine fills on different dates, and at least cob_overlap_min_days days in the window
  (up to as_of) covered by the shifted supply of both an opioid and a benzodiazepine; patients
  with a cancer (ICD-10 C00-C96) or sickle cell (D57) diagnosis dated in the window are excluded.
  Hospice is not in the extract contract and is not excluded; buprenorphine and methadone are
  classed as substance-use treatment and are not counted as opioids. No rows when the extract
  holds no opioid fills.
  Dose above the labelled maximum (marts.dim_dose_maximums; verify against the current label):
  the latest prescription started on or before as_of of a drug with a current episode (the
  episode, not the prescription's own end, says the drug is still taken: refills run past it), whose daily dose exceeds the maximum (the age-specific maximum when the
  patient is older than its age). Benzodiazepines from prescriptions only are not counted.
grain: one row per patient x rule x drug (or drug pair)
params:
  clinician_id: {type: varchar, description: 'the clinician (null = all)'}
  polypharmacy_min_days: {type: integer, default: 90}
  benzodiazepine_min_days: {type: integer, default: 120}
  benzodiazepine_window_days: {type: integer, default: 365}
  older_adult_age: {type: integer, default: 65}
  cob_window_days: {type: integer, default: 365, description: 'opioid with benzodiazepine: fills dispensed in [as_of - N + 1, as_of]'}
  cob_opioid_min_fills: {type: integer, default: 2, description: opioid fills on different dates}
  cob_opioid_min_supply_days: {type: integer, default: 15, description: "opioid days' supply in total"}
  cob_benzodiazepine_min_fills: {type: integer, default: 2, description: benzodiazepine fills on different dates}
  cob_overlap_min_days: {type: integer, default: 30, description: days covered by both}
columns_from: worklist  # the columns, parameter as_of and CTEs of every worklist (pipelines/metric_shorthand.py)
tests:
  unique: [patient_id, reason, drug]
--- */
with antipsychotic_pairs as (
    select
        first.patient_id,
        first.clinician_id,
        first.drug || ' + ' || second.drug as drug,
        'antipsychotic' as drug_class,
        'antipsychotic polypharmacy' as reason,
        greatest(first.start_on, second.start_on) as overlap_from,
        least(first.end_on, second.end_on, first.as_of_on) as overlap_to
    from current_episodes as first
    inner join current_episodes as second
        on first.patient_id = second.patient_id
        and first.drug < second.drug
    where first.drug_class = 'antipsychotic' and second.drug_class = 'antipsychotic'
),

polypharmacy as (
    select
        patient_id, clinician_id, drug, drug_class, reason,
        format('both taken from {} to {}: {} days together', overlap_from, overlap_to,
               overlap_to - overlap_from + 1) as facts,
        overlap_from as trigger_on,
        'review: reduce to one antipsychotic, or record why both are needed' as clears
    from antipsychotic_pairs
    where overlap_to - overlap_from + 1 >= $polypharmacy_min_days
),

-- the clinician of each patient's latest-starting benzodiazepine episode: the one listed for
-- the benzodiazepine rules
benzodiazepine_prescribers as (
    select patient_id, arg_max(clinician_id, start_on) as clinician_id
    from marts.fct_treatment_episodes
    where drug_subclass = 'benzodiazepine'
    group by patient_id
),

benzodiazepine_fills as (
    select
        fills.patient_id,
        fills.drug,
        greatest(fills.cov_start_on, as_of.as_of_on - ($benzodiazepine_window_days - 1)) as from_on,
        least(fills.cov_end_on, as_of.as_of_on) as to_on
    from marts.fct_fill_coverage as fills
    inner join marts.dim_drugs as drugs on fills.drug = drugs.drug
    cross join as_of
    where
        drugs.drug_subclass = 'benzodiazepine'
        and fills.filled_on <= as_of.as_of_on
        and fills.cov_end_on >= as_of.as_of_on - ($benzodiazepine_window_days - 1)
        and fills.cov_start_on <= as_of.as_of_on
),

-- gaps and islands: a new island starts after the running maximum of the earlier ends
benzodiazepine_islands as (
    select
        *,
        sum(case when from_on > previous_end + 1 or previous_end is null then 1 else 0 end)
            over (partition by patient_id order by from_on, to_on, drug rows unbounded preceding) as island
    from (
        select
            *,
            max(to_on) over (partition by patient_id order by from_on, to_on, drug
                             rows between unbounded preceding and 1 preceding) as previous_end
        from benzodiazepine_fills
    )
),

benzodiazepine_days as (
    select
        islands.patient_id,
        sum(islands.island_days) as covered_days,
        min(islands.first_on) as first_on,
        max(islands.last_on) as last_on,
        (select string_agg(distinct fills.drug, ', ' order by fills.drug) from benzodiazepine_fills as fills
         where fills.patient_id = islands.patient_id) as drug
    from (
        select patient_id, island, max(to_on) - min(from_on) + 1 as island_days,
               min(from_on) as first_on, max(to_on) as last_on
        from benzodiazepine_islands
        group by patient_id, island
    ) as islands
    group by islands.patient_id
),

long_term_benzodiazepines as (
    select
        days.patient_id,
        prescribers.clinician_id,
        days.drug,
        'anxiolytic_hypnotic' as drug_class,
        case when year(as_of.as_of_on) - patients.birth_year >= $older_adult_age
            then format('long-term benzodiazepine, age {}+', $older_adult_age)
            else 'long-term benzodiazepine' end as reason,
        format('{} of the last {} days covered ({} to {}); threshold {}', days.covered_days,
               $benzodiazepine_window_days, days.first_on, days.last_on,
               $benzodiazepine_min_days) as facts,
        days.first_on as trigger_on,
        'review: taper plan, or record why long-term use is needed' as clears
    from benzodiazepine_days as days
    left join benzodiazepine_prescribers as prescribers on days.patient_id = prescribers.patient_id
    cross join as_of
    left join marts.dim_patients as patients on days.patient_id = patients.patient_id
    where days.covered_days >= $benzodiazepine_min_days
),

cob_fills as (
    select
        fills.patient_id,
        fills.drug,
        drugs.drug_subclass as kind,
        fills.filled_on,
        fills.days_supply,
        fills.cov_start_on as from_on,
        least(fills.cov_end_on, as_of.as_of_on) as to_on
    from marts.fct_fill_coverage as fills
    inner join marts.dim_drugs as drugs on fills.drug = drugs.drug
    cross join as_of
    where
        drugs.drug_subclass in ('opioid_analgesic', 'benzodiazepine')
        and fills.filled_on between as_of.as_of_on - ($cob_window_days - 1) and as_of.as_of_on
),

cob_candidates as (
    select
        patient_id,
        count(distinct filled_on) filter (where kind = 'opioid_analgesic') as opioid_fills,
        sum(days_supply) filter (where kind = 'opioid_analgesic') as opioid_supply_days,
        count(distinct filled_on) filter (where kind = 'benzodiazepine') as benzodiazepine_fills,
        string_agg(distinct drug, ' + ' order by drug) filter (where kind = 'opioid_analgesic')
            || ' + ' || string_agg(distinct drug, ' + ' order by drug) filter (where kind = 'benzodiazepine')
            as drug
    from cob_fills
    where patient_id not in (
        select diagnoses.patient_id
        from marts.fct_diagnoses as diagnoses
        cross join as_of
        where
            regexp_matches(diagnoses.icd10_code, '^(C[0-8][0-9]|C7[AB]|C9[0-6]|D57)')
            and diagnoses.diagnosed_on between as_of.as_of_on - ($cob_window_days - 1) and as_of.as_of_on
    )
    group by patient_id
    having
        count(distinct filled_on) filter (where kind = 'opioid_analgesic') >= $cob_opioid_min_fills
        and sum(days_supply) filter (where kind = 'opioid_analgesic') >= $cob_opioid_min_supply_days
        and count(distinct filled_on) filter (where kind = 'benzodiazepine') >= $cob_benzodiazepine_min_fills
),

-- one row per patient x day covered by each kind, only for the few candidates
cob_covered as (
    select distinct fills.patient_id, fills.kind, cast(unnest(range(fills.from_on, fills.to_on + 1,
                    interval 1 day)) as date) as covered_on
    from cob_fills as fills
    semi join cob_candidates as candidates on fills.patient_id = candidates.patient_id
    where fills.to_on >= fills.from_on
),

cob_overlap as (
    select patient_id, count(*) as overlap_days, min(covered_on) as first_on, max(covered_on) as last_on
    from (
        select patient_id, covered_on
        from cob_covered
        group by patient_id, covered_on
        having count(*) = 2
    )
    group by patient_id
),

opioid_with_benzodiazepine as (
    select
        candidates.patient_id,
        prescribers.clinician_id,
        candidates.drug,
        'anxiolytic_hypnotic' as drug_class,
        'opioid with benzodiazepine' as reason,
        format('{} opioid fills ({} days'' supply) and {} benzodiazepine fills in the last {} days; '
               || 'both covered on {} days ({} to {}); threshold {}', candidates.opioid_fills,
               candidates.opioid_supply_days, candidates.benzodiazepine_fills, $cob_window_days,
               overlap.overlap_days, overlap.first_on, overlap.last_on, $cob_overlap_min_days) as facts,
        overlap.first_on as trigger_on,
        'review: avoid the combination (taper one), or record why both are needed and offer naloxone'
            as clears
    from cob_candidates as candidates
    left join benzodiazepine_prescribers as prescribers on candidates.patient_id = prescribers.patient_id
    inner join cob_overlap as overlap on candidates.patient_id = overlap.patient_id
    where overlap.overlap_days >= $cob_overlap_min_days
),

current_doses as (
    select doses.*, as_of.as_of_on
    from marts.fct_prescription_doses as doses
    cross join as_of
    semi join current_episodes as episodes
        on doses.patient_id = episodes.patient_id and doses.drug = episodes.drug
    where doses.start_on <= as_of.as_of_on
    qualify row_number() over (partition by doses.patient_id, doses.drug
                               order by doses.start_on desc, doses.prescription_id desc) = 1
),

applicable_maximums as (
    select
        doses.prescription_id,
        min(maximums.max_daily_dose_mg) as max_daily_dose_mg,
        arg_min(maximums.note, maximums.max_daily_dose_mg) as note
    from current_doses as doses
    inner join marts.dim_dose_maximums as maximums
        on doses.drug = maximums.drug
        and (maximums.older_than_age is null
             or year(doses.as_of_on) - doses.birth_year > maximums.older_than_age)
    group by doses.prescription_id
),

above_maximum as (
    select
        doses.patient_id,
        doses.clinician_id,
        doses.drug,
        doses.drug_class,
        'dose above labelled maximum' as reason,
        format('{} mg/day prescribed on {}; labelled maximum {} mg/day{}', doses.daily_dose_mg,
               doses.start_on, maximums.max_daily_dose_mg,
               coalesce(' (' || maximums.note || ')', '')) as facts,
        doses.start_on as trigger_on,
        format('review: a dose of {} mg/day or less', maximums.max_daily_dose_mg) as clears
    from current_doses as doses
    inner join applicable_maximums as maximums on doses.prescription_id = maximums.prescription_id
    where doses.daily_dose_mg > maximums.max_daily_dose_mg
),

final as (
    select
        'prescribing-safety' as worklist,
        patient_id, clinician_id, drug, drug_class, reason, facts, trigger_on,
        cast(null as date) as due_on,
        cast(null as integer) as days_overdue,
        clears
    from (
        select * from polypharmacy
        union all by name
        select * from long_term_benzodiazepines
        union all by name
        select * from opioid_with_benzodiazepine
        union all by name
        select * from above_maximum
    )
    where $clinician_id is null or clinician_id = $clinician_id
)

select * from final
order by clinician_id, patient_id, reason, drug
