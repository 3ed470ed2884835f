"""How much each dashboard page hides on the sample clinic, with cell-key perturbation (now) and
with the per-view complementary suppression that preceded it (before). Prints a table; asserts
nothing.

    python benchmarks/bench_suppression.py                          # ingest sample_data/, measure
    python benchmarks/bench_suppression.py --db build/outcomes.duckdb

A "cell" is one published figure: every count, rate, interval, mean or estimate column of every
row the page's metrics return at the dashboard defaults (no sidebar filter), dimension columns
excluded. It is hidden when its ``<col>_suppressed`` flag is true. The page list mirrors the
``components.load`` / ``try_metric`` calls of ``dashboard/views/*.py``; the Compare page
defaults to its two largest drugs, so its row for it is the response row of each (the headline
numerator and denominator are reported separately). Counts that do not come from a metric are
added where their page shows them (``queries.published_counts``): the worklist counts of My
patients (as leadership sees them) and of the Clinicians page, and the data-quality tables of
Data & loads (before: exact with 1-10 hidden; after: as leadership sees them).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import duckdb
import polars as pl

import queries
from stats.suppression import is_flag_column

REPO = Path(__file__).resolve().parents[1]

#: page -> (metric, by, definition overrides) as the views load them at their defaults
PAGES: dict[str, list[tuple[str, tuple[str, ...], dict]]] = {
    "Overview": [("response", ("drug_class",), {}), ("side_effects", ("drug_class",), {}),
                 ("remission", ("drug_class",), {}), ("adherence", ("drug_class",), {}),
                 ("persistence", ("drug_class",), {})],
    "Response & remission": [("response", ("drug_class",), {}), ("remission", ("drug_class",), {}),
                             ("score_trajectory", (), {}), ("time_to_response", ("drug_class",), {}),
                             ("response", ("adherence_band",), {})],
    "Side effects": [("side_effects", ("drug_class",), {}), ("side_effect_heatmap", (), {}),
                     ("side_effect_severity", (), {}), ("side_effect_actions", (), {}),
                     ("weight_change_12w", ("drug",), {}), ("metabolic_monitoring", ("drug_class",), {})],
    "Adherence & persistence": [("adherence", ("drug_class",), {"level": "class"}),
                                ("adherence", ("drug_class", "adherence_band"), {"level": "class"}),
                                ("adherence", ("drug",), {"level": "ingredient"}),
                                ("persistence", ("drug_class",), {}), ("episodes", ("drug_class",), {})],
    "Compare regimens": [("response", ("drug",), {}), ("remission", ("drug",), {}),
                         ("side_effects", ("drug",), {}), ("adherence", ("drug",), {"level": "ingredient"}),
                         ("persistence", ("drug",), {})],
    "Treatment pathways": [("pathway_transitions", (), {}), ("pathways", (), {})],
    "Clinicians": [("response", (), {}), ("response", ("clinician_id",), {}),
                   ("remission", (), {}), ("remission", ("clinician_id",), {})],
    "Data & loads": [("mbc_coverage", ("drug_class",), {})],
}

#: Data-quality tables of the Data & loads page (``queries.published_counts``).
DATA_QUALITY = ("load_history", "rejects_by_reason", "unmapped_drugs", "quarantined_values",
                "scale_completeness", "audit_results")


def hidden_share(frame: pl.DataFrame, by: tuple[str, ...]) -> tuple[int, int]:
    """(hidden cells, cells) over the published columns of a suppressed frame."""
    columns = [c for c in frame.columns if not is_flag_column(c) and c not in by]
    total = hidden = 0
    for col in columns:
        flag = f"{col}_suppressed"
        total += frame.height
        if flag in frame.columns:
            hidden += int(frame.get_column(flag).fill_null(False).sum())
    return hidden, total


def measure(con: duckdb.DuckDBPyConnection) -> list[tuple[str, int, int, int, int]]:
    rows = []
    for page, loads in PAGES.items():
        before = after = cells = 0
        for name, by, overrides in loads:
            if name not in queries.catalog():
                continue
            for perturb in (False, True):
                frame = queries.metric(con, name, by=by, perturb=perturb, **overrides).frame
                hidden, total = hidden_share(frame, by)
                if perturb:
                    after += hidden
                    cells += total
                else:
                    before += hidden
        if page in EXTRA:
            for extra_before, extra_after, extra_cells in EXTRA[page](con):
                before, after, cells = before + extra_before, after + extra_after, cells + extra_cells
        rows.append((page, cells, before, after, len(loads)))
    if "My patients" not in PAGES:
        before, after, cells = (sum(x) for x in zip(*EXTRA["My patients"](con), strict=True))
        rows.append(("My patients (leadership)", cells, before, after, 0))
    return rows


def _worklist_pages(con: duckdb.DuckDBPyConnection, by_clinician: bool) -> list[tuple[int, int, int]]:
    """Worklist counts: before = exact counts with per-view suppression (complementary cells
    along the clinician margin), after = ``queries.published_counts`` (perturbed)."""
    from queries import published_counts
    from queries.worklist import WORKLISTS
    from stats.suppression import SuppressionSpec, suppress

    if by_clinician:
        exact = published_counts.worklist_counts_by_clinician(con, 0)
        after = published_counts.worklist_counts_by_clinician(con, 11)
        counts, labels = tuple(WORKLISTS), ("clinician_id",)
    else:
        exact = published_counts.worklist_counts(con, 0)
        after = published_counts.worklist_counts(con, 11)
        counts, labels = (published_counts.PATIENTS,), ("worklist",)
    exact = exact.select(*labels, *counts)
    before = suppress(exact, SuppressionSpec(counts=counts, margins=labels if by_clinician else ()), 11)
    hidden_before, cells = hidden_share(before, labels)
    hidden_after, _ = hidden_share(after.select(*labels, *counts, *[f"{c}_suppressed" for c in counts]), labels)
    return [(hidden_before, hidden_after, cells)]


def _data_quality(con: duckdb.DuckDBPyConnection) -> list[tuple[int, int, int]]:
    """Data-quality tables: before = exact counts, 1-10 hidden (what every role saw, and what the
    analyst still sees), after = what leadership sees at the dashboard default."""
    from queries.published_counts import data_quality_table

    out = []
    for name in DATA_QUALITY:
        try:
            raw = queries.run(con, name)
        except duckdb.CatalogException:
            continue
        exact, formats = data_quality_table(con, name, raw, 11, exact=True)
        shown, _ = data_quality_table(con, name, raw, 11, exact=False)
        labels = tuple(c for c in raw.columns if formats.get(c) not in ("count", "pct1"))
        hidden_before, cells = hidden_share(exact, labels)
        hidden_after, _ = hidden_share(shown, labels)
        out.append((hidden_before, hidden_after, cells))
    return out


#: Pages (or parts of pages) whose counts do not come from ``queries.metric``.
EXTRA = {
    "Clinicians": lambda con: _worklist_pages(con, by_clinician=True),
    "Data & loads": _data_quality,
    "My patients": lambda con: _worklist_pages(con, by_clinician=False),
}


def compare_headline(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The Compare page's default: the two drugs with most episodes, response headline."""
    lines = []
    for perturb in (False, True):
        frame = queries.metric(con, "response", by="drug", perturb=perturb).frame
        exact = queries.metric(con, "response", by="drug", min_cell=0).frame
        top = exact.sort("episodes", descending=True)["drug"].head(2).to_list()
        shown = frame.filter(pl.col("drug").is_in(top)).select("drug", "numerator", "denominator")
        label = "after (perturbation)" if perturb else "before (complementary)"
        lines.append(f"  {label}: " + "; ".join(
            f"{d}: {n if n is not None else 'hidden'}/{m if m is not None else 'hidden'}"
            for d, n, m in shown.rows()))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="an existing warehouse (default: ingest sample_data/)")
    args = parser.parse_args()
    db = args.db
    if db is None:
        from pipelines.ingest import ingest

        db = Path(tempfile.mkdtemp(prefix="bench-suppression-")) / "outcomes.duckdb"
        ingest(REPO / "sample_data", db)
    con = duckdb.connect(str(db), read_only=True)
    print(f"{'page':26s} {'cells':>6s} {'hidden before':>14s} {'hidden after':>13s}")
    all_cells = all_before = all_after = 0
    for page, cells, before, after, _ in measure(con):
        all_cells, all_before, all_after = all_cells + cells, all_before + before, all_after + after
        print(f"{page:26s} {cells:6d} {before:6d} ({before / cells:5.1%}) {after:5d} ({after / cells:5.1%})")
    print(f"{'all pages':26s} {all_cells:6d} {all_before:6d} ({all_before / all_cells:5.1%}) "
          f"{all_after:5d} ({all_after / all_cells:5.1%})")
    print("Compare page default (response, two largest drugs), numerator/denominator:")
    print("\n".join(compare_headline(con)))


if __name__ == "__main__":
    main()
