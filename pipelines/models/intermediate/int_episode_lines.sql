/* ---
name: int_episode_lines
grain: one row per episode
unique_key: [episode_id]
description: >
  Line of therapy within a drug class. A course of a class starts at a new-user episode of that
  class (no drug of the class in the washout before it) and runs until the next one; episodes
  before the patient's first new-user episode of the class form a course of their own (treatment
  already under way when the data starts). Within a course, line n is the n-th distinct ingredient
  of the class to be started, ordered by its first start in the course (ties by name): switching
  sertraline -> escitalopram gives lines 1 and 2, a restart of sertraline keeps line 1, and an
  added second drug of the class (combination) takes the next line.
columns:
  episode_id: varchar
  class_course: {type: integer, description: "0 = before the first new-user episode of the class"}
  line_of_therapy: integer
--- */
with courses as (
    select
        episode_id,
        patient_id,
        drug,
        drug_class,
        start_on,
        cast(sum(case when is_new_user then 1 else 0 end) over (
            partition by patient_id, drug_class order by start_on, drug
            rows between unbounded preceding and current row
        ) as integer) as class_course
    from intermediate.int_episodes
),

first_starts as (
    select
        *,
        min(start_on) over (partition by patient_id, drug_class, class_course, drug) as drug_first_start_on
    from courses
)

select
    episode_id,
    class_course,
    cast(dense_rank() over (
        partition by patient_id, drug_class, class_course order by drug_first_start_on, drug
    ) as integer) as line_of_therapy
from first_starts
