"""Side-effect reports and body measurements (weight, BMI, HbA1c, glucose, lipids).

Side effects: every effect an episode had (drawn in ``synthetic.treatment`` with the drug's
probability, lower below the target dose) is reported once, at the first visit on or after its
onset inside ``[s, s + 90]``, or at the last visit of that window when the onset came later. An
episode with at least one visit in the window therefore reports each of its effects in the window,
and one without any visit there reports none: the recorded frequency among episodes with a visit
in the window is an unbiased estimate of the drug's probability (the product-default definition,
DOMAIN.md section 9.3). An effect that stopped the drug is reported at the stopping visit with
action ``switched`` (or ``discontinued`` when no other drug followed).

Measurements: weight follows the reported weight gain (or appetite loss), ramping up over six
months from the start of the drug; HbA1c, glucose (ADAG: 28.7 x HbA1c - 46.7) and lipids follow
the same load. Patients on antipsychotics or mood stabilisers are weighed more often (monitoring).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from pipelines.contract import SEVERITIES, SIDE_EFFECT_ACTIONS
from synthetic.parameters import (
    DRUGS,
    EFFECT_CODES,
    EFFECT_SPELLINGS,
    WEIGHT_GAIN_FRACTION,
    WEIGHT_LOSS_FRACTION,
)
from synthetic.pharmacy import rx_name_code
from synthetic.population import Population
from synthetic.treatment import KIND_SE_SWITCH, Steps
from synthetic.visits import COL_EXTRA

SPELLING_VARIANTS = max(len(v) for v in EFFECT_SPELLINGS.values())
EFFECT_NAMES = pl.Series([EFFECT_SPELLINGS[c][v % len(EFFECT_SPELLINGS[c])]
                          for c in EFFECT_CODES for v in range(SPELLING_VARIANTS)])
WEIGHT_GAIN = EFFECT_CODES.index("weight_gain")
WEIGHT_LOSS = EFFECT_CODES.index("appetite_weight_loss")
METABOLIC = EFFECT_CODES.index("metabolic")
MONITORED_INGREDIENTS = {"aripiprazole", "quetiapine", "olanzapine", "risperidone", "lurasidone",
                         "haloperidol", "clozapine", "lithium", "valproate"}
IS_MONITORED = np.array([d.ingredient in MONITORED_INGREDIENTS for d in DRUGS])
FAR = 10_000_000


def build_side_effects(rng: np.random.Generator, steps: Steps,
                       visits: pl.DataFrame) -> pl.DataFrame:
    """Reports: pat, step_row, effect_index, day, severity, action, effect name, drug name code."""
    row, effect = np.nonzero(steps.effect)
    target = steps.s[row] + steps.onset[row, effect]
    stopped_by = steps.se_effect[row] == effect
    target = np.where(stopped_by, steps.se_day[row], target)
    wanted = pl.DataFrame({"report": np.arange(row.size), "pat": steps.pat[row], "step_row": row,
                           "effect_index": effect, "s": steps.s[row], "target": target})
    candidates = (
        wanted.join(visits.select("pat", "day"), on="pat")
        .filter((pl.col("day") >= pl.col("s")) & (pl.col("day") <= pl.col("s") + 90))
        # First visit on or after the onset; else the last visit in the window.
        .with_columns(pl.when(pl.col("day") >= pl.col("target")).then(pl.col("day"))
                      .otherwise(FAR - pl.col("day")).alias("rank"))
        .sort(["report", "rank"])
        .unique("report", keep="first", maintain_order=True)
    )
    rep = candidates["report"].to_numpy()
    r, e = row[rep], effect[rep]
    severity = steps.severity[r, e]
    action = np.where(rng.random(rep.size) < 0.15, SIDE_EFFECT_ACTIONS.index("dose_reduced"),
                      SIDE_EFFECT_ACTIONS.index("none"))
    action = np.where(severity == 0, SIDE_EFFECT_ACTIONS.index("none"), action)
    stopped = stopped_by[rep]
    switched = steps.next_kind[r] == KIND_SE_SWITCH
    action = np.where(stopped & switched, SIDE_EFFECT_ACTIONS.index("switched"), action)
    action = np.where(stopped & ~switched, SIDE_EFFECT_ACTIONS.index("discontinued"), action)
    spelling = rng.integers(0, SPELLING_VARIANTS, rep.size)
    return pl.DataFrame({
        "pat": steps.pat[r], "step_row": r, "effect_index": e,
        "day": candidates["day"].to_numpy(),
        "severity": pl.Series(np.array(SEVERITIES)[severity]),
        "action": pl.Series(np.array(SIDE_EFFECT_ACTIONS)[action]),
        "effect": EFFECT_NAMES.gather(e * SPELLING_VARIANTS + spelling),
        "drug_code": rx_name_code(steps.drug[r], steps.name_variant[r], np.zeros(r.size, np.int64)),
    }).sort(["pat", "day", "effect_index"])


def build_measurements(rng: np.random.Generator, pop: Population, steps: Steps,
                       visits: pl.DataFrame) -> pl.DataFrame:
    """Rows: pat, day, measure, value (rounded to 0.1)."""
    monitored_pat = np.zeros(pop.n, bool)
    monitored_pat[steps.pat[IS_MONITORED[steps.drug]]] = True
    scheduled = visits.filter(pl.col("col") != COL_EXTRA)
    pats = scheduled["pat"].to_numpy()
    p = np.where(monitored_pat[pats], 0.35, 0.08)
    first_of_monitored = (scheduled["col"].to_numpy() == 0) & IS_MONITORED[
        steps.drug[scheduled["step_row"].to_numpy()]]
    occasions = scheduled.filter(pl.Series((rng.random(pats.size) < p) | first_of_monitored))
    occasions = occasions.select("pat", "day").unique(maintain_order=True).with_row_index("occ")

    # Weight change per episode with weight gain / loss; metabolic load adds to labs only.
    gain_rows = np.nonzero(steps.effect[:, WEIGHT_GAIN])[0]
    loss_rows = np.nonzero(steps.effect[:, WEIGHT_LOSS])[0]
    meta_rows = np.nonzero(steps.effect[:, METABOLIC])[0]
    drivers = pl.DataFrame({
        "pat": steps.pat[np.concatenate([gain_rows, loss_rows, meta_rows])],
        "s": steps.s[np.concatenate([gain_rows, loss_rows, meta_rows])],
        "weight_frac": np.concatenate([
            rng.uniform(*WEIGHT_GAIN_FRACTION, gain_rows.size),
            -rng.uniform(*WEIGHT_LOSS_FRACTION, loss_rows.size), np.zeros(meta_rows.size)]),
        "metabolic": np.concatenate([np.zeros(gain_rows.size + loss_rows.size),
                                     np.full(meta_rows.size, 0.08)]),
    })
    ramp = ((pl.col("day") - pl.col("s")) / 180.0).clip(0.0, 1.0)
    load = (
        occasions.join(drivers, on="pat")
        .filter(pl.col("day") >= pl.col("s"))
        .group_by("occ")
        .agg((pl.col("weight_frac") * ramp).sum().alias("weight_frac"),
             ((pl.col("weight_frac").clip(0.0, None) + pl.col("metabolic")) * ramp).sum()
             .alias("metabolic"))
    )
    occasions = occasions.join(load, on="occ", how="left").with_columns(
        pl.col("weight_frac", "metabolic").fill_null(0.0)).sort("occ")
    pat = occasions["pat"].to_numpy()
    m = pat.size
    weight = pop.weight_kg[pat] * (1 + occasions["weight_frac"].to_numpy()) + rng.normal(0, 0.6, m)
    bmi = weight / pop.height_m[pat] ** 2
    metabolic = occasions["metabolic"].to_numpy()
    hba1c = pop.hba1c_pct[pat] + 3.0 * metabolic + rng.normal(0, 0.1, m)
    glucose = 28.7 * hba1c - 46.7 + rng.normal(0, 8, m)
    ldl = pop.ldl_mg_dl[pat] + 120 * metabolic + rng.normal(0, 8, m)
    total = ldl + rng.normal(52, 10, m) + rng.normal(28, 8, m)
    labs = rng.random(m) < 0.4
    frames = [pl.DataFrame({"occ": np.arange(m), "pat": pat, "day": occasions["day"].to_numpy(),
                            "measure": name, "value": np.round(value, 1)})
              for name, value in (("weight_kg", weight), ("bmi", bmi))]
    frames += [pl.DataFrame({"occ": np.arange(m)[labs], "pat": pat[labs],
                             "day": occasions["day"].to_numpy()[labs], "measure": name,
                             "value": np.round(value[labs], 1)})
               for name, value in (("hba1c_pct", hba1c), ("glucose_mg_dl", glucose),
                                   ("ldl_mg_dl", ldl), ("total_cholesterol_mg_dl", total))]
    order = {"weight_kg": 0, "bmi": 1, "hba1c_pct": 2, "glucose_mg_dl": 3, "ldl_mg_dl": 4,
             "total_cholesterol_mg_dl": 5}
    return (pl.concat(frames).with_columns(pl.col("measure").replace_strict(order).alias("mo"))
            .sort(["pat", "day", "mo"]).drop("occ", "mo"))
