"""The meeting pack's content and HTML: Laney switch, intervention store, suppression marks,
the chromium-missing message; built on hand-made warehouses (no browser needed)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from published_support import published_patients
from test_models_support import Warehouse

from queries import qi
from report import PdfError, interventions, render_html, write_pdf
from report.pack import Annotation, build_pack, chart_type_for


def test_laney_p_prime_from_an_average_denominator_of_1000():
    assert chart_type_for([999, 1001]) == "pp"  # mean 1000
    assert chart_type_for([998, 1001]) == "p"


def test_interventions_round_trip_sorted_and_atomic(tmp_path):
    db = tmp_path / "w.duckdb"
    assert interventions.load(db) == []
    interventions.add(db, Annotation("*", dt.date(2025, 3, 1), "booking rule"))
    saved = interventions.add(db, Annotation("amm_acute", dt.date(2024, 1, 5), " pharmacist calls "))
    assert [(a.measure, a.on, a.label) for a in saved] == [
        ("amm_acute", dt.date(2024, 1, 5), "pharmacist calls"), ("*", dt.date(2025, 3, 1), "booking rule")]
    assert not list(tmp_path.glob("*.tmp"))
    assert interventions.remove(db, saved[0]) == [saved[1]]
    with pytest.raises(interventions.AnnotationError, match="label"):
        interventions.add(db, Annotation("*", dt.date(2025, 1, 1), "  "))
    interventions.path_for(db).write_text('{"annotations": [{"measure": "*"}]}')
    with pytest.raises(interventions.AnnotationError, match="entry 1"):
        interventions.load(db)


def _clinic() -> Warehouse:
    """Four sites; 40 new sertraline starts a month in Jan-Sep 2024, two in three seen within 30
    days (so no remainder of 1-10 hides a month), and a site with only 4 starts (its counts
    must never appear)."""
    warehouse = Warehouse()
    for month in range(9):
        for i in range(40):
            pid = f"A{month}-{i}"
            warehouse.patient(pid, site_id=f"S{i % 4 + 1}")
            start = 31 * month + i % 20
            warehouse.fill(pid, "sertraline", start)
            if i % 3:
                warehouse.visit(pid, start + 10)
    for i in range(4):
        warehouse.patient(f"SMALL{i}", site_id="S9")
        warehouse.fill(f"SMALL{i}", "sertraline", 40)
    warehouse.build()
    return warehouse


def test_pack_has_every_section_and_no_count_from_1_to_10():
    warehouse = _clinic()
    pack = build_pack(
        warehouse.con, qi.parse_period("2024-Q3"), names=("followup_30d_new_rx",),
        annotations=[Annotation("*", dt.date(2024, 3, 10), "reminder calls")],
    )
    section = pack.charts[0]
    assert section.chart is not None and section.chart.options["part"] == [2]  # March starts phase 2
    assert pack.funnels[0].funnel is not None and "S9" in pack.funnels[0].funnel.suppressed
    html = render_html(pack)
    for heading in ("Measures", "Top changes since the last period", "Control charts", "Funnel plots",
                    "Definitions in force"):
        assert f">{heading}</h2>" in html
    assert "<script src" not in html and "<link" not in html  # nothing fetched: all inline
    assert html.count("<script type=\"text/javascript\">/**") <= 1  # plotly.js inlined once
    assert "reminder calls" in html and "threshold 11" in html
    visible_text = re.sub(r"<script.*?</script>", "", html, flags=re.S)
    counts_shown = [int(n) for n in re.findall(r"\((\d+)/\d+\)", visible_text)]
    assert counts_shown and all(n == 0 or n >= 11 for n in counts_shown)


def test_pack_funnel_draws_its_exact_limits(monkeypatch):
    """The funnel figure the pack embeds has its four exact-limit contours, each with a finite
    value at every point of the grid of n (they were NaN on the non-integer grid)."""
    import math

    from report import html as report_html

    embedded = []
    original = report_html._Figures.html
    monkeypatch.setattr(report_html._Figures, "html",
                        lambda self, fig, div_id: embedded.append((div_id, fig)) or original(self, fig, div_id))
    warehouse = _clinic()
    pack = build_pack(warehouse.con, qi.parse_period("2024-Q3"), names=("followup_30d_new_rx",))
    assert pack.funnels[0].funnel is not None
    render_html(pack)
    funnels = [fig for div_id, fig in embedded if div_id.startswith("funnel-")]
    assert funnels
    contours = [t for t in funnels[0].data if t.legendgroup in ("dash", "dot")]
    assert len(contours) == 4
    assert all(v is not None and math.isfinite(v) for t in contours for v in t.y)


def test_pdf_without_chromium_says_what_to_install(tmp_path, monkeypatch):
    import report as report

    monkeypatch.setattr(report, "find_chromium", lambda: None)
    page = tmp_path / "p.html"
    page.write_text("<html></html>")
    with pytest.raises(PdfError, match="install the Debian package `chromium`"):
        write_pdf(page, tmp_path / "p.pdf")


def test_report_command_refuses_a_bad_period_and_a_missing_file(tmp_path, capsys):
    from cli.main import main

    assert main(["report", "--db", str(tmp_path / "none.duckdb"), "--period", "2025-Q5"]) == 2
    assert "2025-Q3" in capsys.readouterr().err
    assert main(["report", "--db", str(tmp_path / "none.duckdb"), "--period", "2025-Q3"]) == 2
    assert "no warehouse file" in capsys.readouterr().err


def _worklist_rows(html: str) -> dict[str, str]:
    """The worklists table of a pack: worklist name (its <code>) -> the count cell's text."""
    table = re.search(r"<table id='worklist-counts'>.*?</table>", html, flags=re.S)
    assert table, "no worklist section in the pack"
    return dict(re.findall(r"<code>([a-z0-9-]+)</code></td><td>([^<]*)</td>", table.group(0)))


