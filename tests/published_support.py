"""The published value of a count, derived from the definition in docs/privacy.md (the tests of
counts that do not come from ``queries.metric``: worklist counts, data-quality tables)."""

from __future__ import annotations

from collections.abc import Iterable

import duckdb


def salt_of(con: duckdb.DuckDBPyConnection) -> str:
    return str(con.sql("select value from meta.cell_key where key = 'salt'").fetchall()[0][0])


def noise_of_key(key: int) -> int:
    """The perturbation table of docs/privacy.md: of the 256 cell keys, 0-37 give -2, 38-88
    give -1, 89-166 give 0, 167-217 give +1 and 218-255 give +2."""
    for bound, noise in ((38, -2), (89, -1), (167, 0), (218, 1), (256, 2)):
        if key < bound:
            return noise
    raise AssertionError(key)


def published_patients(con: duckdb.DuckDBPyConnection, patient_ids: Iterable[str],
                       min_cell: int = 11) -> int | None:
    """A count of these distinct patients as published (None = hidden): n plus the noise of the
    cell key, the sum of the patients' record keys (low 64 bits of md5(salt | '|' | patient id))
    modulo 256; 0 stays 0; hidden when n or the published value is 1 to min_cell - 1."""
    ids = sorted(set(patient_ids))
    if not ids:
        return 0
    total = con.sql("select sum(md5_number_lower($salt || '|' || p)::hugeint) "
                    "from unnest($ids::varchar[]) as t(p)",
                    params={"salt": salt_of(con), "ids": ids}).fetchall()[0][0]
    shown = max(1, len(ids) + noise_of_key(int(total) % 256))
    return None if len(ids) < min_cell or shown < min_cell else shown
