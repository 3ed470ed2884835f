"""Dump every metric at default settings on an extract to JSON, to diff numbers across changes.

``python3 scripts/dump_metrics.py sample_data OUT.json`` builds a warehouse from the extract into
a temporary folder with the real pipeline, then writes, for each metric of the catalogue, its
aggregated frame with suppression off (``min_cell=0``, exact counts), ungrouped. The outcome
metrics that take an instrument are dumped for every outcome instrument. Compare two dumps with
``python3 scripts/dump_metrics.py --diff A.json B.json``.
"""

from __future__ import annotations

import json
import math
import sys
import tempfile
from pathlib import Path

import duckdb

import queries
from pipelines.definitions import OUTCOME_INSTRUMENTS
from pipelines.ingest import ingest
from queries.engine import dimensions_of

#: groupings dumped besides the total: the dimensions whose definitions this branch touches
BY = ("age_band", "adherence_band", "drug_class")


def _clean(value):  # type: ignore[no-untyped-def]
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 12)
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def dump(extract: Path) -> dict[str, object]:
    out: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "outcomes.duckdb"
        summary = ingest(extract, db)
        assert summary.status == "ok", summary
        con = duckdb.connect(str(db), read_only=True)
        for name, query in queries.catalog().items():
            if query.domain == "data_quality":
                continue  # load times and paths differ from build to build
            variants: list[dict[str, str]] = [{}]
            if "instrument" in query.params:
                variants = [{"instrument": i} for i in OUTCOME_INSTRUMENTS]
            dims = dimensions_of(query)
            groupings = [()] + [(d,) for d in BY if d in dims]
            for filters in variants:
                for by in groupings:
                    key = name + (f"[{filters['instrument']}]" if filters else "")
                    key += f" by {by[0]}" if by else ""
                    try:
                        result = queries.metric(con, name, by=by, filters=filters, min_cell=0)
                        rows = result.frame.to_dicts()
                    except Exception as exc:  # recorded; the dump goes on
                        rows = [{"error": f"{type(exc).__name__}: {exc}"}]
                    out[key] = _clean(rows)
        # every mart: row count and an order-free checksum of its rows
        for (table,) in con.sql("select table_name from information_schema.tables "
                                "where table_schema = 'marts' order by 1").fetchall():
            out[f"marts.{table}"] = list(con.sql(
                f"select count(*), sum(hash(t))::varchar from marts.{table} as t"  # noqa: S608
            ).fetchall()[0])
        con.close()
    return out


def diff(a: dict, b: dict) -> list[str]:  # type: ignore[type-arg]
    lines = []
    for key in sorted(set(a) | set(b)):
        if key not in a or key not in b:
            lines.append(f"{key}: only in {'after' if key not in a else 'before'}")
        elif a[key] != b[key]:
            lines.append(f"{key}:\n  before {a[key]}\n  after  {b[key]}")
    return lines


def main(argv: list[str]) -> int:
    if argv[:1] == ["--diff"]:
        before, after = (json.loads(Path(p).read_text()) for p in argv[1:3])
        lines = diff(before, after)
        print("\n".join(lines) if lines else "no differences")
        return 1 if lines else 0
    extract, target = Path(argv[0]), Path(argv[1])
    target.write_text(json.dumps(dump(extract), indent=1, sort_keys=True, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
