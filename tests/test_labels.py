"""Issue 18: human labels from one table (``queries.labels``): no raw codes, no generated plurals,
in the label table itself, in the sidebar's filter options, in chart ticks and table cells."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

import charts
from pipelines.reference import DRUG_CLASSES
from queries import labels

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")
REFERENCE = Path(__file__).resolve().parents[1] / "pipelines" / "reference"


def _is_raw(text: str) -> bool:
    """Reads like a code: an underscore, or all lower case (a label starts with a capital)."""
    return "_" in text or (text[:1].islower())


def test_every_stored_code_has_a_label_that_is_not_a_code() -> None:
    effects = pl.read_csv(REFERENCE / "side_effect_terms.csv")["code"].to_list()
    groups = set(pl.read_csv(REFERENCE / "diagnosis_groups.csv")["diagnosis_group"].to_list())
    for kind, codes in (("drug_class", DRUG_CLASSES), ("effect_code", effects), ("diagnosis_group", groups)):
        for code in codes:
            assert code in labels.VALUES[kind], (kind, code)  # in the table, not humanised by chance
            assert not _is_raw(labels.label(kind, code)), (kind, code)
    assert labels.label("effect_code", "rash_sjs") == "Rash / Stevens-Johnson syndrome"


def test_all_options_read_as_words_not_generated_plurals() -> None:
    for field in labels.FIELDS:
        text = labels.all_label(field)
        assert text.startswith("All ") and "(" not in text, text
    assert labels.all_label("sex") == "All sexes"
    assert labels.all_label("drug_class") == "All drug classes"


def test_an_unknown_code_reads_as_words() -> None:
    assert labels.label("effect_code", "new_code") == "New code"


def test_heat_map_ticks_are_labels() -> None:
    frame = pl.DataFrame({"drug": ["sertraline"], "effect_code": ["rash_sjs"], "rate": [0.2],
                          "rate_suppressed": [False], "numerator": [20]})
    fig = charts.heat_map(frame, "drug", "effect_code", "rate", "t")
    assert list(fig.data[0].x) == ["Rash / Stevens-Johnson syndrome"]
    assert list(fig.data[0].y) == ["Sertraline"]
    assert fig.layout.xaxis.title.text == "Side effect"


def test_heat_map_scale_comes_from_the_data() -> None:
    # shares 5% and 20%: a sequential scale from 0 to the largest share, 20%
    assert charts.colour_scale([0.05, 0.2]) == {"colorscale": "Blues", "zmin": 0, "zmax": 0.2}
    # changes -10% and +25%: symmetric about 0 at the largest size of change, 25%
    scale = charts.colour_scale([-0.1, 0.25])
    assert (scale["zmin"], scale["zmid"], scale["zmax"]) == (-0.25, 0, 0.25)


def test_sankey_has_a_column_per_line_of_therapy() -> None:
    # 40 patients go line 1 -> line 2 antidepressant -> antipsychotic, 20 of them on to a line 3
    flows = pl.DataFrame({"source": ["Line 1: Antidepressant", "Line 2: Antipsychotic"],
                          "target": ["Line 2: Antipsychotic", "Line 3: Mood stabiliser"],
                          "patients": [40, 20]})
    node = charts.pathway_sankey(flows, "t").data[0].node
    assert len(set(node.x)) == 3
    by_label = dict(zip(node.label, node.x, strict=True))
    assert by_label["Line 1: Antidepressant"] < by_label["Line 2: Antipsychotic"] < by_label["Line 3: Mood stabiliser"]


@pytest.mark.slow
def test_sidebar_options_show_no_code_and_no_generated_plural(monkeypatch, warehouse_path) -> None:
    monkeypatch.setenv("OUTCOMES_DB", str(warehouse_path))
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    assert not at.exception
    for box in at.sidebar.selectbox:
        if box.label in ("Site", "Clinician"):  # the clinic's own identifiers, shown as they are
            continue
        for option in box.options:
            assert not re.search(r"\(\w+s\)|classe\b|_", option), (box.label, option)
