"""Every definition parameter the marts are built with, and its product default (DOMAIN.md).

A number on screen must be traceable to its definition, so nothing here is a constant in SQL: the
models read these values as bound ``$parameters`` (``Definitions.as_params()``) and a build records
them in ``meta.definitions`` (``Definitions.as_records()``).

Sources of values, later ones winning: the product defaults below, ``[definitions]`` of
``outcomes.toml`` (``$OUTCOMES_CONFIG``, else ``./outcomes.toml`` when present), then keyword
overrides (the command line). ``outcomes.toml.example`` documents every key.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.instruments import OUTCOME_INSTRUMENTS, instruments, parameter_stem  # noqa: F401 - re-exported

#: Follow-up windows (days after the episode start, inclusive) of the named presets (DOMAIN 3).
#: All are anchored on the episode start here; the measure presets differ in their window only.
DEFAULT_FOLLOWUP_PRESETS: dict[str, tuple[int, int]] = {
    "clinic_w6_16": (42, 112),  # product default, weeks 6-16
    "hedis_drr_e": (120, 240),  # NCQA DRR-E follow-up period (2018 CQL used 150-210)
    "six_months": (122, 242),  # 182 +/- 60 days (DEP-REM-6)
    "twelve_months": (305, 425),  # 365 +/- 60 days (CMS159)
}

#: Baseline at or above which an episode is eligible, and remission cut-offs with their
#: comparator as published: the defaults of ``pipelines/reference/instruments.csv`` (sources there).
#: PCL-5 has no remission.
DEFAULT_ELIGIBILITY_MIN: dict[str, int] = {
    name: i.eligibility_min for name, i in instruments().items()
    if i.is_outcome and i.eligibility_min is not None
}
DEFAULT_REMISSION: dict[str, str] = {
    name: i.remission for name, i in instruments().items() if i.is_outcome and i.remission
}



def _min_drop(instrument: str) -> int:
    drop = instruments()[instrument].response_min_drop
    if drop is None:
        raise DefinitionError(f"instruments.csv: {instrument} has no response_min_drop")
    return drop


#: Worklist rules (DOMAIN 13): windows in inclusive days from day 0, thresholds as in the rule's
#: words. The worklist queries declare the same defaults in their headers (a test keeps them equal);
#: ``Definitions.worklist_params()`` binds the configured values (``[definitions.worklists]``).
DEFAULT_WORKLIST_PARAMS: dict[str, int | float | str] = {
    # 13.1 not on track: early non-improvement (Szegedi 2009; CANMAT 2016) and week 6 (ICSI)
    "early_window_start_days": 10,
    "early_window_end_days": 35,
    "early_improvement_min_pct": 20,  # listed when 100 * (baseline - score) < 20 * baseline
    "week6_window_start_days": 35,
    "week6_window_end_days": 63,
    "week6_improvement_min_pct": 25,  # listed when 100 * (baseline - score) < 25 * baseline
    "not_on_track_listed_until_days": 91,  # an episode leaves the list after this episode day
    # 13.3 item 9 without follow-up: a contact or risk assessment in [0, +1] days
    "item9_followup_days": 1,
    "item9_lookback_days": 365,
    # 13.2 monitoring presets (pipelines/reference/monitoring_schedules.csv)
    "lithium_preset": "nice_cg185",
    "clozapine_preset": "us_label",
    "metabolic_preset": "apa2020",
    # 13.4 adherence drop
    "adherence_window_days": 90,
    "adherence_pdc_min": 0.80,
    "lapse_lookback_days": 90,
    # 13.4 prescribing safety
    "polypharmacy_min_days": 90,
    "benzodiazepine_min_days": 120,  # preset 90
    "benzodiazepine_window_days": 365,
    # 13.4 opioid with benzodiazepine (PQA COB), fills dispensed in a rolling window
    "cob_window_days": 365,
    "cob_opioid_min_fills": 2,  # on different dates
    "cob_opioid_min_supply_days": 15,  # days' supply of those fills in total
    "cob_benzodiazepine_min_fills": 2,  # on different dates
    "cob_overlap_min_days": 30,  # days covered by both an opioid and a benzodiazepine
    "older_adult_age": 65,
}
_WORKLIST_PRESETS = {
    "lithium_preset": ("nice_cg185", "qof_mh009"),
    "clozapine_preset": ("us_label", "uk"),
    "metabolic_preset": ("apa2020", "ada2004"),
}

WHICH_SCORE = ("latest", "first", "best")
MEASUREMENT_PERIODS = ("calendar_year",)
_RULE = re.compile(r"^\s*(<=|<)\s*(\d+)\s*$")


class DefinitionError(ValueError):
    """A definition value that cannot be used; the message names the source and the key."""


@dataclass(frozen=True)
class Definitions:
    """The definition parameters. Day offsets and thresholds are integers (DOMAIN conventions)."""

    #: permissible gap (days without supply) that still counts as continuous use (DOMAIN 5.5)
    grace_days: int = 30
    #: permissible gap for antipsychotics ("a gap of more than 60 days" discontinues)
    antipsychotic_grace_days: int = 60
    #: new user: no drug of the same class in the prior washout days (AMM 105 days)
    washout_days: int = 105
    #: overlap that makes two drugs a combination rather than a switch (TreatmentPatterns)
    combination_window_days: int = 30
    #: baseline window around the episode start, inclusive
    baseline_window: tuple[int, int] = (-30, 7)
    #: name of the follow-up preset used by default (the mart carries every preset)
    followup_preset: str = "clinic_w6_16"
    #: name -> (start, end) days; a tuple of pairs so the dataclass stays hashable
    followup_presets: tuple[tuple[str, tuple[int, int]], ...] = tuple(
        DEFAULT_FOLLOWUP_PRESETS.items()
    )
    #: a custom follow-up window; when set it becomes preset "custom" and the default preset
    followup_window: tuple[int, int] | None = None
    #: which score in the follow-up window counts: latest (default), first or best (lowest)
    which_score: str = "latest"
    eligibility_min: tuple[tuple[str, int], ...] = tuple(DEFAULT_ELIGIBILITY_MIN.items())
    remission: tuple[tuple[str, str], ...] = tuple(DEFAULT_REMISSION.items())
    #: PCL-5 response: a drop of at least this many points (clinically meaningful change)
    pcl5_response_min_drop: int = field(default_factory=lambda: _min_drop("PCL-5"))
    #: PDC at or above which a patient is adherent
    pdc_threshold: float = 0.80
    #: PQA: period_end - index must be at least this many days
    pdc_min_index_days: int = 91
    #: CMS Star Ratings inpatient-day adjustment of PDC (DOMAIN 5.1 step 7)
    pdc_inpatient_adjustment: bool = False
    measurement_period: str = "calendar_year"
    #: side-effect counting window [0, N] days from the episode start (DOMAIN 9.3)
    side_effect_window_days: int = 90
    #: smallest count shown; 1..min_cell-1 are suppressed (DOMAIN 10)
    min_cell: int = 11
    #: worklist rule parameters (DOMAIN 13), bound at query time by worklist_params()
    worklists: tuple[tuple[str, Any], ...] = tuple(DEFAULT_WORKLIST_PARAMS.items())
    _source: str = field(default="defaults", compare=False, repr=False)

    def __post_init__(self) -> None:
        src = self._source
        for name in ("grace_days", "antipsychotic_grace_days", "washout_days",
                     "combination_window_days", "pdc_min_index_days", "side_effect_window_days",
                     "pcl5_response_min_drop"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise DefinitionError(f"{src}: {name} must be a whole number >= 0, got {value!r}")
        if not isinstance(self.min_cell, int) or self.min_cell < 0:
            raise DefinitionError(f"{src}: min_cell must be a whole number >= 0")
        if (isinstance(self.pdc_threshold, bool)
                or not isinstance(self.pdc_threshold, (int, float))
                or not 0 < float(self.pdc_threshold) <= 1):
            raise DefinitionError(f"{src}: pdc_threshold must be in (0, 1], got {self.pdc_threshold!r}")
        _check_window(src, "baseline_window", self.baseline_window)
        for name, window in self.followup_presets:
            _check_window(src, f"followup_presets.{name}", window)
            if not re.fullmatch(r"[a-z0-9_]+", name):
                raise DefinitionError(f"{src}: preset name {name!r} must be lower-case a-z, 0-9, _")
        if self.followup_window is not None:
            _check_window(src, "followup_window", self.followup_window)
        if self.followup_window is None and self.followup_preset not in dict(self.followup_presets):
            raise DefinitionError(
                f"{src}: followup_preset {self.followup_preset!r} is not one of "
                f"{sorted(dict(self.followup_presets))}")
        if self.which_score not in WHICH_SCORE:
            raise DefinitionError(f"{src}: which_score must be one of {WHICH_SCORE}")
        if self.measurement_period not in MEASUREMENT_PERIODS:
            raise DefinitionError(f"{src}: measurement_period must be one of {MEASUREMENT_PERIODS}")
        for instrument, _ in (*self.eligibility_min, *self.remission):
            if instrument not in OUTCOME_INSTRUMENTS:
                raise DefinitionError(
                    f"{src}: unknown instrument {instrument!r}; known: {list(OUTCOME_INSTRUMENTS)}")
        for instrument, minimum in self.eligibility_min:
            if not isinstance(minimum, int) or isinstance(minimum, bool):
                raise DefinitionError(
                    f"{src}: eligibility_min.{instrument} must be a whole number, got {minimum!r}")
        _check_worklists(src, dict(self.worklists))
        for instrument, rule in self.remission:
            if not _RULE.match(str(rule)):
                raise DefinitionError(
                    f"{src}: remission.{instrument} must look like '<5' or '<=7', got {rule!r}")

    # ----------------------------------------------------------------- construction
    @classmethod
    def from_config(cls, path: Path | str | None = None, **overrides: Any) -> Definitions:
        """Defaults, then ``[definitions]`` of the config file, then ``overrides``.

        The file is ``path``, else ``$OUTCOMES_CONFIG``, else ``./outcomes.toml`` if it exists.
        Mapping-valued keys (``followup_presets``, ``eligibility_min``, ``remission``) merge into
        the defaults key by key. ``None`` overrides are ignored (an option not given).
        """
        source = "defaults"
        values: dict[str, Any] = {}
        config = Path(path) if path else _default_config_path()
        if config is not None:
            if not config.is_file():
                raise DefinitionError(f"{config}: configuration file not found")
            with config.open("rb") as handle:
                try:
                    document = tomllib.load(handle)
                except tomllib.TOMLDecodeError as exc:
                    raise DefinitionError(f"{config}: not valid TOML: {exc}") from exc
            values.update(document.get("definitions", {}))
            source = str(config)
        values.update({k: v for k, v in overrides.items() if v is not None})
        if overrides:
            source += " + overrides"
        return cls._from_mapping(values, source)

    @classmethod
    def _from_mapping(cls, values: Mapping[str, Any], source: str) -> Definitions:
        known = {f.name for f in dataclasses.fields(cls) if not f.name.startswith("_")}
        unknown = sorted(set(values) - known)
        if unknown:
            raise DefinitionError(f"{source}: unknown definition key(s) {unknown}; known: {sorted(known)}")
        kwargs: dict[str, Any] = {}
        for key, value in values.items():
            if key in ("followup_presets", "eligibility_min", "remission", "worklists"):
                merged = dict(getattr(cls(), key))
                if not isinstance(value, Mapping):
                    value = dict(value)
                merged.update({str(k): _pair(v) if key == "followup_presets" else v
                               for k, v in value.items()})
                kwargs[key] = tuple(merged.items())
            elif key in ("baseline_window", "followup_window"):
                kwargs[key] = _pair(value)
            else:
                kwargs[key] = value
        return cls(**kwargs, _source=source)

    # ----------------------------------------------------------------- derived values
    @property
    def effective_preset(self) -> str:
        """The default preset's name: ``custom`` when a follow-up window was configured."""
        return "custom" if self.followup_window is not None else self.followup_preset

    def presets(self) -> dict[str, tuple[int, int]]:
        """Every preset the outcome mart carries (with ``custom`` when configured)."""
        presets = dict(self.followup_presets)
        if self.followup_window is not None:
            presets["custom"] = self.followup_window
        return presets

    def remission_max(self, instrument: str) -> int | None:
        """The inclusive integer cut-off: ``< 5`` is ``<= 4`` on integer scores."""
        rule = dict(self.remission).get(instrument)
        if rule is None:
            return None
        comparator, threshold = _RULE.match(rule).groups()  # type: ignore[union-attr]  # the rule matched _RULE when it was read
        return int(threshold) - 1 if comparator == "<" else int(threshold)

    def as_params(self) -> dict[str, Any]:
        """The flat scalar parameters the SQL models bind (``$name``)."""
        presets = self.presets()
        followup_start, followup_end = presets[self.effective_preset]
        params: dict[str, Any] = {
            "grace_days": self.grace_days,
            "antipsychotic_grace_days": self.antipsychotic_grace_days,
            "washout_days": self.washout_days,
            "combination_window_days": self.combination_window_days,
            "baseline_start_days": self.baseline_window[0],
            "baseline_end_days": self.baseline_window[1],
            "followup_preset": self.effective_preset,
            "followup_start_days": followup_start,
            "followup_end_days": followup_end,
            # All presets as one text value "name:start:end,...": the mart has a row per preset and
            # the list length is configurable, which flat scalars cannot otherwise express.
            "followup_presets": ",".join(f"{n}:{a}:{b}" for n, (a, b) in presets.items()),
            "which_score": self.which_score,
            "pcl5_response_min_drop": self.pcl5_response_min_drop,
            "pdc_threshold": float(self.pdc_threshold),
            "pdc_min_index_days": self.pdc_min_index_days,
            "pdc_inpatient_adjustment": bool(self.pdc_inpatient_adjustment),
            "measurement_period": self.measurement_period,
            "side_effect_window_days": self.side_effect_window_days,
            "min_cell": self.min_cell,
        }
        eligibility = dict(self.eligibility_min)
        remission = dict(self.remission)
        for instrument, stem in OUTCOME_INSTRUMENTS.items():
            params[f"{stem}_eligible_min"] = eligibility.get(instrument)
            params[f"{stem}_remission_max"] = self.remission_max(instrument)
            rule = remission.get(instrument)
            params[f"{stem}_cutoff_id"] = f"{instrument}{rule.replace(' ', '')}" if rule else None
        return params

    def worklist_params(self) -> dict[str, Any]:
        """The parameters the worklist queries bind (queries/worklists): the rules of
        ``[definitions.worklists]`` plus the baseline window and the PHQ-9 eligibility."""
        params = dict(self.worklists)
        params["baseline_start_days"], params["baseline_end_days"] = self.baseline_window
        params["eligible_min"] = dict(self.eligibility_min).get("PHQ-9")
        return params

    def as_records(self) -> list[tuple[str, str, bool]]:
        """``(key, value, is_default)`` rows for ``meta.definitions``."""
        defaults = Definitions().as_params()
        return [
            (key, "" if value is None else str(value), defaults.get(key) == value)
            for key, value in self.as_params().items()
        ]


