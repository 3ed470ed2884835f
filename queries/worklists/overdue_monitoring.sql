/* ---
name: overdue_monitoring
title: Overdue monitoring (lithium, valproate, carbamazepine, clozapine ANC, antipsychotic metabolic)
description: >
  Patient-level worklist (DOMAIN.md 13.2 and 9.4) on the schedules of
  marts.dim_monitoring_schedules (pipelines/reference/monitoring_schedules.csv) and the test
  groups of marts.dim_monitoring_tests. For every episode current on the as-of date (start_on
  <= as_of <= end_on + the episode grace; a restart after a longer gap is a new episode and
  restarts the schedule) of a drug with a schedule (antipsychotic metabolic: the earliest-starting
  current antipsychotic episode): the last qualifying test is the latest measurement of any of
  the group's measures dated in [start_on + counts_from_day, as_of]. due = last test + the
  interval of the phase holding the day of that test (the short interval when the patient is at
  least short_if_age_min years old on the as-of date or the last value is at least
  short_if_value_min); with no qualifying test, due = start_on + first_due_day ("never done").
  Listed when as_of > due + grace (the phase's grace); days_overdue = as_of - due. Presets:
  lithium_preset (nice_cg185, qof_mh009), clozapine_preset (us_label, uk), metabolic_preset
  (apa2020, ada2004). No overdue rule for drug levels of valproate (SPS).
grain: one row per current episode x overdue test group
params:
  clinician_id: {type: varchar, description: 'the episode clinician (null = all)'}
  lithium_preset: {type: varchar, default: nice_cg185}
  clozapine_preset: {type: varchar, default: us_label}
  metabolic_preset: {type: varchar, default: apa2020}
columns_from: worklist  # the columns, parameter as_of and CTEs of every worklist (pipelines/metric_shorthand.py)
columns:
  test_group: varchar
tests:
  unique: [patient_id, drug, test_group]
  expressions: [days_overdue > 0]
--- */
with schedules as (
    select
        *,
        min(phase_from_day) over (partition by schedule, preset, test_group) as first_phase_day
    from marts.dim_monitoring_schedules
    where preset = case schedule
        when 'lithium' then $lithium_preset
        when 'clozapine' then $clozapine_preset
        when 'metabolic' then $metabolic_preset
        else preset end
),

rules as (
    select distinct schedule, drug, drug_class, test_group, counts_from_day, first_due_day, first_phase_day
    from schedules
),

due_rules as (
    select
        episodes.*,
        rules.schedule,
        rules.test_group,
        rules.counts_from_day,
        rules.first_due_day,
        rules.first_phase_day
    from current_episodes as episodes
    inner join rules
        on rules.drug = episodes.drug
        or (rules.drug is null and rules.drug_class = episodes.drug_class)
    -- a class schedule (metabolic) runs once per patient, from the earliest current episode
    qualify row_number() over (
        partition by episodes.patient_id, rules.schedule, rules.test_group
        order by episodes.start_on, episodes.drug) = 1
),

tests as (
    select distinct measurements.patient_id, measurements.measured_on, measurements.measure,
                    measurements.value, groups.test_group
    from marts.fct_measurements as measurements
    inner join marts.dim_monitoring_tests as groups on measurements.measure = groups.measure
),

last_test as (
    select
        due_rules.episode_id,
        due_rules.test_group,
        max(tests.measured_on) as last_on,
        arg_max(tests.value, {'on': tests.measured_on, 'measure': tests.measure}) as last_value,
        arg_max(tests.measure, {'on': tests.measured_on, 'measure': tests.measure}) as last_measure
    from due_rules
    inner join tests
        on due_rules.patient_id = tests.patient_id
        and due_rules.test_group = tests.test_group
        and tests.measured_on between due_rules.start_on + due_rules.counts_from_day and due_rules.as_of_on
    group by all
),

dated as (
    select
        due_rules.*,
        last_test.last_on,
        last_test.last_value,
        last_test.last_measure,
        year(due_rules.as_of_on) - patients.birth_year as age,
        greatest(coalesce(last_test.last_on - due_rules.start_on, due_rules.first_due_day),
                 due_rules.first_phase_day) as phase_day
    from due_rules
    left join last_test using (episode_id, test_group)
    left join marts.dim_patients as patients on due_rules.patient_id = patients.patient_id
),

phased as (
    select
        dated.*,
        schedules.grace_days,
        case
            when dated.last_on is null then dated.start_on + dated.first_due_day
            when schedules.short_interval_days is not null
                and (dated.age >= schedules.short_if_age_min
                     or dated.last_value >= schedules.short_if_value_min)
                then dated.last_on + schedules.short_interval_days
            else dated.last_on + schedules.interval_days
        end as due_on
    from dated
    inner join schedules
        on dated.schedule = schedules.schedule
        and dated.test_group = schedules.test_group
        and dated.phase_day >= schedules.phase_from_day
        and (schedules.phase_to_day is null or dated.phase_day <= schedules.phase_to_day)
        and (schedules.drug = dated.drug
             or (schedules.drug is null and schedules.drug_class = dated.drug_class))
),

labels as (
    select test_group, any_value(label) as label, string_agg(measure, ' or ' order by measure) as measures
    from marts.dim_monitoring_tests
    group by test_group
),

final as (
    select
        'overdue-monitoring' as worklist,
        phased.patient_id,
        phased.clinician_id,
        phased.drug,
        phased.drug_class,
        format('{} monitoring: {} {}', phased.schedule, labels.label,
               case when phased.last_on is null then 'never done' else 'overdue' end) as reason,
        case
            when phased.last_on is null
                then format('{} since {}; no {} since day {} of the episode',
                            phased.drug, phased.start_on, labels.measures, phased.counts_from_day)
            else format('{} since {}; last {} = {} on {}', phased.drug, phased.start_on,
                        phased.last_measure, phased.last_value, phased.last_on)
        end as facts,
        coalesce(phased.last_on, phased.start_on) as trigger_on,
        cast(phased.due_on as date) as due_on,
        cast(phased.as_of_on - phased.due_on as integer) as days_overdue,
        format('a result for {} ({})', labels.label, labels.measures) as clears,
        phased.test_group
    from phased
    inner join labels on phased.test_group = labels.test_group
    where
        phased.as_of_on > phased.due_on + phased.grace_days
        and ($clinician_id is null or phased.clinician_id = $clinician_id)
)

select * from final
order by clinician_id, patient_id, drug, test_group
