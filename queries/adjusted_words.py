"""Plain words for a propensity-score adjusted comparison (``queries.adjusted``), shared by
``outcomes compare`` and the Compare page: the method, the effect as a psychiatrist reads it,
the E-value, and what an observational comparison cannot prove."""

from __future__ import annotations


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _points(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:+.1f}"


METHOD_WORDS = {
    ("weighting", "ATE"): "propensity-score weighting (ATE: as if every patient in both groups "
                          "had received A, compared with all of them receiving B)",
    ("weighting", "ATT"): "propensity-score weighting (ATT: the patients who received A, "
                          "compared with similar patients who received B)",
    ("matching", "ATT (matched)"): "1:1 propensity-score matching (each A episode paired with "
                                   "the most similar B episode; the result describes the matched "
                                   "A episodes)",
}

CANNOT_PROVE = (
    "What this cannot prove: the adjustment only balances what was measured (age, sex, baseline "
    "score, diagnosis, line of therapy, earlier episodes, site, start year). It cannot balance "
    "what was not recorded (e.g. illness duration, prior response, patient preference, adherence "
    "intent, clinician judgement), and it only compares patients who could have received either "
    "drug. A difference here is an association in this clinic's routine care, not proof that "
    "one drug works better; only a randomised trial balances unmeasured causes too."
)



def effect_words(c, result) -> str:
    """The adjusted effect as a sentence a psychiatrist reads (``c``: ``queries.compare.Comparison``;
    ``result``: its ``propensity``)."""
    a = result.analysis
    risks = a.risks
    rd = risks.difference
    rr = risks.ratio
    done = "weighting" if a.method == "weighting" else "matching"
    text = (f"After {done}, the {c.title.lower()} is {_pct(risks.risk_a)} with {c.label_a} and "
            f"{_pct(risks.risk_b)} with {c.label_b}. "
            f"Difference {_points(rd.value)} percentage points (95% CI {_points(rd.low)} to "
            f"{_points(rd.high)})")
    if rr.low is not None:
        text += f"; relative risk {rr.value:.2f} (95% CI {rr.low:.2f} to {rr.high:.2f})"
    text += f"; {a.nnt.text}. "
    if rd.low is not None and rd.low <= 0 <= rd.high:
        text += (f"The interval includes no difference: the data are compatible with anything "
                 f"from {abs(100 * rd.low):.0f} points lower to {abs(100 * rd.high):.0f} points "
                 f"higher with {c.label_a}; no difference was shown (which is not the same as "
                 "showing the drugs are equal).")
    else:
        direction = "higher" if rd.value > 0 else "lower"
        text += (f"The rate is {direction} with {c.label_a} than with {c.label_b} after adjustment, "
                 "and the interval excludes no difference.")
    return text


def e_value_words(result) -> str:
    e = result.analysis.e_value
    if e is None:
        return "E-value: not computable (a group has no events, so there is no relative risk)."
    text = (f"E-value {e.estimate:.2f} for the estimate, {e.limit:.2f} for the confidence limit "
            "closer to no effect (VanderWeele & Ding 2017). An unmeasured confounder would need "
            f"to be associated with both the choice of drug and the outcome by a risk ratio of "
            f"at least {e.estimate:.2f} each, beyond the measured covariates, to explain the "
            "estimate away")
    if e.limit is not None and e.limit <= 1.0:
        text += "; the interval already includes no effect, so no confounding is needed for that"
    elif e.limit is not None:
        text += f", and of {e.limit:.2f} each to move the interval to include no effect"
    return text + "."
