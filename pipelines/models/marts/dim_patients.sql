/* ---
name: dim_patients
grain: one row per patient
unique_key: [patient_id]
description: >
  Patient dimension. age_band is the age at the data end (year minus birth year) in the bands
  0-17 (paediatric measures), 18-25 (antidepressant boxed-warning ages), 26-44, 45-64, 65+;
  'unknown' without a birth year. diagnosis_group is the primary psychiatric group: the group with
  the most diagnosis rows (ties: earliest diagnosis, then the one listed first in the extract, then name), 'other' only when the patient has
  no other group, 'unknown' with no diagnosis. site_id falls back to the site of most visits.
columns:
  patient_id: varchar
  birth_year: integer
  is_birth_year_top_coded: boolean
  sex: varchar
  site_id: varchar
  age_band: varchar
  diagnosis_group: varchar
  diagnosis_groups: varchar
  first_visit_on: date
  last_visit_on: date
  visits: bigint
--- */
with group_counts as (
    select
        patient_id,
        diagnosis_group,
        count(*) as diagnosis_rows,
        min(diagnosed_on) as first_on,
        min({'file': _source_file, 'line': _source_line}) as first_listed
    from staging.stg_diagnoses
    group by patient_id, diagnosis_group
),

primary_group as (
    select
        patient_id,
        -- a struct key compares field by field. Groups diagnosed as often and as early (a primary
        -- and a comorbid code at intake) go to the one the extract lists first, as an EHR lists the
        -- primary diagnosis first; the name settles what is left, so every build picks the same
        -- (a key without these let parallel aggregation pick either group)
        arg_min(
            diagnosis_group,
            {
                'is_other': diagnosis_group = 'other',
                'fewer_rows': -diagnosis_rows,
                'first_on': first_on,
                'first_listed': first_listed,
                'name': diagnosis_group
            }
        ) as diagnosis_group,
        array_to_string(list_sort(list(diagnosis_group)), '+') as diagnosis_groups
    from group_counts
    group by patient_id
),

visit_sites as (
    select patient_id, site_id, count(*) as visits, min(visit_on) as first_on
    from staging.stg_visits
    where site_id is not null
    group by patient_id, site_id
),

main_site as (
    select
        patient_id,
        arg_min(site_id, {'fewer_visits': -visits, 'first_on': first_on, 'name': site_id}) as site_id
    from visit_sites
    group by patient_id
),

visit_span as (
    select patient_id, min(visit_on) as first_visit_on, max(visit_on) as last_visit_on, count(*) as visits
    from staging.stg_visits
    group by patient_id
)

select
    patients.patient_id,
    patients.birth_year,
    patients.is_birth_year_top_coded,
    patients.sex,
    coalesce(patients.site_id, main_site.site_id, 'unknown') as site_id,
    age_band(year(coverage.data_end_on) - patients.birth_year) as age_band,
    coalesce(primary_group.diagnosis_group, 'unknown') as diagnosis_group,
    primary_group.diagnosis_groups,
    visit_span.first_visit_on,
    visit_span.last_visit_on,
    coalesce(visit_span.visits, 0) as visits
from staging.stg_patients as patients
cross join staging.stg_data_coverage as coverage
left join primary_group on patients.patient_id = primary_group.patient_id
left join main_site on patients.patient_id = main_site.patient_id
left join visit_span on patients.patient_id = visit_span.patient_id
