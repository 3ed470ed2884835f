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

-- The dimension columns of a patient x year unit of the antipsychotic measures (APC, SAA, APM),
-- for `unnest(...)`: the site and clinician of the prescriber on the index date (the row of
-- marts.dim_antipsychotic_prescribers, or the row of marts.fct_antipsychotic_years that carries
-- it, passed as `prescriber`; else the patient's site, else
-- 'unknown'), the patient's diagnosis group and sex (`patients`, a row of marts.dim_patients), the
-- age band in the measurement year, and no severity band (these measures have no baseline score).
-- `patients` and `prescriber` are row aliases: the caller's FROM must bring no column of either
-- name (marts.data_coverage has a column `patients`: read it in a CTE of its own columns).
create or replace macro patient_year_unit_columns(patients, prescriber, measurement_year) as {
    'site_id': coalesce(prescriber.site_id, patients.site_id, 'unknown'),
    'clinician_id': coalesce(prescriber.clinician_id, 'unknown'),
    'diagnosis_group': patients.diagnosis_group,
    'age_band': age_band(measurement_year - patients.birth_year),
    'sex': patients.sex,
    'severity_band': 'not applicable'
};

-- Days covered by a unit's intervals [from_on, to_on], overlapping days counted once (the
-- running-maximum form of gaps and islands): sorted by start, each interval adds the days after
-- both its own start - 1 and the latest end before it, so
--   sum(days_newly_covered(from_on, to_on, latest_end_before(unit, from_on, to_on)))
-- (the window in a subquery, the sum around it) is the unit's covered days.
create or replace macro latest_end_before(unit, from_on, to_on) as
    max(to_on) over (partition by unit order by from_on, to_on rows between unbounded preceding and 1 preceding);

create or replace macro days_newly_covered(from_on, to_on, previous_end) as
    greatest(0, to_on - greatest(from_on - 1, coalesce(previous_end, from_on - 1)));

-- A unit's covered days, overlapping days counted once: ``intervals`` (a table or CTE with
-- unit_id, from_on, to_on) -> one row per unit_id with covered_days. AMM and SAA use it.
create or replace macro covered_days_by_unit(intervals) as table
    select unit_id, cast(sum(days_newly_covered(from_on, to_on, previous_end)) as integer) as covered_days
    from (select *, latest_end_before(unit_id, from_on, to_on) as previous_end from query_table(intervals))
    group by unit_id;
