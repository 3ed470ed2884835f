"""``outcomes version``: the software version and the extract-contract version."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def software_version() -> str:
    try:
        return version("psych-outcomes")
    except PackageNotFoundError:
        return "0+unknown"


def register(subparsers) -> None:  # type: ignore[no-untyped-def]
    parser = subparsers.add_parser("version", help="print the software and contract versions")
    parser.set_defaults(func=_run)


def _run(args) -> int:  # type: ignore[no-untyped-def]
    from pipelines.contract import CONTRACT_VERSION

    print(f"psych-outcomes {software_version()} (extract contract v{CONTRACT_VERSION})")
    return 0
