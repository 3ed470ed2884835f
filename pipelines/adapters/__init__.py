"""Adapters: map OMOP CDM, FHIR R4 and Synthea CSV sources into an extract-contract folder.

The loader (``pipelines.ingest``) calls :func:`detect` and :func:`to_contract`, then loads the
folder exactly like a clinic's own extract: validation, the de-identification guard,
normalisation and publishing all run; no adapter bypasses them. See ``docs/adapters.md``.
"""

from __future__ import annotations

from pathlib import Path

from pipelines.adapters.common import AdapterReport, SourceReject, rebase_dates, write_contract
from pipelines.contract import TABLES

KINDS = ("omop", "fhir", "synthea", "contract")

__all__ = ["KINDS", "AdapterReport", "SourceReject", "detect", "to_contract"]


class AdapterError(ValueError):
    """A source the adapters cannot read: unknown, ambiguous or missing its core table."""


def detect(path: str | Path) -> str:
    """``"omop"``, ``"fhir"``, ``"synthea"`` or ``"contract"`` for a file or folder.

    Looks at the folder itself, then (when it is not a source) the folders up to two levels
    below it. Raises
    :class:`AdapterError` naming what was found when the answer is not unique (e.g. a Synthea
    export folder holding both ``csv/`` and ``fhir/``) or when nothing is recognised.
    """
    from pipelines.adapters import fhir, omop, synthea

    path = Path(path)
    if not path.exists():
        raise AdapterError(f"{path}: no such file or folder")
    if path.is_file():
        if fhir.is_fhir_file(path):
            return "fhir"
        raise AdapterError(f"{path}: not a FHIR bundle or NDJSON file; point at a folder for "
                           "OMOP, Synthea or contract extracts")
    # The folder pointed at wins; sub-folders are searched only when it is not itself a source.
    own_kind = _folder_kind(path, fhir, omop, synthea)
    if own_kind:
        return own_kind
    found: dict[str, Path] = {}
    for folder in [*sorted(p for p in path.glob("*") if p.is_dir()),
                   *sorted(p for p in path.glob("*/*") if p.is_dir())]:
        kind = _folder_kind(folder, fhir, omop, synthea)
        if kind and kind not in found:
            found[kind] = folder
    if len(found) == 1:
        return next(iter(found))
    if not found:
        raise AdapterError(
            f"{path}: not recognised as an OMOP CDM folder (person.csv/.parquet), a FHIR export "
            "(*.ndjson or Bundle *.json), a Synthea CSV export (patients.csv with Id and "
            "BIRTHDATE) or a contract extract (patients.csv with patient_id); pass --from")
    listing = ", ".join(f"{kind} in {folder}" for kind, folder in found.items())
    raise AdapterError(f"{path}: ambiguous source ({listing}); point at one folder or pass --from")


def _folder_kind(folder: Path, fhir, omop, synthea) -> str | None:
    names = {p.name.lower(): p for p in folder.iterdir()} if folder.is_dir() else {}
    if omop._table_path(folder, "person") is not None:
        return "omop"
    patients = names.get("patients.csv")
    if patients is not None:
        header = _first_line(patients).strip().lower()
        columns = set(header.replace('"', "").split(","))
        if {"id", "birthdate"} <= columns:
            return "synthea"
        # Any other patients.csv is a contract extract; the loader names what is wrong with it.
        return "contract"
    if names.keys() & {f"{t}.{ext}" for t in TABLES for ext in ("csv", "parquet")} \
            or "patients" in names:
        return "contract"
    if any(fhir.is_fhir_file(p) for p in sorted(folder.iterdir()) if p.is_file()):
        return "fhir"
    return None


def _first_line(path: Path, limit: int = 65536) -> str:
    """The first line of a regular file, read without blocking and at most ``limit`` bytes; ""
    for anything else (a FIFO, a device, a broken link: the loader refuses it with a message)."""
    from pipelines.extract import IngestError
    from pipelines.file_checks import open_regular

    try:
        handle, size = open_regular(path, path.name)
    except IngestError:
        return ""
    with handle:
        head = handle.read(min(size, limit))
    return head.decode("utf-8", errors="replace").replace("\r", "\n").split("\n", 1)[0]


def to_contract(path: str | Path, kind: str, out_dir: str | Path) -> AdapterReport:
    """Map the source at ``path`` into contract CSVs in ``out_dir``; say what was done.

    ``kind`` is one of :data:`KINDS` (``contract`` is the identity and returns an empty report
    without writing). Dates of a source shifted into the future are re-based (see
    :func:`pipelines.adapters.common.rebase_dates`), so the loader's plausibility rules apply
    unchanged.
    """
    from pipelines.adapters import fhir, omop, synthea

    path, out_dir = Path(path), Path(out_dir)
    if kind not in KINDS:
        raise AdapterError(f"unknown source kind {kind!r}; expected one of {', '.join(KINDS)}")
    report = AdapterReport(kind=kind)
    if kind == "contract":
        report.notes.append("contract extract: loaded as is")
        return report
    mapper = {"omop": omop, "fhir": fhir, "synthea": synthea}[kind].to_contract
    try:
        frames = mapper(path, report)
    except (KeyError, ValueError) as exc:
        raise AdapterError(f"{path}: cannot map as {kind}: {exc}") from exc
    frames = rebase_dates(frames, report)
    write_contract(frames, out_dir, report)
    report.deployment.setdefault("source_kind", kind)
    report.deployment.setdefault("deid_mode", report.deid_mode)
    written = ", ".join(f"{t} {report.counts.get(f'rows_written.{t}', 0):,}" for t in TABLES)
    report.notes.insert(0, f"mapped {kind} source to contract tables: {written}")
    return report
