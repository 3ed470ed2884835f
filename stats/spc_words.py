"""Plain-words explanations of run and control chart signals, for the meeting pack.

Kept apart from :mod:`stats.spc` (the arithmetic) so wording can change without touching it.
Each sentence names the rule, the observed figure and the figure expected by chance, so a reader
who has never heard of Anhøj or Shewhart can follow it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np


class ChartReading(Protocol):
    """What the wording reads of a computed chart (``stats.spc.SPCChart`` has all of it).

    Declared here rather than imported so that ``stats.spc`` (which calls ``explain``) and this
    module do not import each other.
    """

    chart: str
    x: Sequence[Any]
    y: np.ndarray
    lcl: np.ndarray
    ucl: np.ndarray
    part: np.ndarray
    sigma_signal: np.ndarray
    runs: Sequence[Any]
    target: float | None
    options: dict[str, object]


def _fmt(value: float) -> str:
    return f"{value:.3g}"


def explain(chart: ChartReading) -> list[str]:
    """One or more sentences per part: the signals found, or that none was found."""
    sentences: list[str] = []
    several_parts = len(chart.runs) > 1
    for index, runs in enumerate(chart.runs):
        in_part = np.flatnonzero(chart.part == index + 1)
        prefix = f"Part {index + 1} (points {in_part[0] + 1}-{in_part[-1] + 1}): " if several_parts else ""
        found: list[str] = []
        evaluate_runs = chart.chart != "mr"
        if evaluate_runs and runs.longest_run_signal:
            side = "above" if runs.longest_run_side > 0 else "below"
            found.append(
                f"An unusually long run of {runs.longest_run} points {side} the centre line "
                f"(more than {runs.longest_run_max} expected by chance) suggests a shift."
            )
        if evaluate_runs and runs.crossings_signal:
            found.append(
                f"The line crosses the centre line only {runs.n_crossings} times "
                f"(at least {runs.n_crossings_min} expected by chance among {runs.n_useful} "
                "points), which suggests a shift or a trend."
            )
        for i in in_part[chart.sigma_signal[in_part]]:
            above = chart.y[i] > chart.ucl[i]
            limit = chart.ucl[i] if above else chart.lcl[i]
            found.append(
                f"The point at {chart.x[i]} ({_fmt(chart.y[i])}) lies "
                f"{'above the upper' if above else 'below the lower'} control limit "
                f"({_fmt(limit)}): a special-cause signal worth investigating."
            )
        if not found:
            if chart.chart == "run":
                found.append("No signal: the variation looks random (common-cause variation).")
            else:
                found.append(
                    "No signal: every point is within the control limits and the runs look "
                    "random (common-cause variation)."
                )
        sentences.extend(prefix + sentence for sentence in found)
    if chart.options.get("freeze_ignored_with_part"):
        sentences.append(
            "The baseline (freeze) was ignored because the chart is split into parts: each part "
            "takes its own points as its baseline, as qicharts2 does."
        )
    if chart.target is not None:
        sentences.append(f"The target is {_fmt(chart.target)}.")
    return sentences
