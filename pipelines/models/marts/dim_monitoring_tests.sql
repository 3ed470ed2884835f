/* ---
name: dim_monitoring_tests
grain: one row per monitoring test group x measure code of ref.monitoring_tests
unique_key: [test_group, measure]
description: >
  The test groups of the overdue-monitoring worklist (DOMAIN 13.2) over the measurements table's
  unit-suffixed codes: level = the drug's level, renal = creatinine or eGFR, thyroid = TSH,
  calcium, LFT = ALT or AST, FBC = platelets, WBC, haemoglobin or ANC, ANC, sodium, weight =
  weight or BMI, glucose = glucose or HbA1c, lipids = LDL-C or total cholesterol (DOMAIN 9.4).
  A group is done when any of its measures is present.
columns:
  test_group: varchar
  measure: varchar
  label: varchar
--- */
select
    trim(test_group) as test_group,
    trim(measure) as measure,
    label
from ref.monitoring_tests
