"""An optional planted drug effect under confounding, for testing adjusted comparisons.

With ``PlantedEffect`` passed to ``generate``, every *first* treatment step whose drawn drug is
``drug_a`` or ``drug_b`` is re-assigned between the two by age (confounding by indication: older
patients are more likely to get ``drug_a``; later steps keep the usual choice)::

    P(drug_a | age) = 1 / (1 + exp(-assignment_per_decade * (age - 40) / 10))

and the response probability of *every* step on ``drug_a`` or ``drug_b`` is replaced (the
adherence and dose factors do not apply) by::

    p_b(age) = clip(base_response - response_drop_per_decade * (age - 40) / 10, 0.05, 0.85)
    p = p_b(age) + risk_difference   for drug_a,   p_b(age)   for drug_b

so every such episode's own effect of ``drug_a`` over ``drug_b`` on the response probability is
exactly ``risk_difference`` (ATE = ATT = ``risk_difference``), while older patients both get
``drug_a`` more often and respond less: the crude comparison is biased against ``drug_a``.
Age is a measured covariate (``age_at_start``), so adjustment can remove the bias.

The effect is on the latent response probability, i.e. on response among *assessed* episodes
(a follow-up score in the window: the metric's ``rate_assessed``); the headline rate among
eligible episodes counts a missing follow-up as "not achieved" and dilutes it. A step stopped
early for intolerance has its follow-up governed by the next drug (``synthetic.truth``), which
dilutes it slightly too. ``truth.json["planted_effect"]`` records all of this.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class PlantedEffect:
    drug_a: str = "sertraline"
    drug_b: str = "escitalopram"
    risk_difference: float = 0.10
    base_response: float = 0.50
    response_drop_per_decade: float = 0.15
    assignment_per_decade: float = 0.6

    def as_truth(self) -> dict:
        return {
            **asdict(self),
            "confounder": "age at the episode start (measured: age_at_start)",
            "applies_to": "assignment: first treatment steps drawn as drug_a or drug_b; "
                          "response: every step on drug_a or drug_b",
            "scale": "additive on the response probability = response among assessed episodes "
                     "(rate_assessed); ATE = ATT = risk_difference",
            "assignment": "P(drug_a | age) = 1 / (1 + exp(-assignment_per_decade * (age - 40) / 10))",
            "response": "p_b = clip(base_response - response_drop_per_decade * (age - 40) / 10, "
                        "0.05, 0.85); p_a = p_b + risk_difference",
        }


def reassign(
    rng: np.random.Generator, planted: PlantedEffect, drug: np.ndarray, age: np.ndarray,
    first_step: np.ndarray, index_a: int, index_b: int,
) -> tuple[np.ndarray, np.ndarray]:
    """(drug re-assigned, mask of the planted episodes). Draws from ``rng`` only when called."""
    planted_rows = first_step & ((drug == index_a) | (drug == index_b))
    p_a = 1 / (1 + np.exp(-planted.assignment_per_decade * (age - 40) / 10))
    gets_a = rng.random(drug.size) < p_a
    drug = np.where(planted_rows, np.where(gets_a, index_a, index_b), drug)
    return drug, planted_rows


def response_probability(
    planted: PlantedEffect, p_response: np.ndarray, drug: np.ndarray, age: np.ndarray,
    planted_rows: np.ndarray, index_a: int, index_b: int,
) -> np.ndarray:
    """``p_response`` with the probabilities of every step on either drug replaced (module
    docstring); ``planted_rows`` are the re-assigned first steps (kept for the signature)."""
    on_either = (drug == index_a) | (drug == index_b)
    p_b = np.clip(planted.base_response - planted.response_drop_per_decade * (age - 40) / 10,
                  0.05, 0.85)
    p = p_b + np.where(drug == index_a, planted.risk_difference, 0.0)
    return np.where(on_either, p, p_response)