def _check_worklists(source: str, values: dict[str, Any]) -> None:
    unknown = sorted(set(values) - set(DEFAULT_WORKLIST_PARAMS))
    if unknown:
        raise DefinitionError(f"{source}: unknown worklists key(s) {unknown}; "
                              f"known: {sorted(DEFAULT_WORKLIST_PARAMS)}")
    for key, value in values.items():
        if key in _WORKLIST_PRESETS:
            if value not in _WORKLIST_PRESETS[key]:
                raise DefinitionError(f"{source}: worklists.{key} must be one of "
                                      f"{_WORKLIST_PRESETS[key]}, got {value!r}")
        elif key == "adherence_pdc_min":
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
                raise DefinitionError(f"{source}: worklists.{key} must be in (0, 1], got {value!r}")
        elif not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise DefinitionError(f"{source}: worklists.{key} must be a whole number >= 0, "
                                  f"got {value!r}")


def _default_config_path() -> Path | None:
    env = os.environ.get("OUTCOMES_CONFIG")
    if env:
        return Path(env)
    local = Path("outcomes.toml")
    return local if local.is_file() else None


def _pair(value: Any) -> tuple[int, int]:
    start, end = value
    return (start, end)


def _check_window(source: str, name: str, window: Any) -> None:
    ok = (isinstance(window, tuple) and len(window) == 2
          and all(isinstance(v, int) and not isinstance(v, bool) for v in window)
          and window[0] <= window[1])
    if not ok:
        raise DefinitionError(f"{source}: {name} must be [start, end] whole days with start <= end, "
                              f"got {window!r}")


def configured_min_cell(path: Path | str | None = None) -> tuple[int, str]:
    """The suppression threshold ``min_cell`` and where it came from: ``[definitions] min_cell``
    of the configuration file (``path``, ``$OUTCOMES_CONFIG`` or ``./outcomes.toml``), else the
    product default 11. Read at query time, so the dashboard, the command line, the meeting pack
    and exports honour the file as it is now (a rebuild is not needed to change suppression)."""
    definitions = Definitions.from_config(path)
    source = definitions._source if definitions._source != "defaults" else "product default"
    return definitions.min_cell, source
