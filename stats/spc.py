"""Run and control charts with the Anhøj rules, as qicharts2 (v0.8.1) computes them.

DOMAIN.md sections 6.1, 6.2 and 6.4. ``qic(y, n, chart=...)`` returns an :class:`SPCChart` with
per-point centre line, 3-sigma and 2-sigma ("95%") limits, signals, and the per-part summary
qicharts2 prints (``n.obs, n.useful, longest.run, longest.run.max, n.crossings, n.crossings.min,
runs.signal, aLCL, aLCL.95, CL, aUCL.95, aUCL, sigma.signal``).

Conventions (qicharts2's): point positions in ``freeze``, ``part`` and ``exclude`` are 1-based;
``freeze=k`` takes points 1..k as the baseline for the centre line and limits; ``part=[k1, k2]``
starts new phases after points k1 and k2 and recomputes everything per phase (with ``part``,
``freeze`` is ignored, as in qicharts2, and ``options["freeze_ignored_with_part"]`` says so);
``exclude`` drops points from the centre line, the limits and the runs analysis (they are still
plotted and can still fall outside the limits). Charts:

=====  ================================  ==========================================================
chart  plotted                           centre line and SD
=====  ================================  ==========================================================
run    y                                 median; no limits
p      y/n                               p̄ = Σy/Σn; SD_i = √(p̄(1−p̄)/n_i); limits within [0, 1]
pp     y/n (Laney p′)                    as p, SD_i · σ_z with σ_z = mean(|Δz|)/1.128 on the baseline
u      y/n                               ū = Σy/Σn; SD_i = √(ū/n_i); LCL ≥ 0
up     y/n (Laney u′)                    as u, SD_i · σ_z
c      y                                 mean; SD = √c̄; LCL ≥ 0
i      y                                 mean; SD = MR̄/1.128 (MR̄ = mean |y_i − y_{i−1}| on baseline)
mr     |y_i − y_{i−1}|                   MR̄; UCL = 3.267·MR̄, 95% line (3.267/3)·2·MR̄, LCLs 0
g      y (cases between events)          median of the baseline plotted; limits x̄ ± 3√(x̄(x̄+1))
                                         with x̄ the baseline mean; LCL ≥ 0
=====  ================================  ==========================================================

Nelson's screening of large moving ranges (of y on the i chart, of z on the Laney p′/u′ charts)
is off by default, as in qicharts2 called without attaching it (``getOption('qic.screenedmr',
default = FALSE)``; note that ``library(qicharts2)`` sets it to TRUE in ``.onAttach``); pass
``screened_mr=True`` to turn it on.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from stats.anhoej import RunsAnalysis, runs_analysis

CHART_TYPES: tuple[str, ...] = ("run", "p", "pp", "u", "up", "c", "i", "mr", "g")
#: charts whose y is a count over a denominator n
CHARTS_WITH_N: frozenset[str] = frozenset({"p", "pp", "u", "up"})
#: d2 for moving ranges of two points (Montgomery)
D2 = 1.128
#: D4 for moving ranges of two points: UCL of the MR chart is D4 * MR-bar
D4 = 3.267

SUMMARY_COLUMNS: tuple[str, ...] = (
    "n.obs",
    "n.useful",
    "longest.run",
    "longest.run.max",
    "n.crossings",
    "n.crossings.min",
    "runs.signal",
    "aLCL",
    "aLCL.95",
    "CL",
    "aUCL.95",
    "aUCL",
    "sigma.signal",
)


# --------------------------------------------------------------------------- limits per part


@dataclass(frozen=True)
class _PartLimits:
    plotted: np.ndarray  # the y the chart shows
    cl: float  # centre line shown and used for the runs analysis
    centre: float  # centre of the limits (differs from cl only on the g chart)
    sd: np.ndarray  # per-point SD; NaN on run charts


def _mean_moving_range(moving_ranges: np.ndarray, screened_mr: bool) -> float:
    """MR̄; with Nelson's screening, the ranges at or above D4·MR̄ are dropped and MR̄ recomputed
    (qicharts2 ``qic.i``, ``qic.pp``, ``qic.up``: ``mr[mr < 3.267 * amr]``)."""
    mr_bar = float(np.nanmean(moving_ranges))
    if screened_mr:
        mr_bar = float(np.nanmean(moving_ranges[moving_ranges < D4 * mr_bar]))
    return mr_bar


def _laney_sigma_z(
    plotted: np.ndarray, cl: float, sd: np.ndarray, base: np.ndarray, screened_mr: bool
) -> float:
    """σ_z = mean(|z_i − z_{i−1}|)/1.128 with z_i = (y_i − CL)/SD_i over the baseline points;
    the moving ranges of z are Nelson-screened like the i chart's when ``screened_mr``."""
    z = (plotted[base] - cl) / sd[base]
    if z.size < 2:
        raise ValueError("Laney charts need at least 2 baseline points")
    return _mean_moving_range(np.abs(np.diff(z)), screened_mr) / D2