def _listed_patients(con, as_of: dt.date) -> dict[str, set[str]]:  # type: ignore[no-untyped-def]
    from queries.worklist import WORKLISTS, run_worklist

    return {name: set(run_worklist(con, name, as_of=as_of).frame["patient_id"].to_list())
            for name in WORKLISTS}


@pytest.mark.parametrize("min_cell", [11, 1_000_000])
def test_pack_counts_each_worklists_patients_and_names_none(warehouse, min_cell):
    """Per worklist: the distinct patients ``queries.worklist`` lists on the data end (the
    period holding it ends later), published as every count (docs/privacy.md: plus the noise of
    the patients' cell key, '<min_cell' when the true or published count is from 1 to
    min_cell - 1); a threshold of a million hides every non-empty list. No patient id anywhere."""
    data_end = warehouse.sql("select data_end_on from marts.data_coverage").fetchall()[0][0]
    period = qi.parse_period(f"{data_end.year}-Q{(data_end.month - 1) // 3 + 1}")
    pack = build_pack(warehouse, period, names=("followup_30d_new_rx",), min_cell=min_cell)
    assert pack.worklists_as_of == data_end
    html = render_html(pack)
    assert ">Worklists</h2>" in html
    shown = _worklist_rows(html)
    expected = _listed_patients(warehouse, data_end)
    assert set(shown) == set(expected)
    for name, patients in expected.items():
        published = published_patients(warehouse, patients, min_cell)
        if published is None:
            assert shown[name] == f"&lt;{min_cell}", name
        else:
            assert shown[name] == f"{published:,}", name
            assert abs(published - len(patients)) <= 2
    if min_cell == 11:
        assert any(len(n) >= 11 for n in expected.values())  # the sample clinic lists patients
    ids = warehouse.sql("select patient_id from marts.dim_patients").pl()["patient_id"].to_list()
    assert ids and not [i for i in ids if i in html]


def test_a_site_pack_publishes_the_sites_patients_on_each_list(warehouse):
    """A site's pack counts the site's patients on each list, with the noise of that set of
    patients (not the clinic's count minus the other sites', which would be exact)."""
    from report.pack import worklist_counts

    data_end = warehouse.sql("select data_end_on from marts.data_coverage").fetchall()[0][0]
    sites = dict(warehouse.sql("select patient_id, site_id from marts.dim_patients").fetchall())
    listed = _listed_patients(warehouse, data_end)
    for site in sorted(set(sites.values()))[:2]:
        counts = {w.name: w for w in worklist_counts(warehouse, data_end, site, 11)}
        for name, patients in listed.items():
            expected = published_patients(warehouse, {p for p in patients if sites[p] == site})
            assert counts[name].patients == expected, (site, name)
            assert counts[name].hidden == (expected is None)


def test_pack_worklists_stop_at_the_period_end_before_the_data_end(warehouse):
    data_end = warehouse.sql("select data_end_on from marts.data_coverage").fetchall()[0][0]
    period = qi.parse_period(str(data_end.year - 1))
    pack = build_pack(warehouse, period, names=("followup_30d_new_rx",))
    assert pack.worklists_as_of == dt.date(data_end.year - 1, 12, 31)
    hidden = {w.name: w.hidden for w in pack.worklists}
    for name, patients in _listed_patients(warehouse, pack.worklists_as_of).items():
        assert hidden[name] == (published_patients(warehouse, patients) is None)
