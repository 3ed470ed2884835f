"""Anhøj's runs rules for run and control charts, as qicharts2 (v0.8.1) computes them.

DOMAIN.md section 6.2. Points on the centre line are not useful; of the ``n`` useful points, a
run longer than ``round(log2(n) + 3)`` (the longest run expected by chance) or fewer crossings
of the centre line than the 5th percentile of Binomial(n - 1, 0.5) signals non-random variation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps


def longest_run_max(n_useful: int) -> int:
    """Longest run that is still random: ``round(log2(n_useful)) + 3`` (Schilling 2012)."""
    return round(math.log2(n_useful)) + 3


def crossings_min(n_useful: int) -> int:
    """Fewest crossings that are still random: ``qbinom(0.05, n_useful - 1, 0.5)`` (Chen 2010)."""
    return int(sps.binom.ppf(0.05, max(n_useful - 1, 0), 0.5))


@dataclass(frozen=True)
class RunsAnalysis:
    """Anhøj runs analysis of one part: points exactly on the centre line are dropped."""

    n_obs: int
    n_useful: int
    longest_run: int | None
    longest_run_max: int | None
    #: +1 when the longest run is above the centre line, -1 below, 0 when there are no points
    longest_run_side: int
    n_crossings: int | None
    n_crossings_min: int | None
    runs_signal: bool

    @property
    def longest_run_signal(self) -> bool:
        return self.longest_run is not None and self.longest_run > (self.longest_run_max or 0)

    @property
    def crossings_signal(self) -> bool:
        return self.n_crossings is not None and self.n_crossings < (self.n_crossings_min or 0)


def runs_analysis(y: Sequence[float] | np.ndarray, cl: Sequence[float] | np.ndarray) -> RunsAnalysis:
    """Longest run and crossings of ``y`` around ``cl`` (both per point; NaN points are skipped)."""
    y_arr = np.asarray(y, dtype=float)
    cl_arr = np.broadcast_to(np.asarray(cl, dtype=float), y_arr.shape)
    signs = np.sign(y_arr - cl_arr)
    useful = signs[(signs != 0) & ~np.isnan(signs)]
    n_useful = int(useful.size)
    if n_useful == 0:
        return RunsAnalysis(int(y_arr.size), 0, None, None, 0, None, None, False)
    change = np.flatnonzero(np.diff(useful) != 0)
    run_starts = np.concatenate(([0], change + 1))
    run_lengths = np.diff(np.concatenate((run_starts, [n_useful])))
    longest_index = int(np.argmax(run_lengths))
    longest = int(run_lengths[longest_index])
    crossings = max(len(run_lengths) - 1, 0)
    lr_max, cr_min = longest_run_max(n_useful), crossings_min(n_useful)
    return RunsAnalysis(
        n_obs=int(y_arr.size),
        n_useful=n_useful,
        longest_run=longest,
        longest_run_max=lr_max,
        longest_run_side=int(useful[run_starts[longest_index]]),
        n_crossings=crossings,
        n_crossings_min=cr_min,
        runs_signal=bool(longest > lr_max or crossings < cr_min),
    )
