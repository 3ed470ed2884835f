"""The ``outcomes ingest`` presentation: progress bar, closing summary, --quiet, --check."""

import io
import shutil
from pathlib import Path

from cli.ingest import ProgressBar, render_summary
from cli.main import main
from pipelines.ingest import ingest

GOOD = Path(__file__).parent / "fixtures" / "ingest" / "good"
BAD_ROWS = Path(__file__).parent / "fixtures" / "ingest" / "bad_rows"


def test_progress_bar_fills_and_ends_the_line():
    stream = io.StringIO()
    bar = ProgressBar(stream)
    bar("visits", "validating", 0.5)
    bar("visits", "done", 1.0)
    lines = stream.getvalue().split("\r")
    assert "visits" in lines[1] and "[" + "#" * 14 + "-" * 14 + "]" in lines[1] and "50%" in lines[1]
    assert lines[2].startswith("visits") and "#" * 28 in lines[2] and lines[2].endswith("\n")


def test_summary_lists_rejects_with_lines_and_meaning(tmp_path):
    summary = ingest(BAD_ROWS, tmp_path / "o.duckdb", run_models=False,
                     overrides={"max_reject_share": 1})
    stream = io.StringIO()
    render_summary(summary.to_dict(), stream)
    text = stream.getvalue()
    assert "Rejected rows (all in meta.rejects)" in text
    assert "visits.csv:3" in text and "invalid_date" in text
    total_line = next(line for line in text.splitlines() if line.strip().startswith("total"))
    # 7+8+2+8+2+5+3+3 rows read; 5+7+1+7+1+4+2+2 rows rejected (one per bad row)
    assert total_line.split()[1:3] == ["38", "29"]


def test_quiet_prints_nothing(tmp_path, capsys):
    assert main(["ingest", str(GOOD), "--db", str(tmp_path / "o.duckdb"), "--quiet",
                 "--no-models"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_check_reports_without_writing(tmp_path, capsys):
    extract = tmp_path / "extract"
    shutil.copytree(BAD_ROWS, extract)
    before = sorted(p.name for p in tmp_path.rglob("*"))
    assert main(["ingest", "--check", str(extract), "--db", str(tmp_path / "o.duckdb"),
                 "--set", "max_reject_share=1"]) == 0
    assert "Checked" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.rglob("*")) == before
