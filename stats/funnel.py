"""Funnel plots for comparing clinicians or sites (DOMAIN.md sections 6.3 and 7).

A unit (clinician, site) with ``r`` events in ``n`` patients is compared with the target
``θ0 = Σr/Σn`` (or a given target), never with other units. Contours at 95% (z = 1.959964) and
99.8% (z = 3.090232):

* ``method="exact"`` (default): exact binomial with Spiegelhalter's interpolation (2005, App.
  A.1.1): for p in {0.001, 0.025, 0.975, 0.999}, ``r_p`` is the smallest r with ``F(r) >= p``
  under Binomial(n, θ0), ``α = (F(r_p) − p)/(F(r_p) − F(r_p − 1))`` and the limit is
  ``(r_p − α)/n`` (plain ``qbinom/n`` would give steps). For a non-integer n (the grid the
  contours are drawn on) ``F`` is the binomial CDF's continuous extension through the
  regularised incomplete beta function (:func:`binomial_cdf`), so limits exist for any n > 0;
* ``method="normal"``: ``θ0 ± z·√(θ0(1−θ0)/n)`` clipped to [0, 1];
* ``overdispersion=True``: the FunnelPlotR method (``od_adjustment.R``): ``y = asin(√p)``,
  ``s = 1/(2√n)``, z-scores winsorised at 10%/90%, ``φ = mean(z²)``, ``τ² = 0`` if ``kφ < k − 1``
  else ``(kφ − (k − 1))/(Σw − Σw²/Σw)`` with ``w = 1/s²``; limits ``sin²(target ± z√(s² + τ²))``.

Units with fewer than ``min_n`` patients (default 20, configurable) are labelled "insufficient
data" and not flagged: below about 20 the 95% limits around a typical clinic rate span most of
[0, 1], so a position outside them says little, and the unit is also near the suppression
threshold. They still count towards the target and the overdispersion estimate.

Case-mix adjustment (:func:`indirect_standardise`) turns per-unit × stratum counts into observed
``O``, expected ``E``, ``O/E`` with Byar's interval and the adjusted rate ``(O/E)·R_overall``;
:func:`ratio_funnel` plots ``O/E`` against ``E`` (``y = log(O/E)``, ``s = 1/√E``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl

Z_95 = 1.959964
Z_998 = 3.090232
DEFAULT_MIN_N = 20
INSUFFICIENT = "insufficient data"


def binomial_cdf(r: int, n: float, theta0: float) -> float:
    """``F(r) = P(X <= r)`` under Binomial(n, θ0), for any real ``n > 0``.

    For integer n this is the binomial CDF. For other n it is its continuous extension through
    the regularised incomplete beta function, ``F(r) = I_{1−θ0}(n − r, r + 1)`` for
    ``0 <= r < n`` (0 below, 1 from n on): the identity that defines the binomial CDF in
    scipy's ``bdtr`` and R's ``pbinom``, which both refuse a non-integer n. It is continuous in
    n and increasing in r, so the funnel's contours are smooth between integer n."""
    if r < 0:
        return 0.0
    if r >= n:
        return 1.0
    from scipy import special  # on first use: importing scipy costs most of a second at start-up

    return float(special.betainc(n - r, r + 1, 1 - theta0))


def exact_limit(n: float, theta0: float, p: float) -> float:
    """One exact-binomial funnel limit on the proportion scale, interpolated (Spiegelhalter
    2005, App. A.1.1), for any real ``n > 0`` (``F`` from :func:`binomial_cdf`): ``r_p`` is the
    smallest integer r with ``F(r) >= p``, ``α = (F(r_p) − p)/(F(r_p) − F(r_p − 1))`` and the
    limit ``(r_p − α)/n``, clipped to [0, 1]."""
    if not (math.isfinite(n) and n > 0):
        raise ValueError(f"n must be a number > 0, got {n}")
    low, high = 0, math.ceil(n)  # F(ceil(n)) = 1 >= p: binary search for the smallest r
    while low < high:
        middle = (low + high) // 2
        if binomial_cdf(middle, n, theta0) >= p:
            high = middle
        else:
            low = middle + 1
    f_r = binomial_cdf(low, n, theta0)
    f_before = binomial_cdf(low - 1, n, theta0)
    alpha = 0.0 if f_r == f_before else (f_r - p) / (f_r - f_before)
    return min(max((low - alpha) / n, 0.0), 1.0)


