/* ---
name: rejects_by_reason
title: Rejected rows by reason
description: >
  Rows refused at load, per load, table, column and reason code (meta.rejects), with one example
  message. Counts are of source records, not of patients, so they are not suppressed; the example
  value is deliberately not shown (it may hold an identifier the load refused).
grain: one row per load x table x column x reason
params:
  load_id: {type: varchar, description: one load (null = every load)}
columns:
  load_id: varchar
  table_name: varchar
  column_name: varchar
  reason_code: varchar
  rejected_rows: rows
  first_line: bigint
  example_message: varchar
metric:
  kind: table
tests:
  unique: [load_id, table_name, column_name, reason_code]
  expressions: [rejected_rows > 0]
--- */
with rejects as (
    select * from meta.rejects
    where $load_id is null or load_id = $load_id
),

final as (
    select
        -- a refusal's key: the load, where (table and column) and why
        load_id, table_name, column_name, reason_code,
        count(*) as rejected_rows,
        min(line)::bigint as first_line,
        min(message) as example_message
    from rejects
    group by load_id, table_name, column_name, reason_code
)

select * from final
order by load_id, table_name, column_name, reason_code
