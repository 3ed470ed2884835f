/* ---
name: fct_adherence_pdc
grain: one row per patient x target (ingredient or class) x calendar measurement year with a fill
unique_key: [patient_id, level, drug_class, drug, measurement_year]
not_null: [patient_id, level, drug_class, measurement_year]
description: >
  PDC the PQA way (DOMAIN 5.1) per calendar year; period_end_on = least(31 Dec, data end).
  Only fills dispensed in the period count (supply carried in is ignored). Index = the first fill
  of the target in the period; evaluable when the target has fills on >= 2 distinct dates
  (else 'single_fill_date') and period_end_on - index_on >= $pdc_min_index_days (else
  'index_too_late'). Same ingredient: fills are shifted forward with the running-maximum closed
  form of DOMAIN 5.2 (E_i = C_i + max_{j<=i}(S_j - 1 - C_{j-1})), partitioned by patient,
  ingredient and year; the shifted intervals run on without a gap once they pass the period end,
  so covered_days = C_n - max(0, E_n - period end) from the last fill's E_n. Class: the union of
  its ingredients' shifted intervals (running maximum of earlier ends),
  overlapping days counted once, no shift across ingredients. Coverage is truncated to
  [index_on, period_end_on]; PDC = covered_days / denominator_days, denominator_days =
  period_end_on - index_on + 1. MPR = days supplied by the target's fills in the period /
  denominator_days (can exceed 1; mpr_capped for display). With $pdc_inpatient_adjustment the
  days of inpatient stays (inpatient visits, visit_on..end_on, overlapping stays merged) are removed
  from the timeline first: day numbers are compressed, a fill dispensed during a stay maps to the
  first day after discharge, and supply then shifts on the compressed timeline (DOMAIN 5.1 step 7,
  derived method). inpatient_days is reported either way. age_band: age on 31 Dec of the year.
columns:
  patient_id: varchar
  level: {type: varchar, description: "ingredient or class"}
  drug: varchar
  drug_class: varchar
  drug_subclass: varchar
  measurement_year: integer
  period_start_on: date
  period_end_on: date
  index_on: date
  fills: integer
  fill_dates: integer
  covered_days: integer
  denominator_days: integer
  pdc: {type: double, range: [0, 1]}
  is_adherent: boolean
  days_supplied: integer
  mpr: double
  mpr_capped: {type: double, range: [0, 1]}
  inpatient_days: integer
  is_inpatient_adjusted: boolean
  not_evaluable_reason: varchar
  site_id: varchar
  age_band: varchar
  sex: varchar
  diagnosis_group: varchar
  adherence_band: varchar
--- */
with stay_days as (
    select
        patient_id,
        visit_on as stay_start_on,
        coalesce(end_on, visit_on) as stay_end_on,
        max(coalesce(end_on, visit_on)) over (
            partition by patient_id order by visit_on, coalesce(end_on, visit_on)
            rows between unbounded preceding and 1 preceding
        ) as previous_end_on
    from staging.stg_visits
    where is_inpatient
),

stay_islands as (
    select
        *,
        sum(case when previous_end_on is null or stay_start_on > previous_end_on + 1 then 1 else 0 end)
            over (partition by patient_id order by stay_start_on, stay_end_on rows between unbounded preceding and current row)
            as stay_number
    from stay_days
),

stays as (
    -- merged stays with the inpatient days up to and including each (for compressing day numbers)
    select
        patient_id,
        stay_start_on,
        stay_end_on,
        cast(sum(stay_end_on - stay_start_on + 1) over (
            partition by patient_id order by stay_start_on rows between unbounded preceding and current row
        ) as integer) as inpatient_days_through
    from (
        select patient_id, stay_number, min(stay_start_on) as stay_start_on, max(stay_end_on) as stay_end_on
        from stay_islands
        group by patient_id, stay_number
    )
),

fills as not materialized (
    -- only what the window passes need: a narrow row sorts faster (the class and subclass are
    -- joined back per target, not carried through the sorts). Not materialised: read twice, but
    -- one of the two reads is the inpatient branch, which is empty unless adjusting.
    select
        fills.patient_id,
        fills.drug,
        fills.filled_on,
        fills.days_supply,
        cast(year(fills.filled_on) as integer) as measurement_year,
        -- the period end as a day number (the calendar date is derived again per target)
        cast(least(make_date(year(fills.filled_on), 12, 31), coverage.data_end_on) - date '1970-01-01'
            as integer) as period_end_day
    from staging.stg_dispenses as fills
    semi join staging.stg_drugs as drugs on fills.drug = drugs.drug
    cross join staging.stg_data_coverage as coverage
    where fills.filled_on <= coverage.data_end_on
),

