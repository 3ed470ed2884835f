"""The CSV of an adjusted comparison (report/adjusted_export.py, docs/exports.md): read back with
``comment_prefix="#"`` it is the balance table with numeric SMD columns, and its stamp records
the method, the covariates, the diagnostics and the effect; hidden counts stay hidden."""

from __future__ import annotations

import io
import json
from types import SimpleNamespace

import polars as pl
import pytest

from queries.compare import compare
from report.adjusted_export import adjusted_csv, effective_sizes
from stats import suppression


def _stamp(text: str) -> dict[str, str]:
    return dict(line[2:].split(": ", 1) for line in text.splitlines() if line.startswith("# "))


@pytest.fixture()
def weighted(warehouse):  # type: ignore[no-untyped-def]
    c = compare(warehouse, "response", {"drug": "sertraline"}, {"drug": "escitalopram"},
                adjust="weighting")
    if c.propensity is None:
        pytest.skip(f"no adjusted estimate on this warehouse: {c.adjusted_note or c.notes}")
    return c


def test_csv_reads_back_with_numeric_smds_and_a_stamp_naming_method_and_covariates(weighted) -> None:  # type: ignore[no-untyped-def]
    text = adjusted_csv(weighted, filters="all patients", period="all data", data_as_of="2025-12-31")
    frame = pl.read_csv(io.StringIO(text), comment_prefix="#")
    assert frame.schema["SMD before"] == pl.Float64 and frame.schema["SMD after"] == pl.Float64
    # one row per covariate (level), as in the love plot
    assert frame.height == weighted.propensity.balance.height
    stamp = _stamp(text)
    assert "weighting" in stamp["adjustment_method"] and stamp["estimand"] == "ATE"
    for covariate in ("age", "baseline score", "sex", "diagnosis group", "site", "start year"):
        assert covariate in stamp["covariates"].split(", ")
    assert stamp["metric"] == "response" and stamp["groups"] == "A = sertraline; B = escitalopram"
    assert stamp["balance_verdict"].startswith(("balanced", "NOT balanced"))
    effect = json.loads(stamp["effect"])
    rd = effect["risk_difference"]
    assert rd["low"] <= rd["value"] <= rd["high"]
    assert effect["risk_a"] - effect["risk_b"] == pytest.approx(rd["value"])
    assert json.loads(stamp["e_value"])["estimate"] >= 1


def test_hidden_smds_are_empty_with_the_reason_beside_them(weighted) -> None:  # type: ignore[no-untyped-def]
    text = adjusted_csv(weighted, filters="all", period="all", data_as_of=None)
    frame = pl.read_csv(io.StringIO(text), comment_prefix="#")
    hidden = weighted.propensity.balance.filter(pl.col("smd_after_suppressed"))
    if hidden.is_empty():
        pytest.skip("no covariate level small enough to hide here")
    rows = frame.filter(pl.col("SMD after").is_null())
    assert rows.height == hidden.height
    assert set(rows["SMD after (hidden)"].to_list()) <= {"<11", "suppressed"}


def test_episode_counts_in_the_stamp_never_show_1_to_10(weighted) -> None:  # type: ignore[no-untyped-def]
    episodes = json.loads(_stamp(adjusted_csv(weighted, filters="", period="", data_as_of=None))["episodes"])
    for value in episodes.values():
        assert value in ("<11", "suppressed") or value == 0 or value >= 11


def _result(used_a: int | None, ess_a: float, ess_b: float) -> SimpleNamespace:
    frame = pl.DataFrame({c: [v] for c, v in {
        "n_a": 40, "trimmed_a": 0, "used_a": 40, "unmatched_a": 0,
        "n_b": 60, "trimmed_b": 0, "used_b": 60, "unmatched_b": 0}.items()})
    if used_a is None:  # as suppression leaves a hidden count: null with its flag
        frame = frame.with_columns(pl.lit(None, pl.Int64).alias("used_a"),
                                   used_a_suppressed=pl.lit(True))
    return SimpleNamespace(counts=frame, min_cell=11,
                           analysis=SimpleNamespace(ess_a=ess_a, ess_b=ess_b))


def test_effective_sample_size_is_hidden_when_it_would_bound_a_small_count() -> None:
    # 40 episodes of A weigh like 32.5; of B, 60 weigh like 7.2 (below 11: it says B's
    # weighted information is tiny, and an ESS can equal a count), so B's is hidden.
    assert effective_sizes(_result(40, 32.5, 7.2)) == {"a": 32.5, "b": suppression.SUPPRESSED_WORD}
    # A's used count hidden: its ESS (at most that count) is hidden with it
    assert effective_sizes(_result(None, 9.0, 50.0))["a"] == suppression.SUPPRESSED_WORD


def test_matched_effect_that_would_reveal_1_to_10_events_is_suppressed_in_the_stamp() -> None:
    from test_report_comparisons import _matched

    from report.adjusted_export import record

    # 40 matched pairs at 20% are 8 events of A: the risks would reveal them
    lines = record(_matched(40, 0.20, 0.50).propensity)
    assert lines["effect"].startswith("suppressed") and lines["e_value"].startswith("suppressed")
    shown = json.loads(record(_matched(40, 0.50, 0.30).propensity)["effect"])
    assert shown["risk_a"] == 0.5 and shown["risk_b"] == 0.3
