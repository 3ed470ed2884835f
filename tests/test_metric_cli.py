"""`outcomes metric`, `outcomes metrics --list` and `outcomes compare` as a user runs them."""

from __future__ import annotations

import json

import pytest

from cli.main import main


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_table_has_intervals_attrition_and_a_suppression_footer(warehouse_path, capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run_cli(capsys, "metric", "response", "--db", str(warehouse_path), "--by", "drug_class")
    assert code == 0
    assert "rate (95% CI)" in out and "without baseline" in out
    assert "Suppression: <11 = a count of 1-10" in out
    assert "Definition:" in out


def test_small_counts_are_marked_and_absent_from_json(warehouse_path, capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run_cli(capsys, "metric", "episodes", "--db", str(warehouse_path), "--by", "drug")
    assert code == 0
    code, out_json, err = run_cli(
        capsys, "metric", "episodes", "--db", str(warehouse_path), "--by", "drug", "--format", "json"
    )
    rows = json.loads(out_json)  # JSON alone on stdout; the footer went to stderr
    assert "Suppression" in err
    for row in rows:
        if row["episodes_suppressed"]:
            assert row["episodes"] is None
        else:
            assert row["episodes"] == 0 or row["episodes"] >= 11
    if any(r["episodes_suppressed"] for r in rows):
        assert "<11" in out


def test_min_cell_zero_turns_suppression_off_and_says_so(warehouse_path, capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run_cli(capsys, "metric", "episodes", "--db", str(warehouse_path), "--min-cell", "0",
                             "--format", "json")
    assert code == 0
    assert "SUPPRESSION OFF" in err and "lowered" in err
    assert json.loads(out)[0]["episodes_suppressed"] is False


def test_json_rows_carry_numerator_denominator_rate_and_interval(warehouse_path, capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run_cli(capsys, "metric", "response", "--db", str(warehouse_path), "--min-cell", "0",
                           "--format", "json")
    assert code == 0
    row = json.loads(out)[0]
    assert {"numerator", "denominator", "rate", "ci_low", "ci_high"} <= set(row)
    if row["denominator"]:
        assert row["ci_low"] <= row["rate"] <= row["ci_high"]


def test_csv_has_a_header_and_suppression_flags(warehouse_path, capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run_cli(capsys, "metric", "response", "--db", str(warehouse_path), "--format", "csv")
    header = next(line for line in out.splitlines() if not line.startswith("#")).split(",")
    assert code == 0 and "numerator" in header and "numerator_suppressed" in header
    # the stamp (docs/exports.md) names the metric, the threshold and the data's last day
    stamp = dict(line[2:].split(": ", 1) for line in out.splitlines() if line.startswith("# "))
    assert stamp["metric"] == "response" and stamp["suppression_threshold"] == "counts below 11 hidden"
    assert stamp["data_as_of"][:4].isdigit()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("metric", "responze"), "unknown metric 'responze'"),
        (("metric", "response", "--by", "colour"), "unknown dimension colour"),
        (("metric", "response", "--where", "colour=red"), "unknown key 'colour'"),
        (("metric", "load_history", "--by", "drug_class"), "cannot be grouped by drug_class"),
        (("metric", "response", "--set", "grace=3"), "has no definition parameter grace"),
        (("compare", "response", "--a", "drug=x", "--b", "colour=y"), "unknown key 'colour'"),
        (("compare", "persistence", "--a", "drug=x", "--b", "drug=y"), "compare works on rate metrics"),
    ],
)
def test_bad_input_exits_2_with_a_clear_message(warehouse_path, capsys, argv, message) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run_cli(capsys, *argv, "--db", str(warehouse_path))
    assert code == 2
    assert message in err
    assert out == ""


def test_missing_database_exits_2(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    code, _, err = run_cli(capsys, "metric", "response", "--db", str(tmp_path / "nope.duckdb"))
    assert code == 2 and "no such warehouse" in err


def test_metrics_list_gives_every_metric_with_its_definition(capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run_cli(capsys, "metrics", "--list", "--format", "json")
    listed = {m["name"]: m for m in json.loads(out)}
    assert code == 0 and "response" in listed
    assert "2 * follow-up <= baseline" in listed["response"]["definition"]


def test_compare_prints_a_plain_words_sentence_first(warehouse_path, capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run_cli(capsys, "compare", "response", "--a", "drug_class=antidepressant",
                           "--b", "drug_class=antipsychotic", "--db", str(warehouse_path), "--min-cell", "0")
    assert code == 0
    first = out.splitlines()[0]
    assert first.startswith("Response rate: antidepressant")
    assert "Observational data" in out


def test_pcl5_remission_says_not_defined_with_the_reason_and_no_rate(warehouse_path, capsys) -> None:  # type: ignore[no-untyped-def]
    # PCL-5 has no standard remission cut-off (DOMAIN 2): no rate, a reason, never 0%
    code, out, _ = run_cli(capsys, "metric", "remission", "--db", str(warehouse_path),
                           "--instrument", "PCL-5")
    assert code == 0
    assert "NOT DEFINED: no standard remission cut-off for PCL-5" in out
    assert "0.0%" not in out
    code, out_json, _ = run_cli(capsys, "metric", "remission", "--db", str(warehouse_path),
                                "--instrument", "PCL-5", "--format", "json")
    (row,) = json.loads(out_json)
    assert row["rate"] is None and row["not_defined_reason"].startswith("no standard remission")
