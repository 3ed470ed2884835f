/* ---
name: unmapped_drugs
title: Drug names not mapped to an ingredient
description: >
  Drug names as written that the normaliser could not map to an ingredient (meta.unmapped_drugs),
  with the rows affected, summed over loads and tables; these rows are left out of every episode
  and adherence figure (marts.dq_model_exclusions, reason unmapped_drug). Counts are of records.
grain: one row per drug name as written
params: {}
columns:
  drug_as_written: varchar
  tables: varchar
  affected_rows: rows
metric:
  kind: table
tests:
  unique: [drug_as_written]
  expressions: [affected_rows > 0]
--- */
with unmapped as (
    select * from meta.unmapped_drugs
),

final as (
    select
        drug_as_written,
        string_agg(distinct table_name, ', ' order by table_name) as tables,
        sum(rows)::bigint as affected_rows
    from unmapped
    group by drug_as_written
)

select * from final
order by affected_rows desc, drug_as_written