def _part_limits(
    chart: str, y: np.ndarray, n: np.ndarray, base: np.ndarray, screened_mr: bool
) -> _PartLimits:
    nan_sd = np.full(y.shape, np.nan)
    if chart == "run":
        cl = float(np.median(y[base]))
        return _PartLimits(y, cl, cl, nan_sd)
    if chart in CHARTS_WITH_N:
        plotted = y / n
        cl = float(y[base].sum() / n[base].sum())
        sd = np.sqrt(cl * (1 - cl) / n) if chart in ("p", "pp") else np.sqrt(cl / n)
        if chart in ("pp", "up"):
            sd = sd * _laney_sigma_z(plotted, cl, sd, base, screened_mr)
        return _PartLimits(plotted, cl, cl, sd)
    if chart == "c":
        cl = float(y[base].mean())
        return _PartLimits(y, cl, cl, np.full(y.shape, math.sqrt(cl)))
    if chart == "i":
        cl = float(y[base].mean())
        moving_ranges = np.abs(np.diff(y[base]))
        if moving_ranges.size == 0:
            raise ValueError("an i chart needs at least 2 baseline points")
        mr_bar = _mean_moving_range(moving_ranges, screened_mr)
        return _PartLimits(y, cl, cl, np.full(y.shape, mr_bar / D2))
    if chart == "mr":
        plotted = np.concatenate(([np.nan], np.abs(np.diff(y))))
        cl = float(np.nanmean(plotted[base]))
        # qicharts2 (qic.mr) measures the MR chart's limits from 0, not from MR̄:
        # UCL = D4·MR̄ and the 95% line (D4/3)·2·MR̄; both lower lines are 0. Centre 0 and
        # SD = (D4/3)·MR̄ give exactly that (the negative lower lines are clipped to 0).
        return _PartLimits(plotted, cl, 0.0, np.full(y.shape, D4 / 3 * cl))
    if chart == "g":
        mean = float(y[base].mean())
        sd = np.full(y.shape, math.sqrt(mean * (mean + 1)))
        # qicharts2 (qic.g) shows, and runs the rules on, the median of the baseline points
        # (after freeze and exclude), not of every point
        return _PartLimits(y, float(np.median(y[base])), mean, sd)
    raise ValueError(f"unknown chart {chart!r}; choose one of {', '.join(CHART_TYPES)}")


# --------------------------------------------------------------------------- the chart


