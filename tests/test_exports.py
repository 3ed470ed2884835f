"""Issue 18: exports stand on their own. A table's CSV holds numbers under a ``# key: value``
stamp that names the filters, the period, the definition and the suppression threshold, and
reads back with polars as numeric columns; charts export to PNG and SVG with kaleido and the
system Chromium; the meeting pack embeds its charts without the plotly toolbar."""

from __future__ import annotations

from pathlib import Path

import plotly.graph_objects as go
import polars as pl
import pytest

from report.export import numeric_frame, stamp, stamped_csv


def _rates() -> pl.DataFrame:
    # Two classes: antidepressant 123 of 1000 episodes responded (12.3%); antipsychotic had 7
    # responders, a count of 1-10, so its numerator and rate are hidden by the query layer.
    return pl.DataFrame({
        "drug_class": ["antidepressant", "antipsychotic"],
        "rate": [0.123, None], "rate_suppressed": [False, True],
        "numerator": [123, None], "numerator_suppressed": [False, True],
        "numerator_complementary": [False, False],
        "denominator": [1000, 40], "denominator_suppressed": [False, False],
    })


def test_csv_reads_back_as_numbers_with_its_stamp(tmp_path: Path) -> None:
    table = numeric_frame(_rates(), labels={"drug_class": "Drug class", "rate": "Response rate",
                                            "numerator": "Responders", "denominator": "Eligible episodes"},
                          min_cell=11, values={"drug_class": str.capitalize})
    lines = stamp(title="Response by drug class", filters="site S01; instrument PHQ-9",
                  period="Last 12 months: 2024-10-01 to 2025-09-30", min_cell=11, data_as_of="2025-12-31",
                  meta={"metric": "response", "definition": "Episodes whose follow-up score\nhalved.",
                        "parameters": {"preset": "clinic_w6_16", "site_id": "S01"}},
                  proportions=["Response rate"])
    path = tmp_path / "response.csv"
    path.write_text(stamped_csv(table, lines), encoding="utf-8")

    back = pl.read_csv(path, comment_prefix="#")
    assert back["Response rate"].dtype == pl.Float64
    assert back["Response rate"].to_list() == [0.123, None]  # 12.3% as a proportion; hidden is empty
    assert back["Eligible episodes"].dtype == pl.Int64 and back["Eligible episodes"].to_list() == [1000, 40]
    assert back["Responders (hidden)"].to_list() == [None, "<11"]  # the count of 7 is itself 1-10
    assert back["Response rate (hidden)"].to_list() == [None, "suppressed"]  # derived from it
    assert back["Drug class"].to_list() == ["Antidepressant", "Antipsychotic"]

    head = {line[2:].split(": ", 1)[0]: line[2:].split(": ", 1)[1]
            for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("# ")}
    assert head["filters"] == "site S01; instrument PHQ-9"
    assert head["period"] == "Last 12 months: 2024-10-01 to 2025-09-30"
    assert head["suppression_threshold"] == "counts below 11 hidden"
    assert "hidden" in head["suppression_method"]
    assert head["definition"] == "Episodes whose follow-up score halved."  # one line, no break
    assert '"preset": "clinic_w6_16"' in head["parameters"]
    assert head["data_as_of"] == "2025-12-31"
    assert head["product_version"] not in ("", "unknown")
    assert head["units"].endswith("Response rate")


def test_suppression_off_is_stamped_as_off() -> None:
    lines = stamp(title="t", filters="all", period="p", min_cell=0, data_as_of=None)
    assert lines["suppression_threshold"] == "off"
    assert "OFF" in lines["suppression_method"]
    assert lines["data_as_of"] == "unknown"


@pytest.mark.parametrize(("fmt", "magic"), [("png", b"\x89PNG"), ("svg", b"<svg")])
def test_chart_image_export_works_after_the_plain_install(fmt: str, magic: bytes) -> None:
    from charts.export import browser_path, figure_image

    if browser_path() is None:
        pytest.skip("no Chromium on this machine")
    fig = go.Figure(go.Bar(x=["A", "B"], y=[3, 4]))
    fig.update_layout(title="Two bars", height=300)
    image = figure_image(fig, fmt)
    assert image.lstrip()[: len(magic)] == magic


def test_kaleido_is_a_main_dependency() -> None:
    import tomllib

    project = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["project"]
    assert any(dep.startswith("kaleido") for dep in project["dependencies"])


def test_meeting_pack_charts_have_no_toolbar() -> None:
    from report.html import _Figures

    embed = _Figures()
    embed.first = False  # leave plotly.js out: only the call's config matters here
    snippet = embed.html(go.Figure(go.Bar(x=[1], y=[1])), "chart")
    assert '"displayModeBar": false' in snippet


def test_chart_image_export_retries_once_after_a_browser_hiccup(monkeypatch: pytest.MonkeyPatch) -> None:
    # kaleido on a busy machine can call into its tab before the tab's scripts have loaded; the
    # export tries once more, and a second failure is raised (never an empty or partial image).
    from charts import export

    monkeypatch.setattr(export, "export_problem", lambda: None)
    calls: list[str] = []

    def flaky(self: go.Figure, **kwargs: object) -> bytes:
        calls.append(str(kwargs["format"]))
        if len(calls) == 1:
            raise RuntimeError("ReferenceError: kaleido_scopes is not defined")
        return b"\x89PNG..."

    monkeypatch.setattr(go.Figure, "to_image", flaky)
    assert export.figure_image(go.Figure(), "png") == b"\x89PNG..."
    assert calls == ["png", "png"]

    def broken(self: go.Figure, **kwargs: object) -> bytes:
        raise RuntimeError("no browser")

    monkeypatch.setattr(go.Figure, "to_image", broken)
    with pytest.raises(RuntimeError, match="no browser"):
        export.figure_image(go.Figure(), "svg")