def normal_limit(n: float, theta0: float, z: float) -> float:
    """``θ0 + z·√(θ0(1−θ0)/n)`` (z signed) clipped to [0, 1]."""
    return min(max(theta0 + z * math.sqrt(theta0 * (1 - theta0) / n), 0.0), 1.0)


@dataclass(frozen=True)
class Overdispersion:
    """FunnelPlotR's dispersion ratio φ and between-unit variance τ² (transformed scale)."""

    phi: float
    tau2: float
    k: int
    units_left_out: int = 0


def estimate_overdispersion(y: np.ndarray, s: np.ndarray, target: float) -> Overdispersion:
    """φ from 10%/90%-winsorised z-scores and τ² (DerSimonian-Laird form), as FunnelPlotR.

    Units whose z-score is not finite (e.g. ``log(0)`` on a ratio scale) are left out and counted.
    """
    z = (y - target) / s
    finite = np.isfinite(z)
    z, s_used = z[finite], s[finite]
    k = int(z.size)
    if k < 2:
        return Overdispersion(math.nan, 0.0, k, int((~finite).sum()))
    low, high = np.quantile(z, [0.1, 0.9])  # numpy's default equals R's quantile type 7
    phi = float(np.mean(np.clip(z, low, high) ** 2))
    w = 1 / s_used**2
    if k * phi < k - 1:
        tau2 = 0.0
    else:
        tau2 = max(0.0, (k * phi - (k - 1)) / (w.sum() - (w**2).sum() / w.sum()))
    return Overdispersion(phi, float(tau2), k, int((~finite).sum()))


def _flag(value: float, limits: dict[str, float], enough: bool) -> str:
    if not enough:
        return INSUFFICIENT
    if value > limits["upper_998"]:
        return "above 99.8%"
    if value < limits["lower_998"]:
        return "below 99.8%"
    if value > limits["upper_95"]:
        return "above 95%"
    if value < limits["lower_95"]:
        return "below 95%"
    return "within limits"


@dataclass(frozen=True)
class FunnelResult:
    """Per-unit limits and flags, plus what was used to compute them."""

    target: float
    method: str
    min_n: int
    overdispersion: Overdispersion | None
    units: list[dict[str, object]]
    scale: str = "proportion"
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        od = self.overdispersion
        return {
            "target": self.target,
            "scale": self.scale,
            "method": self.method,
            "min_n": self.min_n,
            "overdispersion": None if od is None else od.__dict__,
            "units": self.units,
            "notes": self.notes,
        }


def _proportion_limits(
    n: float, theta0: float, method: str, od: Overdispersion | None
) -> dict[str, float]:
    if od is not None:
        centre = math.asin(math.sqrt(theta0))
        spread = math.sqrt(1 / (4 * n) + od.tau2)

        def back(v: float) -> float:  # sin² over the clipped angle keeps limits within [0, 1]
            return math.sin(min(max(v, 0.0), math.pi / 2)) ** 2

        return {
            "lower_998": back(centre - Z_998 * spread),
            "lower_95": back(centre - Z_95 * spread),
            "upper_95": back(centre + Z_95 * spread),
            "upper_998": back(centre + Z_998 * spread),
        }
    if method == "exact":
        return {
            "lower_998": exact_limit(n, theta0, 0.001),
            "lower_95": exact_limit(n, theta0, 0.025),
            "upper_95": exact_limit(n, theta0, 0.975),
            "upper_998": exact_limit(n, theta0, 0.999),
        }
    return {
        "lower_998": normal_limit(n, theta0, -Z_998),
        "lower_95": normal_limit(n, theta0, -Z_95),
        "upper_95": normal_limit(n, theta0, Z_95),
        "upper_998": normal_limit(n, theta0, Z_998),
    }


