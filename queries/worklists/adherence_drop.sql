/* ---
name: adherence_drop
title: Adherence drop
description: >
  Patient-level worklist (DOMAIN.md 13.4 and 5). For each patient and ingredient, the latest
  pharmacy-fill episode starting on or before the as-of date, and its fills dispensed in
  [start_on, as_of] with their shifted coverage (DOMAIN 5.2; marts.fct_fill_coverage). covered
  until = the last day their supply covers. Fill overdue: the days without supply, as_of -
  covered until, exceed the episode grace period (30 days, 60 for antipsychotics: the gap that
  ends an episode) and are at most grace + lapse_lookback_days; days_overdue = as_of - covered
  until; not listed when the episode records a stop reason or a switch (a deliberate stop).
  PDC drop: on a current episode (days without supply <= grace) at least
  adherence_window_days old, PDC over [as_of - adherence_window_days + 1, as_of] = covered days /
  adherence_window_days below adherence_pdc_min (0.80). Episodes from prescriptions only have
  no fills and are not listed.
grain: one row per patient x ingredient listed
params:
  clinician_id: {type: varchar, description: 'the episode clinician (null = all)'}
  adherence_window_days: {type: integer, default: 90}
  adherence_pdc_min: {type: double, default: 0.80}
  lapse_lookback_days: {type: integer, default: 90}
columns_from: worklist  # the columns, parameter as_of and CTEs of every worklist (pipelines/metric_shorthand.py)
columns:
  pdc: pct1
tests:
  unique: [patient_id, drug]
--- */
with episodes as (
    select episodes.*, as_of.as_of_on
    from marts.fct_treatment_episodes as episodes
    cross join as_of
    where episodes.exposure_source = 'dispenses' and episodes.start_on <= as_of.as_of_on
    qualify row_number() over (partition by episodes.patient_id, episodes.drug
                               order by episodes.start_on desc) = 1
),

covered as (
    select
        episodes.episode_id,
        max(fills.cov_end_on) as covered_until,
        max(fills.filled_on) as last_fill_on,
        count(*) as fills,
        -- one ingredient's shifted intervals never overlap, so clipped lengths add up
        sum(greatest(0, least(fills.cov_end_on, episodes.as_of_on)
                        - greatest(fills.cov_start_on, episodes.as_of_on - ($adherence_window_days - 1))
                        + 1)) as window_covered_days
    from episodes
    inner join marts.fct_fill_coverage as fills
        on episodes.patient_id = fills.patient_id
        and episodes.drug = fills.drug
        and fills.filled_on between episodes.start_on and episodes.as_of_on
    group by episodes.episode_id
),

judged as (
    select
        episodes.*,
        covered.covered_until,
        covered.last_fill_on,
        covered.window_covered_days,
        episodes.as_of_on - covered.covered_until as days_without_supply,
        covered.window_covered_days / $adherence_window_days as window_pdc
    from episodes
    inner join covered on episodes.episode_id = covered.episode_id
),

final as (
    select
        'adherence-drop' as worklist,
        patient_id,
        clinician_id,
        drug,
        drug_class,
        case when days_without_supply > grace_days then 'fill overdue'
             else format('PDC over the last {} days below {}', $adherence_window_days, $adherence_pdc_min)
        end as reason,
        case when days_without_supply > grace_days
            then format('{} since {}; last fill {}, supply ran out after {}: {} days without supply (grace {})',
                        drug, start_on, last_fill_on, covered_until, days_without_supply, grace_days)
            else format('{} since {}; {} of the last {} days covered (PDC {}); last fill {}',
                        drug, start_on, window_covered_days, $adherence_window_days,
                        round(window_pdc, 2), last_fill_on)
        end as facts,
        case when days_without_supply > grace_days then cast(covered_until + 1 as date)
             else last_fill_on end as trigger_on,
        case when days_without_supply > grace_days then cast(covered_until + 1 as date) end as due_on,
        case when days_without_supply > grace_days then cast(days_without_supply as integer) end
            as days_overdue,
        case when days_without_supply > grace_days
            then 'a fill, or a recorded stop or switch'
            else 'review adherence; clears when fills cover enough of the window'
        end as clears,
        window_pdc as pdc
    from judged
    where
        (
            days_without_supply > grace_days
            and days_without_supply <= grace_days + $lapse_lookback_days
            and stop_reason is null and switched_to is null
        )
        or (
            days_without_supply <= grace_days
            and as_of_on - start_on + 1 >= $adherence_window_days
            and window_pdc < $adherence_pdc_min
        )
)

select * from final
where $clinician_id is null or clinician_id = $clinician_id
order by clinician_id, patient_id, drug
