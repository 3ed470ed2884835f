"""Chart builders: one colour per drug class, suppressed cells marked "<11" (a count of 1-10) or
"suppressed" (hidden to protect another, or a rate), honest empty states."""

from __future__ import annotations

import polars as pl

import charts


def _rates() -> pl.DataFrame:
    # Two visible classes and one whose count the query layer suppressed (null + flag).
    return pl.DataFrame({
        "drug_class": ["antipsychotic", "antidepressant", "mood_stabiliser"],
        "rate": [0.25, 0.5, None],
        "ci_low": [0.2, 0.45, None],
        "ci_high": [0.3, 0.55, None],
        "denominator": [200, 400, None],
        "rate_suppressed": [False, False, True],
        "denominator_suppressed": [False, False, True],
        "denominator_complementary": [False, False, False],
    })


def test_class_colours_are_fixed_okabe_ito_and_distinct():
    colours = [charts.class_colour(c) for c in charts.DRUG_CLASSES]
    assert colours[0] == "#0072B2"  # antidepressant is Okabe-Ito blue on every page
    assert len(set(colours)) == len(colours)
    assert set(colours) <= set(charts.OKABE_ITO)
    assert charts.class_colour("not_a_class") == charts.CLASS_COLOURS["other"]


def test_rate_bars_orders_classes_colours_them_and_marks_suppressed():
    fig = charts.rate_bars(_rates(), "drug_class", "Response")
    bars = fig.data[0]
    assert list(bars.y) == ["Antidepressant", "Antipsychotic", "Mood stabiliser"]  # fixed order
    assert list(bars.marker.color) == ["#0072B2", "#D55E00", charts.SUPPRESSED_COLOUR]
    labels = fig.data[1]  # the text trace right of each whisker
    assert labels.text[0] == "50.0%  (n=400)"
    assert labels.text[2] == "suppressed (n=<11)"  # the rate is derived; its n is itself 1-10
    assert labels.x[0] > 0.55  # placed beyond the upper Wilson limit, not over the whisker
    assert bars.x[2] == 0  # no invented value for a suppressed rate
    assert bars.error_x.array[2] is None  # and no whisker (a zero-length one draws its caps)
    # whiskers are the Wilson limits: 0.5 - 0.45 below, 0.55 - 0.5 above
    assert abs(bars.error_x.arrayminus[0] - 0.05) < 1e-12 and abs(bars.error_x.array[0] - 0.05) < 1e-12
    # the class names are the axis labels, so no legend repeats them; drugs coloured by class
    # get one legend entry per class
    assert [t.name for t in fig.data if t.showlegend is not False and t.name] == []
    by_drug = charts.rate_bars(_rates().with_columns(pl.Series("drug", ["a", "b", "c"])), "drug", "R",
                               colour_by="drug_class")
    assert [t.name for t in by_drug.data[2:]] == ["Antidepressant", "Antipsychotic", "Mood stabiliser"]
    assert fig.layout.xaxis.tickformat == ".0%"


def test_a_group_with_no_unit_has_no_bar():
    # "Other" has no patient-year at all: 0 is not a hidden count, and a rate of 0/0 does not exist
    frame = pl.concat([_rates(), pl.DataFrame({
        "drug_class": ["other"], "rate": [None], "ci_low": [None], "ci_high": [None], "denominator": [0],
        "rate_suppressed": [True], "denominator_suppressed": [False],
        "denominator_complementary": [False]})], how="vertical_relaxed")
    assert list(charts.rate_bars(frame, "drug_class", "Adherent").data[0].y) == [
        "Antidepressant", "Antipsychotic", "Mood stabiliser"]


def test_empty_frame_gives_a_message_not_blank_axes():
    fig = charts.rate_bars(_rates().head(0), "drug_class", "Response")
    assert fig.layout.annotations[0].text == "No episodes match the filters."


