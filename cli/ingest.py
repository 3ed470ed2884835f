"""``outcomes ingest PATH``: validate an extract and load it into the warehouse.

Exit statuses (``EXIT_STATUSES``; the live database is untouched unless the status is 0):

- 0 loaded (or checked), possibly with rejected rows within the limits (listed in the summary
  and in ``meta.rejects``);
- 1 refused because of the data (a file-level problem: unreadable, unsafe, wrong header ...);
- 2 usage or configuration error (an option, ``outcomes.toml``, ``--db``, the extract path);
- 3 refused by a data-quality threshold (a table's rejected share over ``max_reject_share``,
  or a required table with no accepted row);
- 4 internal error (a bug: the message says what failed; ``OUTCOMES_DEBUG=1`` shows the trace).

With ``--json`` the summary (status 0) or the error document (any other status) is the only
thing printed on stdout; messages go to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any, TextIO

from cli.common import add_db_argument, error, resolve_db

EXIT_STATUSES = {
    0: "loaded (or checked), rejected rows within the limits",
    1: "refused because of the data (the database was not changed)",
    2: "usage or configuration error (the database was not changed)",
    3: "refused by a data-quality threshold (the database was not changed)",
    4: "internal error (a bug; the database was not changed)",
}
_BAR_WIDTH = 28
_MAX_LISTED = 15
_MAX_REJECT_GROUPS = 40


def register(subparsers) -> None:  # type: ignore[no-untyped-def]
    parser = subparsers.add_parser(
        "ingest", help="validate an extract folder and load it into the warehouse",
        description="Validate an extract (contract v1: docs/data-contract.md) and load it into "
                    "the DuckDB warehouse atomically. Bad rows go to meta.rejects; unsafe or "
                    "unreadable files, and tables with too many rejected rows, stop the load "
                    "and leave the database as it was.",
        epilog="exit status:\n" + "\n".join(f"  {k}  {v}" for k, v in EXIT_STATUSES.items()),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", type=Path, help="extract folder (or a source for --from)")
    add_db_argument(parser)
    parser.add_argument("--check", action="store_true",
                        help="validate and report without writing any file")
    parser.add_argument("--quiet", action="store_true", help="no progress and no summary")
    parser.add_argument("--json", action="store_true",
                        help="print the summary, or the error, as one JSON document alone "
                             "on stdout (with its exit_status)")
    parser.add_argument("--from", dest="source_kind", default="auto",
                        choices=("contract", "omop", "fhir", "synthea", "auto"),
                        help="source format (default: auto, detected from the folder)")
    parser.add_argument("--deid-mode", default=None,
                        choices=("limited_data_set", "expert_determination", "synthetic"),
                        help="record this deployment mode (default: outcomes.toml, else "
                             "synthetic when the folder has truth.json, else limited_data_set)")
    parser.add_argument("--no-models", action="store_true",
                        help="load raw/ref/meta only; do not build the SQL models")
    parser.add_argument("--no-precompute", action="store_true",
                        help="do not store the dashboard's default results in the warehouse "
                             "(meta.metric_snapshots; they make the first pages instant)")
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", dest="overrides",
        help="max_reject_share=0.05 (a table rejecting more than this share of its rows fails "
             "the load, exit 3; default 5%%, [ingest] of outcomes.toml) or a definition "
             "parameter for the model build, e.g. grace_days=45, eligibility_min.PHQ-9=12")
    parser.set_defaults(func=_run)
    parser.error = _usage_error_as_json(parser.error)  # type: ignore[method-assign]


def _usage_error_as_json(usage_error):  # type: ignore[no-untyped-def]
    """With ``--json`` on the command line, an option argparse refuses is a JSON document too."""

    def error(message: str):  # type: ignore[no-untyped-def]
        if "--json" in sys.argv[1:]:
            print(json.dumps({"status": "refused", "exit_status": 2, "error": {
                "reason": "bad_option", "file": None, "column": None, "message": message,
                "exit_status": 2}}, indent=2))
        usage_error(message)

    return error


def _run(args) -> int:  # type: ignore[no-untyped-def]
    from pipelines.ingest import IngestError, ingest
    from pipelines.load_config import parse_pairs

    show_progress = not args.quiet and not args.json
    step = None if args.no_precompute else precompute_step(
        Progress(sys.stderr) if show_progress else None, stages=True)
    try:
        summary = ingest(
            args.path, resolve_db(args.db),
            check_only=args.check, source_kind=args.source_kind, deid_mode=args.deid_mode,
            progress=Progress(sys.stderr) if show_progress else None,
            run_models=not args.no_models, overrides=parse_pairs(args.overrides),
            after_models=step)
    except IngestError as exc:
        verb = "cannot load" if exc.exit_status == 2 else "load refused"
        return _refused(args, exc.exit_status, exc.to_dict(), f"{verb}: {exc}")
    except Exception as exc:
        if os.environ.get("OUTCOMES_DEBUG"):
            raise
        first = (str(exc).strip().splitlines() or [""])[0]
        return _refused(args, 4, {"reason": "internal_error", "file": None, "column": None,
                                  "message": f"{type(exc).__name__}: {first}", "exit_status": 4},
                        f"the load failed unexpectedly ({type(exc).__name__}: {first}); this is "
                        "a bug: please report it (OUTCOMES_DEBUG=1 shows the trace)")
    if args.json:
        print(json.dumps({**summary.to_dict(), "exit_status": 0}, indent=2, default=str))
    elif not args.quiet:
        render_summary(summary.to_dict(), sys.stderr)
    if step is not None and step.background and not args.check:
        from dashboard.precompute import in_background

        # the warehouse is published: the dashboard works now, and reads these when stored
        in_background(resolve_db(args.db))
    return 0


def precompute_step(progress: Any = None, stages: bool = False) -> Any:
    """The load's last step: the dashboard's default results (``dashboard.precompute``) stored
    in the warehouse before it is published; ``progress`` reports it as one more line.

    ``stages``: on a large clinic (``precompute.needs_background``) store the default period's
    results only and set ``run.background``; the caller then starts ``precompute.in_background``
    on the published warehouse for the other periods and the sites."""

    def run(con: Any) -> None:
        import logging
        import time

        import streamlit  # noqa: F401 - its loggers exist once imported

        # Outside a server Streamlit warns once per cached function ("No runtime found"); the
        # precomputation calls none of them through Streamlit, so the warning is noise here.
        logging.getLogger("streamlit.runtime.caching.cache_data_api").setLevel(logging.ERROR)
        from dashboard.precompute import needs_background, precompute

        clock = time.perf_counter()
        run.background = stages and needs_background(con)  # type: ignore[attr-defined]
        stored = precompute(con, first_only=run.background)  # type: ignore[attr-defined]
        if progress is not None:
            rest = "; other periods and sites to follow in the background" if run.background else ""  # type: ignore[attr-defined]
            progress("dashboard defaults", f"done ({stored} results, {time.perf_counter() - clock:.1f} s{rest})", 1.0)

    run.background = False  # type: ignore[attr-defined]
    return run


def _refused(args, status: int, document: dict[str, Any], message: str) -> int:  # type: ignore[no-untyped-def]
    if args.json:
        print(json.dumps({"status": "refused", "exit_status": status, "error": document},
                         indent=2, default=str))
    error(message)
    if not args.check:
        error("the existing database was not changed")
    return status


class Progress:
    """Load and model-build progress on stderr: one line per finished table and per model
    (``patients  done (2,000 rows read, 0 rejected, 0.3 s)``), and on a terminal a bar for the
    step under way, redrawn in place."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        try:
            self.bar = ProgressBar(stream) if stream.isatty() else None
        except (AttributeError, ValueError):
            self.bar = None

    def __call__(self, table: str, stage: str, fraction: float) -> None:
        if stage.startswith("done"):
            clear = "\r" + " " * (_BAR_WIDTH + 50) + "\r" if self.bar else ""
            self.stream.write(f"{clear}{table:<36} {stage}\n")
            self.stream.flush()
        elif self.bar is not None:
            self.bar(table, stage, min(fraction, 0.999))


