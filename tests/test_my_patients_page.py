"""The My patients page: leadership never receives a patient id, an analyst sees the lists,
and a clinician sees only their own patients (AppTest on the sample clinic)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from published_support import published_patients
from streamlit.testing.v1 import AppTest

from queries.worklist import run_worklist

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")


def _page(monkeypatch, tmp_path, db: Path, roles: str) -> AppTest:
    config = tmp_path / "outcomes.toml"
    config.write_text(roles)
    monkeypatch.setenv("OUTCOMES_CONFIG", str(config))
    monkeypatch.setenv("OUTCOMES_DB", str(db))
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    at.switch_page("views/my_patients.py").run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _page_text(at: AppTest) -> str:
    parts = [str(e.value) for e in (*at.markdown, *at.caption, *at.info, *at.warning, *at.subheader)]
    parts += [frame.value.to_csv() for frame in at.dataframe]
    return "\n".join(parts)


def _rows_table(at: AppTest):  # type: ignore[no-untyped-def]
    for frame in at.dataframe:
        if "Patient (surrogate id)" in frame.value.columns:
            return frame.value
    raise AssertionError("no patient table on the page")


def test_leadership_gets_counts_and_never_a_patient_id(monkeypatch, tmp_path, warehouse_path):
    at = _page(monkeypatch, tmp_path, warehouse_path, '[roles]\ndashboard = "leadership"\n')
    text = _page_text(at)
    assert "needs the clinician or analyst role" in text
    con = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        ids = con.sql("select patient_id from marts.dim_patients").pl()["patient_id"].to_list()
    finally:
        con.close()
    assert not [i for i in ids if i in text]
    assert "Worklists" in text
    # the counts are perturbed: the page says so and links to the Privacy page
    from dashboard.views import PRIVACY_URL_PATH

    notes = [c.value for c in at.caption if "perturbed" in c.value]
    assert notes and f"]({PRIVACY_URL_PATH})" in notes[0]


def test_an_analyst_sees_the_list_a_page_at_a_time(monkeypatch, tmp_path, warehouse_path):
    at = _page(monkeypatch, tmp_path, warehouse_path, '[roles]\ndashboard = "analyst"\n')
    at.radio(key="worklist_name").set_value("adherence-drop").run()
    rows = _rows_table(at)
    con = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        total = run_worklist(con, "adherence-drop").frame.height
    finally:
        con.close()
    assert len(rows) == min(total, 50)
    assert any(f": {total} on " in str(s.value) for s in at.subheader)


def test_a_clinician_sees_only_their_own_patients(monkeypatch, tmp_path, warehouse_path):
    con = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        frame = run_worklist(con, "adherence-drop").frame
    finally:
        con.close()
    clinician = frame["clinician_id"].drop_nulls()[0]
    mine = frame.filter(frame["clinician_id"] == clinician).height
    roles = f'[roles]\ndashboard = "clinician"\ndashboard_clinician_id = "{clinician}"\n'
    at = _page(monkeypatch, tmp_path, warehouse_path, roles)
    at.radio(key="worklist_name").set_value("adherence-drop").run()
    rows = _rows_table(at)
    assert set(rows["Clinician"]) == {clinician}
    assert len(rows) == min(mine, 50)


def test_the_clinicians_page_shows_a_clinician_only_their_own_scorecard(monkeypatch, tmp_path,
                                                                          warehouse_path):
    config = tmp_path / "outcomes.toml"
    config.write_text('[roles]\ndashboard = "clinician"\ndashboard_clinician_id = "C0003"\n')
    monkeypatch.setenv("OUTCOMES_CONFIG", str(config))
    monkeypatch.setenv("OUTCOMES_DB", str(warehouse_path))
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    at.switch_page("views/clinicians.py").run()
    assert not at.exception, [e.message for e in at.exception]
    clinicians = {c for frame in at.dataframe for c in frame.value.get("Clinician", [])}
    assert clinicians and clinicians <= {"Clinic", "C0003"}


def _patient_with_scores_on(db: Path, name: str) -> tuple[str, int, int]:
    """A patient on worklist ``name`` with at least one assessment: (id, its distinct
    assessments in marts.fct_scores, its distinct dispenses in marts.fct_fill_coverage)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        # the timeline picker offers the patients of the page shown (the first 50 rows)
        listed = sorted(set(run_worklist(con, name).frame.head(50)["patient_id"].to_list()))
        for patient in listed:
            scores = con.sql("select count(distinct assessment_id) from marts.fct_scores "
                             "where patient_id = $p", params={"p": patient}).fetchall()[0][0]
            fills = con.sql("select count(distinct dispense_id) from marts.fct_fill_coverage "
                            "where patient_id = $p", params={"p": patient}).fetchall()[0][0]
            if scores:
                return patient, scores, fills
    finally:
        con.close()
    raise AssertionError(f"no patient with scores on {name}")


