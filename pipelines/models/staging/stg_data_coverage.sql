/* ---
name: stg_data_coverage
grain: one row
description: >
  The observation period of the extract. meta.deployment's data_start/data_end win when the load
  recorded them (the extract's declared period); otherwise the earliest and latest event dates.
  Persistence censoring and "not yet observable" windows use data_end_on.
columns:
  data_start_on: date
  data_end_on: date
  data_end_source: {type: varchar, description: "deployment or observed"}
--- */
with event_dates as (
    select visit_date as event_on from raw.visits
    union all select diagnosis_date from raw.diagnoses
    union all select start_date from raw.prescriptions
    union all select dispense_date from raw.dispenses
    union all select assessment_date from raw.assessments
    union all select report_date from raw.side_effects
    union all select measured_date from raw.measurements
),

observed as (
    select min(event_on) as first_on, max(event_on) as last_on from event_dates
),

declared as (
    select
        max(try_cast(value as date)) filter (where key = 'data_start') as data_start,
        max(try_cast(value as date)) filter (where key = 'data_end') as data_end
    from meta.deployment
)

select
    coalesce(declared.data_start, observed.first_on) as data_start_on,
    coalesce(declared.data_end, observed.last_on) as data_end_on,
    case when declared.data_end is not null then 'deployment' else 'observed' end as data_end_source
from observed, declared
