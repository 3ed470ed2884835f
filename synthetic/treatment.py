"""Treatment courses: up to three steps of one ingredient each, drawn for whole arrays of patients.

A *step* is one ingredient started at a prescribing visit ``v`` and first filled on day ``s``
(``v`` + 0-5 days). Its latent outcome is drawn once: ``responder`` ~ Bernoulli(p_episode) with
``p_episode = p_drug x dose factor x adherence factor`` and ``remitter`` among responders. Steps
follow one another the way a clinic works (STAR*D levels):

* a severe side effect starting in the first 28 days stops the drug at an unscheduled visit on
  day ``s + e`` (7 <= e <= 30): the patient switches (``se_switch``) or leaves care;
* otherwise the decision is taken at the first visit after day ``s + 112`` (after the follow-up
  window of the outcome definition): responders continue; non-responders switch, augment (the
  drug continues and a second one is added) or continue.

Because decisions fall after the follow-up window, every rating score in a step's follow-up window
is governed by that step's latent outcome; the one exception, a switch for intolerance, is handled
in ``synthetic.outcomes`` (the next step's scores are consistent with both baselines).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipelines.contract import STOP_REASONS
from synthetic.parameters import (
    ADEQUATE_DOSE_SHARE,
    ADHERENCE_GROUPS,
    DIAGNOSES,
    DIAGNOSIS_INDEX,
    DRUG_INDEX,
    DRUGS,
    EARLY_VISIT_GAP,
    EFFECT_CODES,
    EFFECT_PROBABILITIES,
    FILL_LAG_DAYS,
    INTOLERABLE_STOP_PROBABILITY,
    LATER_VISIT_GAP,
    MAINTENANCE_STOP_PROBABILITY,
    MAINTENANCE_STOP_REASONS,
    MAX_STEPS,
    NINETY_DAY_SHARE,
    NONRESPONSE_NEXT,
    REMISSION_GIVEN_RESPONSE,
    SEVERITY_SHARES,
    SUBTHERAPEUTIC_EFFECT_FACTOR,
    SUBTHERAPEUTIC_RESPONSE_FACTOR,
)
from synthetic.population import Population

KIND_FIRST, KIND_SWITCH, KIND_SE_SWITCH, KIND_AUGMENT = 0, 1, 2, 3
KIND_NAMES = ("first", "switch", "se_switch", "augment")
#: Visit grid columns per step: enough 2-8-week gaps to span a three-year extract.
GRID_COLUMNS = 64
EARLY_GAPS = 4
NO_REASON = -1
#: Follow-up window of the product default outcome definition; decisions come after it.
DECISION_AFTER_DAY = 112

RESPONSE_P = np.array([d.response_probability for d in DRUGS])
EFFECT_P = np.array([[EFFECT_PROBABILITIES[d.ingredient].get(c, 0.0) for c in EFFECT_CODES]
                     for d in DRUGS])


def _weights(table: str) -> np.ndarray:
    """Drug-choice weights [diagnosis, drug] of ``first_line`` or ``augment``."""
    weights = np.zeros((len(DIAGNOSES), len(DRUGS)))
    for i, dx in enumerate(DIAGNOSES):
        for ingredient, w in getattr(dx, table).items():
            weights[i, DRUG_INDEX[ingredient]] = w
    return weights


FIRST_LINE_W = _weights("first_line")
AUGMENT_W = _weights("augment")


@dataclass
class Steps:
    """One row per treatment step (= one ingredient episode); arrays of equal length."""

    pat: np.ndarray  # patient row in the chunk
    k: np.ndarray  # step number 0..2
    kind: np.ndarray
    drug: np.ndarray
    v: np.ndarray  # prescribing visit day
    s: np.ndarray  # first fill day (episode start)
    grid: np.ndarray  # [rows, GRID_COLUMNS] candidate visit days, grid[:, 0] == v
    adherence: np.ndarray  # index into ADHERENCE_GROUPS
    adequate: np.ndarray
    p_response: np.ndarray
    responder: np.ndarray
    remitter: np.ndarray
    effect_p: np.ndarray  # [rows, effects] probability this episode had
    effect: np.ndarray  # [rows, effects] bool
    onset: np.ndarray  # [rows, effects] day after s
    severity: np.ndarray  # [rows, effects] 0 mild, 1 moderate, 2 severe
    se_effect: np.ndarray  # effect index that stopped the drug, -1 if none
    se_day: np.ndarray  # day of the stopping visit (s + e), -1 if none
    stop_day: np.ndarray  # first day off the drug (fills happen before it)
    stop_reason: np.ndarray  # index into STOP_REASONS, -1 when none
    visit_end: np.ndarray  # the step's grid visits are < visit_end
    next_kind: np.ndarray  # kind of the following step, -1 if none
    prev_row: np.ndarray  # row of the previous step, -1 for the first
    ninety: np.ndarray  # moves to 90-day supplies after the third fill
    name_variant: np.ndarray  # which spelling the prescriber uses

    @property
    def n(self) -> int:
        return int(self.pat.size)


def _choose(rng: np.random.Generator, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One column per row drawn by weight; ``ok`` is False where a row has no weight left."""
    total = weights.sum(axis=1)
    ok = total > 0
    cumulative = np.cumsum(weights, axis=1) / np.where(ok, total, 1.0)[:, None]
    u = rng.random(weights.shape[0])
    choice = np.minimum((u[:, None] > cumulative).sum(axis=1), weights.shape[1] - 1)
    return choice, ok


