"""Who may see what: the one place roles are decided (issue 19, item 3).

Roles (``[roles]`` of ``outcomes.toml``):

``leadership``
    Aggregates only: no patient-level rows (worklists, outreach lists, patient timelines) and no
    patient ids in any export; scorecards of every clinician.
``clinician``
    Their own patients' worklists and their own scorecard: a clinician is mapped from the
    signed-in e-mail to a clinician id, and every patient-level request is narrowed to it.
``analyst``
    Everything, and may lower the suppression threshold (every such view is logged by the
    caller). Sees the data-quality tables (load history, rejects, unmapped drugs, quarantined
    values, scale completeness, audits) with exact counts (only 1 to min_cell - 1 hidden):
    reconciling a load against its source files needs them, and an analyst may see patient
    rows anyway. Every other role gets those counts perturbed like every metric's
    (``queries.published_counts``), so that differencing them gives no hidden count back.

Without sign-in (local use) the command line acts as ``analyst`` and the dashboard as
``leadership`` unless ``[roles] cli`` / ``[roles] dashboard`` say otherwise. Pages, exports and
the worklist runner all call ``authorise``; a refusal (``AccessDenied``) says which role is
needed and never echoes a patient id.

Example::

    [roles]
    cli = "analyst"
    dashboard = "leadership"      # or "clinician" with dashboard_clinician_id = "C0001"
    [roles.users]
    "dr.lee@clinic.example" = { role = "clinician", clinician_id = "C0001" }
    "qi.lead@clinic.example" = { role = "leadership" }
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROLES: tuple[str, ...] = ("leadership", "clinician", "analyst")

#: What each capability needs: the roles that hold it.
CAPABILITIES: dict[str, tuple[str, ...]] = {
    "aggregates": ("leadership", "clinician", "analyst"),
    "patient_rows": ("clinician", "analyst"),
    "all_patients": ("analyst",),
    "all_scorecards": ("leadership", "analyst"),
    "lower_suppression": ("analyst",),
    "exact_data_quality": ("analyst",),
}


class AccessDenied(PermissionError):
    """A request the user's role does not allow; the message names the role needed."""


@dataclass(frozen=True)
class User:
    """The person asking: a role and, for a clinician, their clinician id."""

    role: str
    clinician_id: str | None = None
    email: str | None = None

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}; roles are: {', '.join(ROLES)}")
        if self.role == "clinician" and not self.clinician_id:
            raise ValueError("a clinician user needs a clinician_id")


ANALYST = User("analyst")
LEADERSHIP = User("leadership")


def may(user: User, capability: str) -> bool:
    """Whether ``user``'s role holds ``capability`` (for a choice, not a refusal: the
    data-quality tables are shown to everyone, exact only where ``exact_data_quality`` holds)."""
    return user.role in CAPABILITIES[capability]


def authorise(user: User, capability: str, *, what: str,
              clinician_id: str | None = None) -> str | None:
    """Allow ``capability`` for ``user`` or raise ``AccessDenied`` naming the role needed.

    For patient-level rows, returns the clinician filter to apply: a clinician's own id (asking
    for another clinician's patients is refused), else the requested ``clinician_id``.
    """
    allowed = CAPABILITIES[capability]
    if user.role not in allowed:
        needed = " or ".join(allowed)
        raise AccessDenied(f"{what} needs the {needed} role; you have the {user.role} role"
                           + (" (aggregates only)" if user.role == "leadership" else ""))
    if capability == "patient_rows" and user.role == "clinician":
        if clinician_id is not None and clinician_id != user.clinician_id:
            raise AccessDenied(f"{what} for another clinician's patients needs the analyst role; "
                               "a clinician sees their own patients only")
        return user.clinician_id
    return clinician_id


def load_roles(path: Path | str | None = None) -> Mapping[str, Any]:
    """The ``[roles]`` table of the config file (``pipelines.definitions`` finds the file)."""
    from pipelines.definitions import _default_config_path

    config = Path(path) if path else _default_config_path()
    if config is None or not config.is_file():
        return {}
    with config.open("rb") as handle:
        try:
            return tomllib.load(handle).get("roles", {}) or {}
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"{config}: not valid TOML: {exc}") from exc


def user_for(email: str | None, surface: str, roles: Mapping[str, Any] | None = None) -> User:
    """The user for a signed-in e-mail, or the surface's local default (``cli``: analyst,
    ``dashboard``: leadership). An e-mail not listed gets the surface default only when no
    sign-in happened; a signed-in stranger gets leadership (aggregates only)."""
    roles = load_roles() if roles is None else roles
    if email:
        entry = (roles.get("users") or {}).get(email.lower()) or \
            (roles.get("users") or {}).get(email)
        if entry:
            return User(str(entry.get("role", "leadership")), entry.get("clinician_id"), email)
        return User("leadership", None, email)
    default = {"cli": "analyst", "dashboard": "leadership"}[surface]
    role = str(roles.get(surface, default))
    # a psychiatrist running the product locally: [roles] dashboard = "clinician" with
    # dashboard_clinician_id (cli_clinician_id for the command line)
    return User(role, roles.get(f"{surface}_clinician_id") if role == "clinician" else None)


def authorise_metric(user: User, name: str, *, patient_level: bool, by: tuple[str, ...],
                     filters: dict[str, Any], min_cell: int, default_min_cell: int,
                     clinician_filter: bool) -> dict[str, Any]:
    """The checks ``queries.engine.metric`` makes before computing ``name``; returns the filters
    to apply (a clinician's patient-level request is narrowed to their own patients).

    Patient-level rows are a metric whose header says ``patient_level: true`` or a grouping by
    ``patient_id``; a suppression threshold below the default needs the analyst role.
    """
    if min_cell < default_min_cell:
        authorise(user, "lower_suppression", what=f"metric {name!r} with a suppression threshold "
                  f"below {default_min_cell}")
    if not (patient_level or "patient_id" in by):
        return filters
    what = f"metric {name!r} (patient-level rows)"
    own = authorise(user, "patient_rows", what=what, clinician_id=filters.get("clinician_id"))
    if user.role == "clinician":
        if not clinician_filter:
            raise AccessDenied(f"{what} cannot be narrowed to one clinician's patients, so it "
                               "needs the analyst role")
        return {**filters, "clinician_id": own}
    return filters
