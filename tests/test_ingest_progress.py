"""Progress on stderr: one line per finished table and per model (rows and time), and a bar
redrawn in place when stderr is a terminal."""

import io
import re
from pathlib import Path

from cli.ingest import Progress
from pipelines.ingest import ingest

GOOD = Path(__file__).parent / "fixtures" / "ingest" / "good"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_every_table_and_every_model_reports_its_rows(tmp_path):
    events: list[tuple[str, str, float]] = []
    summary = ingest(GOOD, tmp_path / "o.duckdb",
                     progress=lambda name, stage, fraction: events.append((name, stage, fraction)))
    done = {name: stage for name, stage, _ in events if stage.startswith("done")}
    for table in summary.tables:
        assert re.fullmatch(rf"done \({table.rows_read:,} rows read, {table.rows_rejected:,} "
                            r"rejected, \d+\.\d s\)", done[table.table])
    assert summary.models, "the models were built"
    for model, rows in summary.models.items():
        assert re.fullmatch(rf"done \({rows:,} rows, \d+\.\d s\)", done[model]), model
    model_fractions = [f for name, stage, f in events if name in summary.models
                       and stage.startswith("done")]
    assert model_fractions == sorted(model_fractions) and model_fractions[-1] == 1.0


def test_lines_only_when_not_a_terminal():
    stream = io.StringIO()
    progress = Progress(stream)
    progress("marts.fct_visits", "building model 3/40", 0.05)
    progress("marts.fct_visits", "done (1,234 rows, 0.2 s)", 0.075)
    assert stream.getvalue() == f"{'marts.fct_visits':<36} done (1,234 rows, 0.2 s)\n"


def test_a_bar_on_a_terminal_and_the_finished_line_above_it():
    stream = Terminal()
    progress = Progress(stream)
    progress("visits", "validating", 0.5)
    progress("visits", "done (4 rows read, 0 rejected, 0.1 s)", 1.0)
    text = stream.getvalue()
    assert "[" + "#" * 14 + "-" * 14 + "]" in text and "validating" in text
    assert text.endswith(f"\r{'visits':<36} done (4 rows read, 0 rejected, 0.1 s)\n")
