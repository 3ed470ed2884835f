/* ---
name: definitions_in_force
title: Definitions in force
description: >
  Every definition parameter the current warehouse was built with (meta.definitions: grace
  period, washout, windows, thresholds, PDC cut-off, minimum cell) and whether it is the product
  default, so any number can be traced to its definition. Non-default values are listed first.
grain: one row per definition parameter
params: {}
columns:
  key: varchar
  value: varchar
  is_default: boolean
metric:
  kind: table
tests:
  unique: [key]
--- */
with definitions as (
    select * from meta.definitions
),

final as (
    select
        key,
        value::varchar as value,
        is_default::boolean as is_default
    from definitions
)

select * from final
order by is_default, key
