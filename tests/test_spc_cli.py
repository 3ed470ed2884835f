"""``outcomes spc`` and ``outcomes funnel`` on CSV files: answers and refusals (exit code 2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli.main import main

FIXTURES = Path(__file__).parent / "fixtures" / "spc"


def _write(tmp_path: Path, text: str, name: str = "series.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_spc_json_holds_points_summary_and_signals(capsys):
    code = main(
        ["spc", "--input", str(FIXTURES / "remission_monthly.csv"), "--chart", "p", "--part", "8",
         "--format", "json"]
    )
    assert code == 0
    payload = json.loads(capsys.readouterr().out)
    assert len(payload["points"]) == 12
    first = payload["points"][0]
    assert {"x", "y", "n", "cl", "lcl", "ucl", "lcl_95", "ucl_95", "sigma_signal", "runs_signal"} <= set(first)
    # part 1: 180 events of 657 patients
    assert first["cl"] == pytest.approx(180 / 657)
    assert [row["part"] for row in payload["summary"]] == [1, 2]
    assert "aUCL.95" in payload["summary"][0]


def test_spc_freeze_with_part_draws_the_chart_as_qicharts2(capsys):
    """--freeze 6 with --part 8: qicharts2 ignores the freeze and draws each part on its own
    points, so part 1 is 180/657 (not the first six months' 137/496) and part 2 is 133/341;
    the output says the freeze was ignored."""
    code = main(["spc", "--input", str(FIXTURES / "remission_monthly.csv"), "--chart", "p",
                 "--freeze", "6", "--part", "8", "--format", "json"])
    assert code == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["options"]["freeze_ignored_with_part"] is True
    assert [row["CL"] for row in payload["summary"]] == pytest.approx([180 / 657, 133 / 341])
    assert any("freeze) was ignored" in sentence for sentence in payload["explanations"])


def test_spc_table_is_readable(capsys):
    assert main(["spc", "--input", str(FIXTURES / "remission_monthly.csv"), "--chart", "run"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("run chart") and "longest.run.max" in out and "2024-12" in out


@pytest.mark.parametrize(
    ("text", "chart", "message"),
    [
        ("x,y\n1,2\n2,3\n", "p", "missing column(s) n"),
        ("x,n\n1,2\n2,3\n", "i", "missing column(s) y"),
        ("x,y\n1,2\n2,abc\n3,4\n", "i", "line 3, column y: 'abc' is not a number"),
        ("x,y\n1,2\n2,\n", "i", "line 3, column y: an empty cell is not a number"),
        ("x,y,n\n1,2,10\n2,3,0\n", "p", "line 3, column n: must be > 0"),
        ("x,y,n\n1,2,10\n2,3,-4\n", "u", "line 3, column n: must be > 0"),
        ("x,y,n\n1,12,10\n2,3,10\n", "p", "line 2, column y: 12 events is more than n = 10"),
        ("x,y\n1,2\n", "run", "at least 2 data rows, found 1"),
        ("x,y\n1,2\n1,3\n", "run", "line 3, column x: '1' repeats line 2"),
        ("", "run", "missing column(s) x, y; found columns: none (empty file)"),
    ],
)
def test_spc_refuses_malformed_csv(tmp_path, capsys, text, chart, message):
    path = _write(tmp_path, text)
    assert main(["spc", "--input", str(path), "--chart", chart]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert str(path) in captured.err and message in captured.err
    assert "Traceback" not in captured.err and len(captured.err.strip().splitlines()) == 1


def test_spc_refuses_unreadable_file_and_bad_options(tmp_path, capsys):
    assert main(["spc", "--input", str(tmp_path / "nope.csv")]) == 2
    assert "cannot read the file" in capsys.readouterr().err
    path = _write(tmp_path, "x,y\n1,2\n2,3\n3,4\n")
    assert main(["spc", "--input", str(path), "--chart", "i", "--part", "a,b"]) == 2
    assert "--part: expected whole numbers" in capsys.readouterr().err
    assert main(["spc", "--input", str(path), "--chart", "i", "--exclude", "9"]) == 2
    assert "exclude: position 9 is outside 1..3" in capsys.readouterr().err
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"x,y\n\xff\xfe\x00,1\n")
    assert main(["spc", "--input", str(binary)]) == 2
    assert "not a UTF-8 text file" in capsys.readouterr().err


def test_funnel_json_and_table(capsys):
    assert main(["funnel", "--input", str(FIXTURES / "funnel_units.csv"), "--format", "json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["target"] == pytest.approx(105 / 460)
    assert {u["unit"]: u["flag"] for u in payload["units"]}["D"] == "insufficient data"
    assert main(["funnel", "--input", str(FIXTURES / "funnel_units.csv"), "--method", "normal",
                 "--overdispersion"]) == 0
    assert "Overdispersion: phi" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("unit,n\nA,10\nB,20\n", "missing column(s) events"),
        ("unit,events,n\nA,5,10\nB,x,20\n", "line 3, column events: 'x' is not a number"),
        ("unit,events,n\nA,5,10\nB,2,0\n", "line 3, column n: must be > 0"),
        ("unit,events,n\nA,5,10\nB,30,20\n", "line 3, column events: must be between 0 and n = 20"),
        ("unit,events,n\nA,5,10\n", "at least 2 units, found 1"),
    ],
)
def test_funnel_refuses_malformed_csv(tmp_path, capsys, text, message):
    path = _write(tmp_path, text, "units.csv")
    assert main(["funnel", "--input", str(path)]) == 2
    captured = capsys.readouterr()
    assert message in captured.err and captured.out == ""