compressing_stays as (
    -- stays move the timeline only when adjusting; otherwise this is empty and the lookups
    -- below cost nothing
    select * from stays where $pdc_inpatient_adjustment
),

fill_stays as (
    -- when adjusting: for each patient and fill date, the latest merged stay admitted on or
    -- before it (merged stays are disjoint, so it is the stay the fill falls in or the last one
    -- before it). What an ASOF join finds, written as a join and a maximum so that Spark, which
    -- has no ASOF join, runs the same file (issue #20); a patient has a few stays at most.
    select keys.patient_id, keys.filled_on, max(stays.stay_start_on) as stay_start_on
    from (select distinct patient_id, filled_on from fills where $pdc_inpatient_adjustment) as keys
    inner join compressing_stays as stays
        on keys.patient_id = stays.patient_id and keys.filled_on >= stays.stay_start_on
    group by keys.patient_id, keys.filled_on
),

adjusted_fill_days as (
    -- when adjusting: a fill's day number compressed past the inpatient days before it (a fill
    -- dispensed during a stay maps to the first day after discharge)
    select
        fills.*,
        cast(case
            when stays.stay_start_on is null then fills.filled_on - date '1970-01-01'
            when fills.filled_on <= stays.stay_end_on
                then stays.stay_end_on + 1 - date '1970-01-01' - stays.inpatient_days_through
            else fills.filled_on - date '1970-01-01' - stays.inpatient_days_through
        end as integer) as fill_day
    from fills
    left join fill_stays
        on fills.patient_id = fill_stays.patient_id and fills.filled_on = fill_stays.filled_on
    left join compressing_stays as stays
        on fill_stays.patient_id = stays.patient_id and fill_stays.stay_start_on = stays.stay_start_on
    where $pdc_inpatient_adjustment
),

period_end_stays as (
    -- when adjusting: the latest merged stay admitted on or before each period end (as above)
    select keys.patient_id, keys.period_end_day, max(stays.stay_start_on) as stay_start_on
    from (select distinct patient_id, period_end_day from adjusted_fill_days) as keys
    inner join compressing_stays as stays
        on keys.patient_id = stays.patient_id
        and date '1970-01-01' + keys.period_end_day >= stays.stay_start_on
    group by keys.patient_id, keys.period_end_day
),

fill_days as (
    -- day numbers (days since 1970-01-01) of the fill and of its period's end, compressed past
    -- inpatient days when adjusting (a period ending inside a stay ends on the last day before
    -- admission). The stay lookups only see fills when adjusting.
    select
        fills.*,
        cast(fills.filled_on - date '1970-01-01' as integer) as fill_day
    from fills
    where not $pdc_inpatient_adjustment
    union all
    select
        adjusted_fill_days.patient_id,
        adjusted_fill_days.drug,
        adjusted_fill_days.filled_on,
        adjusted_fill_days.days_supply,
        adjusted_fill_days.measurement_year,
        cast(case
            when stays.stay_start_on is null then adjusted_fill_days.period_end_day
            when adjusted_fill_days.period_end_day <= stays.stay_end_on - date '1970-01-01'
                then stays.stay_start_on - date '1970-01-01' - 1
                    - (stays.inpatient_days_through - (stays.stay_end_on - stays.stay_start_on + 1))
            else adjusted_fill_days.period_end_day - stays.inpatient_days_through
        end as integer) as period_end_day,
        adjusted_fill_days.fill_day
    from adjusted_fill_days
    left join period_end_stays
        on adjusted_fill_days.patient_id = period_end_stays.patient_id
        and adjusted_fill_days.period_end_day = period_end_stays.period_end_day
    left join compressing_stays as stays
        on period_end_stays.patient_id = stays.patient_id
        and period_end_stays.stay_start_on = stays.stay_start_on
),

