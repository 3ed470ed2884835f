"""Who may see what (queries.access): the one function pages, exports and queries call."""

from __future__ import annotations

import pytest

import queries
from queries.access import ANALYST, LEADERSHIP, AccessDenied, User, authorise, user_for

ROLES_TOML = {"cli": "analyst", "dashboard": "leadership",
              "users": {"dr.lee@clinic.example": {"role": "clinician", "clinician_id": "C0001"},
                        "qi@clinic.example": {"role": "analyst"}}}


def test_each_role_gets_what_the_issue_says():
    # leadership: aggregates and every scorecard, never patient rows; the refusal names the role
    assert authorise(LEADERSHIP, "aggregates", what="x") is None
    authorise(LEADERSHIP, "all_scorecards", what="x")
    with pytest.raises(AccessDenied, match="needs the clinician or analyst role; you have the "
                                           "leadership role"):
        authorise(LEADERSHIP, "patient_rows", what="worklist")
    # clinician: their own patients only
    lee = User("clinician", "C0001")
    assert authorise(lee, "patient_rows", what="x") == "C0001"
    assert authorise(lee, "patient_rows", what="x", clinician_id="C0001") == "C0001"
    with pytest.raises(AccessDenied, match="analyst role"):
        authorise(lee, "patient_rows", what="x", clinician_id="C0002")
    with pytest.raises(AccessDenied, match="needs the analyst role"):
        authorise(lee, "lower_suppression", what="x")
    # analyst: everything, any clinician
    assert authorise(ANALYST, "patient_rows", what="x", clinician_id="C0002") == "C0002"
    authorise(ANALYST, "lower_suppression", what="x")


def test_users_come_from_the_roles_table():
    assert user_for(None, "cli", ROLES_TOML) == User("analyst")
    assert user_for(None, "dashboard", ROLES_TOML) == User("leadership")
    assert user_for(None, "dashboard", {}) == User("leadership")  # local default
    lee = user_for("dr.lee@clinic.example", "dashboard", ROLES_TOML)
    assert (lee.role, lee.clinician_id) == ("clinician", "C0001")
    assert user_for("someone@else.example", "dashboard", ROLES_TOML).role == "leadership"
    with pytest.raises(ValueError, match="clinician_id"):
        User("clinician")


def test_patient_level_metrics_and_lowered_thresholds_are_refused_for_leadership(warehouse):
    with pytest.raises(AccessDenied, match=r"outreach_list.*clinician or analyst role"):
        queries.metric(warehouse, "outreach_list", user=LEADERSHIP)
    with pytest.raises(AccessDenied, match="patient-level"):
        queries.metric(warehouse, "episodes", by="patient_id", user=LEADERSHIP)
    with pytest.raises(AccessDenied, match="suppression threshold"):
        queries.metric(warehouse, "episodes", min_cell=0, user=LEADERSHIP)
    # the outreach list has no clinician column, so a clinician cannot be narrowed to it
    with pytest.raises(AccessDenied, match="needs the analyst role"):
        queries.metric(warehouse, "outreach_list", user=User("clinician", "C0001"))
    assert queries.metric(warehouse, "episodes", user=LEADERSHIP).frame.height == 1
    assert "patient_id" in queries.metric(warehouse, "outreach_list", user=ANALYST).frame.columns
