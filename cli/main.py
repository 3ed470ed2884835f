"""The ``outcomes`` command line: the one composition point of the project.

Each subcommand lives in its own module under ``cli/`` and exposes
``register(subparsers)``, which adds its parser and sets ``func`` (a callable taking the parsed
namespace and returning the process exit code). Keeping commands apart keeps this file small and
lets each command import its layer (``pipelines``, ``queries``, ``synthetic``) only when it runs.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

#: Subcommand modules, in the order ``outcomes --help`` lists them.
COMMAND_MODULES: tuple[str, ...] = (
    "cli.info",
    "cli.ingest",
    "cli.build",
    "cli.quarantine",
    "cli.serve",
    "cli.metric",
    "cli.worklist",
    "cli.compare",
    "cli.spc",
    "cli.funnel",
    "cli.report",
    "cli.generate",
    "cli.demo",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="outcomes",
        description="psych-outcomes: response, remission, side effects and adherence by drug class.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
