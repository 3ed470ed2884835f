/* ---
name: apc_concurrent_antipsychotics
title: Concurrent antipsychotics for 90+ days (APC-style, lower is better)
description: >
  Modelled on HEDIS APC (use of multiple concurrent antipsychotics in children and adolescents),
  DOMAIN.md section 4; an inverse measure (lower is better). Computed for all ages as a product
  measure; the HEDIS population is the age_band 0-17 stratum. Unit: a patient x calendar year with
  antipsychotic coverage in the year. Denominator: fully observed years with at least 90
  consecutive days covered by an antipsychotic (the DOMAIN's believed denominator, unverified).
  Numerator: at least 90 consecutive days in the year on which 2 or more different antipsychotic
  ingredients are covered at once (coverage = shifted fills per ingredient, DOMAIN 5.2; coverage
  carried in from the year before counts, because APC is about use, not fills). What our data
  cannot do exactly: no gap allowance inside the 90 days, no enrolment rule, no hospice
  exclusion; NCQA has proposed retiring APC (check its status before making it a headline KPI).
  Trended by the month of the first covered day of the year.
grain: one row per patient x measurement year with antipsychotic coverage, unit level
columns_from: patient_year_unit
columns:
  index_on: {type: date, description: first day of the year covered by an antipsychotic}
  longest_any_days: {type: integer, description: longest run of days covered by >= 1 antipsychotic}
  longest_concurrent_days: {type: integer, description: longest run of days covered by >= 2 antipsychotics}
  is_observed: boolean
  is_denominator: {type: boolean, description: 'observed and longest_any_days >= 90'}
  is_numerator: {type: boolean, description: 'in the denominator and longest_concurrent_days >= 90'}
metric:
  kind: proportion
  unit: patient-year
  direction: lower
  target: 0.05
  counts:
    continuous_90d: is_denominator
    concurrent_90d: is_numerator
  attrition:
    - {count: continuous_90d, dropped: under_90_days}
  rates:
    - {name: rate, numerator: concurrent_90d, denominator: continuous_90d, label: '2+ antipsychotics concurrently for 90+ days (lower is better)'}
tests:
  expressions: [is_numerator <= is_denominator]
--- */
with fills as (
    select patient_id, drug, cov_start_on, cov_end_on
    from marts.fct_fill_coverage
    where drug_class = 'antipsychotic'
),

clipped as (
    -- each fill's coverage cut into the calendar years it spans
    select
        fills.patient_id,
        fills.drug,
        cast(years.measurement_year as integer) as measurement_year,
        greatest(fills.cov_start_on, make_date(cast(years.measurement_year as integer), 1, 1)) as from_on,
        least(fills.cov_end_on, make_date(cast(years.measurement_year as integer), 12, 31)) as to_on
    from fills,
        unnest(range(year(fills.cov_start_on), year(fills.cov_end_on) + 1)) as years (measurement_year)
),

drug_islands as (
    -- per ingredient, merge touching or overlapping coverage so an ingredient counts once a day
    select patient_id, measurement_year, drug, min(from_on) as from_on, max(to_on) as to_on
    from (
        select
            *,
            sum(case when from_on <= previous_end + 1 then 0 else 1 end) over (
                partition by patient_id, measurement_year, drug order by from_on, to_on
                rows unbounded preceding
            ) as island
        from (
            select
                *,
                max(to_on) over (
                    partition by patient_id, measurement_year, drug order by from_on, to_on
                    rows between unbounded preceding and 1 preceding
                ) as previous_end
            from clipped
        )
    )
    group by patient_id, measurement_year, drug, island
),

changes as (
    -- a sweep over the year: +1 when an ingredient starts, -1 the day after it ends
    select patient_id, measurement_year, day_on, sum(delta) as delta
    from (
        select patient_id, measurement_year, from_on as day_on, 1 as delta from drug_islands
        union all
        select patient_id, measurement_year, to_on + 1 as day_on, -1 as delta from drug_islands
    )
    group by patient_id, measurement_year, day_on
),

levels as (
    -- segments [from_on, to_on] with a constant number of active ingredients
    select
        patient_id,
        measurement_year,
        day_on as from_on,
        lead(day_on) over (partition by patient_id, measurement_year order by day_on) - 1 as to_on,
        sum(delta) over (
            partition by patient_id, measurement_year order by day_on rows unbounded preceding
        ) as active
    from changes
),

segments as (
    select levels.*, thresholds.at_least
    from levels
    cross join (values (1), (2)) as thresholds (at_least)
    where levels.active >= thresholds.at_least and levels.to_on is not null
),

runs as (
    -- consecutive segments at or above the threshold form one run
    select patient_id, measurement_year, at_least, max(to_on) - min(from_on) + 1 as run_days
    from (
        select
            *,
            sum(case when from_on = previous_to + 1 then 0 else 1 end) over (
                partition by patient_id, measurement_year, at_least order by from_on
                rows unbounded preceding
            ) as run
        from (
            select
                *,
                lag(to_on) over (
                    partition by patient_id, measurement_year, at_least order by from_on
                ) as previous_to
            from segments
        )
    )
    group by patient_id, measurement_year, at_least, run
),

patient_years as (
    select
        patient_id,
        measurement_year,
        cast(coalesce(max(run_days) filter (where at_least = 1), 0) as integer) as longest_any_days,
        cast(coalesce(max(run_days) filter (where at_least = 2), 0) as integer) as longest_concurrent_days
    from runs
    group by patient_id, measurement_year
),

first_days as (
    select patient_id, measurement_year, min(from_on) as index_on
    from drug_islands
    group by patient_id, measurement_year
),

units as (
    select
        first_days.patient_id || '|' || first_days.measurement_year as unit_id,
        first_days.measurement_year,
        first_days.index_on,
        first_days.patient_id,
        unnest(patient_year_unit_columns(patients, prescriber, first_days.measurement_year)),
        coalesce(patient_years.longest_any_days, 0) as longest_any_days,
        coalesce(patient_years.longest_concurrent_days, 0) as longest_concurrent_days,
        make_date(first_days.measurement_year, 12, 31) <= coverage.data_end_on as is_observed
    from first_days
    inner join marts.dim_patients as patients on first_days.patient_id = patients.patient_id
    cross join coverage
    left join patient_years
        on
            first_days.patient_id = patient_years.patient_id
            and first_days.measurement_year = patient_years.measurement_year
    left join marts.dim_antipsychotic_prescribers as prescriber
        on
            first_days.patient_id = prescriber.patient_id
            and first_days.index_on between prescriber.from_on and prescriber.to_on
),

final as (
    select
        *,
        is_observed and longest_any_days >= 90 as is_denominator,
        is_observed and longest_any_days >= 90 and longest_concurrent_days >= 90 as is_numerator
    from units
)

select * from final
order by unit_id
