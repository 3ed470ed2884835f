"""`outcomes compare --adjust ...` as a user runs it, and small-cell handling of the adjusted
outputs (queries.adjusted): balance first, then the effect, the E-value and the caveat."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cli.main import main
from queries.adjusted import histogram


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _pick_two_drugs(warehouse_path) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    import duckdb

    con = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        rows = con.sql(
            "select drug from marts.fct_episode_outcomes where is_default_preset and is_eligible "
            "and instrument = 'PHQ-9' group by drug order by count(*) desc, drug limit 2").fetchall()
    finally:
        con.close()
    if len(rows) < 2:
        pytest.skip("the session warehouse has fewer than two drugs with eligible episodes")
    return rows[0][0], rows[1][0]


@pytest.mark.parametrize("method", ["weighting", "matching"])
def test_balance_is_printed_before_the_effect(warehouse_path, capsys, method) -> None:  # type: ignore[no-untyped-def]
    a, b = _pick_two_drugs(warehouse_path)
    code, out, err = run_cli(capsys, "compare", "response", "--a", f"drug={a}", "--b", f"drug={b}",
                             "--adjust", method, "--db", str(warehouse_path))
    assert code == 0, err
    order = [out.index(s) for s in ("Step 1.", "SMD before", "Overlap of propensity scores",
                                    "Step 2. The effect", "E-value", "What this cannot prove",
                                    "Unadjusted (crude) comparison")]
    assert order == sorted(order)
    assert ("Balance reached" in out) != ("WARNING: the adjustment did not make" in out)


def test_json_records_method_covariates_and_diagnostics(warehouse_path, capsys) -> None:  # type: ignore[no-untyped-def]
    a, b = _pick_two_drugs(warehouse_path)
    code, out, _ = run_cli(capsys, "compare", "response", "--a", f"drug={a}", "--b", f"drug={b}",
                           "--adjust", "weighting", "--trim", "1", "--format", "json",
                           "--db", str(warehouse_path))
    assert code == 0
    record = json.loads(out)
    assert record["adjustment_method"] == "weighting"
    p = record["propensity"]
    assert p["method"] == "weighting" and p["estimand"] == "ATE" and p["trim_percentile"] == 1
    assert {"age", "sex", "baseline score", "diagnosis group", "site", "start year"} <= set(p["covariates"])
    assert {"smd_before", "smd_after"} <= set(p["balance"][0])
    assert set(p["effective_sample_size"]) == {"a", "b"}
    assert p["balanced_and_overlapping"] == (p["warnings"] == [])


def test_baseline_severity_still_means_stratified(warehouse_path, capsys) -> None:  # type: ignore[no-untyped-def]
    a, b = _pick_two_drugs(warehouse_path)
    outputs = []
    for name in ("baseline_severity", "stratified"):
        code, out, _ = run_cli(capsys, "compare", "response", "--a", f"drug={a}", "--b", f"drug={b}",
                               "--adjust", name, "--db", str(warehouse_path))
        assert code == 0
        outputs.append(out)
    assert outputs[0] == outputs[1]
    assert "Adjusted difference" in outputs[0]


def test_a_bad_trim_is_a_usage_error(warehouse_path, capsys) -> None:  # type: ignore[no-untyped-def]
    code, _, err = run_cli(capsys, "compare", "response", "--a", "drug=x", "--b", "drug=y",
                           "--adjust", "weighting", "--trim", "60", "--db", str(warehouse_path))
    assert code == 2 and "--trim" in err and "Traceback" not in err


def test_histogram_hides_bins_of_1_to_10_and_a_complementary_bin() -> None:
    # Group A: 3 scores in [0.10, 0.15), 40 in [0.50, 0.55), 20 in [0.90, 0.95). n = 63 is
    # published, so hiding only the 3 would leave it recoverable (63 - 40 - 20): the next
    # smallest bin (20) is hidden too. Group B: 50 scores in [0.50, 0.55), nothing hidden.
    scores = np.array([0.12] * 3 + [0.52] * 40 + [0.92] * 20 + [0.52] * 50)
    treated = np.array([True] * 63 + [False] * 50)
    frame = histogram(scores, treated, min_cell=11)
    a, b = frame.row(0, named=True), frame.row(1, named=True)
    assert a["n"] == 63 and a["0.10-0.15"] is None and a["0.90-0.95"] is None
    assert a["0.50-0.55"] == 40 and a["0.00-0.05"] == 0
    assert b["0.50-0.55"] == 50 and b["n"] == 50


@pytest.mark.parametrize("metric", ["persistence", "time_to_response"])
def test_time_to_event_gets_a_weighted_hazard_ratio_after_balance(warehouse_path, capsys, metric) -> None:  # type: ignore[no-untyped-def]
    a, b = _pick_two_drugs(warehouse_path)
    code, out, err = run_cli(capsys, "compare", metric, "--a", f"drug={a}", "--b", f"drug={b}",
                             "--adjust", "weighting", "--db", str(warehouse_path))
    assert code == 0, err
    assert out.index("Step 1.") < out.index("Hazard ratio") < out.index("What this cannot prove")
    assert "weighted Kaplan-Meier" in out
    code, out, _ = run_cli(capsys, "compare", metric, "--a", f"drug={a}", "--b", f"drug={b}",
                           "--adjust", "matching", "--format", "json", "--db", str(warehouse_path))
    record = json.loads(out)["propensity"]
    hr = record["hazard_ratio"]
    assert hr["low"] < hr["value"] < hr["high"]
    for share in record["not_yet_event_share"]:
        assert all(v is None or 0 <= v <= 1 for v in (share["a"], share["b"]))


def test_matched_rates_that_would_reveal_a_small_event_count_are_withheld_at_the_source() -> None:
    """With 40 matched pairs, a matched risk of 0.20 is 8 events: a count of 1-10 that the rate
    and the pair count together would publish. The rule lives in queries.adjusted, so the CLI,
    the Compare page, the CSV and the pack all withhold the rates (by hand: 0.20 * 40 = 8;
    0.50 * 40 = 20 and 0.30 * 40 = 12, so that pair may be shown; 0.80 * 40 = 32 events leaves
    8 non-events, hidden too)."""
    from types import SimpleNamespace

    from queries.adjusted import reveals_small_event_count

    def matched(pairs: int, risk_a: float, risk_b: float) -> SimpleNamespace:
        return SimpleNamespace(method="matching", matched_pairs=pairs,
                               risks=SimpleNamespace(risk_a=risk_a, risk_b=risk_b))

    assert reveals_small_event_count(matched(40, 0.20, 0.50), 11)  # type: ignore[arg-type]
    assert not reveals_small_event_count(matched(40, 0.50, 0.30), 11)  # type: ignore[arg-type]
    assert reveals_small_event_count(matched(40, 0.50, 0.80), 11)  # type: ignore[arg-type]
    assert not reveals_small_event_count(matched(40, 0.20, 0.50), 0)  # type: ignore[arg-type]  # min_cell 0: exact
