-- Shared rules as DuckDB macros, created before any model (pipelines.transform.build_models) and
-- stored in the warehouse, so models and metric files call them instead of restating the rule.
-- One statement per macro, each ending with a semicolon at the end of a line; nothing is bound.

-- age_band(age) is written from pipelines/reference/age_bands.csv by pipelines.transform
-- (pipelines.reference.age_band_macro), so the dashboard's list of bands and the SQL share it;
-- instrument_family(instrument) from the family column of pipelines/reference/instruments.csv
-- (pipelines.instruments.family_macro: PHQ-A is scored as PHQ-9).

-- Whether a follow-up score meets an instrument's response rule (ref.instrument_rules,
-- pipelines/reference/instruments.csv): half_of_baseline is 2 * followup <= baseline (integers,
-- exactly half counts); drop_of_points is baseline - followup >= min_drop (PCL-5: 10 points).
-- Null when either score is missing or the instrument has no response rule.
create or replace macro meets_response_rule(rule, min_drop, baseline, followup) as
    case rule
        when 'half_of_baseline' then 2 * followup <= baseline
        when 'drop_of_points' then baseline - followup >= min_drop
    end;

-- Adherence band of a PDC: '>=<threshold>' (adherent, $pdc_threshold, 0.8 by default),
-- '0.5-<threshold>' or '<0.5' (the threshold printed as DuckDB prints the double, e.g. 0.8).
-- Null for a null PDC; callers add their own labels for 'no fills' and 'not observed'.
create or replace macro adherence_band(pdc, threshold) as
    case
        when pdc is null then null
        when pdc >= threshold then '>=' || cast(threshold as varchar)
        when pdc >= 0.5 then '0.5-' || cast(threshold as varchar)
        else '<0.5'
    end;

-- The DMS measurement period of a date: its year and third of the year, '2025-P1' (January-April),
-- '2025-P2' (May-August), '2025-P3' (September-December); HEDIS DMS, DOMAIN.md section 8.
create or replace macro dms_period(day) as
    strftime(day, '%Y') || '-P' || cast((month(day) - 1) // 4 + 1 as varchar);

-- The severity band of a score: labels[1] up to the first upper bound (inclusive), labels[2] up
-- to the second, ..., the last label above the last bound; null for a null score. The bounds
-- and labels of each instrument are stated where the band is assigned (fct_episode_outcomes).
create or replace macro severity_band(score, upper_bounds, labels) as
    case when score is not null then labels[1 + len(list_filter(upper_bounds, lambda b: score > b))] end;

-- episode_unit_columns(unit) is written from pipelines.query_filters.EPISODE_UNIT_COLUMNS by
-- pipelines.transform: the struct of an episode unit row's patient and dimension columns, which a
-- metric file returns with `unnest(episode_unit_columns(alias))` (the loader adds them to its
-- header columns).
