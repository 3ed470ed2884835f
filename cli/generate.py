"""``outcomes generate``: write a synthetic clinic extract with its ground truth (``truth.json``)."""

from __future__ import annotations

import datetime as dt
import shlex
import sys
from pathlib import Path

from cli.common import error, note


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise SystemExit(f"outcomes: error: {text!r} is not an ISO date (YYYY-MM-DD)") from exc


def register(subparsers) -> None:  # type: ignore[no-untyped-def]
    parser = subparsers.add_parser(
        "generate", help="write a synthetic clinic extract with known ground truth",
        description="Write the eight extract-contract tables of a synthetic psychiatric clinic, "
                    "plus truth.json (the parameters and the expected metric values) and "
                    "edge_cases.json. The same seed gives byte-identical CSV files.")
    parser.add_argument("--patients", type=int, default=2000, help="number of patients")
    parser.add_argument("--seed", type=int, default=1, help="random seed (integer)")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--format", choices=("csv", "parquet"), default="csv")
    parser.add_argument("--start", type=_date, default=dt.date(2023, 1, 1),
                        help="first day of the extract (default 2023-01-01)")
    parser.add_argument("--end", type=_date, default=dt.date(2025, 12, 31),
                        help="last day of the extract (default 2025-12-31)")
    parser.add_argument("--sites", type=int, default=4)
    parser.add_argument("--clinicians", type=int, default=40)
    parser.add_argument("--dirty", action="store_true",
                        help="plant labelled bad rows (manifest.json) and a PHI-shaped column "
                             "in the sibling folder <out>_phi (CSV only)")
    parser.add_argument("--worklist-cases", action="store_true",
                        help="append planted worklist patients (PW...) with their truth in "
                             "worklist_cases.json (docs/worklists.md)")
    parser.set_defaults(func=_run)


def _run(args) -> int:  # type: ignore[no-untyped-def]
    from synthetic.generator import generate

    if args.dirty and args.format != "csv":
        error("--dirty plants text that no typed Parquet column can hold; use --format csv")
        return 2
    command = "outcomes generate " + " ".join(shlex.quote(a) for a in sys.argv[2:]) \
        if len(sys.argv) > 1 and sys.argv[1] == "generate" else ""
    try:
        result = generate(args.patients, args.seed, args.out, fmt=args.format, start=args.start,
                          end=args.end, sites=args.sites, clinicians=args.clinicians,
                          command=command, worklist_cases=args.worklist_cases)
    except ValueError as exc:
        error(str(exc))
        return 2
    rows = ", ".join(f"{name} {count:,}" for name, count in result.rows.items())
    note(f"wrote {args.out} ({args.format}) in {result.seconds:.1f} s: {rows}")
    if args.dirty:
        from synthetic.dirty import make_dirty

        manifest = make_dirty(args.out, seed=args.seed)
        note(f"planted {len(manifest['rejects'])} bad rows and {len(manifest['unmapped_drugs'])} "
             f"unmapped drug names (see {args.out / 'manifest.json'}); PHI-shaped column in "
             f"{manifest['phi_folder']}")
    return 0
