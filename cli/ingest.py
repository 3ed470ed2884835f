"""``outcomes ingest PATH``: validate an extract and load it into the warehouse.

Exit codes: 0 loaded (or checked), possibly with rejected rows (listed in the summary and in
``meta.rejects``); 1 refused (a file-level problem: the live database is untouched); 2 usage.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, TextIO

from cli.common import add_db_argument, error, resolve_db

_BAR_WIDTH = 28
_MAX_LISTED = 15
_MAX_REJECT_GROUPS = 40


def register(subparsers) -> None:  # type: ignore[no-untyped-def]
    parser = subparsers.add_parser(
        "ingest", help="validate an extract folder and load it into the warehouse",
        description="Validate an extract (contract v1: docs/data-contract.md) and load it into "
                    "the DuckDB warehouse atomically. Bad rows go to meta.rejects; unsafe or "
                    "unreadable files stop the load and leave the database as it was.")
    parser.add_argument("path", type=Path, help="extract folder (or a source for --from)")
    add_db_argument(parser)
    parser.add_argument("--check", action="store_true",
                        help="validate and report without writing any file")
    parser.add_argument("--quiet", action="store_true", help="no progress and no summary")
    parser.add_argument("--json", action="store_true",
                        help="print the summary as JSON (alone on stdout)")
    parser.add_argument("--from", dest="source_kind", default="auto",
                        choices=("contract", "omop", "fhir", "synthea", "auto"),
                        help="source format (default: auto, detected from the folder)")
    parser.add_argument("--deid-mode", default=None,
                        choices=("limited_data_set", "expert_determination", "synthetic"),
                        help="record this deployment mode (default: outcomes.toml, else "
                             "synthetic when the folder has truth.json, else limited_data_set)")
    parser.add_argument("--no-models", action="store_true",
                        help="load raw/ref/meta only; do not build the SQL models")
    parser.set_defaults(func=_run)


def _run(args) -> int:  # type: ignore[no-untyped-def]
    from pipelines.ingest import IngestError, ingest

    show_progress = not args.quiet and not args.json and sys.stderr.isatty()
    try:
        summary = ingest(
            args.path, resolve_db(args.db),
            check_only=args.check, source_kind=args.source_kind, deid_mode=args.deid_mode,
            progress=ProgressBar(sys.stderr) if show_progress else None,
            run_models=not args.no_models)
    except IngestError as exc:
        if show_progress:
            sys.stderr.write("\n")
        if args.json:
            print(json.dumps({"status": "refused", "error": exc.to_dict()}, indent=2))
        error(f"load refused: {exc}")
        if not args.check:
            error("the existing database was not changed")
        return 1
    if args.json:
        print(json.dumps(summary.to_dict(), indent=2, default=str))
    elif not args.quiet:
        render_summary(summary.to_dict(), sys.stderr)
    return 0


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