class ProgressBar:
    """A plain-text bar per table on a terminal: ``visits  [#####-----]  50% validating``."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def __call__(self, table: str, stage: str, fraction: float) -> None:
        filled = round(fraction * _BAR_WIDTH)
        bar = "#" * filled + "-" * (_BAR_WIDTH - filled)
        self.stream.write(f"\r{table:<14} [{bar}] {fraction:4.0%} {stage:<26}")
        if fraction >= 1.0:
            self.stream.write("\n")
        self.stream.flush()


def render_summary(document: dict[str, Any], stream: TextIO) -> None:
    """The closing summary: a table per contract table, then rejects, unmapped drugs, notes."""
    write = stream.write
    verb = "Checked" if document["check_only"] else "Loaded"
    target = "" if document["check_only"] else f" into {document['db_path']}"
    write(f"{verb} {document['input_path']}{target} (load {document['load_id']}, "
          f"{document['seconds']:.1f} s, deid_mode={document['deid_mode']})\n\n")
    header = ("table", "read", "rejected", "new", "updated", "unchanged", "in warehouse")
    rows = [(t["table"], t["rows_read"], t["rows_rejected"], t["rows_new"], t["rows_updated"],
             t["rows_loaded"] - t["rows_new"] - t["rows_updated"], t["rows_in_warehouse"])
            for t in document["tables"]]
    rows.append(("total", *(sum(r[i] for r in rows) for i in range(1, len(header)))))
    _table(write, header, rows)
    if document["rejects"]:
        write("\nRejected rows (all in meta.rejects):\n")
        _table(write, ("table", "column", "reason", "rows", "first lines", "meaning"), [
            (r["table"], r["column"] or "(row)", r["reason_code"], r["rows"],
             ", ".join(r["example_lines"][:3]), r["message"])
            for r in document["rejects"][:_MAX_REJECT_GROUPS]])
        if len(document["rejects"]) > _MAX_REJECT_GROUPS:
            write(f"  ... and {len(document['rejects']) - _MAX_REJECT_GROUPS} more groups\n")
    unmapped = document["unmapped_drugs"]
    if unmapped:
        write(f"\nDrug names not in the reference table ({len(unmapped)}; kept with "
              "ingredient NULL, listed in meta.unmapped_drugs):\n")
        _table(write, ("table", "drug as written", "rows"),
               [(u["table"], u["drug_as_written"], u["rows"]) for u in unmapped[:_MAX_LISTED]])
        if len(unmapped) > _MAX_LISTED:
            write(f"  ... and {len(unmapped) - _MAX_LISTED} more\n")
    if document["models"]:
        write(f"\nModels built: {len(document['models'])} tables\n")
    audits = document.get("audits") or []
    if audits:
        warned = [a for a in audits if a["status"] == "fail"]
        write(f"Audits: {len(audits)} run, every error-level audit passed"
              f"{f', {len(warned)} warning(s) (in meta.audit_results)' if warned else ''}\n")
        for a in warned:
            write(f"  warn  {a['audit']} on {a['model']}: {a['offending_rows']:,} row(s)\n")
    for note in document["notes"]:
        write(f"Note: {note}\n")


def _table(write, header: tuple[str, ...], rows: list[tuple]) -> None:  # type: ignore[no-untyped-def]
    cells = [tuple(str(v) for v in header)] + [tuple(_cell(v) for v in r) for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    for index, row in enumerate(cells):
        write("  " + "  ".join(
            v.rjust(w) if isinstance(rows[0][i] if rows else "", int) and index else v.ljust(w)
            for i, (v, w) in enumerate(zip(row, widths, strict=True))).rstrip() + "\n")
        if index == 0:
            write("  " + "  ".join("-" * w for w in widths) + "\n")


def _cell(value: object) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)
