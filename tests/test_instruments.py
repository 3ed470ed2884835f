"""One home for the instrument rules: pipelines/reference/instruments.csv (DOMAIN.md sections 2-3).

The contract, the definitions, the episode-outcomes mart and the response/remission metrics all
take their rules from that table; these tests pin the table to DOMAIN and check that nothing
restates a rule, that PCL-5 response is the same in the mart and the metric (a drop of >= 10
points, not 50%), and that PCL-5 remission reads "not defined", never 0.
"""

from __future__ import annotations

import re

import pytest
from conftest import REPO
from test_models_support import Warehouse

import queries
from pipelines.contract import INSTRUMENT_RANGES
from pipelines.definitions import DEFAULT_ELIGIBILITY_MIN, DEFAULT_REMISSION, OUTCOME_INSTRUMENTS
from pipelines.instruments import RESPONSE_RULES, instruments, outcome_instruments

#: DOMAIN.md section 2, copied by hand: total-score range, response rule, remission as published.
DOMAIN_SCALES = {
    "PHQ-9": ((0, 27), "half_of_baseline", "<5"),
    "GAD-7": ((0, 21), "half_of_baseline", "<5"),
    "QIDS-SR16": ((0, 27), "half_of_baseline", "<=5"),
    "MADRS": ((0, 60), "half_of_baseline", "<10"),
    "HAM-D17": ((0, 52), "half_of_baseline", "<=7"),
    "YMRS": ((0, 60), "half_of_baseline", "<=12"),
    "PCL-5": ((0, 80), "drop_of_points", None),
}


@pytest.mark.parametrize("name", sorted(DOMAIN_SCALES))
def test_the_table_states_the_domain_rules(name):
    score_range, response_rule, remission = DOMAIN_SCALES[name]
    instrument = instruments()[name]
    assert (instrument.score_min, instrument.score_max) == score_range
    assert instrument.response_rule == response_rule
    assert instrument.remission == remission


def test_pcl5_response_is_a_drop_of_10_points_and_remission_is_not_defined_with_a_reason():
    pcl5 = instruments()["PCL-5"]
    assert (pcl5.response_rule, pcl5.response_min_drop) == ("drop_of_points", 10)
    assert pcl5.remission is None and "PCL-5" in pcl5.remission_not_defined_reason


def test_cgi_i_response_is_much_or_very_much_improved_and_phq_a_is_scored_as_phq9():
    assert instruments()["CGI-I"].response_rule == "much_improved"
    assert instruments()["PHQ-A"].family == "PHQ-9"


def test_every_rule_is_known_and_a_missing_remission_always_says_why():
    for instrument in instruments().values():
        assert instrument.response_rule in (None, *RESPONSE_RULES)
        if instrument.is_outcome:
            assert (instrument.remission is None) == (instrument.remission_not_defined_reason is not None)
            assert instrument.eligibility_min is not None
            assert instrument.score_min <= instrument.eligibility_min <= instrument.score_max


def test_contract_and_definitions_read_the_table():
    assert {n: (i.score_min, i.score_max) for n, i in instruments().items()} == INSTRUMENT_RANGES
    assert set(OUTCOME_INSTRUMENTS) == set(outcome_instruments())
    assert {n: instruments()[n].eligibility_min for n in outcome_instruments()} == DEFAULT_ELIGIBILITY_MIN
    assert {n: instruments()[n].remission for n in outcome_instruments()
                                 if instruments()[n].remission} == DEFAULT_REMISSION


def _sql_files():
    return [*sorted((REPO / "pipelines" / "models").glob("*/*.sql")),
            *sorted((REPO / "queries").glob("*/*.sql"))]


def _body(path):
    text = re.sub(r"/\*.*?\*/", "", path.read_text(encoding="utf-8"), flags=re.S)
    return re.sub(r"--[^\n]*", "", text)


@pytest.mark.parametrize("pattern, rule", [
    (r"2\s*\*\s*[\w.]*(followup|score)", "the 50% response rule"),
    (r"'PCL-5'", "an instrument-specific rule"),
    (r"'0-17'|'65\+'", "the age bands"),
    (r"'<0\.5'|'0\.5-'", "the adherence bands"),
])
def test_no_model_or_metric_restates_a_rule_kept_in_one_home(pattern, rule):
    offenders = [p.relative_to(REPO).as_posix() for p in _sql_files() if re.search(pattern, _body(p))]
    assert offenders == [], f"{rule} restated in {offenders}; use ref.instrument_rules or a macro"