def _visit_grid(rng: np.random.Generator, v: np.ndarray) -> np.ndarray:
    early = rng.integers(EARLY_VISIT_GAP[0], EARLY_VISIT_GAP[1] + 1, size=(v.size, EARLY_GAPS))
    later = rng.integers(LATER_VISIT_GAP[0], LATER_VISIT_GAP[1] + 1,
                         size=(v.size, GRID_COLUMNS - 1 - EARLY_GAPS))
    offsets = np.concatenate([np.zeros((v.size, 1), np.int64), early, later], axis=1).cumsum(1)
    return v[:, None] + offsets


def simulate_steps(rng: np.random.Generator, pop: Population, planted=None) -> Steps:  # type: ignore[no-untyped-def]
    """Draw every patient's treatment course (see the module docstring for the rules).

    ``planted``: an optional ``synthetic.planted.PlantedEffect`` (re-assigns first steps between
    its two drugs by age and replaces their response probability); None draws nothing extra."""
    n = pop.n
    last_day = pop.last_day.copy()
    used = np.zeros((n, len(DRUGS)), bool)
    rows: list[dict[str, np.ndarray]] = []
    # State of the patients whose next step is pending.
    idx = np.arange(n)
    kind = np.full(n, KIND_FIRST)
    v = pop.intake_day.copy()
    prev_row = np.full(n, -1)
    row_offset = 0
    for step in range(MAX_STEPS):
        m = idx.size
        if m == 0:
            break
        dx = pop.dx[idx]
        weights = np.where(kind == KIND_AUGMENT, 1, 0)[:, None] * AUGMENT_W[dx] \
            + np.where(kind == KIND_AUGMENT, 0, 1)[:, None] * FIRST_LINE_W[dx]
        weights = weights * ~used[idx]
        drug, ok = _choose(rng, weights)
        # A switch with every first-line drug used falls back to the augmentation list.
        fallback, ok2 = _choose(rng, AUGMENT_W[dx] * ~used[idx])
        drug = np.where(ok, drug, fallback)
        keep = ok | ok2
        idx, kind, v, prev_row, drug, dx = (a[keep] for a in (idx, kind, v, prev_row, drug, dx))
        m = idx.size
        planted_rows = None
        if planted is not None:
            from synthetic import planted as plant

            drug, planted_rows = plant.reassign(
                rng, planted, drug, pop.age[idx], kind == KIND_FIRST,
                DRUG_INDEX[planted.drug_a], DRUG_INDEX[planted.drug_b])
        used[idx, drug] = True
        lag = rng.integers(FILL_LAG_DAYS[0], FILL_LAG_DAYS[1] + 1, size=m)
        s = v + lag
        grid = _visit_grid(rng, v)
        adh_p = np.array([g.share for g in ADHERENCE_GROUPS])
        adherence = rng.choice(len(ADHERENCE_GROUPS), size=m, p=adh_p)
        adequate = rng.random(m) < ADEQUATE_DOSE_SHARE
        adh_factor = np.array([g.response_factor for g in ADHERENCE_GROUPS])[adherence]
        p_response = RESPONSE_P[drug] * np.where(adequate, 1.0, SUBTHERAPEUTIC_RESPONSE_FACTOR) \
            * adh_factor
        if planted_rows is not None:
            p_response = plant.response_probability(planted, p_response, drug, pop.age[idx],
                                                    planted_rows, DRUG_INDEX[planted.drug_a],
                                                    DRUG_INDEX[planted.drug_b])
        responder = rng.random(m) < p_response
        remitter = responder & (rng.random(m) < REMISSION_GIVEN_RESPONSE)

        effect_p = EFFECT_P[drug] * np.where(adequate, 1.0, SUBTHERAPEUTIC_EFFECT_FACTOR)[:, None]
        effect = rng.random(effect_p.shape) < effect_p
        onset = 1 + np.floor(59 * rng.random(effect_p.shape) ** 1.6).astype(np.int64)
        severity = rng.choice(3, size=effect_p.shape, p=np.array(SEVERITY_SHARES))
        intolerable = effect & (severity == 2) & (onset <= 28) \
            & (rng.random(effect_p.shape) < INTOLERABLE_STOP_PROBABILITY)
        se_stop = intolerable.any(axis=1)
        se_effect = np.where(se_stop, np.where(intolerable, onset, 10_000).argmin(axis=1), -1)
        first_onset = np.where(se_stop, onset[np.arange(m), np.maximum(se_effect, 0)], 0)
        e = np.clip(first_onset + rng.integers(0, 5, size=m), 7, 30)
        se_day = np.where(se_stop, s + e, -1)
        se_stop &= se_day <= last_day[idx]
        se_effect = np.where(se_stop, se_effect, -1)
        se_day = np.where(se_stop, se_day, -1)
        # Effects of a drug stopped early started while it was taken.
        late = se_stop[:, None] & (onset > (se_day - s)[:, None])
        onset = np.where(late, 1 + (rng.random(onset.shape) * (se_day - s)[:, None]).astype(
            np.int64), onset)

        after_window = grid > (s + DECISION_AFTER_DAY)[:, None]
        decision_day = grid[np.arange(m), after_window.argmax(axis=1)]
        choice = rng.choice(3, size=m, p=np.array(list(NONRESPONSE_NEXT.values())))
        last_step = step == MAX_STEPS - 1
        next_kind = np.full(m, -1)
        nonresp = ~se_stop & ~responder
        next_kind[nonresp & (choice == 0)] = KIND_SWITCH
        next_kind[nonresp & (choice == 1) & (kind != KIND_AUGMENT)] = KIND_AUGMENT
        # Schizophrenia is not augmented here: non-response leads to clozapine instead.
        schizo = dx == DIAGNOSIS_INDEX["schizophrenia"]
        next_kind[(next_kind == KIND_AUGMENT) & schizo] = KIND_SWITCH
        se_next = se_stop & (kind != KIND_SE_SWITCH) & (rng.random(m) < 0.85)
        next_kind[se_next] = KIND_SE_SWITCH
        if last_step:
            next_kind[:] = -1
        next_v = np.where(next_kind == KIND_SE_SWITCH, se_day, decision_day)
        next_kind = np.where(next_v <= last_day[idx] - FILL_LAG_DAYS[1], next_kind, -1)
        # Stopped for intolerance with no next drug: the patient leaves care at that visit.
        leaves = se_stop & (next_kind == -1)
        last_day[idx[leaves]] = np.minimum(last_day[idx[leaves]], se_day[leaves])

        stop_day = np.full(m, np.iinfo(np.int64).max)  # resolved to last_day + 1 below
        stop_reason = np.full(m, NO_REASON)
        stop_day = np.where(se_stop, se_day, stop_day)
        stop_reason = np.where(se_stop, STOP_REASONS.index("adverse_effect"), stop_reason)
        switched = next_kind == KIND_SWITCH
        stop_day = np.where(switched, next_v, stop_day)
        stop_reason = np.where(switched, STOP_REASONS.index("ineffective"), stop_reason)
        maint = responder & ~se_stop & (rng.random(m) < MAINTENANCE_STOP_PROBABILITY)
        maint_day = s + rng.integers(180, 401, size=m)
        maint &= maint_day <= last_day[idx]
        reasons = [STOP_REASONS.index(r) for r in MAINTENANCE_STOP_REASONS]
        maint_reason = rng.choice(reasons, size=m, p=np.array(list(
            MAINTENANCE_STOP_REASONS.values())))
        stop_day = np.where(maint, maint_day, stop_day)
        stop_reason = np.where(maint, maint_reason, stop_reason)

        rows.append(dict(  # noqa: C408 (keyword form reads like the Steps fields)
            pat=idx, k=np.full(m, step), kind=kind, drug=drug, v=v, s=s, grid=grid,
            adherence=adherence, adequate=adequate, p_response=p_response, responder=responder,
            remitter=remitter, effect_p=effect_p, effect=effect, onset=onset, severity=severity,
            se_effect=se_effect, se_day=se_day, stop_day=stop_day, stop_reason=stop_reason,
            visit_end=np.where(next_kind >= 0, next_v, -1), next_kind=next_kind,
            prev_row=prev_row, ninety=rng.random(m) < NINETY_DAY_SHARE,
            name_variant=rng.integers(0, 1 << 30, size=m),
        ))
        has_next = next_kind >= 0
        this_rows = row_offset + np.arange(m)
        row_offset += m
        idx, kind, v, prev_row = idx[has_next], next_kind[has_next], next_v[has_next], \
            this_rows[has_next]

    merged = {key: np.concatenate([r[key] for r in rows]) for key in rows[0]}
    pop.last_day = last_day
    end_of_care = last_day[merged["pat"]] + 1
    merged["stop_day"] = np.minimum(merged["stop_day"], end_of_care)
    merged["visit_end"] = np.where(merged["visit_end"] >= 0, merged["visit_end"], end_of_care)
    order = np.lexsort((merged["k"], merged["pat"]))
    # Re-index prev_row after sorting rows by patient and step.
    new_position = np.empty_like(order)
    new_position[order] = np.arange(order.size)
    steps = Steps(**{key: value[order] for key, value in merged.items()})
    steps.prev_row = np.where(steps.prev_row >= 0, new_position[np.maximum(steps.prev_row, 0)], -1)
    return steps
