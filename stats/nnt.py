"""Number needed to treat or harm, inverted from a risk difference (DOMAIN.md section 7).

NNTB/NNTH is ``1 / |risk difference|``, its interval inverted from the Newcombe limits of the
difference (Bender 2001); when that interval spans zero it reads "NNTB x to infinity to NNTH y"
(Altman 1998). NNTs are shown rounded up to a whole patient.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class NNTResult:
    """Number needed to treat (benefit) or harm, inverted from a risk difference and its limits.

    ``benefit_difference`` is the risk difference oriented so that > 0 favours group 1. ``label``
    is ``NNTB``, ``NNTH`` or ``NNT`` (no difference: infinite). When the interval excludes zero,
    ``low``/``high`` are the NNT limits; when it spans zero they are None and ``nntb_bound`` and
    ``nnth_bound`` hold the two ends of "NNTB x to infinity to NNTH y" (Altman 1998).
    """

    benefit_difference: float
    label: str
    value: float
    low: float | None
    high: float | None
    ci_spans_zero: bool
    nntb_bound: float | None
    nnth_bound: float | None
    text: str


def _inverse(x: float) -> float:
    return math.inf if x == 0 else 1 / abs(x)


def _fmt_nnt(x: float) -> str:
    """NNTs are shown rounded up to a whole patient (Altman 1998); infinity as the symbol."""
    if math.isinf(x):
        return "∞"
    # round() first so that 1/0.125 computed as 8.000000000000002 shows as 8, not 9
    return str(math.ceil(round(x, 9)))


def nnt(
    rd: float,
    low: float | None,
    high: float | None,
    outcome_is_harm: bool = False,
    confidence: float = 0.95,
) -> NNTResult:
    """NNTB/NNTH from a risk difference ``rd = p1 - p2`` and its (Newcombe) limits.

    For a good outcome (response) a positive ``rd`` favours group 1; for a harmful outcome (a side
    effect, ``outcome_is_harm=True``) the difference is negated first. With ``B`` the oriented
    difference and ``(L, U)`` its limits: ``NNTB = 1/B``; CI above 0 gives ``[1/U, 1/L]``; CI below 0
    gives NNTH ``[1/|L|, 1/|U|]``; a CI spanning 0 gives "NNTB 1/U to ∞ to NNTH 1/|L|".
    """
    benefit = -rd if outcome_is_harm else rd
    b_low: float | None
    b_high: float | None
    if low is not None and high is not None:
        b_low, b_high = (-high, -low) if outcome_is_harm else (low, high)
    else:
        b_low, b_high = None, None
    label = "NNTB" if benefit > 0 else ("NNTH" if benefit < 0 else "NNT")
    value = _inverse(benefit)
    point = f"{label} {_fmt_nnt(value)}"
    ci_name = f"{confidence * 100:g}% CI"
    if b_low is None or b_high is None:
        return NNTResult(benefit, label, value, None, None, False, None, None, point)
    if b_low > 0:
        nnt_low, nnt_high = 1 / b_high, 1 / b_low
        text = f"{point} ({ci_name} {_fmt_nnt(nnt_low)} to {_fmt_nnt(nnt_high)})"
        return NNTResult(benefit, label, value, nnt_low, nnt_high, False, None, None, text)
    if b_high < 0:
        nnt_low, nnt_high = 1 / abs(b_low), 1 / abs(b_high)
        text = f"{point} ({ci_name} {_fmt_nnt(nnt_low)} to {_fmt_nnt(nnt_high)})"
        return NNTResult(benefit, label, value, nnt_low, nnt_high, False, None, None, text)
    nntb_bound, nnth_bound = _inverse(b_high), _inverse(b_low)
    parts = []
    if not math.isinf(nntb_bound):
        parts.append(f"NNTB {_fmt_nnt(nntb_bound)}")
    parts.append("∞")
    if not math.isinf(nnth_bound):
        parts.append(f"NNTH {_fmt_nnt(nnth_bound)}")
    text = f"{point} ({ci_name} {' to '.join(parts)})"
    return NNTResult(benefit, label, value, None, None, True, nntb_bound, nnth_bound, text)
