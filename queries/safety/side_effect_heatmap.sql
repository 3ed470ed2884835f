/* ---
name: side_effect_heatmap
title: Side effects by drug
description: >
  For each ingredient and side-effect code: episodes with at least one report of the code at or
  above the chosen severity in [0, +90] days (numerator) among the ingredient's episodes with a
  visit in [0, +90] days (denominator), episodes starting in the period (DOMAIN.md 9.3). Only
  codes reported at least once for the drug appear; a missing cell is zero.
grain: one row per drug x effect_code
params:
  min_severity: {type: varchar, default: mild, description: 'lowest severity counted: mild, moderate or severe'}
columns:
  drug_class: varchar
  drug: varchar
  effect_code: varchar
  numerator: {type: bigint, fmt: count, description: reviewed episodes with the effect}
  denominator: {type: bigint, fmt: count, description: reviewed episodes of the drug}
  rate: pct1
metric:
  source: episodes
  rates:
    - {name: rate, numerator: numerator, denominator: denominator}
  suppression:
    nested: [[numerator, denominator]]
    margins: [drug, effect_code]
tests:
  unique: [drug, effect_code]
  expressions: [numerator <= denominator, numerator > 0]
--- */
with reviewed as (
    select *
    from filtered_source
    where has_visit_in_side_effect_window
),

drug_totals as (
    select drug_class, drug, count(*) as denominator
    from reviewed
    group by drug_class, drug
),

flags as (
    select reviewed.drug, flags.effect_code, count(distinct flags.episode_id) as numerator
    from marts.fct_side_effect_episode_flags as flags
    inner join reviewed on flags.episode_id = reviewed.episode_id
    where flags.max_severity_rank >= case coalesce($min_severity, 'mild') when 'mild' then 1 when 'moderate' then 2 when 'severe' then 3 end
    group by reviewed.drug, flags.effect_code
),

final as (
    select
        drug_totals.drug_class,
        drug_totals.drug,
        flags.effect_code,
        flags.numerator,
        drug_totals.denominator,
        flags.numerator / drug_totals.denominator as rate
    from flags
    inner join drug_totals on flags.drug = drug_totals.drug
)

select * from final
order by drug_class, drug, effect_code