def test_balance_chart_one_bubble_per_visible_group_with_intervals():
    frame = pl.DataFrame({
        "drug": ["sertraline", "escitalopram", "rare"],
        "response_rate": [0.5, 0.4, None], "response_ci_low": [0.45, 0.35, None],
        "response_ci_high": [0.55, 0.45, None], "side_effect_rate": [0.3, 0.2, None],
        "side_effect_ci_low": [0.25, 0.15, None], "side_effect_ci_high": [0.35, 0.25, None],
        "patients": [400, 100, None],
    })
    fig = charts.balance_chart(frame, "drug")
    assert [t.name for t in fig.data] == ["sertraline", "escitalopram"]
    big, small = fig.data[0].marker.size, fig.data[1].marker.size
    assert big > small  # bubble area grows with patients
    assert abs(fig.data[0].error_y.arrayminus[0] - 0.05) < 1e-12
    assert any("rare" in a.text for a in fig.layout.annotations)  # suppressed group listed, not drawn


def test_heat_map_blanks_and_marks_suppressed_cells():
    frame = pl.DataFrame({"drug": ["a", "a", "b"], "effect_code": ["x", "y", "x"], "rate": [0.1, None, 0.3],
                          "rate_suppressed": [False, True, False]})
    fig = charts.heat_map(frame, "drug", "effect_code", "rate", "Effects")
    heat = fig.data[0]
    assert heat.z[0][1] is None and heat.text[0][1] == "suppressed"  # no count says it is 1-10
    assert heat.text[1][0] == "30%"


def test_a_rate_hidden_only_to_protect_another_cell_never_reads_under_11():
    rates = _rates().with_columns(pl.Series("denominator_complementary", [False, False, True]))
    labels = charts.rate_bars(rates, "drug_class", "Response").data[1]
    assert labels.text[2] == "suppressed (n=suppressed)"
    cells = pl.DataFrame({"drug": ["a", "b"], "effect_code": ["x", "x"], "rate": [None, None],
                          "rate_suppressed": [True, True], "numerator": [None, None],
                          "numerator_suppressed": [True, True], "numerator_complementary": [False, True]})
    heat = charts.heat_map(cells, "drug", "effect_code", "rate", "Effects").data[0]
    assert [row[0] for row in heat.text] == ["<11", "suppressed"]


def test_trajectory_band_is_t_interval_from_sd_and_n():
    frame = pl.DataFrame({"drug_class": ["antidepressant"] * 2, "week_since_start": [0, 1],
                          "mean_score": [18.0, 15.0], "sd_score": [4.0, 4.0], "n": [16, 16]})
    fig = charts.trajectories(frame, "drug_class", "PHQ-9", week="week_since_start", mean="mean_score",
                              sd="sd_score", n="n")
    band, line = fig.data
    # t(0.975, 15) = 2.131449546; half-width = 2.1314 * 4 / 4. The band is one closed polygon:
    # the upper limits left to right, then the lower limits back.
    assert list(band.x) == [0, 1, 1, 0] and band.fill == "toself"
    assert abs(band.y[0] - (18 + 2.131449546)) < 1e-6 and abs(band.y[3] - (18 - 2.131449546)) < 1e-6
    assert line.line.color == "#0072B2"


def test_trajectory_band_does_not_bridge_a_suppressed_week():
    frame = pl.DataFrame({"drug_class": ["antidepressant"] * 3, "week_since_start": [0, 1, 2],
                          "mean_score": [18.0, None, 14.0], "sd_score": [4.0, None, 4.0], "n": [16, None, 16]})
    fig = charts.trajectories(frame, "drug_class", "PHQ-9", week="week_since_start", mean="mean_score",
                              sd="sd_score", n="n")
    bands = [t for t in fig.data if t.fill == "toself"]
    assert [list(b.x) for b in bands] == [[0, 0], [2, 2]]  # two one-week bands, no polygon across week 1


def test_survival_curves_are_steps_with_bands_per_class():
    frame = pl.DataFrame({"drug_class": ["antipsychotic"] * 3, "day": [0, 30, 60], "survival": [1.0, 0.8, 0.6],
                          "ci_low": [1.0, 0.7, 0.5], "ci_high": [1.0, 0.9, 0.7]})
    fig = charts.survival_curves(frame, "drug_class", "Persistence")
    assert len(fig.data) == 3 and fig.data[2].line.shape == "hv"
    assert fig.data[2].line.color == charts.class_colour("antipsychotic")
