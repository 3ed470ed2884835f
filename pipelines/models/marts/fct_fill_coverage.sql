/* ---
name: fct_fill_coverage
grain: one row per pharmacy fill of a mapped ingredient
unique_key: [dispense_id]
materialized: view
description: >
  The shifted coverage interval of every fill (DOMAIN 5.2, from intermediate.int_fills__shifted):
  a fill arriving while earlier supply of the same ingredient remains starts the day after that
  supply runs out. Exposed as a mart so the standard measures (queries/measures: AMM treatment
  days, SAA PDC, APC concurrency) can take the union of coverage across ingredients over their
  own windows without reading the private layers. A view: it only renames columns of a table
  the build has just written, so a copy would cost 6.9M rows and 2 s at 1M patients and make no
  query faster.
columns_from: {model: int_fills__shifted, except: [previous_cov_end_on]}
columns:
--- */
-- every column of the fill but the previous fill's coverage end, which only the build uses
select * exclude (previous_cov_end_on)
from intermediate.int_fills__shifted