def proportion_funnel(
    units: Sequence[object],
    events: Sequence[float] | np.ndarray,
    n: Sequence[float] | np.ndarray,
    method: str = "exact",
    overdispersion: bool = False,
    target: float | None = None,
    min_n: int = DEFAULT_MIN_N,
) -> FunnelResult:
    """Funnel limits at each unit's n and a flag per unit (see the module docstring)."""
    if method not in ("exact", "normal"):
        raise ValueError(f"method must be exact or normal, got {method!r}")
    r = np.asarray(events, dtype=float)
    size = np.asarray(n, dtype=float)
    labels = list(units)
    if not (len(labels) == r.size == size.size):
        raise ValueError("units, events and n must have the same length")
    if r.size < 2:
        raise ValueError(f"a funnel needs at least 2 units, got {r.size}")
    for i in range(r.size):
        if not (math.isfinite(size[i]) and size[i] > 0):
            raise ValueError(f"unit {labels[i]!r}: n must be a number > 0, got {size[i]}")
        if not (math.isfinite(r[i]) and 0 <= r[i] <= size[i]):
            raise ValueError(f"unit {labels[i]!r}: events must be between 0 and n, got {r[i]}")
    theta0 = float(r.sum() / size.sum()) if target is None else float(target)
    if not 0 <= theta0 <= 1:
        raise ValueError(f"target must be a proportion between 0 and 1, got {theta0}")
    od = None
    if overdispersion:
        od = estimate_overdispersion(
            np.arcsin(np.sqrt(r / size)), 1 / (2 * np.sqrt(size)), math.asin(math.sqrt(theta0))
        )
    rows = []
    for i, label in enumerate(labels):
        limits = _proportion_limits(float(size[i]), theta0, method, od)
        rate = float(r[i] / size[i])
        rows.append(
            {
                "unit": label,
                "events": float(r[i]),
                "n": float(size[i]),
                "rate": rate,
                **limits,
                "flag": _flag(rate, limits, size[i] >= min_n),
            }
        )
    # with overdispersion the limits come from the arcsine scale, whatever ``method`` says
    method_label = "arcsine normal + overdispersion (FunnelPlotR)" if overdispersion else method
    return FunnelResult(theta0, method_label, min_n, od, rows)


def funnel_curve(
    theta0: float, n_values: Sequence[float], method: str = "exact", od: Overdispersion | None = None
) -> list[dict[str, float]]:
    """Limits over a grid of n, for drawing the funnel's contours."""
    return [{"n": float(v), **_proportion_limits(float(v), theta0, method, od)} for v in n_values]


# --------------------------------------------------------------------------- case mix


def byar_interval(observed: float, expected: float, z: float = Z_95) -> tuple[float, float]:
    """Byar's approximation to the exact Poisson interval for ``O/E`` (DOMAIN.md section 7)."""
    if expected <= 0:
        return (math.nan, math.nan)
    if observed == 0:
        low = 0.0
    else:
        low = observed * (1 - 1 / (9 * observed) - z / (3 * math.sqrt(observed))) ** 3 / expected
    o1 = observed + 1
    high = o1 * (1 - 1 / (9 * o1) + z / (3 * math.sqrt(o1))) ** 3 / expected
    return (low, high)