# --------------------------------------------------------------------------- hand-built cases


def _pcl5_clinic() -> Warehouse:
    """Three sertraline episodes from day 0, PCL-5 at baseline (day 0) and week 12 (day 84):
    P1 40 -> 28: a drop of 12 points (>= 10, a response; 2 * 28 = 56 > 40, not 50%)
    P2 40 -> 31: a drop of 9 points (not a response)
    P3 36 -> 18: a drop of 18 points and exactly half (a response by either rule)
    All baselines are >= 33, the PCL-5 eligibility threshold."""
    warehouse = Warehouse()
    for patient, baseline, followup in (("P1", 40, 28), ("P2", 40, 31), ("P3", 36, 18)):
        warehouse.patient(patient)
        warehouse.fill(patient, "sertraline", 0, days_supply=120)
        warehouse.score(patient, 0, baseline, instrument="PCL-5")
        warehouse.score(patient, 84, followup, instrument="PCL-5")
    warehouse.build()
    return warehouse


def test_pcl5_response_is_the_same_in_the_mart_and_the_metric():
    warehouse = _pcl5_clinic()
    mart = {r["patient_id"]: r["is_response"] for r in warehouse.rows(
        "select patient_id, is_response from marts.fct_episode_outcomes "
        "where instrument = 'PCL-5' and is_default_preset")}
    assert mart == {"P1": True, "P2": False, "P3": True}
    row = queries.metric(warehouse.con, "response", filters={"instrument": "PCL-5"},
                         min_cell=0).frame.row(0, named=True)
    # numerator: P1 and P3 (drops of 12 and 18); denominator: the 3 eligible episodes
    assert (row["numerator"], row["denominator"], row["rate"]) == (2, 3, pytest.approx(2 / 3))


def test_pcl5_remission_is_not_defined_and_says_why_instead_of_0():
    warehouse = _pcl5_clinic()
    result = queries.metric(warehouse.con, "remission", filters={"instrument": "PCL-5"}, min_cell=0)
    row = result.frame.row(0, named=True)
    assert row["eligible"] == 3  # the attrition is still counted
    assert row["rate"] is None and row["numerator"] is None and row["remitters"] is None
    assert row["rate_assessed"] is None and row["ci_low"] is None
    assert "no standard remission" in row["not_defined_reason"]


def test_pcl5_remission_is_defined_when_the_user_gives_a_cut_off():
    # remission_max = 20: P3 (18) remits, P1 (28) and P2 (31) do not -> 1 of 3
    warehouse = _pcl5_clinic()
    row = queries.metric(warehouse.con, "remission", filters={"instrument": "PCL-5"}, min_cell=0,
                         remission_max=20).frame.row(0, named=True)
    assert (row["numerator"], row["denominator"], row["not_defined_reason"]) == (1, 3, None)


def test_a_configured_remission_rule_replaces_the_table_default():
    # PHQ-9 remission configured as <= 5 instead of < 5: a follow-up of 5 now remits
    warehouse = Warehouse()
    warehouse.patient("P1")
    warehouse.fill("P1", "sertraline", 0, days_supply=120)
    warehouse.score("P1", 0, 20)
    warehouse.score("P1", 84, 5)
    warehouse.build(remission={"PHQ-9": "<=5"})
    rules = warehouse.one("select remission, remission_max, cutoff_id from ref.instrument_rules "
                          "where instrument = 'PHQ-9'")
    assert rules == {"remission": "<=5", "remission_max": 5, "cutoff_id": "PHQ-9<=5"}
    assert warehouse.one("select is_remission from marts.fct_episode_outcomes "
                         "where instrument = 'PHQ-9' and is_default_preset")["is_remission"] is True


# --------------------------------------------------------------------------- age and adherence bands


@pytest.fixture(scope="module")
def macros():  # type: ignore[no-untyped-def]
    """A connection holding the shared macros (an empty warehouse, built once)."""
    warehouse = Warehouse()
    warehouse.build()
    return warehouse.con


@pytest.mark.parametrize("age, band", [
    (None, "unknown"), (0, "0-17"), (17, "0-17"), (18, "18-25"), (25, "18-25"), (26, "26-44"),
    (44, "26-44"), (45, "45-64"), (64, "45-64"), (65, "65+"), (101, "65+"),
])
def test_the_age_band_macro_puts_each_boundary_age_in_its_band(macros, age, band):
    assert macros.sql("select age_band($age::integer)", params={"age": age}).fetchall() == [(band,)]


