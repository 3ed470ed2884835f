"""Rating scales at visits: PHQ-9 (PHQ-A for some adolescents), GAD-7, YMRS, PCL-5 and CGI-S.

PHQ-9 and GAD-7 carry the ground truth. Each step ``r`` has a baseline ``b_r`` (the score at its
prescribing visit) and, from day ``consistent_from_r`` on, every score it governs is *consistent*
with its latent outcome under the product-default definitions (DOMAIN.md section 3):

* remitter: ``score <= min(4, lo // 2)``, so ``score < 5`` and ``2 * score <= baseline``;
* responder who does not remit: ``5 <= score <= lo // 2`` (when ``lo >= 10``);
* non-responder: ``hi // 2 < score <= hi + 2`` (so ``2 * score > baseline``).

``lo``/``hi`` are the smallest/largest of the baselines the score may be compared with: the step's
own, and for a switch after intolerance also the stopped drug's (its follow-up window reaches into
the new drug's weeks; scores there count for both). ``consistent_from`` is ``s + 35`` (week 5),
or ``s_prev + 42`` after a switch for intolerance. Whatever score is the latest (or first, or best)
in a follow-up window ``[s + 42, s + 112]`` therefore meets the response and remission definitions
exactly when the latent outcome says so. Before that, scores move from the baseline towards the
target with noise. Scores at visits between steps never fall inside a follow-up window (decisions
come after day 112).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from synthetic.parameters import DIAGNOSIS_INDEX
from synthetic.population import Population
from synthetic.treatment import KIND_SE_SWITCH, Steps
from synthetic.visits import COL_EXTRA

#: Days after the start from which scores are consistent with the latent outcome (week 5).
CONSISTENT_FROM_DAY = 35
PHQ_MAX, GAD_MAX = 27, 21
#: Mean and SD of the first baseline by primary diagnosis (PHQ-9); GAD-7 baseline N(14, 4).
PHQ_BASELINE = {"major_depression": (17.0, 4.5), "bipolar": (15.0, 5.0)}
PHQ_BASELINE_OTHER = (14.0, 5.0)


@dataclass
class StepBaselines:
    """Per step: baselines and comparison bounds for PHQ-9 and GAD-7, and ``consistent_from``."""

    phq: np.ndarray
    phq_lo: np.ndarray
    phq_hi: np.ndarray
    gad: np.ndarray
    gad_lo: np.ndarray
    gad_hi: np.ndarray
    consistent_from: np.ndarray


def _next_baseline(rng: np.random.Generator, prev: np.ndarray, prev_hi: np.ndarray,
                   se_switch: np.ndarray, top: int) -> np.ndarray:
    """Baseline of a following step: near the last (intolerance) or a non-response score."""
    near = np.clip(prev + rng.integers(-2, 3, prev.size), 0, top)
    # Keep both baselines on the same side of the eligibility threshold (10): a responder must
    # be able to score 5..lo//2 (a response without remission) against both of them.
    near = np.where(prev >= 10, np.maximum(near, 10), np.minimum(near, 9))
    low = prev_hi // 2 + 1
    high = np.minimum(top, prev_hi + 2)
    nonresponse = low + (rng.random(prev.size) * (high - low + 1)).astype(np.int64)
    return np.where(se_switch, near, np.minimum(nonresponse, high))


def draw_baselines(rng: np.random.Generator, pop: Population, steps: Steps) -> StepBaselines:
    n = steps.n
    out = StepBaselines(*(np.zeros(n, np.int64) for _ in range(7)))
    dx_names = np.array(list(DIAGNOSIS_INDEX))[pop.dx[steps.pat]]
    mean = np.array([PHQ_BASELINE.get(d, PHQ_BASELINE_OTHER)[0] for d in dx_names])
    sd = np.array([PHQ_BASELINE.get(d, PHQ_BASELINE_OTHER)[1] for d in dx_names])
    phq0 = np.clip(np.rint(rng.normal(mean, sd)), 0, PHQ_MAX).astype(np.int64)
    gad0 = np.clip(np.rint(rng.normal(14.0, 4.0, n)), 0, GAD_MAX).astype(np.int64)
    for k in range(int(steps.k.max()) + 1):
        rows = np.nonzero(steps.k == k)[0]
        if k == 0:
            out.phq[rows], out.gad[rows] = phq0[rows], gad0[rows]
            out.phq_lo[rows] = out.phq_hi[rows] = phq0[rows]
            out.gad_lo[rows] = out.gad_hi[rows] = gad0[rows]
            out.consistent_from[rows] = steps.s[rows] + CONSISTENT_FROM_DAY
            continue
        prev = steps.prev_row[rows]
        se = steps.kind[rows] == KIND_SE_SWITCH
        for base, lo, hi, top in ((out.phq, out.phq_lo, out.phq_hi, PHQ_MAX),
                                  (out.gad, out.gad_lo, out.gad_hi, GAD_MAX)):
            base[rows] = _next_baseline(rng, base[prev], hi[prev], se, top)
            lo[rows] = np.where(se, np.minimum(base[prev], base[rows]), base[rows])
            hi[rows] = np.where(se, np.maximum(base[prev], base[rows]), base[rows])
        out.consistent_from[rows] = np.where(se, steps.s[prev] + 42,
                                             steps.s[rows] + CONSISTENT_FROM_DAY)
    return out


def _consistent_score(rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray,
                      responder: np.ndarray, remitter: np.ndarray, top: int) -> np.ndarray:
    u = rng.random(lo.size)
    half_lo = lo // 2
    remit_hi = np.minimum(4, half_lo)
    remit = (u * (remit_hi + 1)).astype(np.int64)
    resp_low = np.where(half_lo >= 5, 5, 0)
    respond = resp_low + (u * (half_lo - resp_low + 1)).astype(np.int64)
    non_low = hi // 2 + 1
    non_high = np.maximum(np.minimum(top, hi + 2), non_low)
    non = non_low + (u * (non_high - non_low + 1)).astype(np.int64)
    return np.where(remitter, remit, np.where(responder, respond, non))


def _instrument_scores(rng: np.random.Generator, visits: pl.DataFrame, steps: Steps,
                       base: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                       consistent_from: np.ndarray, top: int) -> tuple[np.ndarray, np.ndarray]:
    """Scores at ``visits`` (which all have a step) and whether each is consistent."""
    r = visits["step_row"].to_numpy()
    day = visits["day"].to_numpy()
    col = visits["col"].to_numpy()
    consistent = day >= consistent_from[r]
    target = _consistent_score(rng, lo[r], hi[r], steps.responder[r], steps.remitter[r], top)
    mid = np.where(steps.remitter[r], 2, np.where(steps.responder[r], lo[r] * 0.4, hi[r] * 0.8))
    frac = np.clip((day - steps.s[r]) / 42.0, 0.0, 1.0)
    moving = np.clip(np.rint(base[r] + (mid - base[r]) * frac + rng.normal(0, 1.5, r.size)), 0, top)
    score = np.where(col == 0, base[r], np.where(consistent, target, moving)).astype(np.int64)
    return score, consistent & (col != 0)


def _item_9(rng: np.random.Generator, total: np.ndarray) -> np.ndarray:
    """PHQ-9 item 9 (self-harm thoughts), more often positive at higher totals, never > total."""
    p = np.select([total >= 20, total >= 15, total >= 10, total >= 5], [0.30, 0.18, 0.08, 0.03],
                  0.005)
    level = rng.choice(np.array([1, 2, 3]), size=total.size, p=np.array([0.7, 0.2, 0.1]))
    return np.where(rng.random(total.size) < p, np.minimum(level, total), 0)


def build_assessments(rng: np.random.Generator, pop: Population, steps: Steps,
                      baselines: StepBaselines, visits: pl.DataFrame) -> pl.DataFrame:
    """Scores at scheduled visits of measuring clinicians' patients.

    Columns: pat, day, visit_index (row in ``visits``), instrument, total_score, item_9 (null
    unless PHQ), step_row and ``consistent`` (internal: the truth bookkeeping uses them).
    """
    visits = visits.with_row_index("visit_index")
    scored = visits.filter((pl.col("col") != COL_EXTRA) & (pl.col("step_row") >= 0))
    pats = scored["pat"].to_numpy()
    scored = scored.filter(pl.Series(pop.measured[pats]))
    pats = scored["pat"].to_numpy()
    frames = []

    def add(mask: np.ndarray, instrument: pl.Series | str, total: np.ndarray,
            consistent: np.ndarray, item9: np.ndarray | None) -> None:
        sub = scored.filter(pl.Series(mask))
        instrument_col = instrument.filter(pl.Series(mask)) if isinstance(
            instrument, pl.Series) else pl.Series(np.full(int(mask.sum()), instrument))
        frames.append(sub.select("pat", "day", "visit_index", "step_row").with_columns(
            instrument_col.alias("instrument"),
            pl.Series("total_score", total[mask], dtype=pl.Int64),
            pl.Series("item_9", item9[mask] if item9 is not None else np.zeros(int(mask.sum())),
                      dtype=pl.Int64),
            pl.Series("consistent", consistent[mask]),
        ).with_columns(pl.when(pl.lit(item9 is not None)).then(pl.col("item_9"))
                       .otherwise(None).alias("item_9")))

    phq, phq_ok = _instrument_scores(rng, scored, steps, baselines.phq, baselines.phq_lo,
                                     baselines.phq_hi, baselines.consistent_from, PHQ_MAX)
    phq_name = pl.Series(np.where(pop.uses_phq_a[pats], "PHQ-A", "PHQ-9"))
    add(pop.has_phq[pats], phq_name, phq, phq_ok, _item_9(rng, phq))
    gad, gad_ok = _instrument_scores(rng, scored, steps, baselines.gad, baselines.gad_lo,
                                     baselines.gad_hi, baselines.consistent_from, GAD_MAX)
    add(pop.has_gad[pats], "GAD-7", gad, gad_ok, None)

    # Scales without ground-truth bookkeeping: improvement by latent response, with noise.
    r = scored["step_row"].to_numpy()
    day = scored["day"].to_numpy()
    frac = np.clip((day - pop.intake_day[pats]) / 84.0, 0.0, 1.0)
    gain = np.where(steps.responder[r], 0.6, 0.2) * frac
    never = np.zeros(r.size, bool)
    for dx_name, instrument, mean, sd, low, high in (
            ("bipolar", "YMRS", 16.0, 6.0, 0, 60), ("ptsd", "PCL-5", 48.0, 10.0, 0, 80),
            ("schizophrenia", "CGI-S", 5.0, 0.8, 1, 7)):
        base = rng.normal(mean, sd, pop.n)[pats]
        value = np.clip(np.rint(base * (1 - gain) + rng.normal(0, sd / 4, r.size)), low, high)
        add(pop.dx[pats] == DIAGNOSIS_INDEX[dx_name], instrument, value.astype(np.int64), never,
            None)
    return pl.concat(frames).sort(["pat", "day", "instrument"])
