/* ---
name: data_freshness
title: Data freshness
description: >
  The as-of dates of the data (first and last event date, or the deployment's declared range,
  marts.data_coverage) and of the last successful pipeline run (meta.load_log), with the days
  between the data end and that run. Shown on every page (DOMAIN.md section 11).
grain: one row
params: {}
columns:
  data_start_on: date
  data_end_on: date
  data_end_source: varchar
  last_load_id: varchar
  last_loaded_at: timestamp
  days_since_data_end: {type: bigint, fmt: days}
  deid_mode: varchar
metric:
  kind: table
tests:
  expressions: [data_start_on <= data_end_on]
--- */
with coverage as (
    select * from marts.data_coverage
),

last_load as (
    select load_id, finished_at::timestamp as finished_at
    from meta.load_log
    where status is null or status in ('ok', 'success', 'succeeded', 'published', 'complete', 'completed')
    order by finished_at desc nulls last
    limit 1
),

deployment as (
    select max(value) filter (where key = 'deid_mode') as deid_mode
    from meta.deployment
),

final as (
    select
        coverage.data_start_on,
        coverage.data_end_on,
        coverage.data_end_source,
        last_load.load_id as last_load_id,
        last_load.finished_at as last_loaded_at,
        (last_load.finished_at::date - coverage.data_end_on)::bigint as days_since_data_end,
        deployment.deid_mode
    from coverage
    cross join deployment
    left join last_load on true
)

select * from final
