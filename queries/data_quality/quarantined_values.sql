/* ---
name: quarantined_values
title: Quarantined values
description: >
  Rejected values that failed their column's domain or an identifier detector and are therefore
  stored only masked, with a salted hash (meta.quarantine), per load, table, column, reason and
  detector. Only the count is shown: neither the value nor its mask leaves the warehouse here.
  An analyst lists them with `outcomes quarantine` (raw values only with --reveal, read from the
  extract). Counts are of source records, not of patients.
grain: one row per load x table x column x reason x detector
params: {}
columns:
  load_id: varchar
  table_name: varchar
  column_name: varchar
  reason_code: varchar
  detector: varchar
  quarantined_values: rows
metric:
  kind: table
tests:
  unique: [load_id, table_name, column_name, reason_code, detector]
  expressions: [quarantined_values > 0]
--- */
with quarantine as (
    select * from meta.quarantine
),

final as (
    select
        -- a refusal's key: the load, where (table and column) and why
        load_id, table_name, column_name, reason_code,
        coalesce(detector, 'domain only') as detector,
        count(*) as quarantined_values
    from quarantine
    group by all
)

select * from final
order by load_id, table_name, column_name, reason_code, detector