def test_an_analyst_opens_one_patients_timeline(monkeypatch, tmp_path, warehouse_path):
    patient, scores, fills = _patient_with_scores_on(warehouse_path, "adherence-drop")
    at = _page(monkeypatch, tmp_path, warehouse_path, '[roles]\ndashboard = "analyst"\n')
    at.radio(key="worklist_name").set_value("adherence-drop").run()
    at.selectbox(key="timeline_patient").set_value(patient).run()
    assert not at.exception, [e.message for e in at.exception]
    tables = [f.value for f in at.dataframe]
    score_table = [t for t in tables if "Instrument" in t.columns]
    assert score_table, ([list(t.columns) for t in tables], [m.value for m in at.markdown])
    assert len(score_table[0]) == scores
    fill_table = [t for t in tables if "Days' supply" in t.columns]
    assert (len(fill_table[0]) if fill_table else 0) == fills
    assert any(f"Patient {patient}" in str(c.value) for c in at.caption)


def test_leadership_gets_no_timeline_and_the_refusal(monkeypatch, tmp_path, warehouse_path):
    from queries.access import LEADERSHIP, AccessDenied, User
    from queries.patient_timeline import patient_timeline

    patient, _, _ = _patient_with_scores_on(warehouse_path, "adherence-drop")
    at = _page(monkeypatch, tmp_path, warehouse_path, '[roles]\ndashboard = "leadership"\n')
    assert not [s for s in at.selectbox if s.key == "timeline_patient"]
    assert "needs the clinician or analyst role" in _page_text(at)
    con = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        with pytest.raises(AccessDenied, match="needs the clinician or analyst role") as refused:
            patient_timeline(con, patient, user=LEADERSHIP)
        assert patient not in str(refused.value)
        # a clinician with no episode of this patient is refused too
        with pytest.raises(AccessDenied, match="their own patients only"):
            patient_timeline(con, patient, user=User("clinician", "NOT-A-CLINICIAN"))
    finally:
        con.close()


def test_leadership_counts_are_distinct_patients_or_hidden(monkeypatch, tmp_path, warehouse_path):
    """The counts table counts patients, not rows (a patient with two overdue test groups is
    one patient), as the meeting pack does, published as every count (docs/privacy.md: the
    noise of the patients' cell key; a true or published 1-10 reads '<11')."""
    from queries.worklist import WORKLISTS

    con = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        patients = {name: published_patients(con, run_worklist(con, name).frame["patient_id"])
                    for name in WORKLISTS}
    finally:
        con.close()
    at = _page(monkeypatch, tmp_path, warehouse_path, '[roles]\ndashboard = "leadership"\n')
    table = next(f.value for f in at.dataframe if "Patients" in f.value.columns)
    shown = dict(zip(table["Worklist"], table["Patients"].astype(str), strict=True))
    titles = {"not-on-track": "Not on track", "item9-follow-up": "Item 9 without follow-up",
              "overdue-monitoring": "Overdue monitoring", "adherence-drop": "Adherence drop",
              "prescribing-safety": "Prescribing safety"}
    for name, n in patients.items():
        assert shown[titles[name]].replace(",", "") == ("<11" if n is None else str(n)), name


def test_the_timeline_picker_offers_only_the_patients_of_the_page_shown(monkeypatch, tmp_path,
                                                                      warehouse_path):
    """A selectbox sends every option to the browser: the picker lists the ids in the rows table
    on screen (one page of 50), never the whole worklist's."""
    at = _page(monkeypatch, tmp_path, warehouse_path, '[roles]\ndashboard = "analyst"\n')
    at.radio(key="worklist_name").set_value("adherence-drop").run()
    shown = set(_rows_table(at)["Patient (surrogate id)"])
    offered = set(at.selectbox(key="timeline_patient").options)
    assert offered == shown
    con = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        listed = set(run_worklist(con, "adherence-drop").frame["patient_id"].to_list())
    finally:
        con.close()
    assert offered < listed or len(listed) <= 50
