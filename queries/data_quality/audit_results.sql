/* ---
name: audit_results
title: Audits at the latest load
description: >
  The data-quality audits run on the freshly built warehouse at a load (meta.audit_results,
  pipelines/audits.py): one row per audit with its severity, the model or metric it checks, its
  Kahn category (conformance, completeness, plausibility), its status (pass, fail, skipped) and
  the number of offending rows. An error-level audit that fails refuses the load, so a published
  load shows only warnings failing. Offending rows are source records, counted, never shown.
grain: one row per audit of one load (the latest load with audit results unless load_id is given)
params:
  load_id: {type: varchar, description: one load (null = the latest load with audit results)}
columns:
  load_id: varchar
  audit: varchar
  severity: varchar
  status: varchar
  offending_rows: rows
  model: varchar
  category: varchar
  description: varchar
metric:
  kind: table
tests:
  unique: [audit]
  expressions:
    - "(status = 'fail') = (offending_rows > 0)"
    - "severity in ('error', 'warn')"
--- */
with latest as (
    select coalesce($load_id, (
        select arg_max(log.load_id, log.started_at)
        from meta.load_log as log
        semi join meta.audit_results as results on log.load_id = results.load_id
    )) as load_id
),

final as (
    select
        results.load_id,
        results.audit,
        results.severity,
        results.status,
        results.offending_rows,
        results.model,
        results.category,
        results.description
    from meta.audit_results as results
    inner join latest on results.load_id = latest.load_id
)

select * from final
order by status = 'pass', severity, audit