def _clean(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def _nanmean(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if finite.size else math.nan


@dataclass(frozen=True)
class SPCChart:
    """A computed run or control chart; arrays hold one value per point."""

    chart: str
    x: list[object]
    y: np.ndarray
    n: np.ndarray | None
    cl: np.ndarray
    lcl: np.ndarray
    ucl: np.ndarray
    lcl95: np.ndarray
    ucl95: np.ndarray
    part: np.ndarray
    baseline: np.ndarray
    excluded: np.ndarray
    sigma_signal: np.ndarray
    runs_signal: np.ndarray
    runs: tuple[RunsAnalysis, ...]
    target: float | None = None
    options: dict[str, object] = field(default_factory=dict)

    def summary(self) -> list[dict[str, object]]:
        """One row per part with the qicharts2 ``summary(qic(...))`` columns (plus ``part``)."""
        rows = []
        for index, runs in enumerate(self.runs):
            in_part = self.part == index + 1
            rows.append(
                {
                    "part": index + 1,
                    "n.obs": runs.n_obs,
                    "n.useful": runs.n_useful,
                    "longest.run": runs.longest_run,
                    "longest.run.max": runs.longest_run_max,
                    "n.crossings": runs.n_crossings,
                    "n.crossings.min": runs.n_crossings_min,
                    "runs.signal": bool(self.runs_signal[in_part].any()),
                    "aLCL": _clean(_nanmean(self.lcl[in_part])),
                    "aLCL.95": _clean(_nanmean(self.lcl95[in_part])),
                    "CL": _clean(_nanmean(self.cl[in_part])),
                    "aUCL.95": _clean(_nanmean(self.ucl95[in_part])),
                    "aUCL": _clean(_nanmean(self.ucl[in_part])),
                    "sigma.signal": int(self.sigma_signal[in_part].sum()),
                }
            )
        return rows

    def points(self) -> list[dict[str, object]]:
        """Per-point values for JSON and tables (NaN becomes None)."""
        rows = []
        for i in range(len(self.y)):
            rows.append(
                {
                    "x": self.x[i],
                    "y": _clean(float(self.y[i])),
                    "n": None if self.n is None else _clean(float(self.n[i])),
                    "cl": _clean(float(self.cl[i])),
                    "lcl": _clean(float(self.lcl[i])),
                    "ucl": _clean(float(self.ucl[i])),
                    "lcl_95": _clean(float(self.lcl95[i])),
                    "ucl_95": _clean(float(self.ucl95[i])),
                    "part": int(self.part[i]),
                    "baseline": bool(self.baseline[i]),
                    "excluded": bool(self.excluded[i]),
                    "sigma_signal": bool(self.sigma_signal[i]),
                    "runs_signal": bool(self.runs_signal[i]),
                    "target": self.target,
                }
            )
        return rows

    def explanations(self) -> list[str]:
        """The signals in plain words, for the meeting pack (see :mod:`stats.spc_words`)."""
        from stats.spc_words import explain

        return explain(self)

    def to_dict(self) -> dict[str, object]:
        return {
            "chart": self.chart,
            "options": self.options,
            "target": self.target,
            "points": self.points(),
            "summary": self.summary(),
            "explanations": self.explanations(),
        }


def _positions(values: Sequence[int] | None, size: int, name: str) -> list[int]:
    positions = sorted({int(v) for v in values or ()})
    bad = [v for v in positions if not 1 <= v <= size]
    if bad:
        raise ValueError(f"{name}: position {bad[0]} is outside 1..{size} (positions are 1-based)")
    return positions


def qic(
    y: Sequence[float] | np.ndarray,
    n: Sequence[float] | np.ndarray | None = None,
    x: Sequence[object] | None = None,
    chart: str = "run",
    freeze: int | None = None,
    part: Sequence[int] | None = None,
    exclude: Sequence[int] | None = None,
    target: float | None = None,
    screened_mr: bool = False,
) -> SPCChart:
    """Compute a run or control chart the way qicharts2's ``qic()`` does (see module docstring).

    ``y`` is the count (p, pp, u, up: events per subgroup with ``n`` the denominators) or the
    value (run, c, i, mr, g). Raises ``ValueError`` with the position of the first bad value.
    """
    if chart not in CHART_TYPES:
        raise ValueError(f"unknown chart {chart!r}; choose one of {', '.join(CHART_TYPES)}")
    y_arr = np.asarray(y, dtype=float)
    size = int(y_arr.size)
    if size < 2:
        raise ValueError(f"a chart needs at least 2 points, got {size}")
    bad = np.flatnonzero(~np.isfinite(y_arr))
    if bad.size:
        raise ValueError(f"y at position {int(bad[0]) + 1} is not a finite number")
    if chart in CHARTS_WITH_N:
        if n is None:
            raise ValueError(f"a {chart} chart needs denominators n")
        n_arr = np.asarray(n, dtype=float)
        if n_arr.shape != y_arr.shape:
            raise ValueError("y and n must have the same length")
        bad = np.flatnonzero(~(np.isfinite(n_arr) & (n_arr > 0)))
        if bad.size:
            raise ValueError(f"n at position {int(bad[0]) + 1} must be a number > 0")
    else:
        n_arr = np.ones(size)
    if chart in ("p", "pp", "u", "up", "c", "g"):
        bad = np.flatnonzero(y_arr < 0)
        if bad.size:
            raise ValueError(f"y at position {int(bad[0]) + 1} is negative; {chart} charts count")
    if chart in ("p", "pp"):
        bad = np.flatnonzero(y_arr > n_arr)
        if bad.size:
            raise ValueError(f"y at position {int(bad[0]) + 1} is larger than its n")
    x_list = list(x) if x is not None else list(range(1, size + 1))
    if len(x_list) != size:
        raise ValueError("x and y must have the same length")

    breaks = _positions(part, size, "part")
    if breaks and breaks[-1] == size:
        raise ValueError(f"part: a new part cannot start after the last point ({size})")
    excluded_positions = _positions(exclude, size, "exclude")
    if freeze is not None and not 1 <= freeze <= size:
        raise ValueError(f"freeze must be between 1 and {size}, got {freeze}")
    # qicharts2 (qic.R: ``if (is.null(freeze) || !is.null(part)) freeze <- Inf``) ignores freeze
    # when parts are given: each part is its own baseline. Recorded in ``options``.
    freeze_ignored = freeze is not None and bool(breaks)
    if freeze_ignored:
        freeze = None

    position = np.arange(1, size + 1)
    part_of = 1 + np.searchsorted(np.asarray(breaks, dtype=int), position, side="left")
    baseline = position <= freeze if freeze is not None else np.ones(size, bool)
    excluded = np.isin(position, excluded_positions)
    include = ~excluded

    plotted = np.full(size, np.nan)
    cl, centre, sd = (np.full(size, np.nan) for _ in range(3))
    runs_results: list[RunsAnalysis] = []
    runs_signal = np.zeros(size, bool)
    for part_number in range(1, len(breaks) + 2):
        idx = np.flatnonzero(part_of == part_number)
        base = baseline[idx] & include[idx]
        if not base.any():
            raise ValueError(
                f"part {part_number} (points {idx[0] + 1}-{idx[-1] + 1}) has no baseline points "
                "left after freeze/exclude"
            )
        limits = _part_limits(chart, y_arr[idx], n_arr[idx], base, screened_mr)
        plotted[idx], cl[idx], centre[idx], sd[idx] = limits.plotted, limits.cl, limits.centre, limits.sd
        runs = runs_analysis(limits.plotted[include[idx]], limits.cl)
        runs_results.append(runs)
        # qicharts2 does not evaluate the runs rules on MR charts
        runs_signal[idx] = runs.runs_signal and chart != "mr"

    lcl, ucl = centre - 3 * sd, centre + 3 * sd
    lcl95, ucl95 = centre - 2 * sd, centre + 2 * sd
    if chart in ("p", "pp"):
        ucl, ucl95 = np.minimum(ucl, 1.0), np.minimum(ucl95, 1.0)
    if chart != "i" and chart != "run":  # counts, rates and ranges cannot be negative
        lcl, lcl95 = np.maximum(lcl, 0.0), np.maximum(lcl95, 0.0)
    with np.errstate(invalid="ignore"):
        sigma_signal = (plotted > ucl) | (plotted < lcl)  # strict: a point on a limit is no signal
    sigma_signal &= np.isfinite(plotted) & np.isfinite(ucl)

    return SPCChart(
        chart=chart,
        x=x_list,
        y=plotted,
        n=n_arr if chart in CHARTS_WITH_N else None,
        cl=cl,
        lcl=lcl,
        ucl=ucl,
        lcl95=lcl95,
        ucl95=ucl95,
        part=part_of,
        baseline=baseline,
        excluded=excluded,
        sigma_signal=sigma_signal,
        runs_signal=runs_signal,
        runs=tuple(runs_results),
        target=target,
        options={
            "freeze": freeze,
            "freeze_ignored_with_part": freeze_ignored,
            "part": breaks,
            "exclude": excluded_positions,
            "screened_mr": screened_mr,
        },
    )
