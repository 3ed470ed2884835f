"""docs/data-contract.md documents exactly the contract in pipelines/contract.py."""

import re
from pathlib import Path

from pipelines.contract import INSTRUMENT_RANGES, TABLES
from pipelines.validate import reason_messages

DOC = (Path(__file__).parent.parent / "docs" / "data-contract.md").read_text(encoding="utf-8")


def doc_columns(table: str) -> list[str]:
    section = DOC.split(f"### `{table}`", 1)[1].split("\n### ", 1)[0]
    return re.findall(r"^\| `([a-z0-9_]+)` \|", section, flags=re.M)


def test_every_table_and_column_is_documented_in_order():
    for name, table in TABLES.items():
        assert doc_columns(name) == list(table.column_names), name


def test_required_flags_match():
    for name, table in TABLES.items():
        heading = f"### `{name}` ({'required' if table.required else 'optional'})"
        assert heading in DOC


def test_allowed_values_and_instrument_ranges_are_documented():
    for table in TABLES.values():
        for column in table.columns:
            for value in column.allowed:
                assert f"`{value}`" in DOC, (table.name, column.name, value)
    for instrument, (low, high) in INSTRUMENT_RANGES.items():
        assert f"| `{instrument}` | {low}\u2013{high} |" in DOC


def test_every_reason_code_is_explained():
    codes = {code for table in TABLES.values() for _, code, _ in reason_messages(table)}
    codes |= {"duplicate_key", "duplicate_row"}
    for code in codes:
        assert f"| `{code}` |" in DOC, code
