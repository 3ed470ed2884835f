"""The extract contract is internally consistent."""

from pipelines.contract import INSTRUMENT_RANGES, TABLE_ORDER, TABLES


def test_every_table_is_in_load_order_once():
    assert sorted(TABLE_ORDER) == sorted(TABLES)


def test_references_point_at_tables_loaded_earlier():
    for name, table in TABLES.items():
        for column, target in table.references.items():
            assert column in table.column_names
            assert TABLE_ORDER.index(target) < TABLE_ORDER.index(name)


def test_primary_keys_are_required_columns():
    for table in TABLES.values():
        for key in table.primary_key:
            assert key in table.required_columns


def test_phq9_range_is_0_to_27():
    assert INSTRUMENT_RANGES["PHQ-9"] == (0, 27)
