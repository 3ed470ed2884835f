/* ---
name: int_fills__shifted
grain: one row per pharmacy fill of a mapped ingredient
unique_key: [dispense_id]
description: >
  Shifted coverage of every fill, per patient x ingredient over the whole history (DOMAIN 5.2): a
  fill that arrives while earlier supply remains starts the day after that supply runs out. The
  recurrence E_i = max(S_i - 1, E_{i-1}) + D_i has the closed form E_i = C_i + M_i, with C_i the
  running sum of days supply and M_i = max_{j<=i}(S_j - 1 - C_{j-1}), so two window passes (a
  running sum, then a running maximum) replace a loop. Day numbers are integers (days since
  1970-01-01). Fills are ordered by date, then dispense_id, so same-day fills are deterministic.
columns:
  dispense_id: varchar
  patient_id: varchar
  drug: varchar
  drug_class: varchar
  filled_on: date
  days_supply: integer
  cov_start_on: {type: date, description: first day this fill covers after shifting}
  cov_end_on: {type: date, description: last day this fill covers}
  previous_cov_end_on: {type: date, description: "last day the patient's previous fill of this ingredient covers (null for the first); shifted intervals are disjoint and in fill order, so this is the latest coverage before the fill"}
--- */
with fills as (
    select
        fills.dispense_id,
        fills.patient_id,
        fills.drug,
        drugs.drug_class,
        fills.filled_on,
        fills.days_supply,
        cast(fills.filled_on - date '1970-01-01' as integer) as fill_day,
        -- integer, not the HUGEINT sum() returns, so the running maximum below stays in 32-bit
        -- arithmetic (about 1.7x faster; one patient's supply of one drug is far below 2^31 days)
        cast(sum(fills.days_supply) over running as integer) as supply_to_date
    from staging.stg_dispenses as fills
    inner join staging.stg_drugs as drugs on fills.drug = drugs.drug
    window running as (
        partition by fills.patient_id, fills.drug order by fills.filled_on, fills.dispense_id
        rows between unbounded preceding and current row
    )
),

shifted as (
    select
        *,
        cast(
            supply_to_date
            + max(fill_day - 1 - (supply_to_date - days_supply)) over running
            as integer
        ) as cov_end_day,
        -- E_{i-1} = C_{i-1} + M_{i-1}, from the same sorted pass (a frame ending one row earlier):
        -- int_episodes reads it as the coverage before each fill instead of sorting every fill
        -- again for a running maximum of earlier ends
        cast(
            supply_to_date - days_supply
            + max(fill_day - 1 - (supply_to_date - days_supply)) over (
                partition by patient_id, drug order by filled_on, dispense_id
                rows between unbounded preceding and 1 preceding
            )
            as integer
        ) as previous_cov_end_day
    from fills
    window running as (
        partition by patient_id, drug order by filled_on, dispense_id
        rows between unbounded preceding and current row
    )
)

select
    dispense_id,
    patient_id,
    drug,
    drug_class,
    filled_on,
    days_supply,
    date '1970-01-01' + (cov_end_day - days_supply + 1) as cov_start_on,
    date '1970-01-01' + cov_end_day as cov_end_on,
    date '1970-01-01' + previous_cov_end_day as previous_cov_end_on
from shifted