def test_the_dashboard_offers_the_bands_the_macro_writes():
    from dashboard.filters import FIELDS

    assert FIELDS["age_band"][2] == ("0-17", "18-25", "26-44", "45-64", "65+", "unknown")


@pytest.mark.parametrize("pdc, band", [
    (None, None), (0.0, "<0.5"), (0.4999, "<0.5"), (0.5, "0.5-0.8"), (0.7999, "0.5-0.8"),
    (0.8, ">=0.8"), (1.0, ">=0.8"),
])
def test_the_adherence_band_macro_bands_pdc_at_half_and_the_threshold(macros, pdc, band):
    got = macros.sql("select adherence_band($pdc::double, $threshold::double)",
                            params={"pdc": pdc, "threshold": 0.8}).fetchall()
    assert got == [(band,)]


# --------------------------------------------------------------------------- metric = mart


@pytest.fixture(scope="module")
def generated_clinic(tmp_path_factory):  # type: ignore[no-untyped-def]
    """A small generated clinic (the `outcomes generate` generator, 120 patients), ingested once:
    a second data set, with other instruments' shares, for the metric = mart checks."""
    import duckdb
    from conftest import fix_cell_key_salt

    from pipelines.ingest import ingest
    from synthetic.generator import generate

    folder = tmp_path_factory.mktemp("generated_clinic")
    generate(120, 23, folder / "extract")
    db_path = folder / "outcomes.duckdb"
    assert ingest(folder / "extract", db_path).status == "ok"
    fix_cell_key_salt(db_path)
    con = duckdb.connect(str(db_path), read_only=True)
    yield con
    con.close()


@pytest.mark.parametrize("clinic", ["warehouse", "generated_clinic"])
@pytest.mark.parametrize("instrument", outcome_instruments())
def test_response_and_remission_metrics_equal_the_mart_counts_for_every_instrument(
        request, clinic, instrument):  # type: ignore[no-untyped-def]
    warehouse = request.getfixturevalue(clinic)
    mart = warehouse.sql(
        "select count(*) filter (where is_eligible) as eligible, "
        "count(*) filter (where is_response) as responders, "
        "count(*) filter (where is_remission) as remitters, "
        "count(is_remission) as remission_defined "
        "from marts.fct_episode_outcomes where instrument = $i and is_default_preset",
        params={"i": instrument}).fetchall()[0]
    eligible, responders, remitters, remission_defined = mart
    response = queries.metric(warehouse, "response", filters={"instrument": instrument},
                              min_cell=0).frame.row(0, named=True)
    remission = queries.metric(warehouse, "remission", filters={"instrument": instrument},
                               min_cell=0).frame.row(0, named=True)
    assert (response["numerator"], response["denominator"]) == (responders, eligible)
    if instruments()[instrument].remission is None:
        assert remission_defined == 0  # the mart leaves every PCL-5 remission null
        assert remission["numerator"] is None and remission["not_defined_reason"]
    else:
        assert (remission["numerator"], remission["denominator"]) == (remitters, eligible)


def test_comparing_a_rate_that_is_not_defined_says_so():
    from queries.compare import compare
    from queries.engine import MetricError

    warehouse = _pcl5_clinic()
    with pytest.raises(MetricError, match="not defined here: no standard remission cut-off for PCL-5"):
        # the clinic's one drug against itself (a drug it does not hold is refused as unknown first)
        compare(warehouse.con, "remission", {"drug": "sertraline"}, {"drug": "sertraline"},
                filters={"instrument": "PCL-5"}, min_cell=0)


@pytest.mark.parametrize("sent, family", [("PHQ-A", "PHQ-9"), ("PHQ-9", "PHQ-9"), ("GAD-7", "GAD-7"),
                                          ("CGI-I", "CGI-I")])
def test_the_family_macro_scores_phq_a_as_phq9(macros, sent, family):
    assert macros.sql("select instrument_family($i)", params={"i": sent}).fetchall() == [(family,)]


def test_no_model_restates_the_phq_a_family_rule():
    offenders = [p.relative_to(REPO).as_posix() for p in _sql_files() if "'PHQ-A'" in _body(p)]
    assert offenders == []
