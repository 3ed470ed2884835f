/* ---
name: fct_adherence_pdc
grain: one row per patient x target (ingredient or class) x calendar measurement year with a fill
description: >
  PDC the PQA way (DOMAIN 5.1) per calendar year; period_end_on = least(31 Dec, data end).
  Only fills dispensed in the period count (supply carried in is ignored). Index = the first fill
  of the target in the period; evaluable when the target has fills on >= 2 distinct dates
  (else 'single_fill_date') and period_end_on - index_on >= $pdc_min_index_days (else
  'index_too_late'). Same ingredient: fills are shifted forward with the running-maximum closed
  form of DOMAIN 5.2 (E_i = C_i + max_{j<=i}(S_j - 1 - C_{j-1})), partitioned by patient,
  ingredient and year. Class: the union of its ingredients' shifted intervals (running maximum of earlier ends),
  overlapping days counted once, no shift across ingredients. Coverage is truncated to
  [index_on, period_end_on]; PDC = covered_days / denominator_days, denominator_days =
  period_end_on - index_on + 1. MPR = days supplied by the target's fills in the period /
  denominator_days (can exceed 1; mpr_capped for display). With $pdc_inpatient_adjustment the
  days of inpatient stays (inpatient visits, visit_on..end_on, overlapping stays merged) are removed
  from the timeline first: day numbers are compressed, a fill dispensed during a stay maps to the
  first day after discharge, and supply then shifts on the compressed timeline (DOMAIN 5.1 step 7,
  derived method). inpatient_days is reported either way. age_band: age on 31 Dec of the year.
columns:
  patient_id: {type: varchar}
  level: {type: varchar, description: "ingredient or class"}
  drug: {type: varchar}
  drug_class: {type: varchar}
  drug_subclass: {type: varchar}
  measurement_year: {type: integer}
  period_start_on: {type: date}
  period_end_on: {type: date}
  index_on: {type: date}
  fills: {type: integer}
  fill_dates: {type: integer}
  covered_days: {type: integer}
  denominator_days: {type: integer}
  pdc: {type: double}
  is_adherent: {type: boolean}
  days_supplied: {type: integer}
  mpr: {type: double}
  mpr_capped: {type: double}
  inpatient_days: {type: integer}
  is_inpatient_adjusted: {type: boolean}
  not_evaluable_reason: {type: varchar}
  site_id: {type: varchar}
  age_band: {type: varchar}
  sex: {type: varchar}
  diagnosis_group: {type: varchar}
  adherence_band: {type: varchar}
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

fills as (
    select
        fills.patient_id,
        fills.drug,
        drugs.drug_class,
        fills.dispense_id,
        fills.filled_on,
        fills.days_supply,
        cast(year(fills.filled_on) as integer) as measurement_year,
        make_date(year(fills.filled_on), 1, 1) as period_start_on,
        least(make_date(year(fills.filled_on), 12, 31), coverage.data_end_on) as period_end_on
    from staging.stg_dispenses as fills
    inner join staging.stg_drugs as drugs on fills.drug = drugs.drug
    cross join staging.stg_data_coverage as coverage
    where fills.filled_on <= coverage.data_end_on
),

compressing_stays as (
    -- stays move the timeline only when adjusting; otherwise this is empty and the ASOF joins
    -- below cost nothing
    select * from stays where $pdc_inpatient_adjustment
),

fill_days as (
    -- day numbers (days since 1970-01-01), compressed past inpatient days when adjusting. The
    -- ASOF join only sees fills when adjusting: even against no stays it sorted every fill.
    select
        fills.*,
        cast(fills.filled_on - date '1970-01-01' as integer) as fill_day
    from fills
    where not $pdc_inpatient_adjustment
    union all
    select
        fills.*,
        cast(case
            when stays.stay_start_on is null then fills.filled_on - date '1970-01-01'
            when fills.filled_on <= stays.stay_end_on
                then stays.stay_end_on + 1 - date '1970-01-01' - stays.inpatient_days_through
            else fills.filled_on - date '1970-01-01' - stays.inpatient_days_through
        end as integer) as fill_day
    from fills
    asof left join compressing_stays as stays
        on fills.patient_id = stays.patient_id and fills.filled_on >= stays.stay_start_on
    where $pdc_inpatient_adjustment
),

running_supply as (
    select
        *,
        -- integer, not the HUGEINT sum() returns: the running maximum below then stays in
        -- 32-bit arithmetic (a patient's supply in one year is far below 2^31 days)
        cast(sum(days_supply) over running as integer) as supply_to_date
    from fill_days
    window running as (
        partition by patient_id, drug, measurement_year order by filled_on, dispense_id
        rows between unbounded preceding and current row
    )
),

shifted as (
    select
        *,
        cast(supply_to_date + max(fill_day - 1 - (supply_to_date - days_supply)) over running as integer)
            as cov_end_day
    from running_supply
    window running as (
        partition by patient_id, drug, measurement_year order by filled_on, dispense_id
        rows between unbounded preceding and current row
    )
),

period_ends as (
    -- the period end on the (possibly compressed) timeline, per patient and year: a period ending
    -- inside a stay ends on the last day before admission
    select
        ends.patient_id,
        ends.measurement_year,
        ends.period_end_on,
        cast(case
            when stays.stay_start_on is null then ends.period_end_on - date '1970-01-01'
            when ends.period_end_on <= stays.stay_end_on
                then stays.stay_start_on - date '1970-01-01' - 1
                    - (stays.inpatient_days_through - (stays.stay_end_on - stays.stay_start_on + 1))
            else ends.period_end_on - date '1970-01-01' - stays.inpatient_days_through
        end as integer) as period_end_day
    from (select distinct patient_id, measurement_year, period_end_on from fills) as ends
    asof left join compressing_stays as stays
        on ends.patient_id = stays.patient_id and ends.period_end_on >= stays.stay_start_on
),

shifted_in_period as (
    -- every shifted interval starts on or after its target's index (a chain starts at its first
    -- fill, the index is the earliest first fill), so clipping to the period end is enough
    select
        shifted.*,
        shifted.cov_end_day - shifted.days_supply + 1 as cov_start_day,
        period_ends.period_end_day
    from shifted
    inner join period_ends
        on shifted.patient_id = period_ends.patient_id
        and shifted.measurement_year = period_ends.measurement_year
),

ingredient_level as (
    -- one ingredient's shifted intervals never overlap: covered days are a plain sum
    select
        patient_id,
        'ingredient' as level,
        drug,
        any_value(drug_class) as drug_class,
        measurement_year,
        any_value(period_start_on) as period_start_on,
        any_value(period_end_on) as period_end_on,
        min(filled_on) as index_on,
        min(fill_day) as index_day,
        any_value(period_end_day) as period_end_day,
        cast(count(*) as integer) as fills,
        cast(count(distinct filled_on) as integer) as fill_dates,
        cast(sum(days_supply) as integer) as days_supplied,
        cast(sum(greatest(0, least(cov_end_day, period_end_day) - cov_start_day + 1)) as integer)
            as covered_days
    from shifted_in_period
    group by patient_id, drug, measurement_year
),

class_intervals as (
    -- a class covers the union of its ingredients' intervals. Sorted by start, interval i adds
    -- the days after both its own start - 1 and the latest end before it:
    -- max(0, end_i - max(start_i - 1, running max of earlier ends)), ends clipped to the period
    -- end. One running maximum instead of a gaps-and-islands pass.
    select
        patient_id,
        drug_class,
        measurement_year,
        filled_on,
        fill_day,
        days_supply,
        period_start_on,
        period_end_on,
        period_end_day,
        least(cov_end_day, period_end_day) as clipped_end_day,
        cov_start_day,
        max(least(cov_end_day, period_end_day)) over (
            partition by patient_id, drug_class, measurement_year order by cov_start_day, cov_end_day
            rows between unbounded preceding and 1 preceding
        ) as previous_end_day
    from shifted_in_period
),

class_level as (
    select
        patient_id,
        'class' as level,
        cast(null as varchar) as drug,
        drug_class,
        measurement_year,
        any_value(period_start_on) as period_start_on,
        any_value(period_end_on) as period_end_on,
        min(filled_on) as index_on,
        min(fill_day) as index_day,
        any_value(period_end_day) as period_end_day,
        cast(count(*) as integer) as fills,
        cast(count(distinct filled_on) as integer) as fill_dates,
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
    select * from class_level
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
    case
        when patients.birth_year is null then 'unknown'
        when measured.measurement_year - patients.birth_year < 18 then '0-17'
        when measured.measurement_year - patients.birth_year <= 25 then '18-25'
        when measured.measurement_year - patients.birth_year <= 44 then '26-44'
        when measured.measurement_year - patients.birth_year <= 64 then '45-64'
        else '65+'
    end as age_band,
    coalesce(patients.sex, 'U') as sex,
    coalesce(patients.diagnosis_group, 'unknown') as diagnosis_group,
    case
        when measured.not_evaluable_reason is not null then null
        when measured.evaluable_covered_days / (measured.period_end_day - measured.index_day + 1) >= $pdc_threshold
            then '>=' || cast($pdc_threshold as varchar)
        when measured.evaluable_covered_days / (measured.period_end_day - measured.index_day + 1) >= 0.5
            then '0.5-' || cast($pdc_threshold as varchar)
        else '<0.5'
    end as adherence_band
from covered as measured
left join inpatient
    on measured.patient_id = inpatient.patient_id
    and measured.level = inpatient.level
    and measured.drug is not distinct from inpatient.drug
    and measured.drug_class = inpatient.drug_class
    and measured.measurement_year = inpatient.measurement_year
left join staging.stg_drugs as drugs on measured.drug = drugs.drug
left join marts.dim_patients as patients on measured.patient_id = patients.patient_id