def indirect_standardise(
    units_strata: pl.DataFrame,
    unit: str = "unit",
    stratum: str = "stratum",
    events: str = "events",
    n: str = "n",
) -> pl.DataFrame:
    """Case-mix adjustment by indirect standardisation.

    Input: one row per unit × stratum with events and n. Reference rate per stratum
    ``R_s = Σ_units O_s / Σ_units n_s`` (all units pooled); ``E_unit = Σ_s n_s·R_s``;
    ``O_unit = Σ_s O_s``. Output per unit: ``observed, expected, n, ratio (O/E), ratio_low,
    ratio_high`` (Byar 95%), ``crude_rate`` and ``adjusted_rate = (O/E)·R_overall``. Strata with
    no patients at all carry no weight (they add nothing to E).
    """
    missing = [c for c in (unit, stratum, events, n) if c not in units_strata.columns]
    if missing:
        raise ValueError(f"indirect_standardise: missing column(s) {', '.join(missing)}")
    frame = units_strata.select(
        pl.col(unit).alias("unit"),
        pl.col(stratum).alias("stratum"),
        pl.col(events).cast(pl.Float64).alias("events"),
        pl.col(n).cast(pl.Float64).alias("n"),
    )
    bad = frame.with_row_index("row").filter(
        pl.col("events").is_null()
        | pl.col("n").is_null()
        | (pl.col("n") < 0)
        | (pl.col("events") < 0)
        | (pl.col("events") > pl.col("n"))
    )
    if bad.height:
        first = bad.row(0, named=True)
        raise ValueError(
            f"indirect_standardise: row {first['row']} (unit {first['unit']!r}, stratum "
            f"{first['stratum']!r}) needs 0 <= events <= n, got {first['events']} of {first['n']}"
        )
    reference = frame.group_by("stratum").agg(
        (pl.col("events").sum() / pl.col("n").sum()).alias("reference_rate")
    )
    overall = float(frame["events"].sum()) / float(frame["n"].sum())
    per_unit = (
        frame.join(reference, on="stratum", how="left")
        .with_columns(
            (pl.col("n") * pl.col("reference_rate").fill_nan(0.0)).alias("expected_part")
        )
        .group_by("unit", maintain_order=True)
        .agg(
            pl.col("events").sum().alias("observed"),
            pl.col("expected_part").sum().alias("expected"),
            pl.col("n").sum().alias("n"),
        )
        .sort("unit")
    )
    intervals = [byar_interval(o, e) for o, e in zip(per_unit["observed"], per_unit["expected"], strict=True)]
    return per_unit.with_columns(
        (pl.col("observed") / pl.col("expected")).alias("ratio"),
        pl.Series("ratio_low", [lo for lo, _ in intervals], dtype=pl.Float64),
        pl.Series("ratio_high", [hi for _, hi in intervals], dtype=pl.Float64),
        (pl.col("observed") / pl.col("n")).alias("crude_rate"),
        (pl.col("observed") / pl.col("expected") * overall).alias("adjusted_rate"),
    )


def ratio_funnel(
    units: Sequence[object],
    observed: Sequence[float] | np.ndarray,
    expected: Sequence[float] | np.ndarray,
    overdispersion: bool = False,
    min_expected: float = 5.0,
) -> FunnelResult:
    """Funnel of ``O/E`` against ``E``: limits ``exp(±z·√(1/E + τ²))`` around 1 (log scale,
    ``s = 1/√E``, as FunnelPlotR's SHMI method). Units with ``E < min_expected`` are
    "insufficient data"."""
    o = np.asarray(observed, dtype=float)
    e = np.asarray(expected, dtype=float)
    labels = list(units)
    if np.any(e <= 0) or np.any(o < 0):
        raise ValueError("expected counts must be > 0 and observed counts >= 0")
    od = None
    if overdispersion:
        with np.errstate(divide="ignore"):
            od = estimate_overdispersion(np.log(o / e), 1 / np.sqrt(e), 0.0)
    tau2 = od.tau2 if od is not None else 0.0
    rows = []
    for i, label in enumerate(labels):
        spread = math.sqrt(1 / e[i] + tau2)
        limits = {
            "lower_998": math.exp(-Z_998 * spread),
            "lower_95": math.exp(-Z_95 * spread),
            "upper_95": math.exp(Z_95 * spread),
            "upper_998": math.exp(Z_998 * spread),
        }
        ratio = float(o[i] / e[i])
        rows.append(
            {
                "unit": label,
                "observed": float(o[i]),
                "expected": float(e[i]),
                "ratio": ratio,
                **limits,
                "flag": _flag(ratio, limits, e[i] >= min_expected),
            }
        )
    method = "log-normal" + (" + overdispersion (FunnelPlotR)" if overdispersion else "")
    return FunnelResult(1.0, method, int(min_expected), od, rows, scale="ratio")
