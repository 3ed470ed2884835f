"""A header column in one word (pipelines/column_kinds.py): a SQL type, or a display format that
implies its type. The expected specs are written out here as the module's docstring defines them."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.audits import parse_header
from pipelines.column_kinds import column_spec, expand_columns
from pipelines.query_files import parse_file


@pytest.mark.parametrize(("word", "written_out"), [
    ("varchar", {"type": "varchar"}),
    ("date", {"type": "date"}),
    ("boolean", {"type": "boolean"}),
    # units counted (patients, episodes) are whole numbers shown as counts, and are suppressed
    ("count", {"type": "bigint", "fmt": "count"}),
    # source records: whole numbers too, never suppressed
    ("rows", {"type": "bigint", "fmt": "rows"}),
    # a share, a value with one decimal and a number of days are doubles
    ("pct1", {"type": "double", "fmt": "pct1"}),
    ("num1", {"type": "double", "fmt": "num1"}),
    ("days", {"type": "double", "fmt": "days"}),
])
def test_one_word_stands_for_its_spec(word: str, written_out: dict[str, str]) -> None:
    assert column_spec(word) == written_out


def test_a_written_out_spec_is_kept_as_it_is() -> None:
    spec = {"type": "bigint", "fmt": "days", "description": "whole days"}
    assert column_spec(spec) is spec


def test_an_unknown_word_names_the_file_and_the_column() -> None:
    with pytest.raises(ValueError, match=r"m\.sql: column 'scores' has spec 'cnt'"):
        expand_columns({"scores": "cnt"}, "m.sql")


def test_a_model_header_reads_written_out(tmp_path: Path) -> None:
    text = ("/* ---\nname: m\ncolumns:\n  episode_id: varchar\n  visits: count\n"
            "  pdc: {type: double, range: [0, 1]}\n--- */\nselect 1\n")
    header = parse_header(tmp_path / "m.sql", text)
    assert header["columns"] == {"episode_id": {"type": "varchar"},
                                 "visits": {"type": "bigint", "fmt": "count"},
                                 "pdc": {"type": "double", "range": [0, 1]}}


def test_a_variant_adds_to_the_written_out_spec_of_a_one_word_column(tmp_path: Path) -> None:
    """The file says ``is_numerator: boolean``; a variant adds a description: the column keeps
    its type (the one word is written out before the variant's entry is merged)."""
    folder = tmp_path / "measures"
    folder.mkdir()
    path = folder / "m.sql"
    path.write_text(
        "/* ---\nname: m\ntitle: T $which\ndescription: d\ngrain: g\n"
        "columns:\n  unit_id: varchar\n  is_numerator: boolean\n"
        "variants:\n"
        "  m_a:\n    constants: {which: a, cut: 1}\n"
        "    columns: {is_numerator: {description: 'value >= 1'}}\n"
        "--- */\nselect 'u' as unit_id, 1 >= $cut as is_numerator\n", encoding="utf-8")
    (query,) = parse_file(path)
    assert query.columns["is_numerator"] == {"type": "boolean", "description": "value >= 1"}
    # ``which`` only fills the wording, so it is not bound; ``cut`` is used by the SQL
    assert query.title == "T a"
    assert query.constants == {"cut": 1}
