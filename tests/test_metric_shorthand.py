"""Header shorthands (pipelines/metric_shorthand.py) say the same as the headers they replaced.

tests/fixtures/explicit_headers/ holds each converted file's header as it was written out in
full before the shorthand; read with the file's SQL, it must give the same catalogue entries.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines import metric_shorthand
from pipelines.query_files import HEADER, parse_file
from pipelines.query_filters import with_leading_ctes

ROOT = Path(__file__).resolve().parents[1]
EXPLICIT = sorted((ROOT / "tests/fixtures/explicit_headers").glob("*.yaml"))


@pytest.mark.parametrize("explicit", EXPLICIT, ids=[p.stem for p in EXPLICIT])
def test_a_converted_header_reads_as_its_explicit_form(explicit: Path, tmp_path: Path) -> None:
    domain, name = explicit.stem.split("__")
    current = ROOT / "queries" / domain / f"{name}.sql"
    text = current.read_text(encoding="utf-8")
    body = text[HEADER.match(text).end():]  # type: ignore[union-attr]
    spelled = tmp_path / domain / f"{name}.sql"
    spelled.parent.mkdir()
    spelled.write_text(f"/* ---\n{explicit.read_text(encoding='utf-8').rstrip()}\n--- */\n{body}",
                       encoding="utf-8")
    short, full = parse_file(current), parse_file(spelled)
    assert [q.name for q in short] == [q.name for q in full]
    for s, f in zip(short, full, strict=True):
        assert s.metric == f.metric, s.name
        # each expression is an audit of its own, named by its text: their order does not matter
        assert {**s.tests, "expressions": sorted(s.tests.get("expressions") or [])} == {
            **f.tests, "expressions": sorted(f.tests.get("expressions") or [])}, s.name
        assert list(s.metric.get("counts", {})) == list(f.metric.get("counts", {})), s.name
        assert (s.columns, s.params, s.constants) == (f.columns, f.params, f.constants), s.name
        assert (s.title, s.description, s.grain) == (f.title, f.description, f.grain), s.name
        assert HEADER.sub("", s.sql) == HEADER.sub("", f.sql), s.name


def test_observed_rate_spelt_out() -> None:
    metric, tests = metric_shorthand.expand(
        {"observed_rate": {"units": "starts", "numerator": "seen", "label": "Seen"},
         "counts": {"early": "is_early"}, "rates": [{"name": "rate_early"}]},
        {"expressions": ["is_early <= is_observed"]}, "x.sql")
    assert metric == {
        "kind": "proportion",
        "counts": {"starts": "*", "observed": "is_observed", "early": "is_early", "seen": "is_numerator"},
        "attrition": [{"count": "starts"}, {"count": "observed", "dropped": "not_observed"}],
        "rates": [{"name": "rate", "numerator": "seen", "denominator": "observed", "label": "Seen"},
                  {"name": "rate_early"}],
    }
    assert tests == {"unique": ["unit_id"],
                     "expressions": ["is_numerator <= is_observed", "is_early <= is_observed"]}


def test_observed_rate_within_a_column_states_both_bounds() -> None:
    _, tests = metric_shorthand.expand(
        {"observed_rate": {"units": "u", "numerator": "n", "label": "L", "within": "has_followup"}},
        {}, "x.sql")
    assert tests["expressions"] == ["is_numerator <= has_followup", "has_followup <= is_observed"]


def test_an_episode_unit_is_one_row_per_episode() -> None:
    assert metric_shorthand.expand({"unit": "episode"}, {}, "x.sql")[1] == {"unique": ["episode_id"]}


def test_a_malformed_shorthand_is_refused_naming_the_file() -> None:
    with pytest.raises(ValueError, match=r"x\.sql: metric\.observed_rate needs numerator and label"):
        metric_shorthand.expand({"observed_rate": {"units": "u", "numerator": "n"}}, {}, "x.sql")
    with pytest.raises(ValueError, match=r"x\.sql: metric\.observed_rate needs units"):
        metric_shorthand.expand({"observed_rate": {"numerator": "n", "label": "L"}}, {}, "x.sql")
    with pytest.raises(ValueError, match=r"x\.sql: metric\.source 'visits' is not one of"):
        metric_shorthand.expand({"source": "visits"}, {}, "x.sql")


def test_a_worklist_lists_the_episodes_current_on_its_day() -> None:
    """current_episodes: start_on <= as_of <= end_on + grace_days; as_of null = the data end."""
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute("create table marts.data_coverage as select date '2025-03-31' as data_end_on")
    con.execute("""create table marts.fct_treatment_episodes as select * from (values
        ('ended', 'p1', 'c1', 'sertraline', 'antidepressant', date '2025-01-01', date '2025-02-01', 30),
        ('in_grace', 'p1', 'c1', 'lithium', 'mood_stabiliser', date '2025-01-01', date '2025-03-01', 30),
        ('later', 'p2', 'c2', 'quetiapine', 'antipsychotic', date '2025-04-01', date '2025-05-01', 0)
    ) as t (episode_id, patient_id, clinician_id, drug, drug_class, start_on, end_on, grace_days)""")
    sql = with_leading_ctes(
        "with listed as (select episode_id, strftime(as_of_on, '%Y-%m-%d') as day from current_episodes)\n"
        "select * from listed order by episode_id", metric_shorthand.WORKLIST_CTES)
    # 31 March: 'ended' stopped 1 Feb, its 30 grace days ran out on 3 March; 'in_grace' ends
    # 1 March + 30 = 31 March; 'later' starts 1 April
    assert con.sql(sql, params={"as_of": None}).fetchall() == [("in_grace", "2025-03-31")]
    assert con.sql(sql, params={"as_of": "2025-04-01"}).fetchall() == [("later", "2025-04-01")]

