"""The load's own settings (data-quality thresholds) and ``--set KEY=VALUE`` values, checked.

Sources, later ones winning (as for ``pipelines.definitions``): the defaults below, ``[ingest]``
of ``outcomes.toml`` (``$OUTCOMES_CONFIG``, else ``./outcomes.toml``), then ``--set``.

``max_reject_share`` (default 0.05): a table whose rejected rows exceed this share of the rows
read fails the load (exit status 3), as does a required table with no accepted row. ``1`` turns
the share check off and accepts a required table sent empty (a source without rating scales); a
required table whose rows were all rejected still fails. ``0`` refuses any rejected row.

``--set`` also takes the definition parameters of the model build (``grace_days=45``; a value of
a keyed parameter as ``eligibility_min.PHQ-9=12``). Every value is checked here, before any file
is read; a wrong one is an ``IngestError`` with reason ``bad_option`` or ``bad_config`` (exit 2).
"""

from __future__ import annotations

import math
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.extract import IngestError

DEFAULT_MAX_REJECT_SHARE = 0.05
#: Keys of ``[ingest]`` / ``--set`` that belong to the load rather than to the definitions.
LOAD_KEYS = ("max_reject_share",)
#: Definition parameters that are tables (instrument or preset -> value).
_KEYED = ("eligibility_min", "remission", "followup_presets")


@dataclass(frozen=True)
class LoadSettings:
    max_reject_share: float = DEFAULT_MAX_REJECT_SHARE


def config_file(config_path: str | Path | None) -> Path | None:
    candidate = Path(config_path or os.environ.get("OUTCOMES_CONFIG") or "outcomes.toml")
    return candidate if candidate.is_file() else None


def _document(config_path: str | Path | None) -> tuple[dict[str, Any], str]:
    path = config_file(config_path)
    if path is None:
        return {}, "defaults"
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle), str(path)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
        raise IngestError(f"{path}: not a readable TOML file ({exc})", file=str(path),
                          reason="bad_config") from exc


def parse_value(text: str) -> Any:
    """A ``--set`` value: true/false, a whole number, a decimal, ``[a, b]``, else text."""
    stripped = text.strip()
    if stripped.lower() in ("true", "false"):
        return stripped.lower() == "true"
    if stripped.startswith("[") and stripped.endswith("]"):
        return [parse_value(part) for part in stripped[1:-1].split(",") if part.strip()]
    for cast in (int, float):
        try:
            return cast(stripped)
        except ValueError:
            continue
    return stripped


def parse_pairs(pairs: list[str]) -> dict[str, Any]:
    """``["a=1", "eligibility_min.PHQ-9=12"]`` -> ``{"a": 1, "eligibility_min": {"PHQ-9": 12}}``."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key or not value.strip():
            raise IngestError(f"--set {pair!r}: expected KEY=VALUE", file=None,
                              reason="bad_option")
        head, dot, sub = key.partition(".")
        if dot:
            if head not in _KEYED or not sub:
                raise IngestError(f"--set {pair!r}: only {', '.join(_KEYED)} take KEY.NAME=VALUE",
                                  file=None, reason="bad_option")
            out.setdefault(head, {})[sub] = parse_value(value)
        elif key in _KEYED:
            raise IngestError(
                f"--set {pair!r}: {key} is a table of values; set one entry, e.g. "
                f"--set {key}.PHQ-9=..." if key != "followup_presets" else
                f"--set {pair!r}: set one preset, e.g. --set followup_presets.mine=[42,112]",
                file=None, reason="bad_option")
        else:
            out[key] = parse_value(value)
    return out


def load_settings(config_path: str | Path | None, overrides: dict[str, Any]) -> LoadSettings:
    """``[ingest]`` of the configuration, then the load keys of ``overrides``, checked."""
    document, source = _document(config_path)
    section = document.get("ingest", {})
    if not isinstance(section, dict):
        raise IngestError(f"{source}: [ingest] must be a table", file=source, reason="bad_config")
    unknown = sorted(set(section) - set(LOAD_KEYS))
    if unknown:
        raise IngestError(f"{source}: unknown [ingest] key(s) {', '.join(unknown)}; known: "
                          f"{', '.join(LOAD_KEYS)}", file=source, reason="bad_config")
    values = {**section}
    given = {k: v for k, v in overrides.items() if k in LOAD_KEYS}
    values.update(given)
    share = values.get("max_reject_share", DEFAULT_MAX_REJECT_SHARE)
    where = "--set" if "max_reject_share" in given else source
    if (isinstance(share, bool) or not isinstance(share, (int, float))
            or not math.isfinite(share) or not 0 <= share <= 1):
        raise IngestError(f"{where}: max_reject_share must be a number from 0 to 1 (0.05 = 5%), "
                          f"got {share!r}", file=None if where == "--set" else source,
                          reason="bad_option" if where == "--set" else "bad_config")
    return LoadSettings(max_reject_share=float(share))


def definitions(config_path: str | Path | None, overrides: dict[str, Any]):
    """The model build's ``Definitions``, checked now so a bad value fails before the load."""
    from pipelines.definitions import Definitions

    given = {k: v for k, v in overrides.items() if k not in LOAD_KEYS}
    try:
        result = Definitions.from_config(config_path, **given)
        result.as_params()
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        reason = "bad_option" if given else "bad_config"
        raise IngestError(f"definition parameters: {exc}", file=None, reason=reason) from exc
    return result
