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


def test_exact_data_quality_counts_are_the_analysts_alone():
    """The data-quality tables are shown to everyone; their counts are exact only for an
    analyst (who reconciles loads against source files and may see patient rows anyway)."""
    from queries.access import may

    assert may(ANALYST, "exact_data_quality")
    assert not may(LEADERSHIP, "exact_data_quality")
    assert not may(User("clinician", "C0001"), "exact_data_quality")


@pytest.mark.parametrize("name", ["load_history", "scale_completeness"])
def test_data_quality_counts_are_exact_for_the_analyst_and_perturbed_for_others(warehouse, name):
    """Analyst: each count as the query gives it (1-10 hidden). Anyone else: the published value,
    at most 2 from the true count, 0 kept 0, hidden when the true or published value is 1-10;
    and some counts differ from the true ones, so rows read minus rows loaded (or a table's
    total minus its parts) is no longer an exact difference."""
    from queries.published_counts import data_quality_table

    raw = queries.run(warehouse, name)
    exact, formats = data_quality_table(warehouse, name, raw, 11, exact=True)
    shown, _ = data_quality_table(warehouse, name, raw, 11, exact=False)
    counts = [c for c, f in formats.items() if f == "count" and c in raw.columns]
    assert counts
    moved = 0
    for col in counts:
        for true, analyst, other in zip(raw[col], exact[col], shown[col], strict=True):
            assert analyst == (None if 1 <= true <= 10 else true), (col, true)
            if other is None:  # hidden: the true or the published value is 1-10
                assert 1 <= true <= 12, (col, true)
                continue
            assert abs(other - true) <= 2 and (other == 0) == (true == 0), (col, true, other)
            assert not 1 <= other <= 10
            moved += other != true
    assert moved, "no count was perturbed"


def test_outcomes_metric_publishes_data_quality_counts_by_role(warehouse):
    """``outcomes metric load_history`` (``queries.metric``) follows the same rule as the
    Data & loads page: exact for the analyst (the command line's default), perturbed for a
    command line configured as leadership."""
    from queries.engine import metric
    from queries.published_counts import data_quality_table

    raw = queries.run(warehouse, "load_history")
    for user, exact in ((ANALYST, True), (LEADERSHIP, False)):
        expected, _ = data_quality_table(warehouse, "load_history", raw, 11, exact=exact)
        shown = metric(warehouse, "load_history", user=user).frame
        for col in ("rows_read", "rows_loaded", "rows_rejected"):
            assert shown[col].to_list() == expected[col].to_list(), (user.role, col)
    assert metric(warehouse, "load_history", user=LEADERSHIP).meta["perturbation"]
    assert not metric(warehouse, "load_history", user=ANALYST).meta["perturbation"]