running_supply as (
    select
        *,
        -- integer, not the HUGEINT sum() returns: the maxima below then stay in 32-bit
        -- arithmetic (a patient's supply in one year is far below 2^31 days)
        cast(sum(days_supply) over running as integer) as supply_to_date,
        -- lag() with the same partition and order but no frame (Spark refuses a frame on lag)
        filled_on is distinct from lag(filled_on) over (
            partition by patient_id, drug, measurement_year order by filled_on
        ) as is_new_fill_date
    from fill_days
    -- Same-day fills need no tie-break (DOMAIN 5.2 orders by dispense_id too): they form one
    -- contiguous block of coverage whatever their order, and every result below is a sum, a
    -- count, a maximum or a union over the block, so a varchar sort key would only sort slower.
    window running as (
        partition by patient_id, drug, measurement_year order by filled_on
        rows between unbounded preceding and current row
    )
),

ingredient_level as (
    -- One ingredient's shifted intervals never overlap, so its covered days need no per-fill
    -- interval: with C = the year's total supply and M = max_i(S_i - 1 - C_{i-1}), the last
    -- shifted end is E = C + M (DOMAIN 5.2 at the last fill, where the running maximum is the
    -- plain maximum). Every fill is dispensed by the day after the period end (S_i <= P + 1; the
    -- +1 only when a compressed period ends inside a stay), so once coverage passes P it runs
    -- on without a gap: the days beyond P are exactly max(0, E - P) and
    -- covered_days = C - max(0, E - P). One window pass (the running sum) instead of two.
    select
        ingredient_fills.patient_id,
        'ingredient' as level,
        ingredient_fills.drug,
        drugs.drug_class,
        ingredient_fills.measurement_year,
        make_date(ingredient_fills.measurement_year, 1, 1) as period_start_on,
        least(make_date(ingredient_fills.measurement_year, 12, 31), coverage.data_end_on) as period_end_on,
        ingredient_fills.* exclude (patient_id, drug, measurement_year, last_end_day),
        cast(ingredient_fills.days_supplied
            - greatest(0, ingredient_fills.last_end_day - ingredient_fills.period_end_day) as integer)
            as covered_days
    from (
        select
            patient_id,
            drug,
            measurement_year,
            min(filled_on) as index_on,
            min(fill_day) as index_day,
            any_value(period_end_day) as period_end_day,
            cast(count(*) as integer) as fills,
            cast(count(*) filter (where is_new_fill_date) as integer) as fill_dates,
            cast(sum(days_supply) as integer) as days_supplied,
            sum(days_supply) + max(fill_day - 1 - (supply_to_date - days_supply)) as last_end_day
        from running_supply
        group by patient_id, drug, measurement_year
    ) as ingredient_fills
    inner join staging.stg_drugs as drugs on ingredient_fills.drug = drugs.drug
    cross join staging.stg_data_coverage as coverage
),

multi_ingredient_class_years as (
    -- classes a patient filled two or more ingredients of in a year. With one ingredient the
    -- class row is that ingredient's row (same fills, same union): only these need the union.
    select patient_id, drug_class, measurement_year
    from ingredient_level
    group by patient_id, drug_class, measurement_year
    having count(*) > 1
),

multi_ingredient_fills as (
    -- the union needs every fill's shifted interval: the running maximum of DOMAIN 5.2, taken
    -- only over the fills of these class-years. Every interval starts on or after the class's
    -- index (a chain starts at its first fill; the index is the earliest first fill), so
    -- clipping at the period end is enough.
    select
        patient_id,
        drug,
        drug_class,
        measurement_year,
        filled_on,
        fill_day,
        days_supply,
        period_end_day,
        data_end_on,
        cov_end_day - days_supply + 1 as cov_start_day,
        least(cov_end_day, period_end_day) as clipped_end_day
    from (
        select
            fills.*,
            drugs.drug_class,
            coverage.data_end_on,
            cast(fills.supply_to_date + max(fills.fill_day - 1 - (fills.supply_to_date - fills.days_supply))
                over (partition by fills.patient_id, fills.drug, fills.measurement_year
                      order by fills.filled_on rows between unbounded preceding and current row)
                as integer) as cov_end_day
        from running_supply as fills
        inner join staging.stg_drugs as drugs on fills.drug = drugs.drug
        cross join staging.stg_data_coverage as coverage
        semi join multi_ingredient_class_years as keys
            on fills.patient_id = keys.patient_id
            and drugs.drug_class = keys.drug_class
            and fills.measurement_year = keys.measurement_year
    )
),

class_intervals as (
    -- a class covers the union of its ingredients' intervals. Sorted by start, interval i adds
    -- the days after both its own start - 1 and the latest end before it:
    -- max(0, end_i - max(start_i - 1, running max of earlier ends)), ends clipped to the period
    -- end. One running maximum instead of a gaps-and-islands pass.
    select
        *,
        max(clipped_end_day) over (
            partition by patient_id, drug_class, measurement_year order by cov_start_day, clipped_end_day
            rows between unbounded preceding and 1 preceding
        ) as previous_end_day
    from multi_ingredient_fills
),

multi_ingredient_classes as (
    select
        patient_id,
        'class' as level,
        cast(null as varchar) as drug,
        drug_class,
        measurement_year,
        make_date(measurement_year, 1, 1) as period_start_on,
        least(make_date(measurement_year, 12, 31), any_value(data_end_on)) as period_end_on,
        min(filled_on) as index_on,
        min(fill_day) as index_day,
        any_value(period_end_day) as period_end_day,
        cast(count(*) as integer) as fills,
        -- distinct fill dates: a class-year's fills share one calendar year, so a 366-bit set of
        -- days of the year counts them (count(distinct) was rewritten into a second aggregate
        -- and a join, about 0.9 CPU-s at 1M patients)
        cast(bit_count(bitstring_agg(dayofyear(filled_on), 1, 366)) as integer) as fill_dates,
        cast(sum(days_supply) as integer) as days_supplied,
        cast(sum(greatest(0, clipped_end_day
            - greatest(cov_start_day - 1, coalesce(previous_end_day, cov_start_day - 1)))) as integer)
            as covered_days
    from class_intervals
    group by patient_id, drug_class, measurement_year
),

targets as (
    select * from ingredient_level
    union all
    select
        patient_id, 'class' as level, cast(null as varchar) as drug, drug_class, measurement_year,
        period_start_on, period_end_on, index_on, index_day, period_end_day, fills, fill_dates,
        days_supplied, covered_days
    from ingredient_level
    anti join multi_ingredient_class_years as keys
        on ingredient_level.patient_id = keys.patient_id
        and ingredient_level.drug_class = keys.drug_class
        and ingredient_level.measurement_year = keys.measurement_year
    union all
    select * from multi_ingredient_classes
),

measured as (
    select
        targets.*,
        case
            when targets.fill_dates < 2 then 'single_fill_date'
            when targets.period_end_on - targets.index_on < $pdc_min_index_days then 'index_too_late'
        end as not_evaluable_reason
    from targets
),

inpatient as (
    -- calendar inpatient days (merged stays) inside [index_on, period_end_on], reported either way
    select
        measured.patient_id,
        measured.level,
        measured.drug,
        measured.drug_class,
        measured.measurement_year,
        cast(sum(least(stays.stay_end_on, measured.period_end_on)
            - greatest(stays.stay_start_on, measured.index_on) + 1) as integer) as inpatient_days
    from measured
    inner join stays
        on measured.patient_id = stays.patient_id
        and stays.stay_start_on <= measured.period_end_on
        and stays.stay_end_on >= measured.index_on
    group by all
),

covered as (
    select
        *,
        case when not_evaluable_reason is null then covered_days end as evaluable_covered_days
    from measured
)

select
    measured.patient_id,
    measured.level,
    measured.drug,
    measured.drug_class,
    drugs.drug_subclass,
    measured.measurement_year,
    measured.period_start_on,
    measured.period_end_on,
    measured.index_on,
    measured.fills,
    measured.fill_dates,
    measured.evaluable_covered_days as covered_days,
    cast(measured.period_end_day - measured.index_day + 1 as integer) as denominator_days,
    measured.evaluable_covered_days / (measured.period_end_day - measured.index_day + 1) as pdc,
    measured.evaluable_covered_days / (measured.period_end_day - measured.index_day + 1) >= $pdc_threshold as is_adherent,
    measured.days_supplied,
    measured.days_supplied / (measured.period_end_day - measured.index_day + 1) as mpr,
    least(measured.days_supplied / (measured.period_end_day - measured.index_day + 1), 1.0) as mpr_capped,
    coalesce(inpatient.inpatient_days, 0) as inpatient_days,
    $pdc_inpatient_adjustment as is_inpatient_adjusted,
    measured.not_evaluable_reason,
    coalesce(patients.site_id, 'unknown') as site_id,
    age_band(measured.measurement_year - patients.birth_year) as age_band,
    coalesce(patients.sex, 'U') as sex,
    coalesce(patients.diagnosis_group, 'unknown') as diagnosis_group,
    case when measured.not_evaluable_reason is null then adherence_band(
        measured.evaluable_covered_days / (measured.period_end_day - measured.index_day + 1),
        $pdc_threshold) end as adherence_band
from covered as measured
left join inpatient
    on measured.patient_id = inpatient.patient_id
    and measured.level = inpatient.level
    and measured.drug is not distinct from inpatient.drug
    and measured.drug_class = inpatient.drug_class
    and measured.measurement_year = inpatient.measurement_year
left join staging.stg_drugs as drugs on measured.drug = drugs.drug
left join marts.dim_patients as patients on measured.patient_id = patients.patient_id
